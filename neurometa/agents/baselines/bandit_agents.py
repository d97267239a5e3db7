"""Classic bandit baselines: Thompson sampling, UCB1, greedy.

All act on a whole batch of bandit episodes at once (``counts`` or ``q`` tensors of shape
``(B, K, ...)``), draw every random number from the generator given to ``begin``, and report

- ``act`` -> ``policy (B, K)``, ``value (B)`` = the expected reward of this trial under the
  agent's own estimates and policy (``discount`` is 0, so ``rpe = reward - value``);
- ``observe`` -> ``rpe (B)`` = reward minus the agent's estimate for the chosen arm.

References: Thompson 1933 (Biometrika 25:285); Auer, Cesa-Bianchi & Fischer 2002 (Machine
Learning 47:235), UCB1. The Rescorla-Wagner agent is the behavioural model
(:mod:`neurometa.agents.baselines.model_agent`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from neurometa.agents.baselines.posterior import (
    argmax_random_ties,
    posterior_mean,
    posterior_sample,
    probability_best,
    sample_from_policy,
    update_counts,
)
from neurometa.agents.baselines.priors import BanditPrior
from neurometa.config import Config, check_range

__all__ = [
    "BanditBaseline",
    "ThompsonConfig",
    "ThompsonAgent",
    "UCB1Config",
    "UCB1Agent",
    "GreedyConfig",
    "GreedyAgent",
]


def check_bandit_task(task: Any, agent_name: str) -> Any:
    """Return the inner bandit task of ``task`` or raise a ``TypeError`` naming the problem."""
    inner = task.unwrapped
    if "arm_probs" not in getattr(inner, "hidden_variables", ()) or inner.steps_per_trial != 1:
        raise TypeError(
            f"{agent_name} needs a bandit task (one step per trial, info 'arm_probs'); "
            f"got {type(inner).__name__}"
        )
    return inner


class BanditBaseline:
    """Shared bookkeeping: success/failure counts per arm and the step protocol.

    Subclasses implement :meth:`estimates` (``(B, K)`` expected reward per arm) and
    :meth:`choose` (action and policy); they may override :meth:`learn`.
    """

    name = "bandit_baseline"
    discount = 0.0
    uses_task_prior = True

    def __init__(self, config: Config | None = None) -> None:
        self.config = config

    def begin(self, task: Any, generator: torch.Generator) -> None:
        """Start ``task.num_envs`` episodes with no observations."""
        inner = check_bandit_task(task, type(self).__name__)
        self.prior = (
            BanditPrior.from_task(inner)
            if self.uses_task_prior
            else BanditPrior("independent", inner.num_actions)
        )
        self.num_trials = int(inner.num_trials)
        self.generator = generator
        shape = (task.num_envs, inner.num_actions, 2)
        self.counts = torch.zeros(shape, dtype=torch.float32, device=task.device)
        self._estimates: Tensor | None = None

    def estimates(self) -> Tensor:
        """Expected reward of each arm, shape (B, K); default: posterior mean under the prior."""
        return posterior_mean(self.prior, self.counts)

    def choose(self, estimates: Tensor) -> tuple[Tensor, Tensor]:
        """Action ``(B,)`` and policy ``(B, K)``."""
        raise NotImplementedError

    def act(self, obs: Tensor, info: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Choose an arm per episode; ``obs`` and ``info`` are not needed by these agents."""
        estimates = self.estimates()
        action, policy = self.choose(estimates)
        self._estimates = estimates
        return action, {"policy": policy, "value": (policy * estimates).sum(dim=1)}

    def learn(self, action: Tensor, reward: Tensor) -> None:
        """Update beliefs with the outcome; default: add to the counts."""
        update_counts(self.counts, action, reward)

    def observe(
        self, action: Tensor, reward: Tensor, terminated: Tensor, info: dict[str, Tensor]
    ) -> dict[str, Tensor]:
        """Update with the outcome; return ``rpe = reward - estimate[action]``."""
        if self._estimates is None:
            raise RuntimeError(f"{type(self).__name__}.observe called before act")
        predicted = self._estimates.gather(1, action.long().unsqueeze(1)).squeeze(1)
        self.learn(action.long(), reward)
        self._estimates = None
        return {"rpe": reward - predicted}


@dataclass(frozen=True)
class ThompsonConfig(Config):
    """Thompson sampling (Thompson 1933) under the task's own prior."""

    policy_samples: int = 64
    """More than two arms: posterior draws to estimate the reported ``policy`` (two arms: the
    exact probability is reported). 0: report the one-hot of the action (fastest)."""

    def __post_init__(self) -> None:
        check_range(self, "policy_samples", low=0)


class ThompsonAgent(BanditBaseline):
    """Play the arm that is best under one draw from the posterior.

    The reported policy is ``P(arm k is best | counts)``, the probability the action was
    drawn with: exact for two arms (:func:`~.posterior.probability_best`), estimated from
    ``policy_samples`` further posterior draws for more arms.
    """

    name = "thompson"

    def __init__(self, config: ThompsonConfig | None = None) -> None:
        super().__init__(config or ThompsonConfig())

    def choose(self, estimates: Tensor) -> tuple[Tensor, Tensor]:
        """Argmax of one posterior draw per episode."""
        draw = posterior_sample(self.prior, self.counts, self.generator, 1)[0]
        action, _ = argmax_random_ties(draw, self.generator)
        num = self.config.policy_samples
        if num == 0:
            policy = torch.nn.functional.one_hot(action, draw.shape[1]).float()
        elif draw.shape[1] == 2:
            policy = probability_best(self.prior, self.counts).float()
        else:
            draws = posterior_sample(self.prior, self.counts, self.generator, num)
            best = torch.nn.functional.one_hot(draws.argmax(dim=2), draw.shape[1])
            policy = best.float().mean(dim=0)
        return action, policy


@dataclass(frozen=True)
class UCB1Config(Config):
    """UCB1 (Auer et al. 2002): index = mean + sqrt(exploration * ln t / n_k)."""

    exploration: float = 2.0
    """The constant under the square root (2 in Auer et al. 2002)."""

    def __post_init__(self) -> None:
        check_range(self, "exploration", low=0.0)


class UCB1Agent(BanditBaseline):
    """Play each arm once, then the arm with the largest upper confidence bound.

    Reported estimates are the empirical means (1/2 for an arm not yet played); ties are
    broken uniformly at random.
    """

    name = "ucb1"
    uses_task_prior = False

    def __init__(self, config: UCB1Config | None = None) -> None:
        super().__init__(config or UCB1Config())

    def estimates(self) -> Tensor:
        """Empirical mean reward per arm (1/2 before the first play)."""
        plays = self.counts.sum(dim=2)
        return torch.where(plays > 0, self.counts[..., 0] / plays.clamp(min=1), 0.5)

    def choose(self, estimates: Tensor) -> tuple[Tensor, Tensor]:
        """Untried arms first, then ``mean + sqrt(c ln t / n)``."""
        plays = self.counts.sum(dim=2)
        total = plays.sum(dim=1, keepdim=True).clamp(min=1)
        bonus = torch.sqrt(self.config.exploration * torch.log(total) / plays.clamp(min=1))
        index = torch.where(plays > 0, estimates + bonus, torch.inf)
        return argmax_random_ties(index, self.generator)


@dataclass(frozen=True)
class GreedyConfig(Config):
    """(Epsilon-)greedy play on the posterior mean under the task's prior."""

    epsilon: float = 0.0
    """Probability of a uniformly random arm instead of the greedy one."""

    def __post_init__(self) -> None:
        check_range(self, "epsilon", low=0.0, high=1.0)


class GreedyAgent(BanditBaseline):
    """Exploit the posterior mean (ties uniformly at random); explore with ``epsilon``."""

    name = "greedy"

    def __init__(self, config: GreedyConfig | None = None) -> None:
        super().__init__(config or GreedyConfig())

    def choose(self, estimates: Tensor) -> tuple[Tensor, Tensor]:
        """Greedy policy mixed with ``epsilon`` of the uniform policy."""
        _, greedy = argmax_random_ties(estimates, self.generator)
        eps = self.config.epsilon
        policy = (1 - eps) * greedy + eps / estimates.shape[1]
        return sample_from_policy(policy, self.generator), policy
