"""Shared parts of the models that keep one value per option (the Q-learning family)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from neurometa.behaviour.model import BehaviourModel, Params, State, TaskInfo
from neurometa.behaviour.ops import one_hot, pick, softmax

__all__ = ["OptionValueModel"]


class OptionValueModel(BehaviourModel):
    """A model whose state holds ``q (B, A)``, one value per option, starting at ``initial_value``.

    Latents (before the trial's update): ``option_value`` ``Q(a)``, ``chosen_value``
    ``Q(c_t)``, ``value`` ``Σ_a π(a) Q(a)`` (the policy-weighted value, like an agent's
    ``value``) and, with two options, ``value_difference`` ``Q(1) − Q(0)``; the update
    returns ``rpe`` ``δ_t = r_t − Q(c_t)``.
    """

    families: ClassVar[tuple[str, ...]] = ("bandit", "foraging")

    def __init__(self, initial_value: float = 0.5) -> None:
        self.initial_value = float(initial_value)

    def initial_state(self, p: Params, batch: int, info: TaskInfo) -> State:
        """``Q = initial_value`` for every option."""
        return {"q": np.full((batch, int(info["num_options"])), self.initial_value)}

    def logits(self, state: State, p: Params, stage: int, trial: dict) -> np.ndarray:
        """``β Q(a)`` (the softmax rule of the Q-learning models)."""
        return p["beta"][..., None] * state["q"]

    def option_values(self, state: State) -> np.ndarray:
        """The value of each option, shape (B, A) (default: ``state["q"]``)."""
        return state["q"]

    def stage_values(self, state: State, p: Params, stage: int, trial: dict) -> np.ndarray:
        """The option values (one stage per trial)."""
        return self.option_values(state)

    def latents(self, state: State, p: Params, trial: dict[str, np.ndarray]) -> dict[str, Any]:
        """Option values, chosen value, policy-weighted value, value difference."""
        q = self.option_values(state)
        out = {
            "option_value": q,
            "chosen_value": pick(q, trial["choice"]),
            "value": (softmax(self.logits(state, p, 0, trial)) * q).sum(axis=-1),
        }
        if q.shape[-1] == 2:
            out["value_difference"] = q[:, 1] - q[:, 0]
        return out

    @staticmethod
    def chosen(trial: dict[str, np.ndarray], num: int) -> np.ndarray:
        """One-hot ``(B, A)`` of the trial's choice."""
        return one_hot(trial["choice"], num)
