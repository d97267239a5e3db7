"""NetCDF files the toolkit writes: CF attributes stamped in one place, written atomically.

Every NetCDF file neurometa writes (recordings, imports, analysis results, sweep results)
goes through :func:`write_netcdf` (or, for recordings streamed batch by batch,
:func:`stamp_cf` on the first batch), so every file carries the global attributes of the
CF conventions (https://cfconventions.org, section 2.6.2):

- ``Conventions = "CF-1.10"``;
- ``title``: what the file holds, one line;
- ``history``: one line per program that wrote or rewrote the file, oldest first,
  ``"<UTC time> neurometa <version>: <command>"``, where the command is the ``neurometa``
  command line (set by :mod:`neurometa.cli`) or, from Python, the script or ``python``;

and every coordinate the recording schema names gets its ``long_name`` and UDUNITS ``units``
(strings get a ``long_name`` only: CF gives text no units).

Examples
--------
>>> import xarray as xr
>>> ds = stamp_cf(xr.Dataset({"x": ("episode", [1.0])}), title="example")
>>> ds.attrs["Conventions"], ds.attrs["title"]
('CF-1.10', 'example')
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import xarray as xr

from neurometa import __version__
from neurometa.atomic import atomic_path

__all__ = [
    "CONVENTIONS",
    "COORD_ATTRS",
    "set_command",
    "history_line",
    "stamp_cf",
    "write_netcdf",
    "units_from_name",
    "column_attrs",
]

#: The CF version the files follow.
CONVENTIONS = "CF-1.10"

#: ``long_name`` and ``units`` of the coordinates the toolkit writes (``None``: text, no units).
COORD_ATTRS: dict[str, tuple[str, str | None]] = {
    "episode": ("episode index (lab data: session or block)", "1"),
    "step": ("step index within the episode", "1"),
    "trial": ("trial index within the episode", "1"),
    "stage": ("stage of the trial at this step", None),
    "unit": ("unit (neuron) identifier", "1"),
    "subject": ("subject of the episode", None),
    "session": ("session of the episode", None),
    "episode_label": ("episode label in the source file", None),
    "seed": ("random seed of the run", "1"),
    "time_bin": ("start of the time bin after the alignment event", "s"),
    "arm": ("arm index", "1"),
    "action_id": ("action index", "1"),
    "obs_feature": ("observation feature index", "1"),
}

#: Suffixes of column names that state their units (checked in order, case-insensitive).
_UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_time", "s"),
    ("_ms", "ms"),
    ("_msec", "ms"),
    ("_us", "us"),
    ("_sec", "s"),
    ("_secs", "s"),
    ("_seconds", "s"),
    ("_s", "s"),
    ("_hz", "Hz"),
)

_command: str | None = None


def set_command(argv: Sequence[str] | None) -> None:
    """Record the command line that ``history`` names (the CLI calls this); ``None`` clears it."""
    global _command
    _command = None if argv is None else " ".join(str(a) for a in argv)


def _current_command() -> str:
    if _command is not None:
        return _command
    script = sys.argv[0] if sys.argv and sys.argv[0] not in ("", "-c") else ""
    if os.path.basename(script) == "__main__.py":  # python -m package
        return f"python -m {os.path.basename(os.path.dirname(script))}"
    return f"python {os.path.basename(script)}" if script else "python"


def history_line() -> str:
    """One ``history`` line for a file written now: UTC time, version and command."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{now} neurometa {__version__}: {_current_command()}"


def units_from_name(name: str) -> str | None:
    """UDUNITS units stated by a column name's suffix (``rt_ms`` -> ``"ms"``), else ``None``.

    Examples
    --------
    >>> units_from_name("rt_ms"), units_from_name("cue_time"), units_from_name("block")
    ('ms', 's', None)
    """
    lower = name.lower()
    for suffix, units in _UNIT_SUFFIXES:
        if lower.endswith(suffix) and len(lower) > len(suffix):
            return units
    return None


_STATED_UNITS = re.compile(r"\(units: ([^()]+)\)")


def column_attrs(name: str, description: str = "", *, where: str = "the source") -> dict[str, str]:
    """``long_name``, ``units`` (and a ``comment`` when guessed) of an imported column.

    Parameters
    ----------
    name : str
        The column's name; a suffix such as ``_ms`` or ``_time`` states its units
        (:func:`units_from_name`).
    description : str
        The column's description in the source file (NWB columns have one), kept as the
        ``long_name``; ``"... (units: X)"`` (as ``neurometa export nwb`` writes) states units.
    where : str
        The source, for the ``long_name`` of a column without description.

    Returns
    -------
    dict
        Where neither the description nor the name states units, ``units`` is ``"1"``
        and ``comment`` says they were not stated in the source.

    Examples
    --------
    >>> column_attrs("rt_ms", where="lab.csv")["units"]
    'ms'
    >>> column_attrs("block")["comment"]
    "units not stated in the source; '1' (dimensionless) assumed"
    """
    description = description.strip()
    stated = _STATED_UNITS.search(description)
    attrs = {"long_name": description or f"column {name!r} of {where}"}
    units = stated.group(1).strip() if stated else units_from_name(name)
    if units is None:
        attrs["comment"] = "units not stated in the source; '1' (dimensionless) assumed"
    attrs["units"] = units or "1"
    return attrs


def _describe(var: xr.Variable, long_name: str, units: str | None) -> None:
    var.attrs.setdefault("long_name", long_name)
    if units is not None and var.dtype.kind in "biuf":
        var.attrs.setdefault("units", units)


def stamp_cf(
    ds: xr.Dataset, *, title: str | None = None, append_history: bool = False
) -> xr.Dataset:
    """A shallow copy of ``ds`` with CF global attributes and described coordinates.

    Parameters
    ----------
    ds : xarray.Dataset
        What is about to be written (or a dataset just made, e.g. by the recorder).
    title : str, optional
        The file's ``title``; ``None`` keeps an existing one (else a generic title).
    append_history : bool
        Append a ``history`` line even when ``ds`` has a history (a new product made from
        it, as CF asks); otherwise a line is added only to a dataset without history, so
        that saving an unchanged recording again leaves it identical.

    Returns
    -------
    xarray.Dataset
        ``Conventions``, ``title`` and ``history`` set, ``long_name``/``units`` on every
        coordinate named in
        :data:`COORD_ATTRS` that has none, and the recording schema's ``long_name``/``units``
        on its variables (:func:`neurometa.record.spec.annotate`).
    """
    from neurometa.record.spec import annotate

    out = ds.copy()
    for name in list(out.variables):
        out[name].attrs = dict(out[name].attrs)
    annotate(out)
    for name, (long_name, units) in COORD_ATTRS.items():
        if name in out.variables:
            _describe(out.variables[name], long_name, units)
    attrs = dict(out.attrs)
    attrs["Conventions"] = CONVENTIONS
    attrs["title"] = title or str(attrs.get("title") or "neurometa data")
    previous = str(attrs.get("history", "")).strip()
    if not previous:
        attrs["history"] = history_line()
    elif append_history:
        attrs["history"] = f"{previous}\n{history_line()}"
    out.attrs = attrs
    return out


def write_netcdf(
    ds: xr.Dataset,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    append_history: bool = True,
    **to_netcdf: Any,
) -> Path:
    """Write ``ds`` as NetCDF-4 (h5netcdf) atomically, with CF attributes (:func:`stamp_cf`).

    Parameters
    ----------
    ds : xarray.Dataset
    path : path-like
        Destination; replaced only once the new file is complete.
    title : str, optional
        The file's ``title``.
    append_history : bool
        Add a ``history`` line even where ``ds`` has one (see :func:`stamp_cf`).
    **to_netcdf
        Passed to :meth:`xarray.Dataset.to_netcdf` (``encoding``, ``unlimited_dims``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib, xarray as xr
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "x.nc"
    >>> _ = write_netcdf(xr.Dataset({"x": ("seed", [1.0], {"units": "1"})}), out, title="x")
    >>> xr.open_dataset(out).attrs["Conventions"]
    'CF-1.10'
    """
    stamped = stamp_cf(ds, title=title, append_history=append_history)
    with atomic_path(path) as tmp:
        stamped.to_netcdf(tmp, engine="h5netcdf", **to_netcdf)
    return Path(path)
