"""Baseline agents that run a behavioural model of :mod:`neurometa.behaviour` on a task.

The simulated Rescorla-Wagner, forgetting Q-learning (F-Q) and Daw 2011 hybrid agents are
the behavioural models themselves: :class:`ModelAgent` calls the model's own recursion
(``initial_state``, ``logits``, ``update``: the code the fitter, the simulator and the
latent regressors use) step by step on a batched torch task and samples each choice with
the episode's torch generator. Outputs per step:

- ``policy`` = the model's softmax; ``value`` = ``Σ_a π(a) V(a)`` with the stage's option
  values (``Q``; two-step: ``Q_net`` at the first stage, ``Q2(s, ·)`` at the second);
- ``rpe``: at the last stage of a trial the model's own prediction error (``r − Q(c)``;
  two-step ``δ2 = r − Q2(s, a2)``); at an earlier stage ``V_next − V(a)``, the value of the
  state reached (policy-weighted) minus the value of the chosen option (two-step: the
  second-stage onset error against ``Q_net(a1)``).

Configs use the model's parameter names (:data:`neurometa.behaviour.PARAMETERS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from neurometa.behaviour.models import get_model
from neurometa.behaviour.ops import softmax
from neurometa.config import Config, check_range

__all__ = [
    "ModelAgent",
    "HybridParams",
    "HybridAgent",
    "RescorlaWagnerConfig",
    "RescorlaWagnerAgent",
    "QForagerConfig",
    "QForager",
]


class ModelAgent:
    """A behavioural model acting on a batched task (see the module docstring).

    Parameters
    ----------
    model : str or BehaviourModel
    params : mapping of str to float
        A value for every free parameter of the model (the same for the whole batch).
    """

    discount = 0.0

    def __init__(self, model: Any, params: dict[str, float]) -> None:
        self.model = get_model(model)
        missing = [n for n in self.model.parameters if n not in params]
        if missing:
            raise ValueError(f"model {self.model.name!r} needs parameter(s) {missing}")
        self.params = {n: float(params[n]) for n in self.model.parameters}
        self.name = self.model.name

    def begin(self, task: Any, generator: torch.Generator) -> None:
        """Reset the model's state for ``task.num_envs`` episodes."""
        inner = task.unwrapped
        family = getattr(inner, "metadata", {}).get("name")
        if family not in self.model.families:
            raise TypeError(
                f"{type(self).__name__} ({self.model.name}) plays "
                f"{'/'.join(self.model.families)} tasks, got {type(inner).__name__}"
            )
        n = task.num_envs
        info = {
            "num_options": int(inner.num_actions),
            "num_choice2": 2,
            "common_prob": float(getattr(inner.config, "common_prob", 0.7)),
        }
        values = {**self.params, **self.model.fixed}
        self.p = {k: np.full(n, v) for k, v in values.items()}
        self.state = self.model.initial_state(self.p, n, info)
        self.generator, self.device = generator, task.device
        self.stage, self.trial = 0, {}
        self._values: np.ndarray | None = None

    def _tensor(self, x: np.ndarray) -> Tensor:
        return torch.from_numpy(np.ascontiguousarray(x)).float().to(self.device)

    def act(self, obs: Tensor, info: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Sample from the model's softmax at the current stage."""
        policy = softmax(np.real(self.model.logits(self.state, self.p, self.stage, self.trial)))
        u = torch.rand(policy.shape[0], generator=self.generator, device=self.device)
        cum = torch.from_numpy(np.cumsum(policy, axis=1)).to(self.device)
        action = torch.clamp((cum < u[:, None].double()).sum(dim=1), max=policy.shape[1] - 1)
        out = {"policy": self._tensor(policy)}
        values = self.model.stage_values(self.state, self.p, self.stage, self.trial)
        self._values = None if values is None else np.real(values)
        if values is not None:
            out["value"] = self._tensor((policy * self._values).sum(axis=1))
        return action.long(), out

    def observe(
        self, action: Tensor, reward: Tensor, terminated: Tensor, info: dict[str, Tensor]
    ) -> dict[str, Tensor]:
        """Record the choice; at the trial's last stage apply the model's update."""
        chosen = action.detach().cpu().numpy().astype(np.int64)
        self.trial[self.model.choices[self.stage]] = chosen
        if self.stage + 1 < len(self.model.choices):
            self.trial["state2"] = info["state2"].detach().cpu().numpy().astype(np.int64)
            self.stage += 1
            nxt = np.real(self.model.stage_values(self.state, self.p, self.stage, self.trial))
            pol = softmax(np.real(self.model.logits(self.state, self.p, self.stage, self.trial)))
            here = self._values[np.arange(len(chosen)), chosen]
            return {"rpe": self._tensor((pol * nxt).sum(axis=1) - here)}
        self.trial["reward"] = reward.detach().cpu().numpy().astype(np.float64)
        self.state, errors = self.model.update(self.state, self.p, self.trial)
        self.stage, self.trial = 0, {}
        return {"rpe": self._tensor(np.real(errors.get("rpe_outcome", errors["rpe"])))}


@dataclass(frozen=True)
class HybridParams(Config):
    """Parameters of the Daw 2011 hybrid agent (defaults are illustrative mid-range values)."""

    alpha1: float = 0.5
    """First-stage learning rate alpha1."""
    alpha2: float = 0.5
    """Second-stage learning rate alpha2."""
    lam: float = 0.6
    """Eligibility-trace decay lambda: how much the outcome updates the first-stage value."""
    beta1: float = 5.0
    """First-stage inverse temperature beta1."""
    beta2: float = 5.0
    """Second-stage inverse temperature beta2."""
    perseveration: float = 0.1
    """First-stage perseveration p (added to the value of repeating the last first choice)."""
    w: float = 0.5
    """Model-based weight w in [0, 1] (0: model-free, 1: model-based)."""

    def __post_init__(self) -> None:
        for name in ("alpha1", "alpha2", "lam", "w"):
            check_range(self, name, low=0.0, high=1.0)
        for name in ("beta1", "beta2"):
            check_range(self, name, low=0.0)


class HybridAgent(ModelAgent):
    """The Daw 2011 hybrid model (``w = 0`` model-free, ``w = 1`` model-based) as an agent."""

    discount = 1.0

    def __init__(self, params: HybridParams | None = None) -> None:
        self.config = params or HybridParams()
        super().__init__("hybrid", self.config.to_dict())


@dataclass(frozen=True)
class RescorlaWagnerConfig(Config):
    """Rescorla-Wagner / Q-learning with softmax choice (model ``q_learning``)."""

    alpha: float = 0.2
    """Learning rate of ``Q[a] += alpha (r - Q[a])``."""
    beta: float = 10.0
    """Inverse temperature: ``P(a) = softmax(beta Q)``."""
    initial_value: float = 0.5
    """Q of every arm at the start of an episode."""

    def __post_init__(self) -> None:
        check_range(self, "alpha", low=0.0, high=1.0)
        check_range(self, "beta", low=0.0)


class RescorlaWagnerAgent(ModelAgent):
    """Model-free learner: the ``q_learning`` model on a bandit."""

    def __init__(self, config: RescorlaWagnerConfig | None = None) -> None:
        from neurometa.behaviour.models.q_learning import QLearning

        self.config = config or RescorlaWagnerConfig()
        super().__init__(
            QLearning(self.config.initial_value),
            {"alpha": self.config.alpha, "beta": self.config.beta},
        )
        self.name = "rescorla_wagner"


@dataclass(frozen=True)
class QForagerConfig(Config):
    """Forgetting Q-learning with softmax choice (Ito & Doya 2009; model ``q_forgetting``)."""

    alpha: float = 0.4
    """Learning rate of the chosen option's value (illustrative default)."""
    forgetting: float = 0.1
    """Fraction by which each unchosen option's value decays each trial."""
    beta: float = 5.0
    """Inverse temperature of the softmax over the values."""

    def __post_init__(self) -> None:
        check_range(self, "alpha", low=0.0, high=1.0)
        check_range(self, "forgetting", low=0.0, high=1.0)
        check_range(self, "beta", low=0.0)


class QForager(ModelAgent):
    """The ``q_forgetting`` model on the baited foraging task (values start at 0)."""

    def __init__(self, config: QForagerConfig | None = None) -> None:
        from neurometa.behaviour.models.q_forgetting import QForgetting

        self.config = config or QForagerConfig()
        super().__init__(QForgetting(initial_value=0.0), self.config.to_dict())
        self.name = "q_forager"
