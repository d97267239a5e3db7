"""The local-matching forager for the baited two-option task.

- :class:`MatchingForager` (Sugrue, Corrado & Newsome 2004, Science 304:1782): each option's
  income is a leaky integral of the rewards it returned,
  ``I_i <- (1 - 1/tau) I_i + r [c = i]``, and the choice probability matches the fractional
  income, ``P(i) = (1 - eps) I_i / sum_j I_j + eps / 2`` (1/2 each while no income has been
  earned). The lapse ``eps`` keeps an option with no income from being abandoned for ever.
  It reports
  ``value`` = policy-weighted income per trial ``I_i / tau`` and ``rpe = r - I_c / tau``.

The forgetting Q-learner (F-Q, Ito & Doya 2009) is the behavioural model
``q_forgetting`` (:class:`neurometa.agents.baselines.model_agent.QForager`).

It acts on the whole batch at once and samples from the generator given to ``begin``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from neurometa.config import Config, check_range

__all__ = ["MatchingConfig", "MatchingForager"]


def _check_foraging(task: Any, agent: str) -> Any:
    inner = task.unwrapped
    if "baited" not in getattr(inner, "hidden_variables", ()) or inner.num_actions != 2:
        raise TypeError(f"{agent} needs a two-option foraging task, got {type(inner).__name__}")
    return inner


def _sample(policy: Tensor, generator: torch.Generator) -> Tensor:
    u = torch.rand(policy.shape[0], generator=generator, device=policy.device)
    return (u >= policy[:, 0]).long()


@dataclass(frozen=True)
class MatchingConfig(Config):
    """Local matching law (Sugrue et al. 2004)."""

    tau: float = 10.0
    """Time constant (trials) of the leaky income integrator; > 1 (illustrative default)."""
    lapse: float = 0.05
    """eps: probability mass spread uniformly over both options."""

    def __post_init__(self) -> None:
        check_range(self, "tau", low=1.0, low_inclusive=False)
        check_range(self, "lapse", low=0.0, high=1.0)


class MatchingForager:
    """Choose each option in proportion to its recent income."""

    name = "matching"
    discount = 0.0

    def __init__(self, config: MatchingConfig | None = None) -> None:
        self.config = config or MatchingConfig()

    def begin(self, task: Any, generator: torch.Generator) -> None:
        """Set both incomes to zero."""
        _check_foraging(task, type(self).__name__)
        self.generator = generator
        self.income = torch.zeros((task.num_envs, 2), device=task.device)

    def act(self, obs: Tensor, info: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Sample from ``P(i) = (1 - eps) I_i / sum_j I_j + eps / 2``."""
        total = self.income.sum(dim=1, keepdim=True)
        matching = torch.where(total > 0, self.income / total.clamp(min=1e-30), 0.5)
        policy = (1 - self.config.lapse) * matching + self.config.lapse / 2
        rate = self.income / self.config.tau
        return _sample(policy, self.generator), {
            "policy": policy,
            "value": (policy * rate).sum(dim=1),
        }

    def observe(
        self, action: Tensor, reward: Tensor, terminated: Tensor, info: dict[str, Tensor]
    ) -> dict[str, Tensor]:
        """Leaky integration of the income of each option."""
        chosen = torch.nn.functional.one_hot(action.long(), 2).float()
        predicted = (self.income * chosen).sum(dim=1) / self.config.tau
        self.income = (1 - 1 / self.config.tau) * self.income + reward.unsqueeze(1) * chosen
        return {"rpe": reward - predicted}
