"""The Daw et al. (2011) hybrid model-based / model-free learner and its two nested models.

Daw, Gershman, Seymour, Dayan & Dolan (2011, Neuron 69:1204, Supplemental Methods). Each
trial: first-stage choice ``a1``, second-stage state ``s`` (choice ``i`` leads to state ``i``
with the common probability ``c``), second-stage choice ``a2``, reward ``r``; all values
start at 0:

- ``Q_MB(a) = c max_b Q2(a, b) + (1 − c) max_b Q2(1 − a, b)``;
- ``Q_net(a) = w Q_MB(a) + (1 − w) Q_MF(a)``;
- ``P(a1 = a) = softmax_a(β1 [Q_net(a) + p rep(a)])``, ``rep(a) = 1`` if ``a`` was the
  previous first-stage choice (``p`` = ``perseveration``);
  ``P(a2 = b | s) = softmax_b(β2 Q2(s, b))``;
- ``δ1 = Q2(s, a2) − Q_MF(a1)``; ``δ2 = r − Q2(s, a2)``;
  ``Q_MF(a1) ← Q_MF(a1) + α1 (δ1 + λ δ2)``; ``Q2(s, a2) ← Q2(s, a2) + α2 δ2``.

``model_free`` fixes ``w = 0`` (SARSA(λ)); ``model_based`` fixes ``w = 1`` (``α1`` and
``λ`` then do not enter and are fixed at 0). With one second-stage option (the Miller 2017
/ Wang 2018 variant without a second-stage choice) ``Q2`` holds one value per state and the
second stage adds nothing to the likelihood.

The state is kept as one array per value (``mf0, mf1``; ``q00, q01, q10, q11`` for state
× second-stage choice) so that each trial is a few dozen elementwise operations on the
whole batch (the fitter runs it for every subject, restart and gradient direction at once).

Latents: ``q_mf``, ``q_mb`` (both first-stage options), ``q2`` (the state reached), the
chosen ``Q_net(a1)`` as ``chosen_value`` and ``Q2(s, a2)`` as ``chosen_value2``; prediction
errors ``rpe`` = ``δ1`` (model-free, at second-stage onset), ``rpe_mb`` =
``Q2(s, a2) − Q_MB(a1)`` and ``rpe_outcome`` = ``δ2`` (shared by both systems).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from neurometa.behaviour.model import BehaviourModel

__all__ = ["Hybrid", "ModelFree", "ModelBased"]


def _larger(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise max by real part (complex-safe)."""
    return np.where(np.real(a) >= np.real(b), a, b)


class Hybrid(BehaviourModel):
    """Daw 2011 hybrid learner (``alpha1 alpha2 lam beta1 beta2 perseveration w``)."""

    name = "hybrid"
    families = ("two_step",)
    parameters: ClassVar[tuple[str, ...]] = (
        "alpha1",
        "alpha2",
        "lam",
        "beta1",
        "beta2",
        "perseveration",
        "w",
    )
    choices = ("choice1", "choice2")
    inputs = ("choice1", "state2", "choice2", "reward")
    num_options = 2
    description = "Daw 2011 hybrid model-based / model-free learner"

    def initial_state(self, p, batch, info):  # noqa: D102 - see the module docstring
        self.common_prob = float(info.get("common_prob", 0.7))
        self.second_choice = int(info.get("num_choice2", 2)) > 1
        zero = np.zeros(batch)
        state = {k: zero for k in ("mf0", "mf1", "q00", "q10")}
        if self.second_choice:
            state.update(q01=zero, q11=zero)
        state["rep"] = zero  # +1: previous first-stage choice 1; -1: choice 0; 0: none
        return state

    def _state_best(self, state):
        """``max_b Q2(s, b)`` of states 0 and 1."""
        if not self.second_choice:
            return state["q00"], state["q10"]
        return _larger(state["q00"], state["q01"]), _larger(state["q10"], state["q11"])

    def _values(self, state, p):
        """``Q_MB(0), Q_MB(1), Q_net(0), Q_net(1)``."""
        v0, v1 = self._state_best(state)
        c, w = self.common_prob, p["w"]
        mb0, mb1 = c * v0 + (1 - c) * v1, c * v1 + (1 - c) * v0
        return mb0, mb1, w * mb0 + (1 - w) * state["mf0"], w * mb1 + (1 - w) * state["mf1"]

    def _second(self, state, s2):
        """``Q2(s, 0), Q2(s, 1)`` of the state reached."""
        s = np.asarray(s2) == 1
        if not self.second_choice:
            return (np.where(s, state["q10"], state["q00"]),)
        return np.where(s, state["q10"], state["q00"]), np.where(s, state["q11"], state["q01"])

    def logits(self, state, p, stage, trial):  # noqa: D102
        if stage == 0:
            _, _, net0, net1 = self._values(state, p)
            half = 0.5 * p["perseveration"] * state["rep"]
            return p["beta1"][:, None] * np.stack([net0 - half, net1 + half], axis=-1)
        return p["beta2"][:, None] * np.stack(self._second(state, trial["state2"]), axis=-1)

    def _chosen2(self, state, trial):
        q2s = self._second(state, trial["state2"])
        if len(q2s) == 1:
            return q2s[0]
        return np.where(np.asarray(trial["choice2"]) == 1, q2s[1], q2s[0])

    def stage_values(self, state, p, stage, trial):
        """``Q_net`` of both first-stage options, or ``Q2(s, ·)`` of the state reached."""
        if stage == 0:
            return np.stack(self._values(state, p)[2:], axis=-1)
        return np.stack(self._second(state, trial["state2"]), axis=-1)

    def latents(self, state, p, trial):  # noqa: D102
        mb0, mb1, net0, net1 = self._values(state, p)
        a1 = np.asarray(trial["choice1"]) == 1
        q2sa = self._chosen2(state, trial)
        return {
            "q_mf": np.stack([state["mf0"], state["mf1"]], axis=-1),
            "q_mb": np.stack([mb0, mb1], axis=-1),
            "q2": np.stack(self._second(state, trial["state2"]), axis=-1),
            "chosen_value": np.where(a1, net1, net0),
            "chosen_value2": q2sa,
            "rpe_mb": q2sa - np.where(a1, mb1, mb0),
        }

    def update(self, state, p, trial):  # noqa: D102
        a1 = np.asarray(trial["choice1"]) == 1
        s = np.asarray(trial["state2"]) == 1
        q2sa = self._chosen2(state, trial)
        mfa = np.where(a1, state["mf1"], state["mf0"])
        d1 = q2sa - mfa
        d2 = trial["reward"] - q2sa
        step1 = p["alpha1"] * (d1 + p["lam"] * d2)
        new = dict(state)
        new["mf0"] = state["mf0"] + np.where(a1, 0.0, step1)
        new["mf1"] = state["mf1"] + np.where(a1, step1, 0.0)
        step2 = p["alpha2"] * d2
        b = (np.asarray(trial["choice2"]) == 1) if self.second_choice else np.zeros(len(s), bool)
        for key, here in (("q00", ~s & ~b), ("q01", ~s & b), ("q10", s & ~b), ("q11", s & b)):
            if key in state:
                new[key] = state[key] + np.where(here, step2, 0.0)
        new["rep"] = np.where(a1, 1.0, -1.0)
        return new, {"rpe": d1, "rpe_outcome": d2}


class ModelFree(Hybrid):
    """The hybrid model at ``w = 0``: model-free SARSA(λ)."""

    name = "model_free"
    parameters = ("alpha1", "alpha2", "lam", "beta1", "beta2", "perseveration")
    fixed: ClassVar[dict[str, float]] = {"w": 0.0}
    description = "Daw 2011 model-free SARSA(lambda) (hybrid at w = 0)"


class ModelBased(Hybrid):
    """The hybrid model at ``w = 1``: model-based (``α1``, ``λ`` fixed at 0, unused)."""

    name = "model_based"
    parameters = ("alpha2", "beta1", "beta2", "perseveration")
    fixed: ClassVar[dict[str, float]] = {"w": 1.0, "alpha1": 0.0, "lam": 0.0}
    description = "Daw 2011 model-based learner (hybrid at w = 1)"
