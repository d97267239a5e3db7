"""The Daw et al. 2011 hybrid model-based / model-free learner, in NumPy.

Used to fit behaviour (:mod:`neurometa.analysis.hybrid_fit`), to compute model prediction
errors (:mod:`neurometa.analysis.rpe`) and to simulate subjects with known parameters.
Everything is vectorised over ``S`` independent sequences (subjects, sessions or parameter
sets); the loop runs over trials only.

Model (Daw, Gershman, Seymour, Dayan & Dolan 2011, Neuron 69:1204, Supplementary methods).
First-stage choice ``a1``, second-stage state ``s`` (choice ``i`` leads to state ``i`` with
the common probability ``c``), second-stage choice ``a2``, reward ``r``:

- ``Q_MB(a) = c max_b Q2(a, b) + (1 - c) max_b Q2(1 - a, b)``
- ``Q_net(a) = w Q_MB(a) + (1 - w) Q_MF(a)``
- ``P(a1 = a) ∝ exp(β1 [Q_net(a) + p rep(a)])`` with ``rep(a) = 1`` if ``a`` was the
  previous first-stage choice; ``P(a2 = b | s) ∝ exp(β2 Q2(s, b))``
- ``δ1 = Q2(s, a2) - Q_MF(a1)``; ``δ2 = r - Q2(s, a2)``;
  ``Q_MF(a1) += α1 δ1 + α1 λ δ2``; ``Q2(s, a2) += α2 δ2``; all values start at 0.

With ``num_choice2 = 1`` (the Miller 2017 / Wang 2018 variant without a second-stage
choice) ``Q2`` holds one value per state and only first-stage choices enter the likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

__all__ = ["PARAM_NAMES", "BOUNDS", "HybridTrace", "hybrid_recursion", "simulate_hybrid"]

#: Parameter order used throughout (arrays of parameters have this last axis).
PARAM_NAMES: tuple[str, ...] = ("alpha1", "alpha2", "lam", "beta1", "beta2", "pers", "w")

#: Bounds of the maximum-likelihood fit.
BOUNDS: dict[str, tuple[float, float]] = {
    "alpha1": (0.0, 1.0),
    "alpha2": (0.0, 1.0),
    "lam": (0.0, 1.0),
    "beta1": (0.0, 20.0),
    "beta2": (0.0, 20.0),
    "pers": (-2.0, 2.0),
    "w": (0.0, 1.0),
}


@dataclass
class HybridTrace:
    """Per-trial quantities of :func:`hybrid_recursion` (arrays of shape (S, T)).

    ``loglik1``/``loglik2`` are the log-probabilities of the observed choices (0 on invalid
    trials); ``q_mf`` and ``q_mb`` the values of the chosen first-stage action before the
    trial; ``q2`` the value of the chosen second-stage action; ``rpe_onset_mf`` =
    ``Q2(s, a2) - Q_MF(a1)``, ``rpe_onset_mb`` = ``Q2(s, a2) - Q_MB(a1)`` and
    ``rpe_outcome`` = ``r - Q2(s, a2)`` (shared by both systems).
    """

    loglik1: np.ndarray
    loglik2: np.ndarray
    q_mf: np.ndarray | None = None
    q_mb: np.ndarray | None = None
    q2: np.ndarray | None = None
    rpe_onset_mf: np.ndarray | None = None
    rpe_onset_mb: np.ndarray | None = None
    rpe_outcome: np.ndarray | None = None


def _check_inputs(params: np.ndarray, arrays: list[np.ndarray]) -> tuple[int, int]:
    if params.ndim != 2 or params.shape[1] != len(PARAM_NAMES):
        raise ValueError(f"params must have shape (S, {len(PARAM_NAMES)}), got {params.shape}")
    shape = arrays[0].shape
    if len(shape) != 2 or shape[0] != params.shape[0]:
        raise ValueError(f"trial arrays must have shape (S={params.shape[0]}, T), got {shape}")
    for arr in arrays:
        if arr.shape != shape:
            raise ValueError(f"trial arrays differ in shape: {arr.shape} vs {shape}")
    return shape


def hybrid_recursion(
    params: np.ndarray,
    choice1: np.ndarray,
    state2: np.ndarray,
    choice2: np.ndarray,
    reward: np.ndarray,
    valid: np.ndarray,
    *,
    common_prob: float = 0.7,
    num_choice2: int = 2,
    store: bool = False,
) -> HybridTrace:
    """Run the hybrid learner over observed choices and return per-trial log-likelihoods.

    Parameters
    ----------
    params : numpy.ndarray, shape (S, 7)
        Parameters per sequence, in :data:`PARAM_NAMES` order.
    choice1, state2, choice2 : numpy.ndarray of int, shape (S, T)
        Observed choices and states (0/1); ignored where ``valid`` is False.
    reward : numpy.ndarray, shape (S, T)
    valid : numpy.ndarray of bool, shape (S, T)
        Trials to use; invalid trials (missed, padding) neither update nor count.
    common_prob : float
        Probability of the common transition.
    num_choice2 : {1, 2}
        Second-stage options (1: no second-stage choice).
    store : bool
        Also return the values and prediction errors.

    Returns
    -------
    HybridTrace
    """
    params = np.asarray(params, dtype=np.float64)
    num_seq, num_trials = _check_inputs(params, [choice1, state2, choice2, reward, valid])
    if num_choice2 not in (1, 2):
        raise ValueError(f"num_choice2 must be 1 or 2, got {num_choice2}")
    ok_all = np.ascontiguousarray(np.asarray(valid, dtype=bool).T)
    a1_all = np.ascontiguousarray(np.where(valid, choice1, 0).T.astype(np.float64))
    s_all = np.where(valid, state2, 0).T.astype(np.int64)
    a2_all = np.where(valid, choice2, 0).T.astype(np.float64) if num_choice2 > 1 else 0 * a1_all
    r_all = np.ascontiguousarray(np.where(valid, reward, 0.0).T.astype(np.float64))
    # One-hot of the updated second-stage entry (state, choice) among 2 * num_choice2.
    slot = s_all * num_choice2 + a2_all.astype(np.int64)
    onehot2 = np.eye(2 * num_choice2)[slot]  # (T, S, 2 * num_choice2)
    alpha1, alpha2, lam, beta1, beta2, pers, w = params.T
    c = common_prob
    mf0, mf1 = np.zeros(num_seq), np.zeros(num_seq)
    q2 = np.zeros((num_seq, 2 * num_choice2))
    prev = np.zeros(num_seq)  # +1 if the previous choice was 1, -1 if 0, 0 before any
    ll1 = np.zeros((num_trials, num_seq))
    ll2 = np.zeros((num_trials, num_seq))
    keep = np.zeros((5, num_trials, num_seq)) if store else None
    for t in range(num_trials):
        ok, a1, a2, r = ok_all[t], a1_all[t], a2_all[t], r_all[t]
        if num_choice2 == 2:
            v0, v1 = np.maximum(q2[:, 0], q2[:, 1]), np.maximum(q2[:, 2], q2[:, 3])
            s = s_all[t].astype(bool)
            q2s0 = np.where(s, q2[:, 2], q2[:, 0])
            q2s1 = np.where(s, q2[:, 3], q2[:, 1])
            x2 = beta2 * (q2s1 - q2s0)
            ll2[t] = np.where(ok, -np.logaddexp(0.0, (1.0 - 2.0 * a2) * x2), 0.0)
            q2sa = q2s0 + a2 * (q2s1 - q2s0)
        else:
            v0, v1 = q2[:, 0], q2[:, 1]
            q2sa = np.where(s_all[t] == 1, v1, v0)
        mb_diff = (2.0 * c - 1.0) * (v1 - v0)  # Q_MB(1) - Q_MB(0)
        x1 = beta1 * (w * mb_diff + (1.0 - w) * (mf1 - mf0) + pers * prev)
        ll1[t] = np.where(ok, -np.logaddexp(0.0, (1.0 - 2.0 * a1) * x1), 0.0)
        mfa = mf0 + a1 * (mf1 - mf0)
        d1 = q2sa - mfa
        d2 = r - q2sa
        if store:
            mba = c * (v0 + a1 * (v1 - v0)) + (1.0 - c) * (v1 + a1 * (v0 - v1))
            keep[:, t] = mfa, mba, q2sa, d1, q2sa - mba
        upd = np.where(ok, alpha1 * (d1 + lam * d2), 0.0)
        mf1 += upd * a1
        mf0 += upd * (1.0 - a1)
        q2 += np.where(ok, alpha2 * d2, 0.0)[:, None] * onehot2[t]
        prev = np.where(ok, 2.0 * a1 - 1.0, prev)
    trace = HybridTrace(loglik1=ll1.T, loglik2=ll2.T)
    if store:
        nan = np.where(ok_all, 1.0, np.nan)
        trace.q_mf, trace.q_mb, trace.q2 = (keep[0] * nan).T, (keep[1] * nan).T, (keep[2] * nan).T
        trace.rpe_onset_mf, trace.rpe_onset_mb = (keep[3] * nan).T, (keep[4] * nan).T
        trace.rpe_outcome = ((r_all - keep[2]) * nan).T
    return trace


def simulate_hybrid(
    params: np.ndarray,
    num_trials: int,
    rng: np.random.Generator,
    *,
    common_prob: float = 0.7,
    drift_sd: float = 0.025,
    prob_bounds: tuple[float, float] = (0.25, 0.75),
) -> dict[str, np.ndarray]:
    """Simulate hybrid learners on the Daw 2011 two-step task.

    Four second-stage reward probabilities start uniform in ``prob_bounds`` and follow
    Gaussian random walks (SD ``drift_sd``) reflected at the bounds (Daw et al. 2011).

    Parameters
    ----------
    params : numpy.ndarray, shape (S, 7)
        One parameter vector per simulated subject (:data:`PARAM_NAMES` order).
    num_trials : int
    rng : numpy.random.Generator
        The only source of randomness.

    Returns
    -------
    dict of numpy.ndarray, each shape (S, T)
        ``choice1``, ``state2``, ``choice2``, ``reward``, ``common`` and ``reward_probs``
        (shape (S, T, 2, 2): state × second-stage choice, in force on each trial).
    """
    params = np.asarray(params, dtype=np.float64)
    if params.ndim != 2 or params.shape[1] != len(PARAM_NAMES):
        raise ValueError(f"params must have shape (S, {len(PARAM_NAMES)}), got {params.shape}")
    alpha1, alpha2, lam, beta1, beta2, pers, w = params.T
    num_seq = params.shape[0]
    rows = np.arange(num_seq)
    lo, hi = prob_bounds
    probs = rng.uniform(lo, hi, size=(num_seq, 2, 2))
    q_mf, q2, prev = np.zeros((num_seq, 2)), np.zeros((num_seq, 2, 2)), np.zeros((num_seq, 2))
    out = {
        k: np.zeros((num_seq, num_trials), dtype=np.int64)
        for k in ("choice1", "state2", "choice2")
    }
    out["reward"] = np.zeros((num_seq, num_trials))
    out["common"] = np.zeros((num_seq, num_trials), dtype=bool)
    out["reward_probs"] = np.zeros((num_seq, num_trials, 2, 2))
    for t in range(num_trials):
        v2 = q2.max(axis=2)
        q_mb = common_prob * v2 + (1 - common_prob) * v2[:, ::-1]
        logits1 = beta1[:, None] * (
            w[:, None] * q_mb + (1 - w[:, None]) * q_mf + pers[:, None] * prev
        )
        a1 = _sample(logits1, rng)
        common = rng.random(num_seq) < common_prob
        s = np.where(common, a1, 1 - a1)
        a2 = _sample(beta2[:, None] * q2[rows, s], rng)
        r = (rng.random(num_seq) < probs[rows, s, a2]).astype(np.float64)
        for key, val in (("choice1", a1), ("state2", s), ("choice2", a2), ("reward", r)):
            out[key][:, t] = val
        out["common"][:, t], out["reward_probs"][:, t] = common, probs
        d1 = q2[rows, s, a2] - q_mf[rows, a1]
        d2 = r - q2[rows, s, a2]
        q_mf[rows, a1] += alpha1 * (d1 + lam * d2)
        q2[rows, s, a2] += alpha2 * d2
        prev = np.eye(2)[a1]
        probs = probs + rng.normal(0.0, drift_sd, size=probs.shape)
        probs = np.where(probs > hi, 2 * hi - probs, probs)
        probs = np.where(probs < lo, 2 * lo - probs, probs)
    return out


def _sample(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row from softmax(logits), shape (S, 2) -> (S,)."""
    p = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
    return (rng.random(p.shape[0]) >= p[:, 0]).astype(np.int64)
