"""Population analyses: cross-validated decoding of task variables, and condition RDMs.

- Decoding: a scikit-learn estimator predicts a task variable from the units' activity at
  one stage of each trial, scored with ``GroupKFold`` so that trials of one episode never sit
  in both the training and the test fold (trials within an episode are not independent).
- Representational dissimilarity matrices (RDMs) of condition-mean activity (correlation
  distance, as :func:`neurometa.analysis.compare_rsa.rdm`), for comparing agent units with
  recorded neurons (Kriegeskorte et al. 2008).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from neurometa.analysis._common import AnalysisError, by_trial, check_recording, describe
from neurometa.analysis.compare_rsa import rdm

__all__ = ["decoding_data", "decode", "condition_rdm"]


def decoding_data(
    ds: xr.Dataset, target: str, *, features: str = "h", stage: str | int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Activity ``X (n, units)``, target ``y (n,)`` and episode ``groups (n,)`` of every trial.

    Trials where the target is missing (NaN or −1 for integers) are left out.
    """
    check_recording(ds, [target, features], analysis="decoding")
    X = by_trial(ds[features], ds, stage).transpose("episode", "trial", ...).values
    y = by_trial(ds[target], ds, stage).transpose("episode", "trial").values
    if X.ndim != 3:
        raise AnalysisError(f"features {features!r} must have one dim besides (episode, step)")
    groups = np.broadcast_to(np.arange(y.shape[0])[:, None], y.shape)
    ok = np.isfinite(y) if y.dtype.kind == "f" else y >= 0
    ok &= np.all(np.isfinite(X), axis=-1)
    return X[ok].astype(np.float64), y[ok], groups[ok]


def decode(
    ds: xr.Dataset,
    target: str,
    *,
    features: str = "h",
    stage: str | int = 0,
    num_folds: int = 5,
    estimator: BaseEstimator | None = None,
) -> xr.Dataset:
    """Cross-validated decoding of ``target`` from ``features`` (folds grouped by episode).

    Parameters
    ----------
    ds : xarray.Dataset
        Recording with the activity ``features (episode, step, unit)`` and ``target``.
    target : str
        Per-step variable to decode; integer/bool targets are classified (accuracy), float
        targets regressed (R²).
    num_folds : int
        Folds of ``GroupKFold`` (at most the number of episodes).
    estimator : sklearn estimator, optional
        Default: standardisation + ``LogisticRegression`` (classification) or ``Ridge``.

    Returns
    -------
    xarray.Dataset, dim fold
        ``score`` per fold and ``chance`` (classification: the test-fold frequency of the
        training fold's most common class; regression: 0), their means ``mean_score`` and
        ``mean_chance`` (scalars); attrs ``target``, ``features``, ``metric``,
        ``num_trials``.

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
    >>> ds["prev_reward"] = prev_reward > 0
    >>> scores = nm.decode(ds, "prev_reward", features="activity", num_folds=4)
    >>> bool(scores["mean_score"] > 0.9)
    True
    """
    X, y, groups = decoding_data(ds, target, features=features, stage=stage)
    num_groups = len(np.unique(groups))
    if num_groups < 2:
        raise AnalysisError(
            f"decoding needs at least 2 episodes (its folds never split an episode); the "
            f"recording has {num_groups}"
        )
    if num_folds < 2 or num_folds > num_groups:
        raise AnalysisError(f"num_folds must lie in [2, {num_groups}] (episodes), got {num_folds}")
    classify = y.dtype.kind in "biu"
    if estimator is None:
        model = LogisticRegression(max_iter=1000) if classify else Ridge(alpha=1.0)
        estimator = make_pipeline(StandardScaler(), model)
    cv = GroupKFold(n_splits=num_folds)
    scoring = "accuracy" if classify else "r2"
    scores = cross_val_score(clone(estimator), X, y, groups=groups, cv=cv, scoring=scoring)
    chance = np.zeros(num_folds)
    if classify:
        for k, (train, test) in enumerate(cv.split(X, y, groups)):
            values, counts = np.unique(y[train], return_counts=True)
            chance[k] = np.mean(y[test] == values[np.argmax(counts)])
    out = xr.Dataset(
        {
            "score": ("fold", scores),
            "chance": ("fold", chance),
            "mean_score": scores.mean(),
            "mean_chance": chance.mean(),
        },
        coords={"fold": np.arange(num_folds)},
    )
    describe(out, {"score": f"held-out {scoring}", "chance": f"chance {scoring}",
                   "mean_score": f"mean held-out {scoring}",
                   "mean_chance": f"mean chance {scoring}"})  # fmt: skip
    out.attrs.update(target=target, features=features, metric=scoring, num_trials=int(len(y)))
    return out


def condition_rdm(
    ds: xr.Dataset, conditions: list[str], *, features: str = "h", stage: str | int = 0
) -> xr.DataArray:
    """RDM (1 − Pearson r of unit-centred condition means) over the combinations of variables.

    Parameters
    ----------
    conditions : list of str
        Per-step variables whose value combinations define the conditions (e.g.
        ``["action", "reward"]``).

    Returns
    -------
    xarray.DataArray, dims (condition, condition_b)
        Labelled by strings like ``"action=0,reward=1"``.
    """
    check_recording(ds, [features, *conditions], analysis="RDM")
    X = by_trial(ds[features], ds, stage).transpose("episode", "trial", ...).values
    X = X.reshape(-1, X.shape[-1]).astype(np.float64)
    keys = np.column_stack(
        [
            by_trial(ds[c], ds, stage).transpose("episode", "trial").values.ravel()
            for c in conditions
        ]
    )
    combos, inverse = np.unique(keys, axis=0, return_inverse=True)
    if len(combos) < 3:
        raise AnalysisError(f"an RDM needs at least 3 conditions, got {len(combos)}")
    means = np.stack([X[inverse.ravel() == k].mean(axis=0) for k in range(len(combos))])
    labels = [
        ",".join(f"{c}={v:g}" for c, v in zip(conditions, row, strict=True)) for row in combos
    ]
    return xr.DataArray(
        rdm(means),
        dims=("condition", "condition_b"),
        coords={"condition": labels, "condition_b": labels},
        name="rdm",
    )
