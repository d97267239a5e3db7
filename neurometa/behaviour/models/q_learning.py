"""Rescorla-Wagner / Q-learning with softmax choice.

Rescorla & Wagner (1972); Sutton & Barto (2018, §2.4-2.8); as a model of choice, e.g.
Daw (2011, "Trial-by-trial data analysis using computational models"). Each trial, with
choice ``c`` and reward ``r``:

- ``P(c = a) = softmax_a(β Q(a))``;
- ``δ = r − Q(c)``; ``Q(c) ← Q(c) + α δ``; unchosen values stay.
"""

from __future__ import annotations

from neurometa.behaviour.models._q import OptionValueModel

__all__ = ["QLearning"]


class QLearning(OptionValueModel):
    """Rescorla-Wagner values, softmax choice (parameters ``alpha``, ``beta``)."""

    name = "q_learning"
    parameters = ("alpha", "beta")
    description = "Rescorla-Wagner Q-learning with softmax choice"

    def update(self, state, p, trial):  # noqa: D102 - see the module docstring
        q = state["q"]
        chosen = self.chosen(trial, q.shape[-1])
        delta = trial["reward"] - (q * chosen).sum(-1)
        return {"q": q + (p["alpha"] * delta)[:, None] * chosen}, {"rpe": delta}
