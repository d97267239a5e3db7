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
    a1_all = np.where(valid, choice1, 0).astype(np.int64)
    s_all = np.where(valid, state2, 0).astype(np.int64)
    a2_all = np.where(valid, choice2, 0).astype(np.int64) if num_choice2 > 1 else 0 * a1_all
    r_all = np.where(valid, reward, 0.0).astype(np.float64)
    alpha1, alpha2, lam, beta1, beta2, pers, w = params.T
    rows = np.arange(num_seq)
    q_mf = np.zeros((num_seq, 2))
    q2 = np.zeros((num_seq, 2, num_choice2))
    prev = np.zeros((num_seq, 2))
    ll1 = np.zeros((num_seq, num_trials))
    ll2 = np.zeros((num_seq, num_trials))
    keep = {k: np.zeros((num_seq, num_trials)) for k in ("q_mf", "q_mb", "q2", "on_mf", "on_mb")}
    for t in range(num_trials):
        ok = valid[:, t]
        a1, s, a2, r = a1_all[:, t], s_all[:, t], a2_all[:, t], r_all[:, t]
        v2 = q2.max(axis=2)
        q_mb = common_prob * v2 + (1.0 - common_prob) * v2[:, ::-1]
        logits1 = beta1[:, None] * (
            w[:, None] * q_mb + (1 - w[:, None]) * q_mf + pers[:, None] * prev
        )
        ll1[:, t] = np.where(ok, logits1[rows, a1] - logsumexp(logits1, axis=1), 0.0)
        q2_s = q2[rows, s]
        if num_choice2 > 1:
            logits2 = beta2[:, None] * q2_s
            ll2[:, t] = np.where(ok, logits2[rows, a2] - logsumexp(logits2, axis=1), 0.0)
        q2sa = q2_s[rows, a2]
        d1 = q2sa - q_mf[rows, a1]
        d2 = r - q2sa
        if store:
            keep["q_mf"][:, t], keep["q_mb"][:, t] = q_mf[rows, a1], q_mb[rows, a1]
            keep["q2"][:, t], keep["on_mf"][:, t] = q2sa, d1
            keep["on_mb"][:, t] = q2sa - q_mb[rows, a1]
        q_mf[rows, a1] += np.where(ok, alpha1 * (d1 + lam * d2), 0.0)
        q2[rows, s, a2] += np.where(ok, alpha2 * d2, 0.0)
        prev = np.where(ok[:, None], np.eye(2)[a1], prev)
    trace = HybridTrace(loglik1=ll1, loglik2=ll2)
    if store:
        nan = np.where(valid, 1.0, np.nan)
        trace.q_mf, trace.q_mb, trace.q2 = keep["q_mf"] * nan, keep["q_mb"] * nan, keep["q2"] * nan
        trace.rpe_onset_mf, trace.rpe_onset_mb = keep["on_mf"] * nan, keep["on_mb"] * nan
        trace.rpe_outcome = (r_all - keep["q2"]) * nan
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
