"""Local matching law on leaky-integrated income (for baited foraging tasks).

Sugrue, Corrado & Newsome (2004, Science 304:1782): each option's income is a leaky
integral of the rewards it returned and the choice probability matches the fractional
income (Herrnstein's matching law applied locally). Each trial, with choice ``c``, reward
``r`` and lapse ``ε``:

- ``P(c = i) = (1 − ε) I(i) / Σ_j I(j) + ε / A`` (``1 / A`` each while no income is
  earned);
- ``I(i) ← (1 − 1/τ) I(i) + r [c = i]``.

The "value" of an option is its income rate ``I(i) / τ``; ``δ = r − I(c) / τ``.
"""

from __future__ import annotations

import numpy as np

from neurometa.behaviour.models._q import OptionValueModel

__all__ = ["LocalMatching"]


class LocalMatching(OptionValueModel):
    """Choice in proportion to recent income (``tau``, ``lapse``)."""

    name = "matching"
    families = ("foraging", "bandit")
    parameters = ("tau", "lapse")
    description = "local matching law on leaky-integrated income (Sugrue et al. 2004)"

    def __init__(self) -> None:
        super().__init__(initial_value=0.0)

    def logits(self, state, p, stage, trial):  # noqa: D102 - see the module docstring
        income = state["q"] * p["tau"][:, None]
        total = income.sum(-1, keepdims=True)
        num = income.shape[-1]
        earned = np.real(total) > 0
        share = np.where(earned, income / np.where(earned, total, 1.0), 1.0 / num)
        lapse = p["lapse"][:, None]
        return np.log((1 - lapse) * share + lapse / num)

    def update(self, state, p, trial):  # noqa: D102
        rate = state["q"]  # income / tau
        chosen = self.chosen(trial, rate.shape[-1])
        delta = trial["reward"] - (rate * chosen).sum(-1)
        keep = (1 - 1 / p["tau"])[:, None]
        new_rate = keep * rate + (trial["reward"] / p["tau"])[:, None] * chosen
        return {"q": new_rate}, {"rpe": delta}
