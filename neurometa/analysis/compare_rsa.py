"""Representational geometry of agent units and recorded neurons on matched conditions.

Both recordings are reduced to mean activity per *task condition*, matched between agent
and animal by label (:func:`neurometa.analysis.trials.condition_codes`; by default the
previous choice ``a(t-1)``, previous outcome ``r(t-1) > 0`` and current choice ``a(t)``, 8
conditions for two options). Conditions with at least two trials in both recordings are
compared by three measures, each with a permutation null (which condition of the agent goes
with which of the neurons; for RSA rows and columns of the RDM together, a Mantel test):

- **RSA** (Kriegeskorte et al. 2008), computed with ``rsatoolbox``: the representational
  dissimilarity matrix (RDM) of each recording, by default ``RDM[i, j] = 1 − corr(m_i,
  m_j)`` of the condition means after centring each unit over conditions (so differences in
  baseline firing do not dominate), compared by the Spearman correlation of the upper
  triangles. A **noise ceiling**: the split-half reliability of each RDM (trials of every
  condition split at random into halves, Spearman-Brown corrected ``2r / (1 + r)``); a
  noiseless model could reach about ``sqrt(reliability)`` of the neural RDM (Nili et al.
  2014);
- **debiased linear CKA** (Kornblith et al. 2019) and the **Procrustes shape distance**
  (Williams et al. 2021) of the condition-mean patterns (:mod:`neurometa.analysis.geometry`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from neurometa.analysis._common import AnalysisError, by_trial, check_recording, describe
from neurometa.analysis.geometry import linear_cka, permutation_test, procrustes_distance
from neurometa.analysis.trials import DEFAULT_CONDITIONS, condition_codes
from neurometa.seeding import RunSeeds

__all__ = ["condition_means", "rdm", "rdm_similarity", "compare_rsa", "compare_geometry"]


def condition_means(
    ds: xr.Dataset,
    activity: str,
    stage: str | int = 0,
    conditions: Sequence[str] = DEFAULT_CONDITIONS,
) -> tuple[np.ndarray, np.ndarray, list[str], tuple[np.ndarray, np.ndarray]]:
    """Trial activity grouped by condition.

    Returns
    -------
    means : numpy.ndarray, shape (C, unit)
        Mean activity per condition present.
    counts : numpy.ndarray, shape (C,)
        Trials per condition.
    labels : list of str, length C
        Condition labels (:func:`neurometa.analysis.trials.condition_codes`).
    rows : tuple of (numpy.ndarray, numpy.ndarray)
        ``(y, codes)``: activity of the trials with a condition, shape (n, unit), and their
        codes (n,).
    """
    check_recording(ds, ["reward", activity], analysis="representational geometry")
    codes, labels = condition_codes(ds, conditions, stage=stage)
    y = by_trial(ds[activity], ds, stage).transpose("episode", "trial", "unit").values
    valid = (codes >= 0) & np.all(np.isfinite(y), axis=-1)
    y, c = y[valid].astype(np.float64), codes[valid]
    counts = np.bincount(c, minlength=len(labels))
    sums = np.zeros((len(labels), y.shape[1]))
    np.add.at(sums, c, y)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts[:, None]
    return means, counts, labels, (y, c)


def _rdms(matrices: np.ndarray) -> object:
    """An ``rsatoolbox`` RDMs object from stacked square matrices (m, C, C)."""
    from rsatoolbox.rdm import RDMs

    num, size = matrices.shape[0], matrices.shape[1]
    iu = np.triu_indices(size, k=1)
    return RDMs(matrices[:, iu[0], iu[1]].reshape(num, -1))


def rdm(means: np.ndarray, method: str = "correlation") -> np.ndarray:
    """RDM of condition patterns, computed by ``rsatoolbox.rdm.calc_rdm``.

    Parameters
    ----------
    means : numpy.ndarray, shape (C, unit)
        Condition means; each unit is centred over conditions first.
    method : str
        ``rsatoolbox`` distance: ``"correlation"`` (1 − Pearson r), ``"euclidean"``
        (squared Euclidean distance per unit), ...

    Returns
    -------
    numpy.ndarray, shape (C, C)

    Examples
    --------
    >>> x = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 2.0], [1.0, 1.0, 0.0]])
    >>> np.round(rdm(x), 3).tolist()
    [[0.0, 1.038, 1.693], [1.038, 0.0, 1.693], [1.693, 1.693, 0.0]]
    """
    from rsatoolbox.data import Dataset
    from rsatoolbox.rdm import calc_rdm

    centred = means - means.mean(axis=0, keepdims=True)
    return calc_rdm(Dataset(centred), method=method).get_matrices()[0]


def rdm_similarity(a: np.ndarray, b: np.ndarray, method: str = "spearman") -> float:
    """Similarity of two RDMs (upper triangles) by ``rsatoolbox.rdm.compare``.

    Parameters
    ----------
    a, b : numpy.ndarray, shape (C, C)
    method : str
        ``"spearman"``, ``"corr"`` (Pearson), ``"kendall"`` (tau-a), ``"cosine"``, ...

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> means = rng.normal(size=(5, 9))
    >>> round(rdm_similarity(rdm(means), rdm(means + 0.3 * rng.normal(size=(5, 9)))), 3)
    0.927
    """
    from rsatoolbox.rdm import compare

    return float(compare(_rdms(a[None]), _rdms(b[None]), method=method)[0, 0])


def _permutation_null(
    a: np.ndarray, b: np.ndarray, num: int, rng: np.random.Generator, method: str = "spearman"
) -> np.ndarray:
    """Similarity of ``b`` with ``a`` under ``num`` simultaneous row/column permutations."""
    from rsatoolbox.rdm import compare

    perms = np.argsort(rng.random((num, a.shape[0])), axis=1)
    permuted = a[perms[:, :, None], perms[:, None, :]]  # (num, C, C)
    return compare(_rdms(b[None]), _rdms(permuted), method=method)[0]


def _split_half(
    y: np.ndarray, c: np.ndarray, conds: np.ndarray, rng: np.random.Generator, method: str
) -> float:
    """Spearman correlation of the RDMs of two random halves of each condition's trials."""
    halves = [np.zeros((len(conds), y.shape[1])) for _ in range(2)]
    for i, cond in enumerate(conds):
        idx = rng.permutation(np.flatnonzero(c == cond))
        half = len(idx) // 2
        halves[0][i] = y[idx[:half]].mean(axis=0)
        halves[1][i] = y[idx[half : 2 * half]].mean(axis=0)
    return rdm_similarity(rdm(halves[0], method), rdm(halves[1], method))


def _matched(
    agent: xr.Dataset,
    neural: xr.Dataset,
    activities: tuple[str, str],
    stages: tuple[str | int, str | int],
    conditions: Sequence[str],
    minimum: int,
) -> dict[str, object]:
    """Condition means of both recordings on the conditions with >= 2 trials in both."""
    parts = [
        condition_means(ds, act, stage, conditions)
        for ds, act, stage in zip((agent, neural), activities, stages, strict=True)
    ]
    counts = [dict(zip(p[2], p[1], strict=True)) for p in parts]
    labels = [lab for lab in parts[1][2] if counts[0].get(lab, 0) >= 2 and counts[1][lab] >= 2]
    if len(labels) < minimum:
        raise AnalysisError(
            f"representational geometry needs >= {minimum} conditions with >= 2 trials in "
            f"both recordings; trials per condition: agent {counts[0]}, neural {counts[1]}"
        )
    out: dict[str, object] = {"labels": labels}
    for name, (means, cnt, labs, (y, c)) in zip(("agent", "neural"), parts, strict=True):
        index = np.array([labs.index(lab) for lab in labels])
        out[name] = means[index]
        out[f"trials_{name}"] = cnt[index]
        out[f"rows_{name}"] = (y, c, index)
    return out


def compare_rsa(
    agent: xr.Dataset,
    neural: xr.Dataset,
    *,
    agent_activity: str = "h",
    neural_activity: str = "activity",
    agent_stage: str | int = 0,
    neural_stage: str | int = 0,
    conditions: Sequence[str] = DEFAULT_CONDITIONS,
    rdm_method: str = "correlation",
    compare_method: str = "spearman",
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

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import neurometa as nm
    >>> rng = np.random.default_rng(0)  # 4 sessions of 100 trials, 20 units
    >>> frame = pd.DataFrame({"subject": "m1", "session": np.repeat([1, 2, 3, 4], 100),
    ...                       "trial": np.tile(np.arange(100), 4),
    ...                       "choice": rng.integers(0, 2, 400),
    ...                       "reward": rng.integers(0, 2, 400)})
    >>> ds = nm.from_dataframe(frame, "bandit")
    >>> prev_reward = ds["reward"].shift(step=1, fill_value=0) * 2 - 1  # r(t-1) coded ±1
    >>> rates = rng.normal(size=(4, 100, 20))
    >>> rates[..., :10] += prev_reward.values[..., None]  # units 0-9 code the previous reward
    >>> ds["activity"] = (("episode", "step", "unit"), rates)
    >>> ds = ds.assign_coords(unit=np.arange(20))
    >>> ds["value"] = ds["reward"].rolling(step=5, min_periods=1).mean()  # a stand-in estimate
    >>> agent = ds.rename(activity="h")
    >>> rsa = nm.compare_rsa(agent, ds, num_permutations=50, num_splits=5)
    >>> round(float(rsa["similarity"]), 2)
    1.0
    """
    if num_permutations < 1 or num_splits < 1:
        raise AnalysisError("num_permutations and num_splits must be positive")
    m = _matched(
        agent,
        neural,
        (agent_activity, neural_activity),
        (agent_stage, neural_stage),
        conditions,
        3,
    )
    rdm_a, rdm_n = rdm(m["agent"], rdm_method), rdm(m["neural"], rdm_method)
    for name, matrix in (("agent", rdm_a), ("neural", rdm_n)):
        if np.isnan(matrix).any():
            bad = [m["labels"][i] for i in np.flatnonzero(np.isnan(matrix).any(axis=1))]
            raise AnalysisError(
                f"the {name} RDM is undefined for condition(s) {bad}: their mean pattern does "
                f"not vary across units ({rdm_method} distance); try rdm_method='euclidean'"
            )
    observed = rdm_similarity(rdm_a, rdm_n, compare_method)
    rng = RunSeeds(seed).numpy("eval")
    null = _permutation_null(rdm_a, rdm_n, num_permutations, rng, compare_method)
    rel = {}
    for label in ("agent", "neural"):
        y, c, index = m[f"rows_{label}"]
        r = np.mean([_split_half(y, c, index, rng, rdm_method) for _ in range(num_splits)])
        rel[label] = 2 * r / (1 + r) if r > -1 else float("nan")
    labels = m["labels"]
    out = xr.Dataset(
        {
            "rdm_agent": (("condition", "condition_b"), rdm_a),
            "rdm_neural": (("condition", "condition_b"), rdm_n),
            "trials_agent": ("condition", m["trials_agent"]),
            "trials_neural": ("condition", m["trials_neural"]),
            "null": ("permutation", null),
            "similarity": observed,
            "p_permutation": (1 + np.sum(null >= observed)) / (1 + num_permutations),
            "null_mean": null.mean(),
            "null_q95": np.quantile(null, 0.95),
            "agent_reliability": rel["agent"],
            "neural_reliability": rel["neural"],
            "noise_ceiling": np.sqrt(max(rel["neural"], 0.0)),
        },
        coords={"condition": labels, "condition_b": labels},
    )
    describe(out, {
        "rdm_agent": f"agent RDM: {rdm_method} distance of unit-centred condition means",
        "rdm_neural": f"neural RDM: {rdm_method} distance of unit-centred condition means",
        "trials_agent": "agent trials per condition",
        "trials_neural": "neural trials per condition",
        "null": "similarity with the agent RDM's conditions permuted",
        "similarity": f"rsatoolbox {compare_method!r} similarity of the two RDMs",
        "p_permutation": "one-sided permutation p-value of the similarity",
        "null_mean": "mean similarity under permuted conditions",
        "null_q95": "95th percentile of the null",
        "agent_reliability": "split-half reliability of the agent RDM (Spearman-Brown)",
        "neural_reliability": "split-half reliability of the neural RDM (Spearman-Brown)",
        "noise_ceiling": "noise ceiling: sqrt(neural reliability)",
    })  # fmt: skip
    out.attrs.update(
        num_permutations=num_permutations,
        num_splits=num_splits,
        seed=seed,
        rdm=f"rsatoolbox {rdm_method} distance of unit-centred condition means; "
        f"similarity = rsatoolbox compare {compare_method!r}",
    )
    return out


_GEOMETRY_META = {
    "statistic": ("agent-vs-neurons similarity (RSA rho, CKA) or distance (Procrustes, rad)", "1"),
    "p_value": ("permutation p-value, (1 + #null at least as extreme)/(1 + permutations)", "1"),
    "null": ("statistic with the conditions permuted", "1"),
    "null_mean": ("mean of the permutation null", "1"),
    "higher_is_closer": ("1 for similarities, 0 for distances", "1"),
    "rdm_agent": ("agent RDM", "1"),
    "rdm_neural": ("neural RDM", "1"),
    "trials_agent": ("agent trials per condition", "1"),
    "trials_neural": ("neural trials per condition", "1"),
    "measure": ("geometry measure", ""),
    "condition": ("task condition", ""),
    "condition_b": ("task condition", ""),
    "permutation": ("permutation of the conditions", "1"),
}


def compare_geometry(
    agent: xr.Dataset,
    neural: xr.Dataset,
    *,
    agent_activity: str = "h",
    neural_activity: str = "activity",
    agent_stage: str | int = 0,
    neural_stage: str | int = 0,
    conditions: Sequence[str] = DEFAULT_CONDITIONS,
    num_permutations: int = 1000,
    num_splits: int = 20,
    seed: int = 0,
) -> xr.Dataset:
    """RSA, debiased linear CKA and Procrustes distance of agent vs neurons, with nulls.

    Parameters
    ----------
    agent, neural : xarray.Dataset
        Two recordings (any task family; matched on ``conditions``, >= 4 with >= 2 trials
        in both).
    agent_activity, neural_activity : str
        Unit-activity variables.
    agent_stage, neural_stage : str or int
        Stage of the trial at which activity is taken.
    conditions : sequence of str
        Variables defining the conditions (:func:`neurometa.analysis.trials.condition_codes`).
    num_permutations, num_splits, seed
        Permutations of every null, split halves of the RSA noise ceiling, their seed.

    Returns
    -------
    xarray.Dataset
        Dim ``measure`` (``rsa``: Spearman rho of correlation-distance RDMs; ``cka``:
        debiased linear CKA; ``procrustes``: angular shape distance, radians):
        ``statistic``, ``p_value``, ``null_mean``, ``higher_is_closer``, ``null``
        (measure, permutation); the RDMs, trials per condition, the RSA reliabilities and
        ``noise_ceiling`` as in :func:`compare_rsa`; attr ``num_conditions``.

    Examples
    --------
    Agent and neurons as lab-layout recordings whose units carry the choice:

    >>> import pandas as pd
    >>> from neurometa.data.tables import check_table, table_to_recording
    >>> rng = np.random.default_rng(0)
    >>> choice, reward = rng.integers(0, 2, (2, 400))
    >>> table = pd.DataFrame({"subject": "m1", "trial": np.arange(400),
    ...                       "choice": choice, "reward": reward})
    >>> ds = table_to_recording(check_table(table.astype(str), "bandit", source="example"))
    >>> code = np.stack([ds["action"], ds["reward"].shift(step=1, fill_value=0)], -1) * 1.0
    >>> agent = ds.assign(h=(("episode", "step", "unit"), code @ rng.normal(size=(2, 8))))
    >>> neural = ds.assign(activity=(("episode", "step", "unit"),
    ...     code @ rng.normal(size=(2, 20)) + rng.normal(size=(1, 400, 20))))
    >>> res = compare_geometry(agent.assign_coords(unit=np.arange(8)),
    ...                        neural.assign_coords(unit=np.arange(20)), num_permutations=99)
    >>> bool(res["p_value"].sel(measure="cka") <= 0.05)
    True
    """
    rsa = compare_rsa(
        agent,
        neural,
        agent_activity=agent_activity,
        neural_activity=neural_activity,
        agent_stage=agent_stage,
        neural_stage=neural_stage,
        conditions=conditions,
        num_permutations=num_permutations,
        num_splits=num_splits,
        seed=seed,
    )
    m = _matched(
        agent,
        neural,
        (agent_activity, neural_activity),
        (agent_stage, neural_stage),
        conditions,
        4,
    )
    rng = RunSeeds(seed).numpy("extra")
    stats, nulls = [float(rsa["similarity"])], [rsa["null"].values]
    pvals = [float(rsa["p_permutation"])]
    for func, greater in ((linear_cka, True), (procrustes_distance, False)):
        obs, null, p = permutation_test(
            func,
            m["agent"],
            m["neural"],
            num_permutations=num_permutations,
            rng=rng,
            greater=greater,
        )
        stats.append(obs)
        nulls.append(null)
        pvals.append(p)
    out = (
        rsa.drop_vars(["null", "similarity", "p_permutation", "null_mean", "null_q95"])
        .assign(
            statistic=("measure", np.asarray(stats, dtype=np.float64)),
            p_value=("measure", np.asarray(pvals)),
            null=(("measure", "permutation"), np.stack(nulls)),
            null_mean=("measure", np.nanmean(np.stack(nulls), axis=1)),
            higher_is_closer=("measure", np.array([1, 1, 0], dtype=np.int8)),
        )
        .assign_coords(measure=["rsa", "cka", "procrustes"])
    )
    out.attrs["num_conditions"] = len(m["labels"])
    for name, (long_name, units) in _GEOMETRY_META.items():
        if name in out.variables:
            out[name].attrs.update(long_name=long_name)
            if units:  # CF: text labels carry no units (an empty string says nothing)
                out[name].attrs["units"] = units
    return out
