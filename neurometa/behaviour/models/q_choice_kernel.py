"""Q-learning with a choice kernel (perseveration over the recent choices).

Wilson & Collins (2019, eLife 8:e49547, model 5, "Rescorla-Wagner + choice kernel"); the
choice-history terms of Lau & Glimcher (2005, J Exp Anal Behav 84:555). With ``α_c = 1``
the kernel is the last choice alone (one-trial perseveration). Each trial, with choice ``c``
and reward ``r``:

- ``P(c = a) = softmax_a(β Q(a) + β_c K(a))``;
- ``δ = r − Q(c)``; ``Q(c) ← Q(c) + α δ``;
- ``K(a) ← K(a) + α_c ([a = c] − K(a))`` for every option (``K`` starts at 0).
"""

from __future__ import annotations

import numpy as np

from neurometa.behaviour.models._q import OptionValueModel

__all__ = ["QChoiceKernel"]


class QChoiceKernel(OptionValueModel):
    """Q-learning plus a choice kernel (``alpha``, ``beta``, ``alpha_c``, ``beta_c``)."""

    name = "q_choice_kernel"
    parameters = ("alpha", "beta", "alpha_c", "beta_c")
    description = "Q-learning with a choice kernel (Wilson & Collins 2019)"

    def initial_state(self, p, batch, info):  # noqa: D102 - see OptionValueModel
        state = super().initial_state(p, batch, info)
        state["kernel"] = np.zeros_like(state["q"])
        return state

    def logits(self, state, p, stage, trial):  # noqa: D102
        return p["beta"][..., None] * state["q"] + p["beta_c"][..., None] * state["kernel"]

    def update(self, state, p, trial):  # noqa: D102
        q, kernel = state["q"], state["kernel"]
        chosen = self.chosen(trial, q.shape[-1])
        delta = trial["reward"] - (q * chosen).sum(-1)
        new_kernel = kernel + p["alpha_c"][:, None] * (chosen - kernel)
        return {"q": q + (p["alpha"] * delta)[:, None] * chosen, "kernel": new_kernel}, {
            "rpe": delta
        }
