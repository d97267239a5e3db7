"""The analyses as runnable units: read recordings, compute, write NetCDF + CSV + PNG.

Each :class:`AnalysisSpec` is what ``neurometa analyze NAME`` runs (the registry lives in
:mod:`neurometa.commands.analyze`) and what the pipelines in ``analyses/`` compose. A spec's
``run(inputs, out, args)`` returns a JSON-safe summary; with ``out`` it also writes, per
result, ``<name>.nc`` and ``<name>.csv`` (and figures as ``<name>.png``).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from neurometa.atomic import atomic_open
from neurometa.netcdf import write_netcdf

__all__ = ["AnalysisSpec", "open_inputs", "write_result", "write_figure", "stem", "summary_json"]


@dataclass(frozen=True)
class AnalysisSpec:
    """One analysis reachable as ``neurometa analyze NAME INPUT... [--out DIR] [--json]``."""

    help: str
    """One line for ``--help``."""
    add_arguments: Callable[[argparse.ArgumentParser], None]
    """Adds the analysis's own options."""
    run: Callable[[list[Path], Path | None, argparse.Namespace], dict[str, Any]]
    """Computes, writes results under the output folder (if given), returns a summary."""


def open_inputs(paths: list[Path]) -> list[xr.Dataset]:
    """Open recordings (NetCDF or Zarr) with the project's reader, fully loaded."""
    from neurometa.record.io import open_recording

    return [open_recording(p).load() for p in paths]


def _plain_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    """Only the attrs NetCDF can store (numbers, strings)."""
    keep = {}
    for key, value in attrs.items():
        if isinstance(value, bool | np.bool_):
            keep[key] = int(value)
        elif isinstance(value, int | float | str | np.integer | np.floating):
            keep[key] = value
    return keep


def write_result(out: Path | None, name: str, result: xr.Dataset | pd.DataFrame) -> None:
    """Write ``result`` as ``out/name.nc`` and ``out/name.csv`` atomically (no-op if no out)."""
    if out is None:
        return
    if isinstance(result, pd.DataFrame):
        frame = result
        ds = xr.Dataset.from_dataframe(result.reset_index(drop=result.index.name is None))
        ds.attrs = _plain_attrs(result.attrs)
    else:
        ds = result.copy()
        ds.attrs = _plain_attrs(result.attrs)
        frame = result.to_dataframe() if result.dims else pd.DataFrame([result.to_dict()])
    for var in ds.variables:
        if ds[var].dtype == object:
            ds[var] = ds[var].astype(str)
    write_netcdf(ds, Path(out) / f"{name}.nc", title=f"neurometa analysis result: {name}")
    with atomic_open(Path(out) / f"{name}.csv") as fh:
        frame.to_csv(fh, index=frame.index.name is not None or isinstance(result, xr.Dataset))


def write_figure(out: Path | None, name: str, make: Callable[[], Any]) -> None:
    """Draw with ``make()`` and save ``out/name.png``; skipped (not drawn) without ``out``."""
    if out is None:
        return
    from neurometa.analysis.plotting import save_figure

    save_figure(make(), Path(out) / f"{name}.png")


def stem(path: Path) -> str:
    """File name without its extension (labels results of several inputs)."""
    return os.path.splitext(Path(path).name)[0]


def summary_json(summary: Any) -> str:
    """A summary as strict JSON text (NaN and infinities become null; numpy to Python)."""
    import json
    import math

    def clean(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {str(k): clean(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [clean(v) for v in obj]
        if hasattr(obj, "tolist"):
            return clean(obj.tolist())
        if isinstance(obj, float) and not math.isfinite(obj):
            return None
        return obj

    return json.dumps(clean(summary), indent=1)
