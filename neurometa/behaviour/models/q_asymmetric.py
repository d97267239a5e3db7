"""Q-learning with separate learning rates for positive and negative prediction errors.

Frank, Moustafa, Haughey, Curran & Hutchison (2007, PNAS 104:16311); Niv, Edlund, Dayan &
O'Doherty (2012, J Neurosci 32:551); Lefebvre et al. (2017, Nat Hum Behav 1:0067). Each
trial, with choice ``c`` and reward ``r``:

- ``P(c = a) = softmax_a(β Q(a))``;
- ``δ = r − Q(c)``; ``Q(c) ← Q(c) + α⁺ δ`` if ``δ > 0``, else ``Q(c) + α⁻ δ``.
"""

from __future__ import annotations

import numpy as np

from neurometa.behaviour.models._q import OptionValueModel

__all__ = ["QAsymmetric"]


class QAsymmetric(OptionValueModel):
    """Q-learning with ``alpha_pos`` / ``alpha_neg`` for positive / negative errors, ``beta``."""

    name = "q_asymmetric"
    parameters = ("alpha_pos", "alpha_neg", "beta")
    description = "Q-learning with separate learning rates for positive and negative errors"

    def update(self, state, p, trial):  # noqa: D102 - see the module docstring
        q = state["q"]
        chosen = self.chosen(trial, q.shape[-1])
        delta = trial["reward"] - (q * chosen).sum(-1)
        alpha = np.where(np.real(delta) > 0, p["alpha_pos"], p["alpha_neg"])
        return {"q": q + (alpha * delta)[:, None] * chosen}, {"rpe": delta}
