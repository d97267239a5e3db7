"""Q-learning with forgetting of the unchosen options (F-Q learning).

Ito & Doya (2009, J Neurosci 29:9861); Barraclough, Conroy & Lee (2004, Nat Neurosci
7:404); used for dynamic foraging by Bari et al. (2019, Neuron 104:1) and Hattori et al.
(2019, Cell 177:1858). Each trial, with choice ``c`` and reward ``r``:

- ``P(c = a) = softmax_a(β Q(a))``;
- ``δ = r − Q(c)``; ``Q(c) ← Q(c) + α δ``; ``Q(u) ← (1 − φ) Q(u)`` for every unchosen ``u``
  (``φ`` = ``forgetting``; values decay towards 0).
"""

from __future__ import annotations

from neurometa.behaviour.models._q import OptionValueModel

__all__ = ["QForgetting"]


class QForgetting(OptionValueModel):
    """Q-learning whose unchosen values decay (``alpha``, ``beta``, ``forgetting``)."""

    name = "q_forgetting"
    parameters = ("alpha", "beta", "forgetting")
    description = "Q-learning with forgetting of the unchosen values (Ito & Doya 2009)"

    def update(self, state, p, trial):  # noqa: D102 - see the module docstring
        q = state["q"]
        chosen = self.chosen(trial, q.shape[-1])
        delta = trial["reward"] - (q * chosen).sum(-1)
        decay = (1 - p["forgetting"])[:, None] * q
        return {"q": decay + chosen * (q + (p["alpha"] * delta)[:, None] - decay)}, {"rpe": delta}
