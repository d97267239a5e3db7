"""Shared plumbing of the analyses: input checks and the step -> trial view of a recording.

A recording (``docs/architecture.md``) has dims ``episode`` and ``step``; the step
coordinates ``trial`` (int) and ``stage`` (str) say which trial and which stage within the
trial each step belongs to. Every task has the same number of steps per trial, stored
trial-major, so a per-step variable reshapes to ``(episode, trial, stage)``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import xarray as xr

__all__ = [
    "AnalysisError",
    "check_recording",
    "stage_index",
    "by_trial",
    "trial_sum",
    "consecutive_trials",
    "describe",
]


class AnalysisError(ValueError):
    """An input does not have what an analysis needs (the message says what is missing)."""


def check_recording(ds: xr.Dataset, required: Iterable[str], *, analysis: str) -> None:
    """Validate ``ds`` against the recording schema and check ``required`` variables exist.

    Parameters
    ----------
    ds : xarray.Dataset
        A recording (agent or lab).
    required : iterable of str
        Variables the analysis reads.
    analysis : str
        Name used in the error message.

    Raises
    ------
    AnalysisError
        Listing every problem: schema violations and missing variables.
    """
    if not isinstance(ds, xr.Dataset):
        raise AnalysisError(f"{analysis}: expected an xarray.Dataset, got {type(ds).__name__}")
    problems: list[str] = []
    for dim in ("episode", "step"):
        if dim not in ds.dims:
            problems.append(f"missing dimension {dim!r}")
    for coord in ("trial", "stage"):
        if coord not in ds.coords:
            problems.append(f"missing step coordinate {coord!r}")
    missing = [name for name in required if name not in ds.variables]
    if missing:
        problems.append(f"missing variable(s) {', '.join(map(repr, missing))}")
    if not problems:
        problems.extend(_schema_problems(ds))
    if problems:
        raise AnalysisError(f"{analysis}: the recording does not fit: " + "; ".join(problems))


def _schema_problems(ds: xr.Dataset) -> list[str]:
    """Problems the project's recording validator reports (empty when it accepts ``ds``).

    Values are not scanned (a lab recording legitimately holds -1 / NaN for missed trials,
    and the analyses check the values they use).
    """
    from neurometa.record.validate import RecordingError, validate_recording

    try:
        validate_recording(ds, check_values=False)
    except RecordingError as err:
        return list(err.problems)
    return []


def stage_index(ds: xr.Dataset, stage: str | int) -> int:
    """Position of ``stage`` (a name or an index) within a trial.

    Parameters
    ----------
    ds : xarray.Dataset
        A recording with ``trial`` and ``stage`` step coordinates.
    stage : str or int
        A stage name (``"first"``), or an index in ``[-steps_per_trial, steps_per_trial)``
        (negative counts from the last stage, as in Python), also as text (``"0"``, ``"-1"``,
        as a command line passes it).
    """
    names = _stage_names(ds)
    if isinstance(stage, str) and stage in names:
        return names.index(stage)
    try:
        k = int(stage)
    except ValueError:
        raise AnalysisError(f"unknown stage {stage!r}; this recording has {names}") from None
    if not -len(names) <= k < len(names):
        raise AnalysisError(f"stage index {k} is outside [{-len(names)}, {len(names)})")
    return k % len(names)


def _stage_names(ds: xr.Dataset) -> list[str]:
    trial = np.asarray(ds["trial"].values)
    stage = np.asarray(ds["stage"].values).astype(str)
    first = trial == trial[0]
    names = list(stage[first])
    spt = len(names)
    num_trials = trial.size // spt if spt else 0
    if (
        spt == 0
        or trial.size % spt
        or not np.array_equal(trial, np.repeat(np.arange(trial[0], trial[0] + num_trials), spt))
        or not np.array_equal(stage, np.tile(np.asarray(names), num_trials))
    ):
        raise AnalysisError(
            "steps must be stored trial-major with the same stages in every trial "
            "(step coordinates 'trial' = 0,0,1,1,... and 'stage' repeating)"
        )
    return names


def by_trial(da: xr.DataArray, ds: xr.Dataset, stage: str | int) -> xr.DataArray:
    """The values of a per-step variable at one stage of every trial.

    Parameters
    ----------
    da : xarray.DataArray, dims (episode, step, ...)
    ds : xarray.Dataset
        The recording ``da`` belongs to (for the step coordinates).
    stage : str or int
        Which stage within the trial.

    Returns
    -------
    xarray.DataArray, dims (episode, trial, ...)
    """
    k = stage_index(ds, stage)
    spt = len(_stage_names(ds))
    idx = np.arange(k, ds.sizes["step"], spt)
    trials = np.asarray(ds["trial"].values)[idx]
    out = da.isel(step=idx)
    out = out.drop_vars([c for c in ("trial", "stage", "step") if c in out.coords])
    return out.rename(step="trial").assign_coords(trial=trials)


def trial_sum(da: xr.DataArray, ds: xr.Dataset) -> xr.DataArray:
    """Sum of a per-step variable over the steps of each trial (e.g. the trial's reward).

    Returns
    -------
    xarray.DataArray, dims (episode, trial, ...)
    """
    spt = len(_stage_names(ds))
    parts = [by_trial(da, ds, k) for k in range(spt)]
    return sum(parts[1:], parts[0])


def consecutive_trials(ds: xr.Dataset) -> np.ndarray:
    """Which neighbouring trial columns are consecutive trials of the session.

    A recording imported from a lab table keeps the file's trial numbers in ``trial_id``
    and packs the trials left after dropping missed ones, so the trials at columns ``j`` and
    ``j + 1`` of an episode may be ``t`` and ``t + 2``. Analyses of "the previous trial"
    (stays, the coding regression's previous action and reward) must not pair them. Agent
    recordings have no gaps.

    Returns
    -------
    numpy.ndarray of bool, shape (episode, trial - 1)
        True where column ``j + 1`` is the trial right after column ``j``.
    """
    if "trial_id" not in ds:
        return np.ones((ds.sizes["episode"], ds.sizes["step"] // len(_stage_names(ds)) - 1), bool)
    ids = by_trial(ds["trial_id"], ds, 0).transpose("episode", "trial").values
    return (ids[:, :-1] >= 0) & (ids[:, 1:] - ids[:, :-1] == 1)


def describe(ds: xr.Dataset, long_names: dict[str, str], units: str = "1") -> xr.Dataset:
    """Give the named variables of ``ds`` their CF ``long_name`` and ``units``; return ``ds``.

    ``units`` defaults to ``"1"`` (dimensionless: fractions, counts, probabilities).
    """
    for name, long_name in long_names.items():
        ds[name].attrs.update(long_name=long_name, units=units)
    return ds
