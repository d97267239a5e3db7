"""k-armed Bernoulli bandits (Wang et al. 2016, "Learning to reinforcement learn").

Each episode draws arm reward probabilities ``p`` from a distribution over bandits and runs
``num_trials`` one-step trials; choosing arm ``a`` pays 1 with probability ``p[a]``, else 0.
The expected regret of a trial is ``max(p) - p[a]``.

Distributions (Wang et al. 2016, §3.1; Botvinick et al. 2019, Box 3):

- ``independent``: ``p_i ~ U(0, 1)`` for every arm independently (any ``num_arms``);
- ``correlated``: ``p_1 ~ U(0, 1)``, ``p_2 = 1 - p_1`` (two arms);
- ``fixed``: the probabilities ``fixed_probs`` (e.g. {0.25, 0.75}) assigned to the arms in a
  uniformly random order each episode.

Every draw of an episode is made at reset (the arm probabilities and one Bernoulli outcome
per trial and arm), which is exact because only the chosen arm's outcome is ever revealed;
a step is then a gather.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from neurometa.config import Config, ConfigError, check_range
from neurometa.tasks.base import BatchedTask

__all__ = ["BanditConfig", "BanditTask"]

Distribution = Literal["independent", "correlated", "fixed"]


@dataclass(frozen=True)
class BanditConfig(Config):
    """Parameters of a k-armed Bernoulli bandit task."""

    num_arms: int = 2
    """Number of arms K (actions)."""
    num_trials: int = 100
    """Trials per episode (Wang et al. 2016 used 100)."""
    distribution: Distribution = "independent"
    """How each episode's arm probabilities are drawn: independent, correlated or fixed."""
    fixed_probs: tuple[float, ...] = (0.25, 0.75)
    """The arm probabilities of the ``fixed`` distribution (shuffled onto arms each episode)."""

    def __post_init__(self) -> None:
        check_range(self, "num_arms", low=2)
        check_range(self, "num_trials", low=1)
        if self.distribution == "correlated" and self.num_arms != 2:
            raise ConfigError(
                f"BanditConfig: distribution 'correlated' needs num_arms=2, got {self.num_arms}"
            )
        if self.distribution == "fixed":
            if len(self.fixed_probs) != self.num_arms:
                raise ConfigError(
                    f"BanditConfig.fixed_probs has {len(self.fixed_probs)} values but "
                    f"num_arms={self.num_arms}"
                )
            if not all(0.0 <= p <= 1.0 for p in self.fixed_probs):
                raise ConfigError(
                    f"BanditConfig.fixed_probs must lie in [0, 1], got {self.fixed_probs}"
                )


def draw_arm_probs(
    config: BanditConfig, num_envs: int, generator: torch.Generator, device: torch.device
) -> Tensor:
    """Draw one bandit per batch member.

    Parameters
    ----------
    config : BanditConfig
        Distribution and number of arms.
    num_envs : int
        Batch size B.
    generator : torch.Generator
        Source of randomness.
    device : torch.device
        Device of the result.

    Returns
    -------
    Tensor, shape (B, K), float32
        Reward probability of each arm.
    """
    shape = (num_envs, config.num_arms)
    if config.distribution == "independent":
        return torch.rand(shape, generator=generator, device=device)
    if config.distribution == "correlated":
        p1 = torch.rand((num_envs, 1), generator=generator, device=device)
        return torch.cat([p1, 1.0 - p1], dim=1)
    order = torch.rand(shape, generator=generator, device=device).argsort(dim=1)
    fixed = torch.tensor(config.fixed_probs, dtype=torch.float32, device=device)
    return fixed[order]


class BanditTask(BatchedTask):
    """Batched k-armed Bernoulli bandit.

    Observation: a constant ``[1.0]`` (the agent learns from its own action/reward history,
    see :class:`neurometa.tasks.MetaRLInputs`). Action: an arm in ``[0, K)``. Reward: 1 with
    probability ``arm_probs[action]``, else 0.

    Info: ``trial``, ``stage``, ``arm_probs`` (float32 ``[B, K]``, dim ``arm``) and
    ``best_arm`` (int64 ``[B]``, the arm with the highest probability; first one on ties).

    Parameters
    ----------
    config : BanditConfig
        Task parameters.
    num_envs : int
        Batch size B.
    device : str or torch.device
        Device of all tensors.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "bandit",
        "description": "k-armed Bernoulli bandit with per-episode arm probabilities",
        "paper": "Wang et al. 2016, Learning to reinforcement learn",
        "paper_url": "https://arxiv.org/abs/1611.05763",
    }
    hidden_variables = ("arm_probs", "best_arm")
    variable_dims: ClassVar[dict[str, tuple[str, ...]]] = {"arm_probs": ("arm",)}

    def __init__(
        self, config: BanditConfig, num_envs: int, device: str | torch.device = "cpu"
    ) -> None:
        super().__init__(num_envs, device)
        self.config = config
        self.num_trials = config.num_trials
        self.single_observation_space = gym.spaces.Box(1.0, 1.0, shape=(1,), dtype=np.float32)
        self.single_action_space = gym.spaces.Discrete(config.num_arms)
        self._obs = torch.ones((num_envs, 1), device=self.device)

    def _reset(self) -> tuple[Tensor, dict[str, Tensor]]:
        cfg, gen = self.config, self.generator
        self._arm_probs = draw_arm_probs(cfg, self.num_envs, gen, self.device)
        self._best_arm = self._arm_probs.argmax(dim=1)
        draws = torch.rand(
            (cfg.num_trials, self.num_envs, cfg.num_arms), generator=gen, device=self.device
        )
        self._outcomes = (draws < self._arm_probs).float()
        return self._obs, self._info()

    def _info(self) -> dict[str, Tensor]:
        info = self._trial_info()
        info["arm_probs"] = self._arm_probs
        info["best_arm"] = self._best_arm
        return info

    def _step(self, action: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        reward = self._outcomes[self._t].gather(1, action.unsqueeze(1)).squeeze(1)
        return self._obs, reward, self._info()
