"""A small CF-conventions compliance check of the NetCDF files the toolkit writes.

Why our own and not ``cfchecker`` (the CF community's checker): ``cfchecker`` 4.1 needs
``cfunits``, which loads the UDUNITS-2 C library from the system (not pip-installable), and it
downloads the standard-name and area-type tables at run time, so it cannot run offline in CI.
``cf-units`` (a PyPI wheel that bundles UDUNITS-2 and its unit database) parses units exactly
as UDUNITS does, which is the part of the conventions our files can get wrong; the rest of
what CF asks of them is checked here directly, on the raw file as any NetCDF reader sees it
(h5netcdf, no xarray decoding):

- global ``Conventions`` ("CF-1.x"), a non-empty ``title`` and a ``history`` whose lines name
  neurometa, its version and the command (CF 1.10, section 2.6.2);
- every variable, coordinate variables included, has a ``long_name`` (or ``standard_name``)
  (section 3.2);
- every numeric variable has ``units`` that UDUNITS-2 parses ("1" for dimensionless), and
  none says ``unknown``; text variables need none but any ``units`` they carry must parse
  (section 3.1);
- no dimension has a generic name (``index``, ``dim_0``...): dims say what they index.
"""

from __future__ import annotations

import re
from pathlib import Path

import h5netcdf
import numpy as np
from cf_units import Unit

from neurometa import __version__

_GENERIC_DIMS = re.compile(r"^(index|level_\d+|dim_\d+|.*_dim\d+)$")


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray) and value.size == 1:
        return _text(value.item())
    return str(value)


def _units_problem(units: str) -> str | None:
    if units.strip() == "" or units.strip().lower() in ("unknown", "none", "no_unit"):
        return f"units {units!r} say nothing"
    try:
        Unit(units)
    except ValueError as err:
        return f"units {units!r} are not UDUNITS ({err})"
    return None


def _global_problems(attrs: dict) -> list[str]:
    problems = []
    conventions = _text(attrs.get("Conventions", ""))
    if not re.fullmatch(r"CF-1\.\d+", conventions):
        problems.append(f"global Conventions is {conventions!r}, not 'CF-1.x'")
    if not _text(attrs.get("title", "")).strip():
        problems.append("no global title")
    history = _text(attrs.get("history", "")).strip()
    lines = history.splitlines()
    if not lines:
        problems.append("no global history")
    elif not any(f"neurometa {__version__}: " in line for line in lines):
        problems.append(f"history {history!r} names no neurometa {__version__} command")
    return problems


def cf_problems(path: str | Path) -> list[str]:
    """Every way the NetCDF file ``path`` departs from the checks above (empty: compliant)."""
    problems: list[str] = []
    with h5netcdf.File(path, "r") as f:
        problems += _global_problems(dict(f.attrs))
        generic = [d for d in f.dimensions if _GENERIC_DIMS.match(d)]
        problems += [f"dimension {d!r} has a generic name" for d in generic]
        for name, var in f.variables.items():
            attrs = {k: _text(v) for k, v in var.attrs.items() if k not in ("_FillValue",)}
            if not (attrs.get("long_name") or attrs.get("standard_name")):
                problems.append(f"variable {name!r}: no long_name")
            numeric = var.dtype.kind in "biuf" and attrs.get("dtype") != "bool"
            if "units" in attrs:
                problem = _units_problem(attrs["units"])
                if problem:
                    problems.append(f"variable {name!r}: {problem}")
            elif numeric:
                problems.append(f"variable {name!r} ({var.dtype}): no units")
    return problems
