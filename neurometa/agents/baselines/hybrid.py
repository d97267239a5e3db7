"""The Daw et al. (2011) hybrid model-based / model-free two-step model, in NumPy only.

This module never imports torch, so analysis code can fit the model by maximum likelihood
with the same equations the simulated agent (:mod:`.hybrid_agent`) uses.

Equations (Daw, Gershman, Seymour, Dayan & Dolan 2011, Neuron 69:1204, Supplemental
Methods). Each trial: first-stage choice ``c1``, second-stage state ``s2``, second-stage
choice ``c2``, reward ``r``. Values start at 0.

- Model-free SARSA(lambda)::

      delta1 = Q2[s2, c2] - Q1[c1];          Q1[c1] += alpha1 * delta1
      delta2 = r - Q2[s2, c2];               Q2[s2, c2] += alpha2 * delta2
                                             Q1[c1] += alpha1 * lam * delta2

- Model-based, with the known transition matrix (choice ``a`` leads to state ``a`` with
  probability ``common_prob``)::

      Q_MB[a] = common_prob * max_b Q2[a, b] + (1 - common_prob) * max_b Q2[1 - a, b]

- Choice::

      Q_net = w * Q_MB + (1 - w) * Q1
      P(c1 = a) = softmax_a(beta1 * (Q_net[a] + p * [a == previous c1]))
      P(c2 = b | s2) = softmax_b(beta2 * Q2[s2, b])

``w = 0`` is the pure model-free learner and ``w = 1`` the pure model-based one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurometa.config import Config, check_range

__all__ = [
    "HybridParams",
    "model_based_values",
    "stage1_logits",
    "hybrid_update",
    "hybrid_q_values",
    "hybrid_log_likelihood",
]


@dataclass(frozen=True)
class HybridParams(Config):
    """Parameters of the Daw 2011 hybrid agent (defaults are illustrative mid-range values)."""

    alpha1: float = 0.5
    """First-stage learning rate alpha1."""
    alpha2: float = 0.5
    """Second-stage learning rate alpha2."""
    lam: float = 0.6
    """Eligibility-trace decay lambda: how much the outcome updates the first-stage value."""
    beta1: float = 5.0
    """First-stage inverse temperature beta1."""
    beta2: float = 5.0
    """Second-stage inverse temperature beta2."""
    perseveration: float = 0.1
    """First-stage perseveration p (added to the value of repeating the last first choice)."""
    w: float = 0.5
    """Model-based weight w in [0, 1] (0: model-free, 1: model-based)."""

    def __post_init__(self) -> None:
        for name in ("alpha1", "alpha2", "lam", "w"):
            check_range(self, name, low=0.0, high=1.0)
        for name in ("beta1", "beta2"):
            check_range(self, name, low=0.0)


def model_based_values(q2: np.ndarray, common_prob: float) -> np.ndarray:
    """``Q_MB[a] = P(common) max Q2[a] + P(rare) max Q2[1-a]``.

    Parameters
    ----------
    q2 : numpy.ndarray, shape (..., 2, 2)
        Second-stage values (state, choice).
    common_prob : float
        Probability that first-stage choice ``a`` leads to state ``a``.

    Returns
    -------
    numpy.ndarray, shape (..., 2)
    """
    best = q2.max(axis=-1)
    return common_prob * best + (1.0 - common_prob) * best[..., ::-1]


def stage1_logits(
    q1: np.ndarray, q2: np.ndarray, prev_choice1: np.ndarray, params: HybridParams,
    common_prob: float,
) -> np.ndarray:  # fmt: skip
    """``beta1 * (Q_net + p * rep)`` for both first-stage actions.

    Parameters
    ----------
    q1 : numpy.ndarray, shape (..., 2)
        Model-free first-stage values.
    q2 : numpy.ndarray, shape (..., 2, 2)
        Second-stage values.
    prev_choice1 : numpy.ndarray, shape (...), int
        Previous first-stage choice, -1 where there is none.
    params : HybridParams
    common_prob : float

    Returns
    -------
    numpy.ndarray, shape (..., 2)
    """
    q_net = params.w * model_based_values(q2, common_prob) + (1.0 - params.w) * q1
    rep = (prev_choice1[..., None] == np.arange(2)).astype(float)
    return params.beta1 * (q_net + params.perseveration * rep)


def hybrid_update(
    q1: np.ndarray, q2: np.ndarray, choice1: np.ndarray, state2: np.ndarray,
    choice2: np.ndarray, reward: np.ndarray, params: HybridParams,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """One trial's SARSA(lambda) update, in place, for a batch of learners.

    Parameters
    ----------
    q1 : numpy.ndarray, shape (N, 2), float
        First-stage model-free values (updated in place).
    q2 : numpy.ndarray, shape (N, 2, 2), float
        Second-stage values (updated in place).
    choice1, state2, choice2 : numpy.ndarray, shape (N,), int in {0, 1}
    reward : numpy.ndarray, shape (N,), float
    params : HybridParams

    Returns
    -------
    delta1 : numpy.ndarray, shape (N,)
        ``Q2[s2, c2] - Q1[c1]`` (before the update).
    delta2 : numpy.ndarray, shape (N,)
        ``r - Q2[s2, c2]`` (before the update).
    """
    rows = np.arange(q1.shape[0])
    delta1 = q2[rows, state2, choice2] - q1[rows, choice1]
    q1[rows, choice1] += params.alpha1 * delta1
    delta2 = reward - q2[rows, state2, choice2]
    q2[rows, state2, choice2] += params.alpha2 * delta2
    q1[rows, choice1] += params.alpha1 * params.lam * delta2
    return delta1, delta2


def _check_binary(name: str, values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    if values.size and not np.isin(values, (0, 1)).all():
        raise ValueError(f"{name} must hold only 0 and 1, got values {np.unique(values)[:5]}")
    return values.astype(np.int64)


def hybrid_q_values(
    choices1: np.ndarray, states2: np.ndarray, choices2: np.ndarray, rewards: np.ndarray,
    params: HybridParams, common_prob: float = 0.7,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Replay a choice sequence through the model; values before every trial's choices.

    Parameters
    ----------
    choices1, states2, choices2 : numpy.ndarray, shape (..., T), int in {0, 1}
        Trials along the last axis; leading axes are independent sessions.
    rewards : numpy.ndarray, shape (..., T), float
    params : HybridParams
    common_prob : float
        Probability of the common transition (0.7 in Daw 2011).

    Returns
    -------
    dict of str to numpy.ndarray
        ``q_mf (..., T, 2)``, ``q_mb (..., T, 2)``, ``q2 (..., T, 2, 2)`` (before trial t),
        ``logits1 (..., T, 2)``, ``logits2 (..., T, 2)`` (of the state reached), and the
        prediction errors ``delta1 (..., T)``, ``delta2 (..., T)``.
    """
    c1 = _check_binary("choices1", choices1)
    s2 = _check_binary("states2", states2)
    c2 = _check_binary("choices2", choices2)
    rewards = np.asarray(rewards, dtype=float)
    if not c1.shape == s2.shape == c2.shape == rewards.shape:
        raise ValueError(
            f"choices1, states2, choices2, rewards must share a shape, got "
            f"{c1.shape}, {s2.shape}, {c2.shape}, {rewards.shape}"
        )
    lead, num_trials = c1.shape[:-1], c1.shape[-1]
    flat = [x.reshape(-1, num_trials) for x in (c1, s2, c2, rewards)]
    n = flat[0].shape[0]
    q1, q2 = np.zeros((n, 2)), np.zeros((n, 2, 2))
    prev = np.full(n, -1)
    out = {k: np.zeros((n, num_trials, *s)) for k, s in
           (("q_mf", (2,)), ("q_mb", (2,)), ("q2", (2, 2)), ("logits1", (2,)),
            ("logits2", (2,)), ("delta1", ()), ("delta2", ()))}  # fmt: skip
    rows = np.arange(n)
    for t in range(num_trials):
        a, s, b, r = (x[:, t] for x in flat)
        out["q_mf"][:, t], out["q2"][:, t] = q1, q2
        out["q_mb"][:, t] = model_based_values(q2, common_prob)
        out["logits1"][:, t] = stage1_logits(q1, q2, prev, params, common_prob)
        out["logits2"][:, t] = params.beta2 * q2[rows, s]
        out["delta1"][:, t], out["delta2"][:, t] = hybrid_update(q1, q2, a, s, b, r, params)
        prev = a
    return {k: v.reshape(*lead, num_trials, *v.shape[2:]) for k, v in out.items()}


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    top = logits.max(axis=-1, keepdims=True)
    return logits - top - np.log(np.exp(logits - top).sum(axis=-1, keepdims=True))


def hybrid_log_likelihood(
    choices1: np.ndarray, states2: np.ndarray, choices2: np.ndarray, rewards: np.ndarray,
    params: HybridParams, common_prob: float = 0.7,
) -> np.ndarray:  # fmt: skip
    """Log-likelihood of both stages' choices under the model (Daw 2011's fitting target).

    Parameters
    ----------
    choices1, states2, choices2, rewards, params, common_prob
        As for :func:`hybrid_q_values`.

    Returns
    -------
    numpy.ndarray, shape (...)
        ``sum_t log P(c1_t) + log P(c2_t | s2_t)`` per session.
    """
    q = hybrid_q_values(choices1, states2, choices2, rewards, params, common_prob)
    c1 = np.asarray(choices1, dtype=np.int64)[..., None]
    c2 = np.asarray(choices2, dtype=np.int64)[..., None]
    ll1 = np.take_along_axis(_log_softmax(q["logits1"]), c1, axis=-1)[..., 0]
    ll2 = np.take_along_axis(_log_softmax(q["logits2"]), c2, axis=-1)[..., 0]
    return (ll1 + ll2).sum(axis=-1)
