"""Reading the pieces of an NWB file: trials table, units table, TimeSeries.

Private helpers of :mod:`neurometa.data.nwb`; every failure is an :class:`NWBFormatError`
that says what is missing and lists what the file does contain.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "NWBFormatError",
    "TrialTable",
    "exported_attrs",
    "file_trial_numbers",
    "open_nwb",
    "trial_table",
    "unit_spike_trains",
    "unit_coords",
    "find_timeseries",
    "EXTRA_DIM_TAG",
]

#: Column descriptions ending in ``[dim: NAME]`` name the extra dim of a 2-D column.
EXTRA_DIM_TAG = re.compile(r"\[dim: ([A-Za-z_][A-Za-z0-9_]*)\]\s*$")

_TIME_COLUMNS = ("start_time", "stop_time")
#: Columns holding the trial numbers of a recording exported by ``neurometa export nwb``
#: (``trial_id``; ``trial_id_first`` for two-step rows); ``-1`` marks padding rows.
FILE_TRIAL_IDS = ("trial_id", "trial_id_first")
#: Names of recording coordinates; trial columns with these names are not copied.
RESERVED = (
    "episode", "step", "trial", "stage", "subject", "unit", "time_bin", "trial_id", "event_time",
)  # fmt: skip


class NWBFormatError(ValueError):
    """An NWB file lacks what the import needs (the message lists what it has)."""


@contextlib.contextmanager
def open_nwb(path: Path) -> Iterator[Any]:
    """Open ``path`` read-only with pynwb and yield the ``NWBFile``."""
    from pynwb import NWBHDF5IO

    if not path.is_file():
        raise NWBFormatError(f"no such NWB file: {path}")
    try:
        io = NWBHDF5IO(str(path), "r")
        nwb = io.read()
    except Exception as err:  # noqa: BLE001 - h5py/hdmf raise many types; re-raised below
        raise NWBFormatError(f"{path} is not a readable NWB file: {err}") from err
    try:
        yield nwb
    finally:
        io.close()


def file_trial_numbers(values: Any) -> np.ndarray:
    """An exported recording's trial numbers as floats (NaN where not a number); -1: padding."""
    return pd.to_numeric(pd.Series(np.asarray(values)), errors="coerce").to_numpy(float)


def exported_attrs(nwb: Any) -> dict[str, Any] | None:
    """Recording attrs of a file from ``neurometa export nwb`` (``notes`` JSON), else None."""
    try:
        origin = json.loads(nwb.notes) if nwb.notes else None
    except (TypeError, ValueError):
        return None
    return origin if isinstance(origin, dict) and "neurometa_version" in origin else None


@dataclass
class TrialTable:
    """The trials kept for import, sorted by start time (one row per trial)."""

    frame: pd.DataFrame
    """Scalar columns (choice as ``action``, outcome as ``reward``, kept columns, times)."""
    arrays: dict[str, tuple[np.ndarray, str]] = field(default_factory=dict)
    """2-D columns: name -> (values (num_trials, k), extra dim name)."""
    descriptions: dict[str, str] = field(default_factory=dict)
    """Column descriptions from the file."""
    action_labels: list[str] | None = None
    """Choice labels when the choice column holds strings (action i = label i)."""
    num_dropped: int = 0
    """Trials dropped for missing values (``drop_missing``)."""


def _column_kind(table: Any, name: str) -> str:
    """``"scalar"``, ``"array"`` (2-D), or ``"other"`` (ragged, references, objects)."""
    from hdmf.common import DynamicTableRegion, VectorIndex

    col = table[name]
    if isinstance(col, VectorIndex | DynamicTableRegion):
        return "other"
    shape = np.shape(col.data)
    if len(shape) == 1:
        return "scalar"
    return "array" if len(shape) == 2 else "other"


def _require(names: list[str], present: list[str], what: str) -> None:
    for name in names:
        if name not in present:
            raise NWBFormatError(
                f"trial column {name!r} ({what}) is not in the trials table; "
                f"columns present: {', '.join(present)}"
            )


def trial_table(nwb: Any, cfg: Any) -> TrialTable:
    """Collect the trial columns named by ``cfg`` (an ``NWBImportConfig``)."""
    table = trials_table(nwb, cfg.trials_table)
    present = list(table.colnames)
    present += [c for c in _TIME_COLUMNS if c not in present]
    choice = cfg.choice_column or next((c for c in ("choice", "action") if c in present), None)
    if choice is None:
        raise NWBFormatError(
            "no choice column: the trials table has neither 'choice' nor 'action'; name one "
            f"with choice_column (--choice-column); columns present: {', '.join(present)}"
        )
    _require([choice], present, "the choice")
    _require([cfg.reward_column], present, "the outcome")
    _require([cfg.event], present, "the alignment event")
    episode = cfg.episode_column or ("episode" if "episode" in present else None)
    if episode is not None:
        _require([episode], present, "the episode grouping")
    special = {choice, cfg.reward_column, cfg.event, episode, *_TIME_COLUMNS, *RESERVED}
    if cfg.columns is None:
        extra = [c for c in present if c not in special and _column_kind(table, c) != "other"]
    else:
        _require(list(cfg.columns), present, "requested with columns")
        extra = [c for c in cfg.columns if c not in special]
        for name in extra:
            if _column_kind(table, name) == "other":
                raise NWBFormatError(f"trial column {name!r} is ragged or a reference")
    for name in extra:
        if name in ("action", "reward", cfg.activity_name, *RESERVED):
            raise NWBFormatError(
                f"trial column {name!r} would clash with the recording variable of that name; "
                "choose it as the choice/reward column or leave it out with columns"
            )
    frame = pd.DataFrame(index=np.asarray(table.id[:]))
    arrays: dict[str, tuple[np.ndarray, str]] = {}
    descriptions: dict[str, str] = {}
    for name in dict.fromkeys([*_TIME_COLUMNS, cfg.event, choice, cfg.reward_column, *extra]):
        values = np.asarray(table[name].data[:])
        description = str(getattr(table[name], "description", "") or "")
        descriptions[name] = description
        if values.ndim == 2:
            tag = EXTRA_DIM_TAG.search(description)
            arrays[name] = (values, tag.group(1) if tag else f"{name}_dim")
        else:
            frame[name] = values
    for name, what in ((choice, "choice"), (cfg.reward_column, "outcome"), (cfg.event, "event")):
        if name in arrays:
            raise NWBFormatError(
                f"trial column {name!r} ({what}) holds {arrays[name][0].shape[1]} values per "
                "trial; it must hold one"
            )
    if episode is not None:
        frame["__episode__"] = np.asarray(table[episode].data[:])
    file_ids = next((c for c in FILE_TRIAL_IDS if c in present), None)
    if exported_attrs(nwb) is not None and file_ids is not None:  # only neurometa's own files
        frame["__file_trial_id__"] = file_trial_numbers(table[file_ids].data[:])
        if "subject" in present and _column_kind(table, "subject") == "scalar":
            frame["__subject__"] = np.asarray(table["subject"].data[:]).astype(str)
    frame = frame.rename(columns={choice: "action", cfg.reward_column: "reward"})
    descriptions["action"] = descriptions.get(choice, "")
    descriptions["reward"] = descriptions.get(cfg.reward_column, "")
    return _clean_trials(TrialTable(frame, arrays, descriptions), cfg, choice)


def _missing(values: pd.Series) -> np.ndarray:
    """Boolean mask of missing entries (NaN, None, empty string)."""
    mask = values.isna().to_numpy(dtype=bool, copy=True)
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        # text: object or pandas' string dtypes (the default for text from pandas 3 on)
        mask |= values.astype(str).str.strip().isin(["", "nan", "NaN", "None"]).to_numpy(bool)
    return mask


def _clean_trials(trials: TrialTable, cfg: Any, choice: str) -> TrialTable:
    """Handle missing values, sort by start time, convert the choice to int64.

    Missing choices become ``-1`` and missing rewards NaN (the schema's marks for missed
    trials); a missing event time is an error. ``drop_missing`` drops all such trials.
    The padding rows of an exported recording (file trial number -1) are left out first.
    """
    frame = trials.frame
    if "__file_trial_id__" in frame:
        real = frame["__file_trial_id__"].to_numpy() != -1
        frame = frame[real].copy()
        trials.arrays = {k: (v[real], dim) for k, (v, dim) in trials.arrays.items()}
    if frame.empty:
        raise NWBFormatError("the trials table holds no trials (padding rows left out)")
    no_choice, no_reward = _missing(frame["action"]), _missing(frame["reward"])
    no_event = _missing(frame[cfg.event])
    if no_event.any() and not cfg.drop_missing:
        ids = ", ".join(map(str, frame.index[no_event][:5]))
        raise NWBFormatError(
            f"event column {cfg.event!r} is missing in {int(no_event.sum())} trials (ids {ids}"
            f"{', ...' if no_event.sum() > 5 else ''}); pass drop_missing (--drop-missing) to "
            "leave those trials out"
        )
    drop = (no_choice | no_reward | no_event) if cfg.drop_missing else no_event
    keep = ~drop
    start = frame["start_time"].to_numpy(float)
    position = np.empty(len(frame), dtype=np.int64)  # trial number in time order, all trials
    position[np.argsort(start, kind="stable")] = np.arange(len(frame))
    order = np.argsort(start[keep], kind="stable")
    frame = frame[keep].iloc[order].copy()
    # gaps in trial_id mark dropped trials: analyses of "the previous trial" skip them
    frame["trial_id"] = position[keep][order]
    if "__file_trial_id__" in frame:  # an exported recording's own numbers (keep its gaps)
        frame["trial_id"] = frame.pop("__file_trial_id__").astype(np.int64)
    arrays = {k: (v[keep][order], dim) for k, (v, dim) in trials.arrays.items()}
    no_choice = no_choice[keep][order]
    action = frame["action"]
    labels = None
    if pd.api.types.is_numeric_dtype(action) or pd.api.types.is_bool_dtype(action):
        as_float = np.where(no_choice, -1.0, action.to_numpy(float))
        if not np.all(as_float == np.round(as_float)):
            raise NWBFormatError(f"choice column {choice!r} holds non-integer numbers")
        negative = sorted(set(as_float[~no_choice & (as_float < 0)].tolist()))
        if negative:
            raise NWBFormatError(
                f"choice column {choice!r} holds negative codes ({', '.join(map(str, negative))});"
                " the recording codes choices 0..K-1 and a missed trial -1: recode them first "
                "(e.g. IBL's -1/+1 as 0/1, with its 0 = no-go as NaN for a missed trial)"
            )
        frame["action"] = as_float.astype(np.int64)
    else:
        text = action.astype(str).to_numpy()
        labels = sorted(set(text[~no_choice].tolist()))
        lookup = {lab: i for i, lab in enumerate(labels)}
        frame["action"] = np.array(
            [-1 if miss else lookup[t] for t, miss in zip(text, no_choice, strict=True)],
            dtype=np.int64,
        )
    reward = frame["reward"]
    if not (pd.api.types.is_numeric_dtype(reward) or pd.api.types.is_bool_dtype(reward)):
        raise NWBFormatError(f"reward column {cfg.reward_column!r} is not numeric")
    frame["reward"] = pd.to_numeric(reward, errors="coerce").to_numpy(float)
    trials.frame, trials.arrays = frame, arrays
    trials.descriptions["trial_id"] = (
        "position of the trial in time order among all trials of the file (gaps: dropped trials)"
    )
    trials.action_labels, trials.num_dropped = labels, int(drop.sum())
    return trials


def unit_spike_trains(units: Any) -> tuple[list[np.ndarray], np.ndarray]:
    """Sorted spike times (s) of every unit of the units table and the unit ids."""
    if "spike_times" not in units.colnames:
        raise NWBFormatError(
            f"the units table has no spike_times column; columns present: "
            f"{', '.join(units.colnames)}"
        )
    index = units["spike_times_index"]  # a VectorIndex: .data = ends, .target = flat times
    flat = np.asarray(index.target.data[:], dtype=float)
    ends = np.asarray(index.data[:], dtype=np.int64)
    starts = np.concatenate([[0], ends[:-1]])
    trains = [np.sort(flat[a:b]) for a, b in zip(starts, ends, strict=True)]
    return trains, np.asarray(units.id[:])


def unit_obs_intervals(units: Any) -> list[np.ndarray] | None:
    """Each unit's observation intervals ``(n_i, 2)`` in s, or None without the column."""
    if "obs_intervals" not in units.colnames:
        return None
    column = units["obs_intervals"]
    return [np.asarray(column[u], dtype=float).reshape(-1, 2) for u in range(len(units))]


def unit_coords(units: Any, num_units: int) -> dict[str, tuple[str, np.ndarray, dict[str, str]]]:
    """Unit-table columns with one scalar per unit, as ``unit_<column>`` coordinates.

    Each is ``("unit", values, attrs)`` with the column's description as ``long_name`` and
    its units (:func:`neurometa.netcdf.column_attrs`).
    """
    from neurometa.netcdf import column_attrs

    coords: dict[str, tuple[str, np.ndarray, dict[str, str]]] = {}
    for name in units.colnames:
        if name == "spike_times" or _column_kind(units, name) != "scalar":
            continue
        values = np.asarray(units[name].data[:])
        if len(values) != num_units or values.dtype == object and not _all_str(values):
            continue
        values = values.astype(str) if values.dtype == object else values
        description = str(getattr(units[name], "description", "") or "")
        attrs = column_attrs(name, description, where="the NWB units table")
        if values.dtype.kind not in "biuf":
            attrs = {"long_name": attrs["long_name"]}  # CF: text has no units
        coords[f"unit_{name}"] = ("unit", values, attrs)
    return coords


def _all_str(values: np.ndarray) -> bool:
    return all(isinstance(v, str | bytes) for v in values)


def timeseries_names(nwb: Any) -> list[str]:
    """Names of every TimeSeries in the file."""
    from pynwb import TimeSeries

    return [obj.name for obj in nwb.objects.values() if isinstance(obj, TimeSeries)]


def _objects(nwb: Any, cls: type) -> list[Any]:
    """Every object of type ``cls`` in the file."""
    return [o for o in nwb.objects.values() if isinstance(o, cls)]


def _where(obj: Any) -> str:
    return f"{getattr(obj.parent, 'name', '?')}/{obj.name}"


def find_object(nwb: Any, name: str, cls: type, what: str, option: str) -> Any:
    """The one ``cls`` object called ``name``, or ``PARENT/NAME`` where names repeat."""
    parent, _, leaf = name.rpartition("/")
    found = [
        o
        for o in _objects(nwb, cls)
        if o.name == leaf and (not parent or str(getattr(o.parent, "name", "")) == parent)
    ]
    if not found:
        names = ", ".join(sorted({o.name for o in _objects(nwb, cls)})) or "none"
        raise NWBFormatError(f"no {what} named {name!r} in the file; present: {names}")
    if len(found) > 1:
        where = ", ".join(_where(o) for o in found)
        raise NWBFormatError(
            f"{len(found)} {what}s are named {name!r} ({where}); name one as PARENT/{leaf} "
            f"with {option}, e.g. {_where(found[0])}"
        )
    return found[0]


def find_timeseries(nwb: Any, name: str) -> Any:
    """The one TimeSeries called ``name`` (in acquisition or any processing module).

    ``PARENT/NAME`` picks the one whose container is called ``PARENT`` when several share a
    name, e.g. ``DfOverF/RoiResponseSeries`` next to ``Fluorescence/RoiResponseSeries``.
    """
    from pynwb import TimeSeries

    return find_object(nwb, name, TimeSeries, "TimeSeries", "timeseries (--timeseries)")


def units_table(nwb: Any, name: str | None) -> Any:
    """The units table: ``/units``, or the Units table called ``name`` anywhere in the file."""
    from pynwb.misc import Units

    if name is not None:
        return find_object(nwb, name, Units, "units table", "units_table (--units-table)")
    units = nwb.units
    if units is None or len(units) == 0:
        others = [_where(o) for o in _objects(nwb, Units) if o is not units and len(o)]
        if others:
            raise NWBFormatError(
                "the file has no units table at /units, but has Units tables at "
                f"{', '.join(others)}: choose one with units_table (--units-table)"
            )
        names = ", ".join(sorted(timeseries_names(nwb))) or "none"
        raise NWBFormatError(
            "the file has no units table (/units); read continuous activity with timeseries="
            f"NAME (--timeseries) instead (TimeSeries present: {names})"
        )
    return units


def trials_table(nwb: Any, name: str | None) -> Any:
    """The trials table: ``/intervals/trials``, or the TimeIntervals table called ``name``."""
    from pynwb.epoch import TimeIntervals

    if name is not None:
        return find_object(
            nwb, name, TimeIntervals, "trials table", "trials_table (--trials-table)"
        )
    table = nwb.trials
    if table is None or len(table) == 0:
        others = [_where(o) for o in _objects(nwb, TimeIntervals) if o is not table and len(o)]
        hint = (
            f"; TimeIntervals tables present: {', '.join(others)} (choose one with "
            "trials_table, --trials-table)"
            if others
            else ""
        )
        raise NWBFormatError(
            "the file has no trials table (/intervals/trials); the import needs one row per "
            f"trial with start_time, stop_time, the choice and the outcome{hint}"
        )
    return table
