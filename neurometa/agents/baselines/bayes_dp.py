"""Bayes-optimal finite-horizon play of a two-armed Bernoulli bandit by exact DP (torch-free).

For a known prior over the arm probabilities and a horizon of ``T`` trials, the policy that
maximises the expected total reward (equivalently, minimises the Bayesian regret) is found
by backward induction over the posterior's sufficient statistics (Bellman 1956, "A problem
in the sequential design of experiments"; Berry & Fristedt 1985, "Bandit problems", ch. 2):

    V_T(x) = 0,
    Q_n(x, a) = P(r=1 | x, a) * (1 + V_{n+1}(x + success of a))
                + P(r=0 | x, a) * V_{n+1}(x + failure of a),
    V_n(x) = max_a Q_n(x, a),

where ``x`` is the state after ``n`` trials. The state depends on the prior:

- ``independent`` (``p_i ~ Beta(1, 1)``): the counts ``(s0, f0, s1, f1)`` of successes and
  failures per arm (``P(r=1 | a) = (s_a + 1) / (s_a + f_a + 2)``); layer ``n`` has
  ``C(n+3, 3)`` states, stored in lexicographic order of ``(s0, f0, s1)``;
- ``correlated`` (``p_0 ~ U(0, 1)``, ``p_1 = 1 - p_0``): the count ``e = s0 + f1`` of
  observations that are evidence for a high ``p_0`` (``P(r=1 | 0) = (e + 1) / (n + 2)``);
- ``fixed`` (probabilities ``(q_a, q_b)`` put on the arms in random order): the two
  hypotheses' log-odds ``r * log(q_a/q_b) + u * log((1-q_b)/(1-q_a))`` depend only on
  ``r = s0 - s1`` and ``u = f1 - f0``, stored on a ``(2T+1) x (2T+1)`` grid per layer.

Tie rule: at a state where the two arms' ``Q`` differ by at most :data:`TIE_TOLERANCE`
the table stores action ``-1`` and the agent picks either arm with probability 1/2.

Tables are cached in memory per ``(prior, horizon)`` and, when a ``cache_dir`` is given, on
disk as ``.npz`` files written atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neurometa.agents.baselines.priors import BanditPrior
from neurometa.atomic import atomic_path

__all__ = ["TIE_TOLERANCE", "DPTable", "bayes_optimal_table", "state_index", "clear_cache"]

#: Two actions whose Q values differ by at most this much are treated as tied.
TIE_TOLERANCE = 1e-10
_CACHE_VERSION = 1
_MEMORY_CACHE: dict[tuple[str, int], DPTable] = {}


@dataclass(frozen=True)
class DPTable:
    """The Bayes-optimal value and action for every reachable posterior state.

    Attributes
    ----------
    prior : BanditPrior
        The prior the table was solved for.
    horizon : int
        Number of trials ``T``.
    value : numpy.ndarray, shape (num_states,), float64
        ``V_n(x)``: expected reward still to come under the optimal policy, for every state
        of layers ``n = 0 .. T-1`` (flattened; see :func:`state_index`).
    action : numpy.ndarray, shape (num_states,), int8
        The optimal arm (0 or 1), or -1 where the two arms tie.
    """

    prior: BanditPrior
    horizon: int
    value: np.ndarray
    action: np.ndarray

    @property
    def optimal_value(self) -> float:
        """``V_0``: the expected total reward of the Bayes-optimal policy."""
        start = state_index(self.prior, self.horizon, np.zeros((2, 2), dtype=np.int64))
        return float(self.value[start])

    @property
    def bayes_regret(self) -> float:
        """Expected cumulative regret of the optimal policy: ``T * E[max p] - V_0``."""
        return self.horizon * self.prior.expected_best() - self.optimal_value


def _choose3(n: Any) -> Any:
    return (n + 3) * (n + 2) * (n + 1) // 6


def _choose2(n: Any) -> Any:
    return (n + 2) * (n + 1) // 2


def _independent_rank(n: Any, s0: Any, f0: Any, s1: Any) -> Any:
    """Rank of ``(s0, f0, s1)`` within layer ``n`` (lexicographic order)."""
    m = n - s0
    return (_choose3(n) - _choose3(n - s0)) + (_choose2(m) - _choose2(m - f0)) + s1


def state_index(prior: BanditPrior, horizon: int, counts: Any) -> Any:
    """Flat index into :class:`DPTable` arrays of the state reached after some trials.

    Works on NumPy arrays and torch tensors alike (integer arithmetic only).

    Parameters
    ----------
    prior : BanditPrior
        The table's prior.
    horizon : int
        The table's horizon ``T``.
    counts : array or Tensor, shape (..., 2, 2), integer
        ``counts[..., arm, 0]`` successes and ``counts[..., arm, 1]`` failures per arm;
        their total ``n`` must be below ``horizon``.

    Returns
    -------
    array or Tensor, shape (...), integer
    """
    s0, f0 = counts[..., 0, 0], counts[..., 0, 1]
    s1, f1 = counts[..., 1, 0], counts[..., 1, 1]
    n = s0 + f0 + s1 + f1
    if prior.kind == "independent":
        offset = (n + 3) * (n + 2) * (n + 1) * n // 24  # C(n+3, 4) states in earlier layers
        return offset + _independent_rank(n, s0, f0, s1)
    if prior.kind == "correlated":
        return n * (n + 1) // 2 + s0 + f1
    width = 2 * horizon + 1
    return n * width * width + (s0 - s1 + horizon) * width + (f1 - f0 + horizon)


def _resolve(q0: np.ndarray, q1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``V = max(q0, q1)`` and the action code (0, 1, or -1 for a tie)."""
    action = np.where(q1 > q0, 1, 0).astype(np.int8)
    action[np.abs(q0 - q1) <= TIE_TOLERANCE] = -1
    return np.maximum(q0, q1), action


def _solve_independent(horizon: int) -> tuple[np.ndarray, np.ndarray]:
    values, actions = [], []
    v_next = np.zeros(_choose3(horizon))
    for n in range(horizon - 1, -1, -1):
        r = np.arange(n + 1)
        cube = r[:, None, None] + r[None, :, None] + r[None, None, :]
        s0, f0, s1 = np.nonzero(cube <= n)
        f1 = n - s0 - f0 - s1
        p0 = (s0 + 1) / (s0 + f0 + 2)
        p1 = (s1 + 1) / (s1 + f1 + 2)
        k = n + 1
        q0 = (
            p0 * (1 + v_next[_independent_rank(k, s0 + 1, f0, s1)])
            + (1 - p0) * v_next[_independent_rank(k, s0, f0 + 1, s1)]
        )
        q1 = (
            p1 * (1 + v_next[_independent_rank(k, s0, f0, s1 + 1)])
            + (1 - p1) * v_next[_independent_rank(k, s0, f0, s1)]
        )
        v_next, action = _resolve(q0, q1)
        values.append(v_next)
        actions.append(action)
    return np.concatenate(values[::-1]), np.concatenate(actions[::-1])


def _solve_correlated(horizon: int) -> tuple[np.ndarray, np.ndarray]:
    values, actions = [], []
    v_next = np.zeros(horizon + 1)
    for n in range(horizon - 1, -1, -1):
        e = np.arange(n + 1)
        p0 = (e + 1) / (n + 2)  # P(r = 1 | arm 0) = E[p_0 | e of n]; P(r = 1 | arm 1) = 1 - p0
        q0 = p0 * (1 + v_next[e + 1]) + (1 - p0) * v_next[e]
        q1 = (1 - p0) * (1 + v_next[e]) + p0 * v_next[e + 1]
        v_next, action = _resolve(q0, q1)
        values.append(v_next)
        actions.append(action)
    return np.concatenate(values[::-1]), np.concatenate(actions[::-1])


def _solve_fixed(horizon: int, qa: float, qb: float) -> tuple[np.ndarray, np.ndarray]:
    if not (0.0 < qa < 1.0 and 0.0 < qb < 1.0):
        raise ValueError(f"the fixed-pair DP needs probabilities in (0, 1), got {(qa, qb)}")
    width = 2 * horizon + 1
    grid = np.arange(-horizon, horizon + 1)
    r, u = np.meshgrid(grid, grid, indexing="ij")
    log_odds = r * np.log(qa / qb) + u * np.log((1 - qb) / (1 - qa))
    h0 = np.exp(-np.logaddexp(0.0, -log_odds))  # P(arm 0 has qa | r, u)
    p0 = h0 * qa + (1 - h0) * qb
    p1 = h0 * qb + (1 - h0) * qa
    up = np.minimum(np.arange(width) + 1, width - 1)  # index shifts; the clipped edge
    down = np.maximum(np.arange(width) - 1, 0)  # (|r| or |u| = T) is unreachable before T
    values, actions = [], []
    v_next = np.zeros((width, width))
    for _ in range(horizon):
        q0 = p0 * (1 + v_next[up, :]) + (1 - p0) * v_next[:, down]
        q1 = p1 * (1 + v_next[down, :]) + (1 - p1) * v_next[:, up]
        v_next, action = _resolve(q0, q1)
        values.append(v_next.ravel())
        actions.append(action.ravel())
    return np.concatenate(values[::-1]), np.concatenate(actions[::-1])


def _solve(prior: BanditPrior, horizon: int) -> DPTable:
    if prior.num_arms != 2:
        raise ValueError(
            f"the Bayes-optimal DP supports two-armed bandits only, got {prior.num_arms} arms"
        )
    if prior.kind == "independent":
        value, action = _solve_independent(horizon)
    elif prior.kind == "correlated":
        value, action = _solve_correlated(horizon)
    else:
        value, action = _solve_fixed(horizon, *prior.fixed_probs)
    return DPTable(prior, horizon, value, action)


def _cache_file(cache_dir: Path, prior: BanditPrior, horizon: int) -> Path:
    return cache_dir / f"bayes_dp_v{_CACHE_VERSION}_{prior.key}_T{horizon}.npz"


def bayes_optimal_table(
    prior: BanditPrior, horizon: int, *, cache_dir: str | os.PathLike[str] | None = None
) -> DPTable:
    """Solve (or fetch from cache) the Bayes-optimal policy for ``prior`` and ``horizon``.

    Parameters
    ----------
    prior : BanditPrior
        Two-armed prior of the task (see :class:`BanditPrior`).
    horizon : int
        Number of trials ``T`` (>= 1). The independent prior has ``C(T+3, 4)`` states
        (4.4 million for T = 100).
    cache_dir : path-like, optional
        Folder for an on-disk copy of the table (written atomically, read if present).

    Returns
    -------
    DPTable
        Shared between calls with the same ``(prior, horizon)``; treat as read-only.

    Raises
    ------
    ValueError
        For a prior with more than two arms, a non-positive horizon, or a fixed pair with a
        probability of exactly 0 or 1.
    """
    if not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    key = (repr(prior), horizon)
    path = _cache_file(Path(cache_dir), prior, horizon) if cache_dir is not None else None
    if key in _MEMORY_CACHE:
        table = _MEMORY_CACHE[key]
    elif path is not None and path.is_file():
        with np.load(path) as data:
            table = DPTable(prior, horizon, data["value"], data["action"])
    else:
        table = _solve(prior, horizon)
    if path is not None and not path.is_file():
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, value=table.value, action=table.action)
    table.value.setflags(write=False)
    table.action.setflags(write=False)
    _MEMORY_CACHE[key] = table
    return table


def clear_cache() -> None:
    """Forget every table held in memory (the on-disk copies stay)."""
    _MEMORY_CACHE.clear()
