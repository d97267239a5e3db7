"""Encoding models: how well each predictor set explains each neuron, trial by trial.

For every neuron and every predictor set (an agent's units on the animal's trials, a
behavioural model's latents, task variables, or their union; see
:func:`neurometa.analysis.trials.trial_predictors`), a ridge regression from the predictors
of each trial to the neuron's activity on that trial is fitted and scored by nested,
grouped cross-validation (:mod:`neurometa.analysis.encoding_ridge`: folds are whole sessions
or blocks, the penalty is chosen per neuron on the training folds). Reported per neuron:

- the held-out R² (pooled over folds);
- a **null distribution** of the same statistic with the predictors misaligned in time:
  ``"circular"`` shifts each session's activity by a random lag (keeping its
  autocorrelation; e.g. Harris 2021, "Nonsense correlations in neuroscience"), or
  ``"session"`` pairs each session's activity with another session's predictors; the
  p-value is ``(1 + #{null >= observed}) / (1 + num_null)`` and a neuron is *explained*
  when ``p <= alpha`` (a test of level alpha);
- a **noise ceiling** where trials repeat conditions: the split-half estimate of the
  variance of the condition means (the covariance, across conditions, of the means of two
  random halves of each condition's trials, whose noise is independent) as a fraction of
  the neuron's variance — the largest R² a model of the condition means could reach (models
  with trial-by-trial latents can exceed it). The Spearman-Brown-corrected split-half
  correlation is reported beside it.

Across neurons: the fraction explained per set (Wilson 95 % interval), and which set
explains each neuron best (highest R² among the sets that explain it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from statsmodels.stats.proportion import proportion_confint

from neurometa.analysis._common import AnalysisError, _stage_names, by_trial, check_recording
from neurometa.analysis.encoding_ridge import fold_ids, fold_stats, ridge_cv
from neurometa.analysis.noise_ceiling import noise_ceiling
from neurometa.analysis.trials import DEFAULT_CONDITIONS, check_aligned, condition_codes
from neurometa.seeding import RunSeeds

__all__ = ["DEFAULT_PENALTIES", "encoding_models", "trial_groups"]

#: Ten ridge penalties, on standardised predictors (``alpha`` of ``sklearn`` ``Ridge``).
DEFAULT_PENALTIES = np.logspace(-2, 5, 10)


def trial_groups(
    ds: xr.Dataset | xr.DataArray, *, group_by: str = "episode", block_length: int | None = None
) -> np.ndarray:
    """Cross-validation group of every trial, shape (episode, trial).

    Parameters
    ----------
    ds : xarray.Dataset or xarray.DataArray
        A recording, or predictors ``(episode, trial, ...)``.
    group_by : str
        ``"episode"`` (a session or block of the lab file), or a per-step variable of ``ds``
        (e.g. ``"block"``): its runs of equal values within an episode are groups.
    block_length : int, optional
        Cut each group into contiguous blocks of this many trials (for a single session).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> x = xr.DataArray(np.zeros((2, 4)), dims=("episode", "trial"))
    >>> trial_groups(x, block_length=2).tolist()
    [[0, 0, 1, 1], [2, 2, 3, 3]]
    """
    num_episodes = ds.sizes["episode"]
    if "step" in ds.dims:
        num_trials = ds.sizes["step"] // len(_stage_names(ds))
    else:
        num_trials = ds.sizes["trial"]
    if group_by == "episode":
        labels = np.zeros((num_episodes, num_trials), dtype=np.int64)
    else:
        if not isinstance(ds, xr.Dataset) or group_by not in ds:
            raise AnalysisError(f"group_by={group_by!r} is not a variable of the recording")
        values = by_trial(ds[group_by], ds, 0).transpose("episode", "trial").values
        first = np.zeros((num_episodes, 1), bool)
        labels = np.cumsum(np.concatenate([first, values[:, 1:] != values[:, :-1]], 1), axis=1)
    if block_length is not None:
        if block_length < 1:
            raise AnalysisError(f"block_length must be positive, got {block_length}")
        labels = labels * num_trials + np.arange(num_trials)[None] // block_length
    episode = np.broadcast_to(np.arange(num_episodes)[:, None], labels.shape)
    _, codes = np.unique(
        np.stack([episode, labels], -1).reshape(-1, 2), axis=0, return_inverse=True
    )
    return codes.reshape(labels.shape)


def _null_orders(
    episodes: np.ndarray, kind: str, num_null: int, rng: np.random.Generator
) -> np.ndarray:
    """Row orders of the activity under the null, shape (num_null, n).

    ``episodes`` is each row's episode (rows of an episode contiguous, in trial order).
    """
    bounds = np.flatnonzero(np.diff(episodes)) + 1
    starts, stops = np.r_[0, bounds], np.r_[bounds, len(episodes)]
    lengths = stops - starts
    orders = np.empty((num_null, len(episodes)), dtype=np.int64)
    if kind == "circular":
        if lengths.min() < 4:
            raise AnalysisError("a circular-shift null needs at least 4 trials per session")
        for i in range(num_null):
            for s, m in zip(starts, lengths, strict=True):
                low, high = max(1, m // 10), max(2, m - m // 10)
                shift = rng.integers(low, high)
                orders[i, s : s + m] = s + (np.arange(m) + shift) % m
    elif kind == "session":
        if len(starts) < 3 or np.unique(lengths).size != 1:
            raise AnalysisError(
                "a session-permutation null needs >= 3 sessions with the same number of "
                f"usable trials; got {lengths.tolist()} (use null='circular')"
            )
        for i in range(num_null):
            perm = rng.permutation(len(starts))  # uniform, identity included (exact test)
            orders[i] = np.concatenate([np.arange(starts[j], stops[j]) for j in perm])
    else:
        raise AnalysisError(f"null must be 'circular' or 'session', got {kind!r}")
    return orders


def _design(
    neural: xr.Dataset,
    predictors: Mapping[str, xr.DataArray],
    activity: str,
    stage: str | int,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Predictor grids ``(E, T, p)`` per set, activity ``(E, T, N)``, usable trials ``(E, T)``."""
    check_recording(neural, [activity], analysis="encoding model")
    if not predictors:
        raise AnalysisError("encoding_models needs at least one predictor set")
    y = by_trial(neural[activity], neural, stage).transpose("episode", "trial", ...).values
    if y.ndim != 3:
        raise AnalysisError(
            f"activity {activity!r} must have one dim (unit) besides (episode, step)"
        )
    grids = {}
    usable = np.any(np.isfinite(y), axis=-1)
    for name, x in predictors.items():
        if not isinstance(x, xr.DataArray) or x.dims != ("episode", "trial", "feature"):
            raise AnalysisError(
                f"predictor set {name!r} must be a DataArray (episode, trial, feature), as "
                "trial_predictors returns"
            )
        check_aligned(neural, x, names=("neural recording", f"predictor set {name!r}"))
        grids[name] = x.values.astype(np.float64)
        usable &= np.all(np.isfinite(grids[name]), axis=-1)
    return grids, y.astype(np.float64), usable


def _fit_set(
    X: np.ndarray,
    Y: np.ndarray,
    folds: np.ndarray,
    num_folds: int,
    penalties: np.ndarray,
    orders: np.ndarray,
    bar: object,
    standardize: str,
) -> tuple[object, np.ndarray]:
    """Observed nested-CV ridge result and the null R² (num_null, N) of one predictor set."""
    X = X - X.mean(axis=0)
    if standardize == "all":  # z-score each predictor over all trials (no neural data used)
        sd = X.std(axis=0)
        X = X / np.where(sd > 0, sd, 1.0)
    per_fold = standardize == "fold"
    stats = fold_stats(X, Y, folds, num_folds)
    observed = ridge_cv(stats, penalties, standardize=per_fold)
    null = np.empty((len(orders), Y.shape[1]))
    for i, order in enumerate(orders):
        shuffled = fold_stats(X, Y[order], folds, num_folds, x_only=stats)
        null[i] = ridge_cv(shuffled, penalties, standardize=per_fold).r2
        bar.update(1)
    return observed, null


def encoding_models(
    neural: xr.Dataset,
    predictors: Mapping[str, xr.DataArray],
    *,
    activity: str = "activity",
    stage: str | int = 0,
    penalties: Sequence[float] = tuple(DEFAULT_PENALTIES),
    num_folds: int = 5,
    group_by: str = "episode",
    block_length: int | None = None,
    null: str = "circular",
    num_null: int = 100,
    alpha: float = 0.05,
    conditions: Sequence[str] | None = DEFAULT_CONDITIONS,
    standardize: str = "all",
    skip_first: int = 0,
    num_splits: int = 20,
    seed: int = 0,
    progress: bool = False,
) -> xr.Dataset:
    """Cross-validated encoding models of every neuron from each predictor set, with nulls.

    Parameters
    ----------
    neural : xarray.Dataset
        A recording with the activity ``(episode, step, unit)``.
    predictors : mapping of str to xarray.DataArray
        Named predictor sets, each ``(episode, trial, feature)`` from
        :func:`neurometa.analysis.trials.trial_predictors` (or
        :func:`~neurometa.analysis.trials.union_predictors`), lined up with ``neural`` trial
        for trial (checked). Trials where any set or every neuron is missing are left out.
    activity, stage : str, str or int
        Activity variable of ``neural`` and the stage of the trial at which it is taken.
    penalties : sequence of float
        Ridge penalties on standardised predictors; the best is chosen per neuron and fold.
    skip_first : int
        Trials left out at the start of every episode: an agent's units start each session
        from their initial state, so its first trials are outliers in predictor space (a
        transient of about 5 trials for a 48-unit LSTM) on which a held-out fold's
        predictions extrapolate.
    standardize : {"all", "fold"}
        Scale each predictor by its standard deviation over all usable trials (``"all"``: an
        unsupervised transform of the predictors alone; robust to units nearly constant in
        some sessions, e.g. a saturated agent unit, whose training-fold deviation would blow
        up on the held-out fold) or over each training set (``"fold"``: ``StandardScaler``
        inside the cross-validated pipeline).
    num_folds : int
        Outer folds (>= 3) of ``GroupKFold`` over the groups below.
    group_by, block_length
        Cross-validation groups (:func:`trial_groups`): sessions by default.
    null : {"circular", "session"}
        Circular shifts of each session's activity, or a permutation of sessions.
    num_null : int
        Null draws (>= ``1 / alpha - 1`` for the smallest p-value to reach ``alpha``).
    alpha : float
        Level of the per-neuron test against the null.
    conditions : sequence of str or None
        Variables whose combinations define repeated conditions for the noise ceiling
        (``choice``, ``reward`` = rewarded, ``prev_*`` = previous trial, or per-step
        variables of ``neural``); ``None``: no ceiling.
    num_splits : int
        Random split halves of the noise ceiling.
    seed : int
        Seed of the null draws and the splits.
    progress : bool
        Show a progress bar over the null fits (on stderr).

    Returns
    -------
    xarray.Dataset
        Dims ``predictor_set``, ``unit``, ``fold``, ``null``, ``penalty``. Per set and
        neuron: ``r2``, ``r2_fold``, ``penalty_chosen``, ``null_r2``, ``null_q95``,
        ``p_value``, ``explained``; per set: ``num_features``, ``num_explained``,
        ``fraction_explained`` with ``fraction_low``/``fraction_high`` (Wilson, 95 %),
        ``fraction_best``; per neuron: ``best_set`` (``"none"`` if no set explains it),
        ``noise_ceiling``, ``split_half_reliability``. Every variable has ``long_name`` and
        ``units``; attrs give the settings and ``num_trials``, ``num_groups``.

    Examples
    --------
    A lab recording with a latent variable; neuron 0 carries it, neuron 1 does not:

    >>> import pandas as pd
    >>> from neurometa.data.tables import check_table, table_to_recording
    >>> from neurometa.analysis.trials import trial_predictors
    >>> rng = np.random.default_rng(0)
    >>> table = pd.DataFrame({
    ...     "subject": "m1", "session": np.repeat(np.arange(6), 80),
    ...     "trial": np.tile(np.arange(80), 6), "choice": rng.integers(0, 2, 480),
    ...     "reward": rng.integers(0, 2, 480), "latent": rng.normal(size=480)})
    >>> ds = table_to_recording(check_table(table.astype(str), "bandit", source="example"))
    >>> latent = ds["latent"].values
    >>> rate = np.stack([latent, np.zeros_like(latent)], -1) + rng.normal(size=(6, 80, 2))
    >>> ds["activity"] = (("episode", "step", "unit"), rate)
    >>> ds = ds.assign_coords(unit=[0, 1])
    >>> res = encoding_models(ds, {"latent": trial_predictors(ds, ["latent"])},
    ...                       num_null=19, num_folds=3)
    >>> res["explained"].sel(predictor_set="latent").values.tolist()
    [True, False]
    """
    if standardize not in ("all", "fold"):
        raise AnalysisError(f"standardize must be 'all' or 'fold', got {standardize!r}")
    if not 0 < alpha < 1 or num_null < 1 or num_splits < 1:
        raise AnalysisError("alpha must lie in (0, 1); num_null and num_splits must be positive")
    pen = np.asarray(penalties, dtype=np.float64)
    if pen.ndim != 1 or pen.size == 0 or np.any(~np.isfinite(pen)) or np.any(pen <= 0):
        raise AnalysisError(f"penalties must be positive numbers, got {list(penalties)}")
    grids, y, usable = _design(neural, predictors, activity, stage)
    if skip_first < 0:
        raise AnalysisError(f"skip_first must be >= 0, got {skip_first}")
    usable[:, :skip_first] = False
    groups = trial_groups(neural, group_by=group_by, block_length=block_length)
    Y = y[usable]
    complete = np.all(np.isfinite(Y), axis=0)
    if usable.sum() < 2 * num_folds:
        raise AnalysisError(f"only {int(usable.sum())} usable trials for {num_folds} folds")
    Y = Y[:, complete] - Y[:, complete].mean(axis=0)
    folds = fold_ids(groups[usable], num_folds)
    episodes = np.broadcast_to(np.arange(y.shape[0])[:, None], usable.shape)[usable]
    rng = RunSeeds(seed).numpy("eval")
    orders = _null_orders(episodes, null, num_null, rng)
    from tqdm.auto import tqdm

    results = {}
    with tqdm(total=num_null * len(grids), desc="encoding null", disable=not progress) as bar:
        for name, grid in grids.items():
            results[name] = _fit_set(
                grid[usable], Y, folds, num_folds, pen, orders, bar, standardize
            )
    codes = (
        condition_codes(neural, conditions, stage=stage)[0][usable]
        if conditions is not None
        else np.full(int(usable.sum()), -1)
    )
    ceiling, reliability = noise_ceiling(Y, codes, num_splits=num_splits, seed=seed)
    out = _assemble(
        neural[activity]["unit"].values
        if "unit" in neural[activity].coords
        else np.arange(y.shape[-1]),
        complete,
        results,
        pen,
        alpha,
        grids,
    )
    out["noise_ceiling"] = ("unit", _expand(ceiling, complete))
    out["split_half_reliability"] = ("unit", _expand(reliability, complete))
    out.attrs.update(
        activity=activity,
        stage=str(stage),
        standardize=standardize,
        skip_first=skip_first,
        num_folds=num_folds,
        group_by=group_by,
        block_length=-1 if block_length is None else block_length,
        null=null,
        num_null=num_null,
        alpha=alpha,
        seed=seed,
        num_splits=num_splits,
        conditions=",".join(conditions or ()),
        num_trials=int(usable.sum()),
        num_groups=int(np.unique(groups[usable]).size),
        num_incomplete_neurons=int((~complete).sum()),
    )
    return _annotate(out)


def _expand(values: np.ndarray, complete: np.ndarray, fill: float = np.nan) -> np.ndarray:
    """Values of the complete neurons placed among all neurons (``fill`` elsewhere)."""
    full = np.full(complete.shape + values.shape[1:], fill, dtype=np.float64)
    full[complete] = values
    return full


def _assemble(
    units: np.ndarray,
    complete: np.ndarray,
    results: dict[str, tuple[object, np.ndarray]],
    penalties: np.ndarray,
    alpha: float,
    grids: dict[str, np.ndarray],
) -> xr.Dataset:
    """The labelled result of :func:`encoding_models` (noise ceiling added by the caller)."""
    names = list(results)
    r2 = np.stack([_expand(results[n][0].r2, complete) for n in names])
    r2_fold = np.stack([_expand(results[n][0].r2_fold.T, complete).T for n in names])
    chosen = np.stack(
        [_expand(penalties[results[n][0].penalty_index].T, complete).T for n in names]
    )
    null = np.stack([_expand(results[n][1].T, complete).T for n in names])
    with np.errstate(invalid="ignore"):
        exceed = (null >= r2[:, None]).sum(axis=1)
    p_value = np.where(np.isfinite(r2), (1 + exceed) / (1 + null.shape[1]), np.nan)
    q95 = np.quantile(null, 0.95, axis=1)  # NaN for incomplete neurons
    explained = p_value <= alpha
    num_neurons = int(complete.sum())
    count = explained.sum(axis=1)
    low, high = proportion_confint(count, max(num_neurons, 1), alpha=0.05, method="wilson")
    masked = np.where(explained, r2, -np.inf)
    best = np.where(explained.any(axis=0), np.asarray(names)[np.argmax(masked, axis=0)], "none")
    return xr.Dataset(
        {
            "r2": (("predictor_set", "unit"), r2),
            "r2_fold": (("predictor_set", "fold", "unit"), r2_fold),
            "penalty_chosen": (("predictor_set", "fold", "unit"), chosen),
            "null_r2": (("predictor_set", "null", "unit"), null),
            "null_q95": (("predictor_set", "unit"), q95),
            "p_value": (("predictor_set", "unit"), p_value),
            "explained": (("predictor_set", "unit"), explained),
            "num_features": ("predictor_set", [grids[n].shape[-1] for n in names]),
            "num_explained": ("predictor_set", count),
            "fraction_explained": ("predictor_set", count / max(num_neurons, 1)),
            "fraction_low": ("predictor_set", np.asarray(low)),
            "fraction_high": ("predictor_set", np.asarray(high)),
            "best_set": ("unit", best.astype(str)),
            "fraction_best": (
                "predictor_set",
                [float(np.sum(best == n)) / max(num_neurons, 1) for n in names],
            ),
        },
        coords={
            "predictor_set": names,
            "unit": units,
            "fold": np.arange(r2_fold.shape[1]),
            "null": np.arange(null.shape[1]),
            "penalty": penalties,
        },
        attrs={"num_neurons": num_neurons},
    )


_META = {
    "r2": ("held-out R² (predictions of all folds pooled)", "1"),
    "r2_fold": ("held-out R² on each fold", "1"),
    "penalty_chosen": ("ridge penalty chosen on the training folds", "1"),
    "null_r2": ("held-out R² with the predictors misaligned (null draw)", "1"),
    "null_q95": ("95th percentile of the null R²", "1"),
    "p_value": ("p-value of the held-out R² against the null, (1 + #null >= R²)/(1 + draws)", "1"),
    "explained": ("p_value <= alpha", "1"),
    "num_features": ("number of predictors in the set", "1"),
    "num_explained": ("number of neurons explained beyond the null", "1"),
    "fraction_explained": ("fraction of neurons explained beyond the null", "1"),
    "fraction_low": ("lower limit of the Wilson 95% interval of the fraction", "1"),
    "fraction_high": ("upper limit of the Wilson 95% interval of the fraction", "1"),
    "best_set": ("predictor set with the highest R² among those explaining the neuron", ""),
    "fraction_best": ("fraction of neurons best explained by the set", "1"),
    "noise_ceiling": ("split-half between-condition variance / total variance", "1"),
    "split_half_reliability": ("Spearman-Brown corrected split-half r of condition means", "1"),
    "predictor_set": ("predictor set", ""),
    "unit": ("neuron", ""),
    "fold": ("outer cross-validation fold", ""),
    "null": ("null draw", ""),
    "penalty": ("ridge penalty grid (standardised predictors)", "1"),
}


def _annotate(ds: xr.Dataset) -> xr.Dataset:
    """``long_name`` and ``units`` on every variable and coordinate."""
    for name, (long_name, units) in _META.items():
        if name in ds.variables:
            ds[name].attrs.update(long_name=long_name, units=units)
    return ds
