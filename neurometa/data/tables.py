"""Tidy behavioural tables from labs (CSV) -> validated trial tables -> recordings.

Two layouts, one row per trial:

- two-step: ``subject, trial, choice1, state2, choice2, reward`` (choices and state coded
  0/1; first-stage choice ``i`` leads to second-stage state ``i`` by the common transition),
  optional ``transition`` (``common``/``rare``) or ``common`` (1/0, true/false), both
  checked against choice1/state2, and ``session``; any other column is kept. Leave out
  ``choice2`` for tasks without a second-stage choice (the Miller et al. 2017 rat task, where
  each second-stage state has one reward probability): the analyses then fit no second-stage
  choice (a dummy ``choice2`` would add a spurious second-stage likelihood).
- bandit: ``subject, trial, choice, reward`` (choice = arm index from 0), optional
  ``session``; any other column is kept.

An empty cell (or ``NA``/``NaN``) in a behavioural column marks a missed trial: it is
dropped and counted (``attrs["num_missed_trials"]``). Anything else that is wrong (missing
columns, non-numeric cells, values out of range, duplicate trials) is collected and raised
as one :class:`TableError` listing every problem with its line in the file.

The recording (:func:`table_to_recording`) has one episode per subject (or per subject and
session), the trials of each packed in order (shorter episodes padded with -1 / NaN), the
original trial numbers in ``trial_id`` and ``source = "lab"``.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from neurometa import __version__

__all__ = [
    "TableError",
    "LAYOUTS",
    "read_table",
    "check_table",
    "read_two_step_csv",
    "read_bandit_csv",
    "table_to_recording",
]

_MISSING = {"", "na", "nan", "n/a", "null"}
#: Largest whole number a table cell can hold exactly (float64 significand).
_MAX_EXACT = 2.0**53
_MAX_LISTED = 100


class TableError(ValueError):
    """A behavioural table is malformed; ``problems`` holds one line per problem."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:_MAX_LISTED]
        more = len(problems) - len(shown)
        lines = "\n".join(f"  - {p}" for p in shown) + (f"\n  ... and {more} more" if more else "")
        super().__init__(f"{path}: {len(problems)} problem(s) in the table:\n{lines}")


#: Per layout: behavioural columns and their allowed values (None: any finite number).
LAYOUTS: dict[str, dict[str, tuple[int, ...] | None]] = {
    "two_step": {"choice1": (0, 1), "state2": (0, 1), "choice2": (0, 1), "reward": None},
    "bandit": {"choice": (), "reward": None},  # () = any integer >= 0
}
#: Behavioural columns a table may leave out (see the module docstring).
OPTIONAL: dict[str, tuple[str, ...]] = {"two_step": ("choice2",), "bandit": ()}
#: Names the recording uses itself: an extra column with one of them must be renamed.
RESERVED = frozenset(
    {"episode", "step", "stage", "trial_id", "action", "common_transition", "unit", "value"}
)


def _numeric(col: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse strings: (values, missing mask, non-numeric mask)."""
    text = col.fillna("").astype(str).str.strip()
    missing = text.str.lower().isin(_MISSING).to_numpy()
    values = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=np.float64)
    bad = ~missing & np.isnan(values)
    return values, missing, bad


def _check_values(name: str, values: np.ndarray, allowed: tuple[int, ...] | None) -> np.ndarray:
    """Boolean mask of rows whose (non-missing) value is out of range for ``name``."""
    present = ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        if allowed is None:
            return np.isinf(values)
        if allowed == ():  # whole numbers read exactly (float64 holds integers up to 2**53)
            bad = (values < 0) | (values != np.round(values)) | (values > _MAX_EXACT)
            return present & bad
        return present & ~np.isin(values, allowed)


def read_table(path: str | os.PathLike[str], layout: str) -> pd.DataFrame:
    """Read and check a tidy behavioural CSV.

    Parameters
    ----------
    path : path-like
        The CSV file (header row first).
    layout : {"two_step", "bandit"}

    Returns
    -------
    pandas.DataFrame
        The completed trials; numeric behavioural columns, ``subject`` as str, ``trial`` as
        int; extra columns as read. ``attrs``: ``num_missed_trials``, ``layout``, ``path``.

    Raises
    ------
    TableError
        Listing every problem with its line number (the header is line 1).
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such table: {path}")
    raw = _read_rows(path)
    raw.columns = [c.strip() for c in raw.columns]
    return check_table(raw, layout, source=str(path))


def _read_rows(path: Path) -> pd.DataFrame:
    """The CSV's cells as text, refusing rows whose field count differs from the header's.

    A row with too few fields is a line cut short (a file truncated mid-write), not a missed
    trial; text that is not UTF-8 (Latin-1, a binary file) is named with its line.
    """
    data = path.read_bytes()
    if b"\x00" in data[:65536]:
        raise TableError(str(path), ["the file holds binary data (NUL bytes), not CSV text"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        byte = data[err.start]
        raise TableError(
            str(path),
            [f"line {line}: byte 0x{byte:02x} is not UTF-8 text; save the table as UTF-8 CSV"],
        ) from None
    reader = csv.reader(io.StringIO(text))
    rows, lines, problems = [], [], []
    for row in reader:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        rows.append(row)
        lines.append(reader.line_num)
    if not rows:
        raise TableError(str(path), ["the file is empty (no header row)"])
    width = len(rows[0])
    for row, line in zip(rows[1:], lines[1:], strict=True):
        if len(row) != width:
            what = "too few" if len(row) < width else "too many"
            problems.append(
                f"line {line}: {len(row)} fields, {what} for the header's {width} "
                f"({'a row cut short?' if len(row) < width else 'an unquoted comma?'})"
            )
    if problems:
        raise TableError(str(path), problems)
    return pd.DataFrame(rows[1:], columns=rows[0], dtype=str)


def check_table(
    raw: pd.DataFrame, layout: str, *, source: str, first_row: int = 2, row_name: str = "line"
) -> pd.DataFrame:
    """Check and parse a behaviour table whose cells are all text (see :func:`read_table`).

    Parameters
    ----------
    raw : pandas.DataFrame
        One row per trial, every cell a ``str`` (``""`` for an empty cell).
    layout : {"two_step", "bandit"}
    source : str
        Where the table comes from (a path), for messages and ``attrs["path"]``.
    first_row, row_name
        Problems name row ``i`` as ``f"{row_name} {i + first_row}"`` (a CSV's data start on
        line 2).

    Returns
    -------
    pandas.DataFrame
        As :func:`read_table`.

    Raises
    ------
    TableError
        Listing every problem with its row.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    spec = {
        name: allowed
        for name, allowed in LAYOUTS[layout].items()
        if name in raw.columns or name not in OPTIONAL[layout]
    }
    need = ["subject", "trial", *spec]
    absent = [c for c in need if c not in raw.columns]
    if absent:
        raise TableError(
            source,
            [f"missing column(s) {', '.join(absent)} (columns present: {', '.join(raw.columns)})"],
        )
    taken = sorted(RESERVED.intersection(raw.columns) | _other_layouts_columns(raw, layout))
    if taken:
        raise TableError(
            source,
            [f"column(s) {', '.join(taken)} clash with names the recording uses; rename them"],
        )
    line = np.arange(len(raw)) + first_row
    out, missed, t_bad, problems = _parse_columns(raw, spec, line)
    if layout == "two_step":
        problems.extend(_transition_problems(raw, out, line, missed))
    if "session" in raw:
        out["session"] = raw["session"].str.strip()
    dup = out.duplicated(
        ["subject", "trial", *(["session"] if "session" in raw else [])], keep=False
    )
    for i in np.flatnonzero(dup.to_numpy() & ~t_bad):
        problems.append(
            (line[i], f"duplicate trial {out['trial'][i]} of subject {out['subject'][i]!r}")
        )
    if problems:
        raise TableError(source, [f"{row_name} {n}: {msg}" for n, msg in sorted(problems)])
    for col in raw.columns:
        if col not in out:
            out[col] = _maybe_numeric(raw[col])
    out = out[~missed].reset_index(drop=True)
    for name, allowed in spec.items():
        if allowed is not None:
            out[name] = out[name].astype(np.int64)
    out.attrs.update(num_missed_trials=int(missed.sum()), layout=layout, path=source)
    return out


def _parse_columns(
    raw: pd.DataFrame, spec: dict[str, tuple[int, ...] | None], line: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, list[tuple[int, str]]]:
    """Parse subject, trial and the behavioural columns; collect their problems.

    Returns the parsed table, the missed-trial mask, the bad-trial-number mask and the
    problems as (line, message).
    """
    problems: list[tuple[int, str]] = []
    subject = raw["subject"].str.strip()
    for i in np.flatnonzero(subject.str.lower().isin(_MISSING).to_numpy()):
        problems.append((line[i], "empty subject"))
    trial, t_missing, t_bad = _numeric(raw["trial"])
    t_bad |= t_missing | _check_values("trial", trial, ())
    for i in np.flatnonzero(t_bad):
        rule = "an integer >= 0 (at most 2**53)"
        problems.append((line[i], f"column 'trial' must be {rule}, got {raw['trial'][i]!r}"))
    out = pd.DataFrame(
        {"subject": subject, "trial": np.where(t_bad, -1, np.nan_to_num(trial)).astype(np.int64)}
    )
    missed = np.zeros(len(raw), dtype=bool)
    for name, allowed in spec.items():
        values, miss, bad = _numeric(raw[name])
        for i in np.flatnonzero(bad):
            problems.append((line[i], f"column {name!r} is not a number: {raw[name][i]!r}"))
        for i in np.flatnonzero(~bad & _check_values(name, values, allowed)):
            whole = "an integer >= 0 (at most 2**53)"
            rule = "0 or 1" if allowed else (whole if allowed == () else "finite")
            problems.append((line[i], f"column {name!r} must be {rule}, got {raw[name][i]!r}"))
        missed |= miss
        out[name] = values
    return out, missed, t_bad, problems


def _other_layouts_columns(raw: pd.DataFrame, layout: str) -> set[str]:
    """Extra columns named like another layout's behaviour (e.g. ``choice1`` in a bandit)."""
    other = {name for lay, spec in LAYOUTS.items() if lay != layout for name in spec}
    return other.difference(LAYOUTS[layout]).intersection(raw.columns)


#: Accepted spellings of the optional transition columns: text -> common?
_TRANSITION_CODES = {
    "transition": {"common": True, "rare": False},
    "common": {"1": True, "0": False, "true": True, "false": False, "1.0": True, "0.0": False},
}


def _transition_problems(
    raw: pd.DataFrame, out: pd.DataFrame, line: np.ndarray, missed: np.ndarray
) -> list[tuple[int, str]]:
    """Check the optional ``transition`` / ``common`` columns against choice1/state2."""
    problems = []
    implied = (out["state2"] == out["choice1"]).to_numpy()
    for col, codes in _TRANSITION_CODES.items():
        if col not in raw:
            continue
        text = raw[col].str.strip().str.lower()
        empty = text.isin(_MISSING).to_numpy()
        known = text.isin(list(codes)).to_numpy()
        for i in np.flatnonzero(~empty & ~known):
            allowed = " or ".join(k for k in codes if "." not in k)
            problems.append((line[i], f"column {col!r} must be {allowed}, got {raw[col][i]!r}"))
        common = text.map(codes).to_numpy()
        for i in np.flatnonzero(~empty & ~missed & known & (common != implied)):
            problems.append(
                (
                    line[i],
                    f"{col} {raw[col][i].strip()!r} contradicts choice1="
                    f"{int(out['choice1'][i])}, state2={int(out['state2'][i])} (choice i leads "
                    "to state i when common)",
                )
            )
    return problems


def _maybe_numeric(col: pd.Series) -> pd.Series:
    """An extra column as numbers when every non-empty cell is numeric, else as strings."""
    values, missing, bad = _numeric(col)
    return pd.Series(values) if not bad.any() else col.astype(str)


def read_two_step_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    r"""Read a two-step table (see the module docstring); adds ``common`` (bool).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import neurometa as nm
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "rat1.csv"
    >>> _ = path.write_text("subject,trial,choice1,state2,choice2,reward\n"
    ...                     "rat1,1,0,0,1,1\nrat1,2,0,1,0,0\nrat1,3,1,1,,0\n")
    >>> table = nm.read_two_step_csv(path)  # trial 3 has no second-stage choice: missed
    >>> table["common"].tolist(), table.attrs["num_missed_trials"]
    ([True, False], 1)
    """
    table = read_table(path, "two_step")
    table["common"] = table["state2"] == table["choice1"]
    return table


def read_bandit_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    r"""Read a bandit table (see the module docstring).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import neurometa as nm
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m1.csv"
    >>> _ = path.write_text("subject,trial,choice,reward,rt_ms\nm1,1,0,1,310\nm1,2,1,0,295\n")
    >>> table = nm.read_bandit_csv(path)
    >>> ds = nm.table_to_recording(table)
    >>> ds["action"].values.tolist(), ds["rt_ms"].values.tolist()
    ([[0, 1]], [[310.0, 295.0]])
    """
    return read_table(path, "bandit")


#: Default task preset id (its family selects the schema's task variables) per layout.
DEFAULT_PRESETS: dict[str, str] = {"two_step": "two_step/lab", "bandit": "bandit/lab"}
_STAGES: dict[str, tuple[str, ...]] = {"two_step": ("first", "second"), "bandit": ("choice",)}
_BEHAVIOUR = {"subject", "trial", "session", "transition", "common"}


def table_to_recording(table: pd.DataFrame, *, preset: str | None = None) -> xr.Dataset:
    r"""Lay a checked table out as a lab recording (``docs/schema.md``, ``source = "lab"``).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`read_two_step_csv` or :func:`read_bandit_csv`.
    preset : str, optional
        Task preset id for the ``preset`` attr (default ``two_step/lab`` / ``bandit/lab``).

    Returns
    -------
    xarray.Dataset
        Dims ``episode`` (subject, or subject × session), ``step`` (trials × stages).
        Two-step: ``choice1``, ``choice2``, ``state2``, ``common_transition`` on both steps
        of a trial and ``reward`` on the second; bandit: ``action`` and ``reward``. Every
        layout: ``trial_id`` (the file's trial numbers) and the extra columns. Padding:
        -1 for integers, NaN for numbers, False for booleans, "" for text.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import neurometa as nm
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m1.csv"
    >>> _ = path.write_text("subject,trial,choice,reward,rt_ms\nm1,1,0,1,310\nm1,2,1,0,295\n")
    >>> table = nm.read_bandit_csv(path)
    >>> ds = nm.table_to_recording(table)
    >>> ds["action"].values.tolist(), ds["rt_ms"].values.tolist()
    ([[0, 1]], [[310.0, 295.0]])
    """
    layout = table.attrs.get("layout")
    if layout not in LAYOUTS:
        raise ValueError("table_to_recording needs a table from read_two_step_csv/read_bandit_csv")
    if table.empty:
        missed = table.attrs.get("num_missed_trials", 0)
        raise ValueError(f"the table has no completed trials ({missed} missed trial(s) dropped)")
    keys = ["subject"] + (["session"] if "session" in table else [])
    ordered = table.sort_values([*keys, "trial"], key=_natural).reset_index(drop=True)
    groups = ordered.groupby(keys, sort=False).indices  # in order of first appearance
    rows = _episode_rows(list(groups.values()))
    num_trials = rows.shape[1]
    stages = _STAGES[layout]
    spt = len(stages)

    def per_step(col: str | np.ndarray, pad: object, dtype: object) -> np.ndarray:
        values = np.asarray(ordered[col].to_numpy() if isinstance(col, str) else col, dtype=dtype)
        grid = np.where(rows >= 0, values[np.maximum(rows, 0)], pad).astype(dtype)
        return np.repeat(grid, spt, axis=1)

    dims = ("episode", "step")
    trial_attrs = {"long_name": "trial number in the source table (-1: padding)", "units": "1"}
    data: dict[str, tuple] = {"trial_id": (dims, per_step("trial", -1, np.int64), trial_attrs)}
    if layout == "two_step":
        for name in ("choice1", "choice2", "state2"):
            if name in ordered:  # choice2 is optional
                data[name] = (dims, per_step(name, -1, np.int64))
        data["common_transition"] = (dims, per_step("common", False, bool))
        reward = per_step("reward", np.nan, np.float64)
        reward[:, 0::2] = np.where(np.isnan(reward[:, 0::2]), np.nan, 0.0)
        data["reward"] = (dims, reward)
    else:
        data["action"] = (dims, per_step("choice", -1, np.int64))
        data["reward"] = (dims, per_step("reward", np.nan, np.float64))
    preset = preset or DEFAULT_PRESETS[layout]
    where = f"the lab table {Path(str(table.attrs.get('path', 'table'))).name}"
    for col in ordered.columns:
        if col in _BEHAVIOUR or col in LAYOUTS[layout]:
            continue
        values, pad, dtype = _extra_column(ordered[col], col, preset)
        data[col] = (dims, per_step(values, pad, dtype), _extra_attrs(col, dtype, where, preset))
    first = [ordered.loc[idx[0], keys] for idx in groups.values()]
    coords = {
        "episode": np.arange(len(groups), dtype=np.int64),
        "step": np.arange(num_trials * spt, dtype=np.int64),
        "trial": ("step", np.repeat(np.arange(num_trials, dtype=np.int64), spt)),
        "stage": ("step", np.tile(np.asarray(stages), num_trials)),
        "subject": ("episode", np.asarray([str(f["subject"]) for f in first])),
    }
    if "session" in keys:
        coords["session"] = ("episode", np.asarray([str(f["session"]) for f in first]))
    attrs = _recording_attrs(table, layout, preset)
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _extra_column(values: pd.Series, name: str, preset: str) -> tuple[np.ndarray, object, type]:
    """An extra column's values, padding and dtype in the recording.

    Numbers are float64 (padded with NaN) and text str (padded with ""), except where the
    schema knows the name (e.g. a bandit's ``best_arm``, int64): whole numbers then take the
    schema's integer type (empty cells and padding -1) or boolean type (0/1; empty False).
    """
    from neurometa.record.spec import CORE_DIMS, variable_spec

    numeric = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
    spec = variable_spec(name, preset)
    if spec is None or spec.dtype not in ("int64", "bool"):
        if numeric:
            return values.to_numpy(), np.nan, np.float64
        return values.to_numpy(), "", str
    numbers = values.to_numpy(float) if numeric else np.array([np.nan])
    known = numbers[np.isfinite(numbers)]
    whole = numeric and bool(np.all(known == np.round(known)))
    binary = bool(np.isin(known, (0, 1)).all())
    if spec.dims != CORE_DIMS or not whole or (spec.dtype == "bool" and not binary):
        raise ValueError(
            f"column {name!r} is named like the recording variable {name!r} "
            f"({spec.dtype}, dims {spec.dims}) but does not fit it; rename the column"
        )
    if spec.dtype == "bool":
        return np.nan_to_num(numbers, nan=0.0) > 0.5, False, bool
    return np.nan_to_num(numbers, nan=-1.0).astype(np.int64), -1, np.int64


def _extra_attrs(name: str, dtype: object, where: str, preset: str) -> dict[str, str]:
    """CF attributes of an extra column: the schema's where it knows the name, else guessed.

    Units come from the name's suffix (``rt_ms`` -> ms, :func:`neurometa.netcdf.units_from_name`);
    text columns get a ``long_name`` only.
    """
    from neurometa.netcdf import column_attrs
    from neurometa.record.spec import variable_spec

    if dtype is str:
        return {"long_name": f"column {name!r} of {where}"}
    spec = variable_spec(name, preset)
    if spec is not None:
        return {"long_name": spec.long_name, "units": spec.units}
    return column_attrs(name, where=where)


def _natural(column: pd.Series) -> pd.Series:
    """Sort key: sessions that are all numbers sort as numbers ("2" before "10")."""
    if column.name == "session":
        numbers = pd.to_numeric(column, errors="coerce")
        if numbers.notna().all():
            return numbers
    return column


def _episode_rows(groups: list[np.ndarray]) -> np.ndarray:
    """Table rows of each episode's trials, padded with -1: shape (episodes, max trials)."""
    rows = np.full((len(groups), max(len(idx) for idx in groups)), -1, dtype=np.int64)
    for e, idx in enumerate(groups):
        rows[e, : len(idx)] = idx
    return rows


def _recording_attrs(table: pd.DataFrame, layout: str, preset: str) -> dict[str, object]:
    """The schema's attrs of a lab recording made from ``table``."""
    from neurometa.record.spec import SCHEMA_VERSION

    config = {"layout": layout, "path": table.attrs.get("path", ""), "preset": preset}
    return {
        "schema_version": SCHEMA_VERSION,
        "source": "lab",
        "task": f"{layout} (lab table)",
        "preset": preset,
        "config_json": json.dumps(config),
        "neurometa_version": __version__,
        "num_missed_trials": int(table.attrs.get("num_missed_trials", 0)),
    }
