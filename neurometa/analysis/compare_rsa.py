"""Representational similarity between agent units and recorded neurons (Kriegeskorte 2008).

Both recordings are reduced to mean activity per *task condition*, where conditions are
matched between agent and animal: the combination of previous choice ``a(t-1)``, previous
outcome ``r(t-1) > 0`` and current choice ``a(t)`` (8 conditions for two options). For each
recording the representational dissimilarity matrix (RDM) is

    RDM[i, j] = 1 - corr(m_i, m_j),

with ``m_i`` the condition-``i`` mean over trials of each unit's activity, after subtracting
each unit's mean over conditions (so that differences in baseline firing do not dominate).
Agent and neurons are compared by the Spearman correlation of the RDMs' upper triangles,
with two baselines:

- a **permutation test**: the agent RDM's conditions are permuted (rows and columns
  together, a Mantel test) to give the null distribution and a p-value;
- a **noise ceiling**: the split-half reliability of each RDM (trials of every condition
  split at random into halves, Spearman correlation of the two RDMs, Spearman-Brown
  corrected ``2r / (1 + r)``); the highest correlation a noiseless model could reach is
  about ``sqrt(reliability)`` of the neural RDM (Nili et al. 2014 discuss ceilings).
"""

from __future__ import annotations

import itertools

import numpy as np
import xarray as xr
from scipy import stats

from neurometa.analysis._common import (
    AnalysisError,
    by_trial,
    check_recording,
    consecutive_trials,
    trial_sum,
)
from neurometa.seeding import RunSeeds

__all__ = ["trial_conditions", "condition_means", "rdm", "rdm_similarity", "compare_rsa"]


def trial_conditions(ds: xr.Dataset) -> tuple[np.ndarray, list[str]]:
    """Condition code of every trial, ``4 a(t-1) + 2 [r(t-1) > 0] + a(t)``.

    Returns
    -------
    codes : numpy.ndarray, shape (episode, trial), int
        −1 for the first trial of an episode and trials with a missing or non-binary choice.
    names : list of str, length 8
        Label of each code, e.g. ``"a-1=1 r-1=0 a=1"``.
    """
    action = by_trial(ds["action"], ds, 0).transpose("episode", "trial").values
    reward = trial_sum(ds["reward"], ds).transpose("episode", "trial").values
    codes = np.full(action.shape, -1, dtype=np.int64)
    prev, cur = action[:, :-1], action[:, 1:]
    ok = np.isin(prev, (0, 1)) & np.isin(cur, (0, 1)) & np.isfinite(reward[:, :-1])
    ok &= consecutive_trials(ds)
    code = 4 * prev + 2 * (reward[:, :-1] > 0) + cur
    codes[:, 1:] = np.where(ok, code, -1)
    names = [f"a-1={a} r-1={r} a={c}" for a, r, c in itertools.product((0, 1), repeat=3)]
    return codes, names


def condition_means(
    ds: xr.Dataset, activity: str, stage: str | int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trial activity grouped by condition.

    Returns
    -------
    means : numpy.ndarray, shape (8, unit)
        Mean activity per condition (NaN where a condition has no trial).
    counts : numpy.ndarray, shape (8,)
        Trials per condition.
    rows : tuple of (numpy.ndarray, numpy.ndarray)
        ``(y, codes)``: activity of the valid trials, shape (n, unit), and their codes (n,).
    """
    check_recording(ds, ["action", "reward", activity], analysis="representational similarity")
    codes, _ = trial_conditions(ds)
    y = by_trial(ds[activity], ds, stage).transpose("episode", "trial", "unit").values
    valid = codes >= 0
    y, c = y[valid].astype(np.float64), codes[valid]
    counts = np.bincount(c, minlength=8)
    sums = np.zeros((8, y.shape[1]))
    np.add.at(sums, c, y)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts[:, None]
    return means, counts, (y, c)


def rdm(means: np.ndarray) -> np.ndarray:
    """Correlation-distance RDM of condition patterns, shape (C, C).

    Parameters
    ----------
    means : numpy.ndarray, shape (C, unit)
        Condition means; each unit is centred over conditions first.
    """
    centred = means - means.mean(axis=0, keepdims=True)
    return 1.0 - np.corrcoef(centred)


def rdm_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman correlation of the upper triangles (diagonal excluded) of two RDMs."""
    iu = np.triu_indices(a.shape[0], k=1)
    return float(stats.spearmanr(a[iu], b[iu]).statistic)


def _permutation_null(
    a: np.ndarray, b: np.ndarray, num: int, rng: np.random.Generator
) -> np.ndarray:
    """Spearman similarity of ``b`` with ``a`` under ``num`` random condition permutations.

    A simultaneous row/column permutation rearranges the upper-triangle values of ``a``, so
    their ranks are the permuted ranks: Spearman rho is the Pearson r of the permuted rank
    matrix with the ranks of ``b`` (computed once).
    """
    iu = np.triu_indices(a.shape[0], k=1)
    ranks = np.zeros_like(a)
    ranks[iu] = stats.rankdata(a[iu])
    ranks = ranks + ranks.T
    rb = stats.rankdata(b[iu])
    rb = (rb - rb.mean()) / np.linalg.norm(rb - rb.mean())
    perms = np.argsort(rng.random((num, a.shape[0])), axis=1)
    permuted = ranks[perms[:, iu[0]], perms[:, iu[1]]]  # (num, pairs)
    permuted -= permuted.mean(axis=1, keepdims=True)
    return permuted @ rb / np.linalg.norm(permuted, axis=1)


def _split_half(
    y: np.ndarray, c: np.ndarray, conds: np.ndarray, rng: np.random.Generator
) -> float:
    """Spearman correlation of the RDMs of two random halves of each condition's trials."""
    halves = [np.zeros((len(conds), y.shape[1])) for _ in range(2)]
    for i, cond in enumerate(conds):
        idx = rng.permutation(np.flatnonzero(c == cond))
        half = len(idx) // 2
        halves[0][i] = y[idx[:half]].mean(axis=0)
        halves[1][i] = y[idx[half : 2 * half]].mean(axis=0)
    return rdm_similarity(rdm(halves[0]), rdm(halves[1]))


def compare_rsa(
    agent: xr.Dataset,
    neural: xr.Dataset,
    *,
    agent_activity: str = "h",
    neural_activity: str = "activity",
    agent_stage: str | int = 0,
    neural_stage: str | int = 0,
    num_permutations: int = 1000,
    num_splits: int = 20,
    seed: int = 0,
) -> xr.Dataset:
    """RDMs of agent and neurons on matched conditions, their similarity and baselines.

    Conditions with at least two trials in both recordings are used (at least 3 needed).

    Returns
    -------
    xarray.Dataset
        ``rdm_agent``, ``rdm_neural`` (dims condition, condition_b), ``trials_agent``,
        ``trials_neural`` (condition), ``null`` (permutation); scalars ``similarity``
        (Spearman), ``p_permutation``, ``null_mean``, ``null_q95``, ``agent_reliability``,
        ``neural_reliability`` (split-half, Spearman-Brown), ``noise_ceiling``
        (``sqrt`` of the neural reliability); attrs ``num_permutations``, ``num_splits``,
        ``seed``.
    """
    if num_permutations < 1 or num_splits < 1:
        raise AnalysisError("num_permutations and num_splits must be positive")
    means_a, counts_a, rows_a = condition_means(agent, agent_activity, agent_stage)
    means_n, counts_n, rows_n = condition_means(neural, neural_activity, neural_stage)
    conds = np.flatnonzero((counts_a >= 2) & (counts_n >= 2))
    _, names = trial_conditions(neural)
    if conds.size < 3:
        raise AnalysisError(
            f"representational similarity needs >= 3 conditions with >= 2 trials in both "
            f"recordings; agent counts {counts_a.tolist()}, neural counts {counts_n.tolist()} "
            f"for conditions {names}"
        )
    rdm_a, rdm_n = rdm(means_a[conds]), rdm(means_n[conds])
    observed = rdm_similarity(rdm_a, rdm_n)
    rng = RunSeeds(seed).numpy("eval")
    null = _permutation_null(rdm_a, rdm_n, num_permutations, rng)
    rel = {}
    for label, (y, c) in (("agent", rows_a), ("neural", rows_n)):
        r = np.mean([_split_half(y, c, conds, rng) for _ in range(num_splits)])
        rel[label] = 2 * r / (1 + r) if r > -1 else float("nan")
    labels = [names[k] for k in conds]

    def scalar(value: float, long_name: str) -> xr.Variable:
        return xr.Variable((), float(value), {"long_name": long_name, "units": "1"})

    out = xr.Dataset(
        {
            "rdm_agent": (("condition", "condition_b"), rdm_a),
            "rdm_neural": (("condition", "condition_b"), rdm_n),
            "trials_agent": ("condition", counts_a[conds]),
            "trials_neural": ("condition", counts_n[conds]),
            "null": ("permutation", null),
            "similarity": scalar(observed, "Spearman rho of the two RDMs"),
            "p_permutation": scalar(
                (1 + np.sum(null >= observed)) / (1 + num_permutations),
                "one-sided permutation p-value of the similarity",
            ),
            "null_mean": scalar(null.mean(), "mean similarity under permuted conditions"),
            "null_q95": scalar(np.quantile(null, 0.95), "95th percentile of the null"),
            "agent_reliability": scalar(
                rel["agent"], "split-half reliability of the agent RDM (Spearman-Brown)"
            ),
            "neural_reliability": scalar(
                rel["neural"], "split-half reliability of the neural RDM (Spearman-Brown)"
            ),
            "noise_ceiling": scalar(
                np.sqrt(max(rel["neural"], 0.0)), "noise ceiling: sqrt(neural reliability)"
            ),
        },
        coords={"condition": labels, "condition_b": labels},
    )
    for name, long_name in (
        ("rdm_agent", "agent RDM: 1 - Pearson r of unit-centred condition means"),
        ("rdm_neural", "neural RDM: 1 - Pearson r of unit-centred condition means"),
        ("trials_agent", "agent trials per condition"),
        ("trials_neural", "neural trials per condition"),
        ("null", "similarity with the agent RDM's conditions permuted"),
    ):
        out[name].attrs.update(long_name=long_name, units="1")
    out.attrs.update(
        num_permutations=num_permutations,
        num_splits=num_splits,
        seed=seed,
        rdm="1 - Pearson r of unit-centred condition means; similarity = Spearman rho",
    )
    return out
