"""Reading recordings and writing analysis results: NetCDF + CSV per result, PNG per figure.

Used by the runners of :mod:`neurometa.analysis.runners` (what ``neurometa analyze NAME``
and the pipelines in ``analyses/`` run): each result is written as ``<name>.nc`` and
``<name>.csv``, each figure as ``<name>.png``, atomically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from neurometa.analysis._common import AnalysisError
from neurometa.analysis.result_attrs import describe_result
from neurometa.atomic import atomic_open
from neurometa.netcdf import write_netcdf

__all__ = [
    "open_inputs",
    "write_result",
    "write_figure",
    "stem",
    "input_labels",
    "summary_json",
]


def open_inputs(paths: list[Path]) -> list[xr.Dataset]:
    """Open recordings (NetCDF or Zarr) with the project's reader, fully loaded."""
    from neurometa.record.io import open_recording

    return [open_recording(p).load() for p in paths]


def _netcdf_attrs(attrs: dict[str, Any], where: str) -> dict[str, Any]:
    """``attrs`` as NetCDF stores them, losing nothing.

    Numbers, strings and flat lists of either stay; booleans become 0/1; dicts and other
    lists become JSON text under ``<key>_json`` (as recordings keep ``config_json``).
    Anything else is an error naming it: a table or an array in attrs is a result and
    belongs in a variable.
    """
    keep: dict[str, Any] = {}
    for key, value in attrs.items():
        if isinstance(value, bool | np.bool_):
            keep[key] = int(value)
        elif isinstance(value, int | float | str | np.integer | np.floating):
            keep[key] = value
        elif isinstance(value, list | tuple) and _flat(value):
            keep[key] = list(value)
        elif isinstance(value, dict | list | tuple):
            try:
                keep[f"{key}_json"] = json.dumps(value, default=_json_scalar)
            except TypeError as err:
                raise AnalysisError(f"{where}: attr {key!r} cannot be written: {err}") from err
        else:
            raise AnalysisError(
                f"{where}: attr {key!r} is a {type(value).__name__}, which NetCDF cannot store; "
                "make it a variable of the result"
            )
    return keep


def _flat(values: list | tuple) -> bool:
    """Whether NetCDF stores ``values`` as one attr: all strings, or all (non-bool) numbers."""
    number = (int, float, np.integer, np.floating)
    numbers = all(isinstance(v, number) and not isinstance(v, bool) for v in values)
    return bool(values) and (numbers or all(isinstance(v, str) for v in values))


def _json_scalar(value: Any) -> Any:
    """A numpy scalar inside an attr as a plain number (for :func:`json.dumps`)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _as_dataset(name: str, result: xr.Dataset | pd.DataFrame) -> tuple[xr.Dataset, pd.DataFrame]:
    """The result as a Dataset (for NetCDF) and a table (for CSV), or a clear error."""
    if isinstance(result, pd.DataFrame):
        if any(level is None for level in result.index.names):
            raise AnalysisError(
                f"{name}: the table's index has no name; name it (it becomes the NetCDF "
                "dimension), e.g. frame.rename_axis('trial')"
            )
        ds = xr.Dataset.from_dataframe(result)
        ds.attrs = _netcdf_attrs(result.attrs, name)
        return ds, result
    ds = result.copy()
    ds.attrs = _netcdf_attrs(result.attrs, name)
    for var in ds.variables.values():
        var.attrs = _netcdf_attrs(var.attrs, name)
    dims = [set(v.dims) for v in ds.data_vars.values()]
    widest = max(dims, key=len, default=set())
    if any(not d <= widest for d in dims):
        raise AnalysisError(
            f"{name}: variables on unrelated dimensions cannot share one CSV table "
            f"({sorted(map(sorted, dims))}); write them as separate results"
        )
    if ds.dims:
        return ds, result.to_dataframe()
    return ds, pd.DataFrame({k: [v.item()] for k, v in result.data_vars.items()})


def write_result(out: Path | None, name: str, result: xr.Dataset | pd.DataFrame) -> None:
    """Write ``result`` as ``out/name.nc`` and ``out/name.csv`` atomically (no-op if no out).

    Nothing is dropped on the way: a table's index (it must have a name) becomes the NetCDF
    dimension and the CSV's first column(s); attrs are kept (see :func:`_netcdf_attrs`), and
    those NetCDF cannot store are an error naming them. A Dataset whose variables lie on
    unrelated dimensions is refused (its CSV would be their cartesian product).

    Parameters
    ----------
    out : Path or None
        Output folder; nothing is written (or checked) when None.
    name : str
        File stem.
    result : xarray.Dataset or pandas.DataFrame
        An analysis result.
    """
    if out is None:
        return
    ds, frame = _as_dataset(name, result)
    Path(out).mkdir(parents=True, exist_ok=True)
    for var in ds.variables:
        if ds[var].dtype == object:
            ds[var] = ds[var].astype(str)
    describe_result(ds)  # long_name/units the analysis left out, from the shared vocabulary
    write_netcdf(ds, Path(out) / f"{name}.nc", title=f"neurometa analysis result: {name}")
    with atomic_open(Path(out) / f"{name}.csv") as fh:
        frame.to_csv(fh, index=bool(ds.dims))


def write_figure(out: Path | None, name: str, make: Callable[[], Any]) -> None:
    """Draw with ``make()`` and save ``out/name.png``; skipped (not drawn) without ``out``."""
    if out is None:
        return
    from neurometa.analysis.plotting import save_figure

    Path(out).mkdir(parents=True, exist_ok=True)
    save_figure(make(), Path(out) / f"{name}.png")


def stem(path: Path) -> str:
    """File name without its extension."""
    return os.path.splitext(Path(path).name)[0]


def input_labels(paths: list[Path]) -> list[str]:
    """A distinct label per input, naming its results: the file stem, with folders if needed.

    Inputs that share a file name (``runs/a/recording.nc runs/b/recording.nc``, as a sweep
    writes them) are told apart by their parent folders (``a-recording``, ``b-recording``);
    the same file given twice gets ``-2``, ``-3``...

    Examples
    --------
    >>> input_labels([Path("a/rec.nc"), Path("b/rec.nc"), Path("c/other.nc")])
    ['a-rec', 'b-rec', 'other']
    """
    absolute = [Path(os.path.abspath(p)) for p in paths]
    distinct = list(dict.fromkeys(absolute))
    labels = {p: stem(p) for p in distinct}
    for depth in range(1, 1 + max(len(p.parts) for p in distinct) if distinct else 1):
        taken = list(labels.values())
        clash = [p for p in distinct if taken.count(labels[p]) > 1]
        if not clash:
            break
        for p in clash:
            labels[p] = "-".join([*p.parts[:-1][-depth:], stem(p)])
    seen: dict[Path, int] = {}
    unique = []
    for p in absolute:
        seen[p] = seen.get(p, 0) + 1
        unique.append(labels[p] if seen[p] == 1 else f"{labels[p]}-{seen[p]}")
    return unique


def summary_json(summary: Any) -> str:
    """A summary as strict JSON text (NaN and infinities become null; numpy to Python)."""
    import json

    from neurometa.jsonable import jsonable

    return json.dumps(jsonable(summary), indent=1)
