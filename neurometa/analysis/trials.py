"""The trial-level view of a recording: choices, labels, predictors, and trial-for-trial alignment.

Encoding models and representational comparisons pair an agent (or a behavioural model) with
neurons trial by trial. This module gives every recording, agent or lab, the same trial-level
view:

- :func:`trial_choice`: the (first-stage) choice of every trial, whichever name the recording
  uses (``action`` at the first stage for agents and bandit-like lab data, ``choice1`` for lab
  two-step tables);
- :func:`trial_predictors`: a matrix of predictors per trial, ``(episode, trial, feature)``,
  from any per-step variables (an agent's units ``h``, a model's latents, task variables),
  optionally with the previous trial's values and one-hot coded categories; it carries the
  trial labels of its recording (subject, session, trial numbers, choices);
- :func:`condition_codes`: the condition of every trial, a combination of trial variables
  (by default previous choice x previous outcome x current choice), labelled so that two
  recordings' conditions can be matched;
- :func:`check_aligned`: that two recordings (or predictors) describe the same trials — same
  episodes, subjects, sessions, trial numbers and choices — with an error naming the first
  mismatch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from neurometa.analysis._common import (
    AnalysisError,
    by_trial,
    check_recording,
    consecutive_trials,
    stage_index,
    trial_sum,
)

__all__ = [
    "choice_variable",
    "trial_choice",
    "trial_predictors",
    "union_predictors",
    "check_aligned",
    "condition_codes",
    "DEFAULT_CONDITIONS",
]

#: Conditions of the agent-vs-neuron comparisons: previous choice x previous outcome x choice.
DEFAULT_CONDITIONS = ("prev_choice", "prev_reward", "choice")

#: Per-episode labels compared by :func:`check_aligned` (coordinates on ``episode``).
EPISODE_LABELS = ("subject", "session")


def choice_variable(ds: xr.Dataset) -> str:
    """Name of the variable holding the choices: ``action``, else ``choice1`` (lab two-step).

    Examples
    --------
    >>> import xarray as xr
    >>> choice_variable(xr.Dataset({"choice1": ("step", [0, 1])}))
    'choice1'
    """
    return "choice1" if "action" not in ds and "choice1" in ds else "action"


def trial_choice(ds: xr.Dataset) -> np.ndarray:
    """The choice of every trial (first stage for two-step), −1 where missing.

    ``action`` at the first stage of each trial where the recording has ``action``; else
    ``choice1`` (lab two-step tables carry it on every stage; its last stage is used, where
    an agent's ``choice1`` is also set).

    Parameters
    ----------
    ds : xarray.Dataset
        A recording (agent or lab).

    Returns
    -------
    numpy.ndarray of int64, shape (episode, trial)

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset({"choice1": (("episode", "step"), np.array([[1, 1, 0, 0]]))},
    ...                 coords={"trial": ("step", [0, 0, 1, 1]),
    ...                         "stage": ("step", ["first", "second"] * 2)})
    >>> trial_choice(ds).tolist()
    [[1, 0]]
    """
    if "action" in ds:
        choice = by_trial(ds["action"], ds, 0)
    elif "choice1" in ds:
        choice = by_trial(ds["choice1"], ds, -1 % _steps_per_trial(ds))
    else:
        raise AnalysisError("the recording has neither 'action' nor 'choice1' (the choices)")
    return choice.transpose("episode", "trial").values.astype(np.int64)


def _steps_per_trial(ds: xr.Dataset) -> int:
    trial = np.asarray(ds["trial"].values)
    return int(np.sum(trial == trial[0]))


def _labels(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    """Trial labels carried with predictors: subject/session, trial_id, choice, reward."""
    labels: dict[str, xr.DataArray] = {}
    for name in EPISODE_LABELS:
        if name in ds.coords:
            labels[name] = ds[name].astype(str)
    if "trial_id" in ds:
        labels["trial_id"] = by_trial(ds["trial_id"], ds, 0).transpose("episode", "trial")
    if "action" in ds or "choice1" in ds:
        labels["choice"] = xr.DataArray(trial_choice(ds), dims=("episode", "trial"))
    return labels


def _previous_trial(values: np.ndarray, ds: xr.Dataset) -> np.ndarray:
    """Per-trial values ``(episode, trial, ...)`` moved one trial on (NaN: first, after a gap)."""
    keep = consecutive_trials(ds).reshape(values.shape[0], -1, *([1] * (values.ndim - 2)))
    out = np.full_like(values, np.nan, dtype=np.float64)
    out[:, 1:] = np.where(keep, values[:, :-1], np.nan)
    return out


def _feature_block(da: xr.DataArray, name: str, categorical: bool) -> tuple[np.ndarray, list[str]]:
    """A per-trial variable as a (episode, trial, f) float block and its feature names."""
    values = da.transpose("episode", "trial", ...).values
    if categorical:
        codes = values.astype(np.int64)
        if codes.ndim != 2:
            raise AnalysisError(f"categorical predictor {name!r} must have one value per trial")
        levels = np.unique(codes[codes >= 0])
        block = (codes[..., None] == levels).astype(np.float64)
        block[codes < 0] = np.nan
        return block, [f"{name}={v}" for v in levels]
    values = values.astype(np.float64)
    if np.issubdtype(da.dtype, np.integer):
        values = np.where(da.transpose("episode", "trial", ...).values < 0, np.nan, values)
    if values.ndim == 2:
        return values[..., None], [name]
    extra = [d for d in da.dims if d not in ("episode", "trial")]
    block = values.reshape(*values.shape[:2], -1)
    index = np.stack(
        np.meshgrid(*[np.asarray(da[d].values) for d in extra], indexing="ij"), -1
    ).reshape(-1, len(extra))
    return block, [f"{name}[{','.join(map(str, row))}]" for row in index]


def trial_predictors(
    ds: xr.Dataset,
    variables: Sequence[str],
    *,
    stage: str | int = 0,
    previous: Sequence[str] = (),
    categorical: Sequence[str] = (),
) -> xr.DataArray:
    """Predictors of every trial from per-step variables of a recording.

    Parameters
    ----------
    ds : xarray.Dataset
        A recording (agent or lab).
    variables : sequence of str
        Per-step variables, each taken at ``stage`` of every trial: an agent's units
        (``"h"``: one feature per unit), a behavioural model's latents, task variables.
        ``"reward"`` is the trial's total reward. Integer variables mark missing values
        with −1 (those trials get NaN).
    stage : str or int
        Stage (name or index) within the trial.
    previous : sequence of str
        Variables also taken from the previous trial (features ``prev_<name>``; NaN on the
        first trial of an episode and after a dropped trial).
    categorical : sequence of str
        Variables (among ``variables`` and ``previous``) coded one-hot, one feature per
        level (``action=0``, ``action=1``, ...).

    Returns
    -------
    xarray.DataArray, dims (episode, trial, feature), float64
        Feature names on ``feature``; the recording's trial labels as coordinates
        (``subject``, ``session``, ``trial_id``, ``choice``), used by
        :func:`check_aligned`.

    Examples
    --------
    >>> import pandas as pd
    >>> from neurometa.data.tables import check_table, table_to_recording
    >>> table = pd.DataFrame({"subject": "m1", "trial": [0, 1, 2], "choice": [0, 1, 1],
    ...                       "reward": [1, 0, 1]})
    >>> ds = table_to_recording(check_table(table.astype(str), "bandit", source="example"))
    >>> x = trial_predictors(ds, ["action"], previous=["reward"])
    >>> x["feature"].values.tolist(), x.values[0].tolist()
    (['action', 'prev_reward'], [[0.0, nan], [1.0, 1.0], [1.0, 0.0]])
    """
    names = list(dict.fromkeys([*variables, *previous]))
    if not variables and not previous:
        raise AnalysisError("trial_predictors needs at least one variable")
    unknown = [c for c in categorical if c not in names]
    if unknown:
        raise AnalysisError(f"categorical variable(s) {unknown} are not among the predictors")
    check_recording(ds, names, analysis="predictors")
    stage_index(ds, stage)
    blocks, features = [], []
    for kind, group in (("", variables), ("prev_", previous)):
        for name in group:
            if name == "reward":
                da = trial_sum(ds["reward"], ds)
            else:
                da = by_trial(ds[name], ds, stage)
            if "step" in da.dims or da.dims[:2] != ("episode", "trial"):
                da = da.transpose("episode", "trial", ...)
            block, labels = _feature_block(da, name, name in categorical)
            if kind:
                block = _previous_trial(block, ds)
            blocks.append(block)
            features.extend(kind + label for label in labels)
    values = np.concatenate(blocks, axis=-1)
    coords: dict[str, object] = {
        "episode": ds["episode"].values,
        "trial": by_trial(ds["reward"] if "reward" in ds else ds[names[0]], ds, 0)["trial"].values,
        "feature": features,
    }
    out = xr.DataArray(values, dims=("episode", "trial", "feature"), coords=coords)
    for key, label in _labels(ds).items():
        out = out.assign_coords({key: (label.dims, label.values)})
    out.attrs.update(source=str(ds.attrs.get("source", "")), stage=str(stage))
    return out


def union_predictors(*predictors: xr.DataArray) -> xr.DataArray:
    """Predictor sets side by side (features concatenated; same trials required).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> a = xr.DataArray(np.zeros((1, 2, 1)), dims=("episode", "trial", "feature"),
    ...                  coords={"feature": ["x"]})
    >>> union_predictors(a, a.assign_coords(feature=["y"]))["feature"].values.tolist()
    ['x', 'y']
    """
    if not predictors:
        raise AnalysisError("union_predictors needs at least one predictor set")
    first = predictors[0]
    for other in predictors[1:]:
        check_aligned(first, other, names=("first set", "other set"))
    return xr.concat(predictors, dim="feature", coords="minimal", compat="override")


def _trial_labels(obj: xr.Dataset | xr.DataArray) -> dict[str, np.ndarray]:
    """Labels of ``obj``'s trials: shapes, subject/session, trial_id and choice."""
    if isinstance(obj, xr.Dataset) and "step" in obj.dims:
        labels = {k: v.values for k, v in _labels(obj).items()}
        num_trials = obj.sizes["step"] // _steps_per_trial(obj)
        return {"shape": np.array([obj.sizes["episode"], num_trials]), **labels}
    labels = {k: obj[k].values for k in (*EPISODE_LABELS, "trial_id", "choice") if k in obj.coords}
    return {"shape": np.array([obj.sizes["episode"], obj.sizes["trial"]]), **labels}


def check_aligned(
    a: xr.Dataset | xr.DataArray,
    b: xr.Dataset | xr.DataArray,
    *,
    names: tuple[str, str] = ("neural", "predictors"),
) -> None:
    """Check that two recordings (or predictor sets) hold the same trials, in the same order.

    Compared where both carry them: the number of episodes and of trials per episode; the
    ``subject`` and ``session`` of each episode; the lab's trial numbers (``trial_id``); and
    the choice of every trial (an agent run on an animal's trials makes the animal's choices,
    so differing choices mean the two files are not the same trials).

    Parameters
    ----------
    a, b : xarray.Dataset or xarray.DataArray
        Recordings, or predictors from :func:`trial_predictors`.
    names : tuple of str
        What to call ``a`` and ``b`` in the error.

    Raises
    ------
    AnalysisError
        Naming the first mismatch and how many trials or episodes differ.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> x = xr.DataArray(np.zeros((2, 3, 1)), dims=("episode", "trial", "feature"),
    ...                  coords={"subject": ("episode", ["m1", "m2"])})
    >>> check_aligned(x, x)  # same trials: no error
    """
    la, lb = _trial_labels(a), _trial_labels(b)
    first, second = names
    if not np.array_equal(la["shape"], lb["shape"]):
        raise AnalysisError(
            f"{first} and {second} do not line up trial for trial: {first} has "
            f"{la['shape'][0]} episode(s) x {la['shape'][1]} trial(s), {second} "
            f"{lb['shape'][0]} x {lb['shape'][1]}"
        )
    for key in EPISODE_LABELS:
        if key in la and key in lb and not np.array_equal(la[key], lb[key]):
            bad = np.flatnonzero(la[key] != lb[key])
            raise AnalysisError(
                f"{first} and {second} have different {key}s: episode {bad[0]} is "
                f"{la[key][bad[0]]!r} in {first} and {lb[key][bad[0]]!r} in {second} "
                f"({bad.size} of {la[key].size} episodes differ)"
            )
    for key, what in (("trial_id", "trial numbers"), ("choice", "choices")):
        if key not in la or key not in lb:
            continue
        both = (la[key] >= 0) & (lb[key] >= 0)
        bad = np.argwhere(both & (la[key] != lb[key]))
        if bad.size:
            e, t = bad[0]
            hint = (
                "; was the agent run on these trials (neurometa record --behaviour)?"
                if key == "choice"
                else ""
            )
            raise AnalysisError(
                f"{first} and {second} do not line up trial for trial: {what} differ on "
                f"{len(bad)} of {int(both.sum())} trials (first: episode {e}, trial {t}: "
                f"{la[key][e, t]} in {first}, {lb[key][e, t]} in {second}){hint}"
            )


def _condition_column(ds: xr.Dataset, name: str, stage: str | int) -> np.ndarray:
    """One condition variable per trial (float, NaN where missing)."""
    base = name.removeprefix("prev_")
    if base == "choice":
        values = trial_choice(ds).astype(np.float64)
        values[values < 0] = np.nan
    elif base == "reward":
        reward = trial_sum(ds["reward"], ds).transpose("episode", "trial").values
        values = np.where(np.isfinite(reward), (reward > 0).astype(float), np.nan)
    elif base in ds:
        raw = by_trial(ds[base], ds, stage).transpose("episode", "trial").values
        values = raw.astype(np.float64)
        if np.issubdtype(raw.dtype, np.integer):
            values[raw < 0] = np.nan
    else:
        raise AnalysisError(f"condition variable {base!r} is not in the recording")
    return _previous_trial(values, ds) if name.startswith("prev_") else values


def condition_codes(
    ds: xr.Dataset, names: Sequence[str] = DEFAULT_CONDITIONS, *, stage: str | int = 0
) -> tuple[np.ndarray, list[str]]:
    """Condition of every trial: the combination of the values of ``names``.

    Parameters
    ----------
    ds : xarray.Dataset
        A recording (agent or lab).
    names : sequence of str
        ``choice`` (the trial's choice, :func:`trial_choice`), ``reward`` (rewarded: > 0),
        any per-step variable (at ``stage``); ``prev_<name>`` for the previous trial's
        (not across a dropped trial).
    stage : str or int
        Stage at which per-step variables are taken.

    Returns
    -------
    codes : numpy.ndarray of int64, shape (episode, trial)
        Index into ``labels``; −1 where a value is missing (e.g. the first trial's
        ``prev_choice``).
    labels : list of str
        ``"prev_choice=0,prev_reward=1,choice=1"``, one per combination present, sorted.

    Examples
    --------
    >>> import pandas as pd
    >>> from neurometa.data.tables import check_table, table_to_recording
    >>> table = pd.DataFrame({"subject": "m1", "trial": [0, 1, 2], "choice": [0, 1, 1],
    ...                       "reward": [1, 0, 1]})
    >>> ds = table_to_recording(check_table(table.astype(str), "bandit", source="example"))
    >>> codes, labels = condition_codes(ds, ["prev_choice", "choice"])
    >>> codes.tolist(), labels
    ([[-1, 0, 1]], ['prev_choice=0,choice=1', 'prev_choice=1,choice=1'])
    """
    if not names:
        raise AnalysisError("conditions need at least one variable")
    columns = [_condition_column(ds, name, stage) for name in names]
    table = np.stack(columns, -1).reshape(-1, len(columns))
    ok = np.all(np.isfinite(table), axis=1)
    codes = np.full(len(table), -1, dtype=np.int64)
    combos = np.zeros((0, len(columns)))
    if ok.any():
        combos, inverse = np.unique(table[ok], axis=0, return_inverse=True)
        codes[ok] = inverse.ravel()
    labels = [",".join(f"{n}={v:g}" for n, v in zip(names, row, strict=True)) for row in combos]
    return codes.reshape(columns[0].shape), labels
