"""Harlow's learning-to-learn task (Harlow 1949; Wang et al. 2018, Nat Neurosci 21:860).

Each episode presents two novel objects for ``num_trials`` (6) trials. On every trial the
objects appear in random left/right positions; the agent picks a position, and one of the two
objects (the same one for the whole episode) is rewarded. A learner that has "learned to
learn" is at chance on trial 1 and near 100 % on trials 2-6.

Objects are fresh random feature vectors (not images): ``feature_dim`` independent standard
normal (``gaussian``) or ±1 (``binary``) features per object and episode. Object 0 is the
rewarded one; since both objects are exchangeable random draws this loses no generality.

Simplification (documented): one step per trial — the observation shows both objects, the
action picks a side, the reward follows at once. Wang et al. 2018 also had a fixation step
and pixel images; neither is modelled here.

Observation: ``[left object's features, right object's features]`` (``2 * feature_dim``),
all zeros on the terminal step. Actions: 0 = left, 1 = right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from neurometa.config import Config, check_range
from neurometa.tasks.base import BatchedTask

__all__ = ["HarlowConfig", "HarlowTask"]


@dataclass(frozen=True)
class HarlowConfig(Config):
    """Parameters of the Harlow task (defaults after Wang et al. 2018: 6 trials)."""

    num_trials: int = 6
    """Trials per episode (Harlow 1949 and Wang et al. 2018 used 6)."""
    feature_dim: int = 8
    """Length of each object's random feature vector."""
    feature_distribution: Literal["gaussian", "binary"] = "gaussian"
    """Features drawn i.i.d. standard normal or uniformly from {-1, +1}."""
    reward_correct: float = 1.0
    """Reward for choosing the rewarded object."""
    reward_incorrect: float = 0.0
    """Reward for choosing the other object."""

    def __post_init__(self) -> None:
        check_range(self, "num_trials", low=1)
        check_range(self, "feature_dim", low=1)


class HarlowTask(BatchedTask):
    """Batched Harlow task (see the module docstring).

    Info: ``correct_side`` (int64 ``[B]``, 0 = left, 1 = right: where the rewarded object
    is), ``object_left`` (int64 ``[B]``, which object, 0 or 1, is on the left; object 0 is
    rewarded), ``correct`` (bool ``[B]``, whether the action chose the rewarded object;
    False in the reset info), plus ``trial`` and ``stage``.

    Parameters
    ----------
    config : HarlowConfig
        Task parameters.
    num_envs : int
        Batch size B.
    device : str or torch.device
        Device of all tensors.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "harlow",
        "description": "Harlow learning-to-learn: pick the rewarded one of two novel objects",
        "paper": "Harlow 1949, Psychol Rev 56:51; Wang et al. 2018, Nat Neurosci 21:860",
        "paper_url": "https://doi.org/10.1038/s41593-018-0147-8",
    }
    hidden_variables = ("correct_side", "object_left", "correct")

    def __init__(
        self, config: HarlowConfig, num_envs: int, device: str | torch.device = "cpu"
    ) -> None:
        super().__init__(num_envs, device)
        self.config = config
        self.num_trials = config.num_trials
        dim = 2 * config.feature_dim
        self.single_observation_space = gym.spaces.Box(-np.inf, np.inf, (dim,), np.float32)
        self.single_action_space = gym.spaces.Discrete(2)

    def _draw_objects(self) -> Tensor:
        """Two objects per batch member: ``[B, 2, feature_dim]``."""
        shape = (self.num_envs, 2, self.config.feature_dim)
        gen, dev = self.generator, self.device
        if self.config.feature_distribution == "gaussian":
            return torch.randn(shape, generator=gen, device=dev)
        return torch.randint(0, 2, shape, generator=gen, device=dev).float() * 2.0 - 1.0

    def _reset(self) -> tuple[Tensor, dict[str, Tensor]]:
        cfg, num_envs = self.config, self.num_envs
        objects = self._draw_objects()
        shape = (cfg.num_trials, num_envs)
        self._object_left = (
            torch.rand(shape, generator=self.generator, device=self.device) < 0.5
        ).long()
        batch = torch.arange(num_envs, device=self.device)
        left = objects[batch, self._object_left]  # [T, B, F]
        right = objects[batch, 1 - self._object_left]
        obs = torch.zeros((cfg.num_trials + 1, num_envs, 2 * cfg.feature_dim), device=self.device)
        obs[:-1] = torch.cat([left, right], dim=2)
        self._obs = obs
        self._no_correct = torch.zeros(num_envs, dtype=torch.bool, device=self.device)
        return obs[0], self._info(0, self._no_correct)

    def _info(self, trial: int, correct: Tensor) -> dict[str, Tensor]:
        info = self._trial_info()
        # object 0 is rewarded, so it sits on the right (side 1) exactly when object 1 is left
        info["correct_side"] = self._object_left[trial]
        info["object_left"] = self._object_left[trial]
        info["correct"] = correct
        return info

    def _step(self, action: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        trial = self._t
        correct = action == self._object_left[trial]
        cfg = self.config
        reward = torch.where(correct, cfg.reward_correct, cfg.reward_incorrect).float()
        return self._obs[trial + 1], reward, self._info(trial, correct)
