"""Baiting-aware Q-learning for coupled-baiting foraging tasks.

In a baited task (concurrent variable-interval schedules: Herrnstein 1961; Sugrue et al.
2004; Lau & Glimcher 2005, J Exp Anal Behav 84:555; Bari et al. 2019) a bait, once placed,
waits until collected, so an option left unchosen for ``n`` trials is baited with
probability ``1 − (1 − p)^n`` when its per-trial baiting probability is ``p``. This model
learns an estimate ``p̂(i)`` of each option's baiting probability and chooses by the reward
it expects from each option *now*, which is what a forager aware of baiting should do
(it alternates to a lean option after a run on the rich one, as animals do). Each trial,
with choice ``c``, reward ``r`` and ``n(i)`` trials since option ``i`` was last chosen
(1 on the trial after choosing it; 1 at the session start):

- ``E(i) = 1 − (1 − p̂(i))^n(i)``; ``P(c = i) = softmax_i(β E(i))``;
- ``δ = r − E(c)``; ``p̂(c) ← p̂(c) + α δ`` (clipped to [0, 1]); ``n(c) ← 1``, ``n(u) ← n(u) + 1``.

This is the toolkit's formulation of the baiting correction (not a fit published in this
form); the delta rule on ``E(c)`` is a stochastic-gradient step on the squared error of
the predicted reward with the step size absorbing the derivative.
"""

from __future__ import annotations

import numpy as np

from neurometa.behaviour.models._q import OptionValueModel
from neurometa.behaviour.ops import pick

__all__ = ["BaitingQ"]


class BaitingQ(OptionValueModel):
    """Expected reward of each option under baiting (``alpha``, ``beta``)."""

    name = "baiting_q"
    families = ("foraging",)
    parameters = ("alpha", "beta")
    description = "baiting-aware Q-learning: E(i) = 1 - (1 - p_i)^n_i since last chosen"

    def __init__(self, initial_value: float = 0.2) -> None:
        super().__init__(initial_value)

    def initial_state(self, p, batch, info):  # noqa: D102 - see the module docstring
        state = super().initial_state(p, batch, info)
        state["since"] = np.ones_like(state["q"])
        return state

    def option_values(self, state):
        """``E(i) = 1 − (1 − p̂(i))^n(i)``, shape (B, A)."""
        return 1 - np.exp(state["since"] * np.log(1 - state["q"]))

    def logits(self, state, p, stage, trial):  # noqa: D102
        return p["beta"][..., None] * self.option_values(state)

    def update(self, state, p, trial):  # noqa: D102
        q, since = state["q"], state["since"]
        chosen = self.chosen(trial, q.shape[-1])
        delta = trial["reward"] - pick(self.option_values(state), trial["choice"])
        new_q = q + (p["alpha"] * delta)[:, None] * chosen
        new_q = np.where(np.real(new_q) < 1e-6, 1e-6, new_q)
        new_q = np.where(np.real(new_q) > 1 - 1e-6, 1 - 1e-6, new_q)
        return {"q": new_q, "since": np.where(chosen > 0, 1.0, since + 1)}, {"rpe": delta}
