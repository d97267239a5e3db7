"""An ideal one-shot observer for Harlow's task (Harlow 1949; Wang et al. 2018, Fig. 6).

The observer knows the task's structure: the same two objects appear on every trial of an
episode, in random left/right positions, and one of them is always rewarded. On the first
trial it has no information and picks a side by a fair coin. The outcome of that choice
tells it which object is rewarded (the chosen one if the reward equals ``reward_correct``,
the other otherwise); it remembers that object's feature vector and from then on picks the
side whose object is closest (Euclidean) to it. Expected accuracy: 1/2 on trial 1 and 1 on
every later trial (objects with identical features are a tie, broken by a fair coin).

Outputs: ``policy`` (one-hot, or 1/2-1/2 before the first outcome and on ties), ``value`` =
expected reward of the trial, ``rpe = reward - value``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from neurometa.config import Config

__all__ = ["HarlowObserverConfig", "HarlowObserver"]


@dataclass(frozen=True)
class HarlowObserverConfig(Config):
    """The ideal observer has no free parameters; ties are broken by a fair coin."""


class HarlowObserver:
    """Batched ideal one-shot learner for :class:`neurometa.tasks.harlow.HarlowTask`."""

    name = "harlow_ideal"
    discount = 0.0

    def __init__(self, config: HarlowObserverConfig | None = None) -> None:
        self.config = config or HarlowObserverConfig()

    def begin(self, task: Any, generator: torch.Generator) -> None:
        """Forget the rewarded object; read the feature size and rewards from the task."""
        inner = task.unwrapped
        if "object_left" not in getattr(inner, "hidden_variables", ()):
            raise TypeError(f"HarlowObserver needs a Harlow task, got {type(inner).__name__}")
        self.feature_dim = int(inner.config.feature_dim)
        self.reward_correct = float(inner.config.reward_correct)
        self.reward_incorrect = float(inner.config.reward_incorrect)
        self.generator = generator
        n, dim = task.num_envs, self.feature_dim
        self.target = torch.zeros((n, dim), device=task.device)
        self.known = torch.zeros(n, dtype=torch.bool, device=task.device)

    def _objects(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        """Left and right feature vectors from the (possibly wrapped) observation."""
        dim = self.feature_dim
        return obs[:, :dim], obs[:, dim : 2 * dim]

    def act(self, obs: Tensor, info: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Pick the side of the remembered rewarded object (a coin before it is known)."""
        left, right = self._objects(obs)
        self._left, self._right = left, right
        d_left = (left - self.target).square().sum(dim=1)
        d_right = (right - self.target).square().sum(dim=1)
        decided = self.known & (d_left != d_right)
        p_right = torch.where(decided, (d_right < d_left).float(), 0.5)
        coin = torch.rand(p_right.shape, generator=self.generator, device=p_right.device)
        action = (coin < p_right).long()
        policy = torch.stack([1 - p_right, p_right], dim=1)
        hit = torch.where(decided, 1.0, 0.5)
        value = hit * self.reward_correct + (1 - hit) * self.reward_incorrect
        self._value = value
        return action, {"policy": policy, "value": value}

    def observe(
        self, action: Tensor, reward: Tensor, terminated: Tensor, info: dict[str, Tensor]
    ) -> dict[str, Tensor]:
        """Remember the rewarded object's features after the first outcome."""
        chosen_right = (action == 1).unsqueeze(1)
        chosen = torch.where(chosen_right, self._right, self._left)
        other = torch.where(chosen_right, self._left, self._right)
        was_correct = (reward - self.reward_correct).abs() <= (
            reward - self.reward_incorrect
        ).abs()
        learned = torch.where(was_correct.unsqueeze(1), chosen, other)
        self.target = torch.where(self.known.unsqueeze(1), self.target, learned)
        self.known = torch.ones_like(self.known)
        return {"rpe": reward - self._value}
