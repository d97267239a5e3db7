"""The two-step task (Daw et al. 2011; Miller et al. 2017 / Wang et al. 2018 variant).

Each trial has two steps. At the first stage the agent chooses ``choice1`` in {0, 1}; it
moves to the second-stage state ``state2 = choice1`` with the common-transition probability
(0.7 in Daw 2011, 0.8 in Miller 2017 / Wang 2018) and to the other state otherwise (a rare
transition). At the second stage the agent makes a second choice and is rewarded (1 or 0).

- ``daw2011``: four reward probabilities, one per (second-stage state, second-stage choice),
  start uniform in ``[0.25, 0.75]`` and after every trial take an independent Gaussian step of
  SD 0.025, reflected at the bounds 0.25 and 0.75 (Daw et al. 2011, Neuron 69:1204).
- ``wang2018``: the second-stage choice is ignored; one state pays with probability 0.9 and
  the other 0.1, and after every trial the two swap with probability 0.025 (Miller et al.
  2017, Nat Neurosci 20:1269; Wang et al. 2018, Nat Neurosci 21:860).

Observation: one-hot of the current state ``[first stage, state2 = 0, state2 = 1]``. The
reward arrives on the second-stage step; the first-stage step pays 0. All draws of an episode
(transitions, reward uniforms, the probabilities' trajectory) are made at reset; the daw2011
walk is the free Gaussian walk folded into the bounds, which has the law of a walk reflected
at every step.
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

__all__ = ["TwoStepConfig", "TwoStepTask", "reflect"]


@dataclass(frozen=True)
class TwoStepConfig(Config):
    """Parameters of the two-step task (defaults: Daw et al. 2011)."""

    variant: Literal["daw2011", "wang2018"] = "daw2011"
    """``daw2011``: drifting probabilities per (state, choice); ``wang2018``: 0.9/0.1 reversals."""
    num_trials: int = 201
    """Trials per episode (Daw 2011 sessions had 201 trials; Wang 2018 trained on 100)."""
    common_prob: float = 0.7
    """Probability of the common transition (choice i -> state i)."""
    drift_sd: float = 0.025
    """daw2011: SD of the Gaussian random walk of each reward probability per trial."""
    prob_bounds: tuple[float, ...] = (0.25, 0.75)
    """daw2011: reflecting bounds of the reward probabilities (and range of their start)."""
    reward_probs_pair: tuple[float, ...] = (0.9, 0.1)
    """wang2018: reward probability of the good and of the bad second-stage state."""
    reversal_prob: float = 0.025
    """wang2018: probability per trial that the good and bad states swap."""

    def __post_init__(self) -> None:
        check_range(self, "num_trials", low=1)
        check_range(self, "common_prob", low=0.0, high=1.0)
        check_range(self, "drift_sd", low=0.0)
        check_range(self, "reversal_prob", low=0.0, high=1.0)
        if len(self.prob_bounds) != 2 or len(self.reward_probs_pair) != 2:
            raise ConfigError("TwoStepConfig: prob_bounds and reward_probs_pair need two values")
        lo, hi = self.prob_bounds
        if not 0.0 <= lo < hi <= 1.0:
            raise ConfigError(
                f"TwoStepConfig.prob_bounds must satisfy 0 <= lo < hi <= 1, got {self.prob_bounds}"
            )
        if not all(0.0 <= p <= 1.0 for p in self.reward_probs_pair):
            raise ConfigError(
                f"TwoStepConfig.reward_probs_pair must lie in [0, 1], got {self.reward_probs_pair}"
            )

    @classmethod
    def daw2011(cls) -> TwoStepConfig:
        """Daw et al. 2011: common 0.7, drifting probabilities in [0.25, 0.75], 201 trials."""
        return cls()

    @classmethod
    def wang2018(cls) -> TwoStepConfig:
        """Wang et al. 2018 after Miller et al. 2017: common 0.8, 0.9/0.1 reversing, 100 trials."""
        return cls(variant="wang2018", num_trials=100, common_prob=0.8)


def reflect(x: Tensor, low: float, high: float) -> Tensor:
    """Fold ``x`` into ``[low, high]`` by reflection at both bounds (any number of times).

    ``reflect(high + d) = high - d`` and ``reflect(low - d) = low + d``, applied repeatedly:
    with ``w = high - low`` and ``y = (x - low) mod 2w``, the result is
    ``low + min(y, 2w - y)``.

    Parameters
    ----------
    x : Tensor
        Any shape.
    low, high : float
        The bounds, ``low < high``.

    Returns
    -------
    Tensor
        Same shape as ``x``, within ``[low, high]``.
    """
    width = high - low
    y = torch.remainder(x - low, 2.0 * width)
    return low + torch.minimum(y, 2.0 * width - y)


class TwoStepTask(BatchedTask):
    """Batched two-step task (see the module docstring for both variants).

    Info at every step (for the current trial): ``choice1`` (int64, −1 before it is made),
    ``common_transition`` (bool), ``state2`` (int64, −1 before the transition),
    ``reward_probs`` (float32 ``[B, 2, 2]`` state × second-stage choice for daw2011, ``[B, 2]``
    per state for wang2018), plus ``trial`` and ``stage``.

    Parameters
    ----------
    config : TwoStepConfig
        Task parameters.
    num_envs : int
        Batch size B.
    device : str or torch.device
        Device of all tensors.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "two_step",
        "description": "two-step task: first-stage choice, common/rare transition, reward",
        "paper": "Daw et al. 2011, Neuron 69:1204; Miller et al. 2017 / Wang et al. 2018",
        "paper_url": "https://doi.org/10.1016/j.neuron.2011.02.027",
    }
    steps_per_trial = 2
    stage_names = ("first", "second")
    hidden_variables = ("choice1", "common_transition", "state2", "reward_probs")

    def __init__(
        self, config: TwoStepConfig, num_envs: int, device: str | torch.device = "cpu"
    ) -> None:
        super().__init__(num_envs, device)
        self.config = config
        self.num_trials = config.num_trials
        self.single_observation_space = gym.spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float32)
        self.single_action_space = gym.spaces.Discrete(2)
        daw = config.variant == "daw2011"
        dims = ("state2_option", "choice2_option") if daw else ("state2_option",)
        self.variable_dims = {"reward_probs": dims}
        self._eye = torch.eye(3, device=self.device)
        self._first_obs = self._eye[0].repeat(num_envs, 1)
        self._no_reward = torch.zeros(num_envs, device=self.device)

    def _draw_probs(self) -> Tensor:
        """Reward probabilities of every trial: ``[T, B, 2, 2]`` (daw) or ``[T, B, 2]`` (wang)."""
        cfg, gen, dev = self.config, self.generator, self.device
        shape = (cfg.num_trials, self.num_envs)
        if cfg.variant == "daw2011":
            lo, hi = cfg.prob_bounds
            start = lo + (hi - lo) * torch.rand(
                (1, self.num_envs, 2, 2), generator=gen, device=dev
            )
            steps = cfg.drift_sd * torch.randn((*shape, 2, 2), generator=gen, device=dev)
            steps[0] = 0.0
            # folding the free Gaussian walk is, in law, the walk reflected at every step:
            # fold(x + e) = fold(fold(x) +/- e) and e is symmetric and independent of the past
            return reflect(start + torch.cumsum(steps, dim=0), lo, hi)
        good0 = torch.rand(self.num_envs, generator=gen, device=dev) < 0.5
        swaps = (torch.rand(shape, generator=gen, device=dev) < cfg.reversal_prob).long()
        swaps_before = torch.cumsum(swaps, dim=0) - swaps  # reversals after trials < t
        good = (good0.long() + swaps_before) % 2  # index of the good state per trial
        high, low = cfg.reward_probs_pair
        pair = torch.tensor([[high, low], [low, high]], device=dev)
        return pair[good]

    def _reset(self) -> tuple[Tensor, dict[str, Tensor]]:
        cfg, gen, dev = self.config, self.generator, self.device
        shape = (cfg.num_trials, self.num_envs)
        self._probs = self._draw_probs()
        self._common = torch.rand(shape, generator=gen, device=dev) < cfg.common_prob
        self._reward_draws = torch.rand(shape, generator=gen, device=dev)
        self._choice1 = torch.full((self.num_envs,), -1, dtype=torch.long, device=dev)
        self._state2 = torch.full((self.num_envs,), -1, dtype=torch.long, device=dev)
        self._common_now = torch.zeros(self.num_envs, dtype=torch.bool, device=dev)
        return self._first_obs, self._info(0)

    def _info(self, trial: int) -> dict[str, Tensor]:
        info = self._trial_info()
        info["choice1"] = self._choice1
        info["common_transition"] = self._common_now
        info["state2"] = self._state2
        info["reward_probs"] = self._probs[trial]
        return info

    def _step(self, action: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        trial, stage = divmod(self._t, 2)
        if stage == 0:
            self._choice1 = action
            self._common_now = self._common[trial]
            self._state2 = torch.where(self._common_now, action, 1 - action)
            return self._eye[1 + self._state2], self._no_reward, self._info(trial)
        probs = self._probs[trial]
        if self.config.variant == "daw2011":
            index = (2 * self._state2 + action).unsqueeze(1)
            p = probs.reshape(self.num_envs, 4).gather(1, index).squeeze(1)
        else:
            p = probs.gather(1, self._state2.unsqueeze(1)).squeeze(1)
        reward = (self._reward_draws[trial] < p).float()
        return self._first_obs, reward, self._info(trial)
