"""An in-memory behaviour table (a pandas DataFrame) -> a lab recording, with no file.

The same layouts and checks as the CSV importers (:mod:`neurometa.data.tables`): the frame's
cells are read exactly as a CSV's would be, so a DataFrame and the CSV written from it give
the same recording, and every problem is reported at once with its row.
"""

from __future__ import annotations

import pandas as pd
import xarray as xr

from neurometa.data.tables import LAYOUTS, check_table, table_to_recording

__all__ = ["from_dataframe"]


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as the text a CSV would hold ("" for a missing value)."""
    return pd.DataFrame(
        {
            str(col).strip(): [("" if pd.isna(v) else str(v)) for v in frame[col]]
            for col in frame.columns
        },
        dtype=object,
    )


def from_dataframe(
    frame: pd.DataFrame, layout: str, *, preset: str | None = None, name: str = "DataFrame"
) -> xr.Dataset:
    """Turn a tidy behaviour table held in memory into a lab recording.

    One row per trial, in either layout of :mod:`neurometa.data.tables`:

    - ``"two_step"``: ``subject, trial, choice1, state2, choice2, reward`` (0/1 codes; the
      first-stage choice ``i`` leads to state ``i`` by the common transition; ``choice2``
      optional), optional ``transition`` / ``common`` and ``session``;
    - ``"bandit"``: ``subject, trial, choice, reward`` (arm index from 0), optional
      ``session``.

    Any other column is kept as a per-trial variable. A missing value (NaN, None, ``""``)
    in a behavioural column marks a missed trial, which is dropped and counted in
    ``attrs["num_missed_trials"]``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; its index is ignored.
    layout : {"two_step", "bandit"}
        Which layout the columns follow.
    preset : str, optional
        Task preset id stored in ``attrs["preset"]`` (default ``two_step/lab`` /
        ``bandit/lab``).
    name : str
        What error messages and ``attrs["path"]`` call the table.

    Returns
    -------
    xarray.Dataset
        A recording (``source = "lab"``) with one episode per subject (or subject and
        session), as :func:`neurometa.data.tables.table_to_recording` lays it out.

    Raises
    ------
    neurometa.data.tables.TableError
        Listing every problem, each with its row (counted from 0 in the frame's order).
    ValueError
        For an unknown layout.

    Examples
    --------
    >>> import pandas as pd
    >>> import neurometa as nm
    >>> frame = pd.DataFrame({
    ...     "subject": ["m1"] * 4, "trial": [1, 2, 3, 4],
    ...     "choice": [0, 1, 1, None], "reward": [1, 0, 1, 0],
    ... })
    >>> ds = nm.from_dataframe(frame, "bandit")
    >>> ds["action"].values.tolist(), ds.attrs["num_missed_trials"]
    ([[0, 1, 1]], 1)
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"from_dataframe needs a pandas DataFrame, got {type(frame).__name__}")
    table = check_table(_as_text(frame), layout, source=name, first_row=0, row_name="row")
    if layout == "two_step":
        table["common"] = table["state2"] == table["choice1"]
    return table_to_recording(table, preset=preset)
