"""Noise ceilings of single neurons from trials that repeat a condition.

A neuron's activity on trials of condition ``c`` is ``y = m_c + noise``. Split each
condition's trials at random into two halves: the two halves' condition means have
independent noise, so their covariance across conditions (weighted by the conditions'
trials) estimates the variance of the true condition means ``m_c`` without the noise bias.
That variance over the neuron's total variance is the largest R² any model of the condition
means can reach — the noise ceiling of an encoding model whose predictors depend on the
trial only through its condition (models with trial-by-trial latents can exceed it). The
Spearman-Brown-corrected split-half correlation ``2r / (1 + r)`` of the condition means is
the reliability of the tuning (as in Nili et al. 2014 for RDMs).
"""

from __future__ import annotations

import numpy as np

from neurometa.seeding import RunSeeds

__all__ = ["noise_ceiling"]


def noise_ceiling(
    y: np.ndarray, conditions: np.ndarray, *, num_splits: int = 20, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split-half noise ceiling of every neuron over repeated conditions.

    Parameters
    ----------
    y : numpy.ndarray, shape (n, N)
        Activity per trial.
    conditions : numpy.ndarray of int, shape (n,)
        Condition of each trial (negative: no condition); conditions with >= 2 trials count.
    num_splits : int
        Random split halves averaged.
    seed : int

    Returns
    -------
    ceiling : numpy.ndarray, shape (N,)
        Between-condition variance of the true means (mean over splits of the covariance,
        across conditions weighted by their trials, of the two halves' means) divided by
        the variance of ``y``: the R² of a perfect condition-mean model.
    reliability : numpy.ndarray, shape (N,)
        Spearman-Brown corrected split-half correlation of the condition means.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> cond = np.repeat(np.arange(4), 200)
    >>> y = (cond[:, None] - 1.5) + rng.normal(size=(800, 1))  # signal var 1.25, noise 1
    >>> round(float(noise_ceiling(y, cond, seed=1)[0][0]), 1)
    0.6
    """
    keep = conditions >= 0
    levels, counts = np.unique(conditions[keep], return_counts=True)
    levels = levels[counts >= 2]
    if levels.size < 2:
        nan = np.full(y.shape[1], np.nan)
        return nan, nan
    rng = RunSeeds(seed).numpy("eval")
    members = [np.flatnonzero(conditions == c) for c in levels]
    weights = np.array([len(m) for m in members], dtype=np.float64)
    weights /= weights.sum()
    rows = np.concatenate(members)
    total_var = y[rows].var(axis=0)
    cov, corr = np.zeros(y.shape[1]), np.zeros(y.shape[1])
    for _ in range(num_splits):
        halves = np.zeros((2, len(members), y.shape[1]))
        for i, idx in enumerate(members):
            idx = rng.permutation(idx)
            half = len(idx) // 2
            halves[0, i] = y[idx[:half]].mean(axis=0)
            halves[1, i] = y[idx[half : 2 * half]].mean(axis=0)
        dev = halves - np.einsum("c,hcn->hn", weights, halves)[:, None]
        c = np.einsum("c,cn,cn->n", weights, dev[0], dev[1])
        sd = np.sqrt(np.einsum("c,hcn->hn", weights, dev**2))
        cov += c / num_splits
        with np.errstate(divide="ignore", invalid="ignore"):
            corr += c / (sd[0] * sd[1]) / num_splits
    with np.errstate(divide="ignore", invalid="ignore"):
        ceiling = np.where(total_var > 0, cov / total_var, np.nan)
        reliability = 2 * corr / (1 + corr)
    return ceiling, reliability
