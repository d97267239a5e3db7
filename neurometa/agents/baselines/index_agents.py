"""Bandit agents that read precomputed tables: Bayes-optimal DP and Gittins index.

- :class:`BayesOptimalAgent` plays the finite-horizon Bayes-optimal policy for the task's own
  prior (:func:`~neurometa.agents.baselines.bayes_dp.bayes_optimal_table`); its ``value`` is
  the expected reward still to come, ``V_n(x)``, its ``discount`` is 1, and its ``rpe`` is the
  TD error ``r + V_{n+1}(x') - V_n(x)`` (``V_T = 0``). Ties (table action -1) are broken by a
  fair coin from the episode's generator.
- :class:`GittinsAgent` plays the arm with the largest discounted Gittins index of its
  ``Beta(s+1, f+1)`` posterior (:func:`~neurometa.agents.baselines.gittins.gittins_index_table`),
  treating the arms as independent whatever the task's prior; the discount defaults to
  ``1 - 1/T``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from neurometa.agents.baselines.bandit_agents import BanditBaseline
from neurometa.agents.baselines.bayes_dp import bayes_optimal_table, state_index
from neurometa.agents.baselines.gittins import default_discount, gittins_index_table
from neurometa.agents.baselines.posterior import argmax_random_ties, update_counts
from neurometa.config import Config, check_range

__all__ = ["BayesOptimalConfig", "BayesOptimalAgent", "GittinsConfig", "GittinsAgent"]

_TORCH_TABLES: dict[tuple[Any, ...], tuple[Tensor, Tensor]] = {}


@dataclass(frozen=True)
class BayesOptimalConfig(Config):
    """The Bayes-optimal finite-horizon policy by dynamic programming."""

    cache_dir: str | None = None
    """Folder for an on-disk copy of the DP table (None: keep it in memory only)."""


class BayesOptimalAgent(BanditBaseline):
    """Exact Bayes-optimal play of a two-armed bandit for the task's prior and horizon."""

    name = "bayes_optimal"
    discount = 1.0

    def __init__(self, config: BayesOptimalConfig | None = None) -> None:
        super().__init__(config or BayesOptimalConfig())

    def begin(self, task: Any, generator: torch.Generator) -> None:
        """Solve (or fetch) the DP table for the task's prior and number of trials."""
        super().begin(task, generator)
        key = (repr(self.prior), self.num_trials, str(self.counts.device))
        if key not in _TORCH_TABLES:
            table = bayes_optimal_table(
                self.prior, self.num_trials, cache_dir=self.config.cache_dir
            )
            device = self.counts.device
            _TORCH_TABLES[key] = (
                torch.tensor(table.value, dtype=torch.float64, device=device),
                torch.tensor(table.action, dtype=torch.int64, device=device),
            )
        self.table_value, self.table_action = _TORCH_TABLES[key]

    def _index(self) -> Tensor:
        return state_index(self.prior, self.num_trials, self.counts.long())

    def act(self, obs: Tensor, info: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Look up the optimal arm; ``value`` is the optimal expected reward still to come."""
        if int(self.counts[0].sum()) >= self.num_trials:
            raise RuntimeError(f"{self.name}: more trials than the horizon {self.num_trials}")
        index = self._index()
        code = self.table_action[index]
        coin = torch.rand(code.shape, generator=self.generator, device=code.device) < 0.5
        action = torch.where(code >= 0, code, coin.long())
        policy = torch.nn.functional.one_hot(code.clamp(min=0), 2).float()
        policy[code < 0] = 0.5
        self._value = self.table_value[index]
        return action, {"policy": policy, "value": self._value.float()}

    def observe(
        self, action: Tensor, reward: Tensor, terminated: Tensor, info: dict[str, Tensor]
    ) -> dict[str, Tensor]:
        """Add the outcome to the counts; ``rpe = r + V(next state) - V(state)``."""
        update_counts(self.counts, action.long(), reward)
        if int(self.counts[0].sum()) < self.num_trials:
            following = self.table_value[self._index()]
        else:
            following = torch.zeros_like(self._value)
        return {"rpe": (reward.double() + following - self._value).float()}


@dataclass(frozen=True)
class GittinsConfig(Config):
    """Discounted Gittins index policy for Beta(1, 1)-prior Bernoulli arms."""

    discount: float | None = None
    """The index's discount gamma; None: ``1 - 1/T`` for a task of T trials."""
    num_lambdas: int = 512
    """Size of the calibration grid of ``gittins_index_table``."""

    def __post_init__(self) -> None:
        if self.discount is not None:
            check_range(
                self, "discount", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
            )
        check_range(self, "num_lambdas", low=8)


class GittinsAgent(BanditBaseline):
    """Play the arm with the largest Gittins index (ties uniformly at random)."""

    name = "gittins"
    uses_task_prior = False

    def __init__(self, config: GittinsConfig | None = None) -> None:
        super().__init__(config or GittinsConfig())

    def begin(self, task: Any, generator: torch.Generator) -> None:
        """Compute (or fetch) the index table for the task's number of trials."""
        super().begin(task, generator)
        gamma = self.config.discount
        self.index_discount = default_discount(self.num_trials) if gamma is None else gamma
        table = gittins_index_table(
            self.index_discount, self.num_trials, num_lambdas=self.config.num_lambdas
        )
        self.index_table = torch.tensor(table, dtype=torch.float64, device=self.counts.device)

    def choose(self, estimates: Tensor) -> tuple[Tensor, Tensor]:
        """Argmax of the Gittins index of each arm's posterior."""
        s, f = self.counts[..., 0].long(), self.counts[..., 1].long()
        index = self.index_table[s, f]
        return argmax_random_ties(index, self.generator, tolerance=1e-12)
