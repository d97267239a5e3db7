"""Behaviour tables from the trials table of an NWB file (the layouts of ``tables.py``).

``neurometa import two-step-nwb FILE.nwb --out FILE.nc`` (and ``bandit-nwb``) reads the
trials table of an NWB session as a behavioural table and builds the same recording as the
CSV importers (:func:`neurometa.data.tables.table_to_recording`), so the two-step and bandit
analyses apply — to a lab's NWB file and to an agent's recording exported with
``neurometa export nwb``. Only behaviour is read (no units or TimeSeries: for neural
activity use ``neurometa import nwb``, one step per trial).

Columns, looked up in this order (:data:`ALIASES`; the later spellings are those of
``neurometa export nwb``, whose two-step rows carry one column per stage):

- two-step: ``choice1``, ``action_first`` (agents) or ``choice1_second`` (lab recordings);
  ``state2`` or ``state2_second``; ``choice2``, ``action_second`` or ``choice2_second``
  (optional); ``reward``, or ``reward_second`` (plus ``reward_first`` where present);
  optional ``common`` or ``common_transition_second`` and ``transition`` (checked against
  choice1/state2 as in a CSV).
- bandit: ``choice`` or ``action``; ``reward``.
- ``subject``: a ``subject`` column, else the file's ``subject_id``, else the file name.
- ``session`` (one episode per subject and session): the ``session_column`` if given, else
  a ``session`` column, else an ``episode`` column when there is no ``subject`` column (an
  exported agent's episodes).
- ``trial``: a ``trial`` column, else the row's rank in start-time order within its subject
  and session.

Files written by ``neurometa export nwb`` (their ``notes`` hold the recording's attrs) lose
their padding rows (``trial_id`` -1), number trials by their ``trial_id`` (keeping the gaps of
dropped trials), and have each two-step per-trial column ``X`` exported as equal
``X_first`` / ``X_second`` merged back into ``X``.

Other one-value-per-trial columns are kept, except names the recording uses itself
(:data:`neurometa.data.tables.RESERVED`) or another layout's behavioural names; array and
ragged columns are left out. Empty cells (NaN, ``""``) in a behavioural column mark missed
trials, dropped and counted as in a CSV; every other problem is raised as one
:class:`~neurometa.data.tables.TableError` naming the trials-table rows (0-based, in the
file's order).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from neurometa.data._nwb_tables import (
    FILE_TRIAL_IDS,
    NWBFormatError,
    _column_kind,
    exported_attrs,
    file_trial_numbers,
    open_nwb,
    trials_table,
)
from neurometa.data.tables import (
    LAYOUTS,
    OPTIONAL,
    RESERVED,
    _other_layouts_columns,
    check_table,
)

__all__ = ["ALIASES", "read_nwb_behaviour"]

#: Per layout: each behavioural column and the trial columns that can hold it, in order.
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "two_step": {
        "choice1": ("choice1", "action_first", "choice1_second"),
        "state2": ("state2", "state2_second"),
        "choice2": ("choice2", "action_second", "choice2_second"),
        "reward": ("reward", "reward_second"),
        "common": ("common", "common_transition_second"),
    },
    "bandit": {"choice": ("choice", "action"), "reward": ("reward",)},
}
_NOT_EXTRA = {"subject", "trial", "session", "transition", "common", "id", "trial_id_second"}
_NOT_EXTRA |= set(FILE_TRIAL_IDS)


def read_nwb_behaviour(
    path: str | os.PathLike[str],
    layout: str,
    *,
    trials_table_name: str | None = None,
    session_column: str | None = None,
) -> pd.DataFrame:
    """The trials table of an NWB file as a checked behaviour table.

    Parameters
    ----------
    path : path-like
        The ``.nwb`` file.
    layout : {"two_step", "bandit"}
    trials_table_name : str, optional
        A TimeIntervals table other than ``/intervals/trials`` (``NAME`` or ``PARENT/NAME``).
    session_column : str, optional
        Trial column that splits a subject's trials into sessions (episodes).

    Returns
    -------
    pandas.DataFrame
        As :func:`neurometa.data.tables.read_table` (``attrs``: ``num_missed_trials``,
        ``layout``, ``path``); two-step tables also get ``common`` (bool).

    Raises
    ------
    NWBFormatError
        No readable trials table, or a behavioural column is absent (the message lists
        the columns present).
    TableError
        Values out of range, non-numeric cells, duplicate trials — every problem with its row.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import neurometa as nm
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"subject": "m1", "trial": np.arange(300),
    ...                       "choice": rng.integers(0, 2, 300),
    ...                       "reward": rng.integers(0, 2, 300)})
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m1.nwb"
    >>> path = nm.export_nwb(nm.from_dataframe(frame, "bandit"), path)
    >>> nm.read_nwb_behaviour(path, "bandit")[["subject", "trial", "choice", "reward"]].shape
    (300, 4)
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    path = Path(path)
    with open_nwb(path) as nwb:
        table = trials_table(nwb, trials_table_name)
        columns = {
            name: np.asarray(table[name].data[:])
            for name in table.colnames
            if _column_kind(table, name) == "scalar"
        }
        subject_id = getattr(nwb.subject, "subject_id", None) if nwb.subject else None
        exported = exported_attrs(nwb) is not None
    frame = pd.DataFrame(columns)
    if exported:
        frame = _exported_rows(frame)
    if frame.empty:
        raise NWBFormatError(f"{path}: the trials table holds no trials")
    raw = _behaviour_columns(frame, layout, subject_id or path.stem, session_column, exported)
    out = check_table(raw, layout, source=str(path), first_row=0, row_name="trials-table row")
    if layout == "two_step":
        out["common"] = out["state2"] == out["choice1"]
    return out


def _exported_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """An exported table without its padding rows and with its per-trial columns merged.

    Padding rows have file trial number -1. Two-step rows repeat a per-trial variable ``X``
    (a lab recording's extra column) as equal ``X_first`` and ``X_second``: one ``X``.
    """
    ids = next((c for c in FILE_TRIAL_IDS if c in frame), None)
    if ids is not None:
        frame = frame[file_trial_numbers(frame[ids]) != -1]
    frame = frame.reset_index(drop=True)
    for first in [c for c in frame.columns if c.endswith("_first")]:
        base, second = first[: -len("_first")], first[: -len("_first")] + "_second"
        if second not in frame or base in frame:
            continue
        a, b = frame[first], frame[second]
        if bool(((a == b) | (a.isna() & b.isna())).all()):
            frame = frame.drop(columns=[first, second]).assign(**{base: a})
    return frame


def _behaviour_columns(
    frame: pd.DataFrame, layout: str, subject: str, session_column: str | None, exported: bool
) -> pd.DataFrame:
    """The text table :func:`check_table` reads: behaviour, subject, trial, session, extras."""
    present = list(frame.columns)
    raw = pd.DataFrame(index=frame.index)
    used: set[str] = set()
    for name, aliases in ALIASES[layout].items():
        found = next((a for a in aliases if a in frame), None)
        if found is None:
            if name in OPTIONAL[layout] or name == "common":
                continue
            raise NWBFormatError(
                f"no {name!r} column in the trials table (looked for {', '.join(aliases)}); "
                f"columns present: {', '.join(present)}"
            )
        values = frame[found]
        if found == "reward_second" and "reward_first" in frame:  # an exported agent
            values = frame["reward_first"].astype(float) + values.astype(float)
            used.add("reward_first")
        raw[name] = _as_text(values)
        used.add(found)
    if "transition" in frame:  # checked against choice1/state2 like a CSV's
        raw["transition"] = _as_text(frame["transition"])
    raw["subject"] = _as_text(frame["subject"]) if "subject" in frame else subject
    # an `episode` column is a session unless the subjects are in their own column
    sessions = ("session",) if "subject" in frame else ("session", "episode")
    session = session_column or next((c for c in sessions if c in frame), None)
    if session is not None:
        if session not in frame:
            raise NWBFormatError(
                f"session column {session!r} is not in the trials table; "
                f"columns present: {', '.join(present)}"
            )
        raw["session"] = _as_text(frame[session])
    raw["trial"] = _trial_numbers(frame, raw, session, present, exported)
    other_layouts = _other_layouts_columns(frame, layout)
    skip = used | _NOT_EXTRA | RESERVED | other_layouts | set(LAYOUTS[layout]) | {session}
    for col in present:
        if col not in skip:
            raw[col] = _as_text(frame[col])
    return raw.reset_index(drop=True)


def _trial_numbers(
    frame: pd.DataFrame,
    raw: pd.DataFrame,
    session: str | None,
    present: list[str],
    exported: bool,
) -> pd.Series:
    """Trial numbers as text.

    An exported recording's ``trial_id`` (the file trial numbers, which keep the gaps of
    dropped trials), else a ``trial`` column, else the rank of ``start_time`` within each
    subject (and session). A lab file's ``trial_id`` is not used.
    """
    names = (*FILE_TRIAL_IDS, "trial") if exported else ("trial",)
    for name in names:
        if name in frame:
            numbers = _as_text(frame[name])
            key = pd.DataFrame({"subject": raw["subject"], "trial": numbers})
            if session is None and key.duplicated().any():
                raise NWBFormatError(
                    f"trial numbers ({name!r}) repeat within a subject: name the trial column "
                    "that separates its sessions with session_column (--session-column); "
                    f"columns present: {', '.join(present)}"
                )
            return numbers
    groups = [raw["subject"]] + ([raw["session"]] if session is not None else [])
    start = frame["start_time"].reset_index(drop=True).astype(float)
    rank = start.groupby(groups).rank(method="first").astype(np.int64) - 1
    return rank.astype(str)


def _as_text(values: pd.Series) -> pd.Series:
    """Cells as text the CSV checker reads.

    NaN/None become "", booleans "1"/"0", and floats that are all whole numbers integers
    ("2", not "2.0").
    """
    series = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_bool_dtype(series):
        return series.astype(np.int64).astype(str)
    if pd.api.types.is_float_dtype(series):
        numbers = series.to_numpy(float)
        finite = np.isfinite(numbers)
        whole = numbers[finite]
        if np.all((whole == np.round(whole)) & (np.abs(whole) < 2**53)):
            text = pd.Series(np.where(finite, np.nan_to_num(numbers).astype(np.int64), 0))
            return text.astype(str).where(finite, "")
    missing = series.isna().to_numpy(dtype=bool)
    text = series.map(lambda v: v.decode() if isinstance(v, bytes) else str(v)).astype(object)
    text[missing] = ""
    return text.astype(str)
