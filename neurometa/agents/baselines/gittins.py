"""Gittins indices of Beta-Bernoulli arms, by calibration against a retirement reward.

The Gittins index of an arm whose success probability has posterior ``Beta(s+1, f+1)``
(``s`` successes and ``f`` failures after a uniform prior) under discount ``gamma`` is the
constant per-trial reward ``lambda`` that makes a player indifferent between retiring on it
for ever and playing the arm with the option to retire later (Gittins & Jones 1974; the
"calibration" method of Gittins, Glazebrook & Weber 2011, *Multi-armed Bandit Allocation
Indices*, 2nd ed., §8.4). For a fixed ``lambda`` the retirement problem is solved by
backward induction over the posterior lattice ``n = s + f``:

    W(s, f) = max( lambda / (1 - gamma),
                   mu + gamma * [mu * W(s+1, f) + (1 - mu) * W(s, f+1)] ),
    mu = (s + 1) / (n + 2),

truncated at depth ``N`` with ``W = max(lambda, mu) / (1 - gamma)`` (past ``N`` the mean is
treated as known). The index is the ``lambda`` at which the two terms are equal at
``(s, f)``. One backward pass is run for a whole grid of ``lambda`` values at once, carrying
the slope ``dW/dlambda`` along; each state's root is located between two grid points. The
advantage (continue minus retire) is convex and piecewise linear in ``lambda``, with kinks
where a successor's index is crossed, so the larger root of the two end-point tangents is a
lower bound of the index, exact when at most one kink lies in the interval. Measured at
``gamma = 0.99``, ``T = 100`` (all 5,050 states) against a 16,384-point grid and per-state
bisection: maximum error 7.8e-5, median 2.7e-6 with the default 512 points (2 s); plain
linear interpolation had 1.2e-3 (e.g. Beta(87, 1): 0.99371 against 0.99250).

Finite horizon: the agent uses the discounted index with ``gamma = 1 - 1/T`` by default
(an effective horizon equal to the task's ``T``); any ``gamma`` can be given instead.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["gittins_index_table", "default_discount"]

_TABLES: dict[tuple[float, int, int, int], np.ndarray] = {}


def default_discount(num_trials: int) -> float:
    """The discount used for a task of ``num_trials`` trials: ``1 - 1 / num_trials``."""
    if num_trials < 2:
        raise ValueError(f"num_trials must be >= 2 for a discount below 1, got {num_trials}")
    return 1.0 - 1.0 / num_trials


def _advantage(
    lambdas: np.ndarray, discount: float, max_count: int, depth: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Continue-minus-retire advantage and its slope in ``lambda``, per grid point and state.

    Returns one pair per layer ``n = 0 .. max_count-1``, each of shape
    ``(len(lambdas), n + 1)`` (column ``s`` is the state with ``s`` successes and ``n - s``
    failures). The slope is propagated with the values: ``dW/dlambda = 1 / (1 - gamma)``
    where retiring is optimal, else the discounted mean slope of the two successors.
    """
    flat = 1.0 / (1.0 - discount)  # slope of the retirement value
    retire = (lambdas * flat)[:, None]  # [L, 1]
    mu = (np.arange(depth + 1) + 1) / (depth + 2)
    w = np.maximum(retire, mu * flat)  # truncation layer n = depth
    dw = np.where(retire >= mu * flat, flat, 0.0)
    layers: list[tuple[np.ndarray, np.ndarray]] = [(np.empty(0), np.empty(0))] * max_count
    for n in range(depth - 1, -1, -1):
        mu = (np.arange(n + 1) + 1) / (n + 2)
        cont = mu + discount * (mu * w[:, 1 : n + 2] + (1 - mu) * w[:, : n + 1])
        dcont = discount * (mu * dw[:, 1 : n + 2] + (1 - mu) * dw[:, : n + 1])
        if n < max_count:
            layers[n] = (cont - retire, dcont - flat)
        stop = retire >= cont
        w = np.where(stop, retire, cont)
        dw = np.where(stop, flat, dcont)
    return layers


def _roots(lambdas: np.ndarray, adv: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """Per column, the ``lambda`` where ``adv`` (decreasing along axis 0) crosses zero.

    The advantage is convex and piecewise linear in ``lambda`` (the continuation value is a
    maximum of linear functions, one per stopping rule), so inside the bracketing grid
    interval both end tangents lie below it: the larger of their two roots is a lower bound
    of the root, and exact when the interval holds at most one kink.
    """
    positive = adv > 0
    hi = positive.sum(axis=0)  # first grid index with adv <= 0 (adv is non-increasing)
    hi = np.clip(hi, 1, len(lambdas) - 1)
    cols = np.arange(adv.shape[1])
    lam_lo, lam_hi = lambdas[hi - 1], lambdas[hi]
    a_lo, a_hi = adv[hi - 1, cols], adv[hi, cols]
    s_lo, s_hi = slope[hi - 1, cols], slope[hi, cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(s_lo < 0, lam_lo - a_lo / s_lo, lam_lo)
        right = np.where(s_hi < 0, lam_hi - a_hi / s_hi, lam_lo)
    return np.clip(np.maximum(left, right), lam_lo, lam_hi)


def gittins_index_table(
    discount: float, max_count: int, *, num_lambdas: int = 512, extra_depth: int | None = None
) -> np.ndarray:
    """Gittins indices of ``Beta(s+1, f+1)`` arms for every ``s + f < max_count``.

    Parameters
    ----------
    discount : float
        The discount ``gamma`` in (0, 1).
    max_count : int
        Indices are returned for all states with ``s + f < max_count`` (use the horizon).
    num_lambdas : int
        Size of the ``lambda`` grid on [0, 1]. Maximum error over the ``T = 100`` table at
        ``gamma = 0.99``: 1.9e-3 with 128 points, 4.4e-4 with 256, 7.8e-5 with 512.
    extra_depth : int, optional
        Truncation depth beyond ``max_count``; by default ``ceil(log(1e-4) / log(gamma))``,
        where the neglected value is discounted by 1e-4.

    Returns
    -------
    numpy.ndarray, shape (max_count, max_count), float64
        ``index[s, f]``; NaN where ``s + f >= max_count``. Cached per argument set.

    Examples
    --------
    >>> round(float(gittins_index_table(0.9, 2)[0, 0]), 3)  # Gittins' table: 0.7029
    0.703
    """
    if not 0.0 < discount < 1.0:
        raise ValueError(f"discount must lie in (0, 1), got {discount!r}")
    if max_count < 1 or num_lambdas < 8:
        raise ValueError(
            f"need max_count >= 1 and num_lambdas >= 8, got {max_count}, {num_lambdas}"
        )
    if extra_depth is None:
        extra_depth = math.ceil(math.log(1e-4) / math.log(discount))
    key = (float(discount), max_count, num_lambdas, extra_depth)
    if key in _TABLES:
        return _TABLES[key]
    lambdas = np.linspace(0.0, 1.0, num_lambdas)
    table = np.full((max_count, max_count), np.nan)
    layers = _advantage(lambdas, discount, max_count, max_count + extra_depth)
    for n, (adv, slope) in enumerate(layers):
        s = np.arange(n + 1)
        table[s, n - s] = _roots(lambdas, adv, slope)
    table.setflags(write=False)
    _TABLES[key] = table
    return table
