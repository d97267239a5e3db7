"""A sweep's results as one xarray Dataset, and its summary over seeds.

:func:`collect_results` reads every run folder into a Dataset whose dims are the swept
parameters (``setting`` first when the spec lists settings, then one dim per grid key, named
by its dotted key) and ``seed``. It holds one float variable per scalar result of the action
(NaN where a run is not done), ``status`` (``"done"``, ``"failed"`` or ``"pending"``),
``wall_time_s``, ``attempts`` and ``run_id``. :func:`summary_table` reduces over ``seed``
(mean, sample standard deviation, standard error, number of finished seeds) and ranks the
settings. This module imports neither torch nor Dask.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from neurometa import __version__
from neurometa.netcdf import stamp_cf, write_netcdf
from neurometa.sweep.runner import ERROR_FILE, RESULT_FILE, RUN_FILE, read_json
from neurometa.sweep.spec import RESERVED_NAMES, RunPlan, SweepSpec, plan_runs

__all__ = [
    "collect_results",
    "save_results",
    "open_results",
    "summary_table",
    "summarize_sweep",
    "format_summary",
    "RESERVED",
]

#: Variable names the sweep itself uses (an action's results may not take them).
RESERVED = RESERVED_NAMES


def _coord(values: list[Any]) -> np.ndarray:
    """A coordinate array: numbers, booleans or strings kept; anything else as JSON text."""
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=bool)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int64)
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.float64)
    if all(isinstance(v, str) for v in values):
        return np.array(values, dtype=str)
    return np.array([json.dumps(v, sort_keys=True) for v in values], dtype=str)


def _layout(spec: SweepSpec) -> tuple[list[str], dict[str, Any]]:
    """Dims (without seed) and coords of the result grid."""
    dims: list[str] = []
    coords: dict[str, Any] = {}
    if spec.settings:
        dims.append("setting")
        coords["setting"] = ("setting", np.arange(len(spec.settings)), _SETTING)
        keys = sorted({k for s in spec.settings for k in s})
        for key in keys:
            coords[key] = ("setting", *_swept(key, _coord([s.get(key) for s in spec.settings])))
    for key, values in spec.grid.items():
        dims.append(key)
        coords[key] = (key, *_swept(key, _coord(list(values))))
    coords["seed"] = np.array(spec.seeds, dtype=np.int64)
    return dims, coords


_SETTING = {"long_name": "index of the setting in the sweep's settings list", "units": "1"}
_STATUSES = "done, failed, running or pending"


def _result_attrs(name: str, spec: SweepSpec) -> dict[str, str]:
    """CF attributes of one result variable (the action reports plain numbers)."""
    from neurometa.netcdf import units_from_name

    attrs = {"long_name": f"result {name!r} of action {spec.action!r}"}
    units = units_from_name(name)
    if units is None:
        attrs["comment"] = "as the action reports it; '1' (dimensionless) assumed"
    attrs["units"] = units or "1"
    return attrs


def _swept(key: str, values: np.ndarray) -> tuple[Any, ...]:
    """A swept field's coordinate values with CF attributes (text has no units)."""
    attrs = {"long_name": f"swept config field {key!r}"}
    if np.asarray(values).dtype.kind in "biuf":
        attrs["units"] = "1"
    return values, attrs


def _run_state(run_dir: Path) -> tuple[str, dict[str, float], float, int]:
    """(status, results, wall time, attempts) of one run folder."""
    record = read_json(run_dir / RUN_FILE)
    attempts = len(record["attempts"]) if record else 0
    done = read_json(run_dir / RESULT_FILE)
    if done is not None:
        results = {k: np.nan if v is None else float(v) for k, v in done["results"].items()}
        return "done", results, float(done["wall_time_s"]), attempts
    failed = read_json(run_dir / ERROR_FILE)
    if failed is not None:
        return "failed", {}, float(failed.get("wall_time_s", np.nan)), attempts
    return "pending", {}, np.nan, attempts


def collect_results(spec: SweepSpec, runs_dir: str | Path) -> xr.Dataset:
    """Read the run folders under ``runs_dir`` into one Dataset (dims: swept params, seed).

    Parameters
    ----------
    spec : SweepSpec
        The sweep (fixes the dims, coords and run ids).
    runs_dir : path-like
        Folder holding one sub-folder per run id.

    Returns
    -------
    xarray.Dataset
        Variables over ``(*params, seed)``: one float per scalar result, ``status`` (str),
        ``wall_time_s`` (float), ``attempts`` (int), ``run_id`` (str).
    """
    runs_dir = Path(runs_dir)
    dims, coords = _layout(spec)
    shape = tuple(len(spec.settings) if d == "setting" else len(spec.grid[d]) for d in dims)
    shape += (len(spec.seeds),)
    seed_pos = {s: i for i, s in enumerate(spec.seeds)}
    status = np.full(shape, "pending", dtype=object)
    wall = np.full(shape, np.nan)
    attempts = np.zeros(shape, dtype=np.int64)
    ids = np.full(shape, "", dtype=object)
    metrics: dict[str, np.ndarray] = {}
    run: RunPlan
    for run in plan_runs(spec):
        at = (*run.index, seed_pos[run.seed])
        state, results, wall[at], attempts[at] = _run_state(runs_dir / run.run_id)
        status[at], ids[at] = state, run.run_id
        for name, value in results.items():
            if name in RESERVED or name in coords:
                raise ValueError(f"the action returned a result named {name!r}, a reserved name")
            metrics.setdefault(name, np.full(shape, np.nan))[at] = value
    all_dims = (*dims, "seed")
    data = {
        name: (all_dims, values, _result_attrs(name, spec))
        for name, values in sorted(metrics.items())
    }
    data["status"] = (all_dims, status.astype(str), {"long_name": "run status: " + _STATUSES})
    data["wall_time_s"] = (all_dims, wall, {"long_name": "wall time of the run", "units": "s"})
    data["attempts"] = (all_dims, attempts, {"long_name": "attempts of the run", "units": "1"})
    data["run_id"] = (all_dims, ids.astype(str), {"long_name": "run folder name under runs/"})
    attrs = {
        "source": "sweep",
        "name": spec.name,
        "action": spec.action,
        "base": spec.base,
        "metric": spec.metric,
        "goal": spec.goal,
        "spec_json": spec.to_json(indent=None),
        "neurometa_version": __version__,
    }
    title = f"neurometa sweep {spec.name}: results of every run"
    return stamp_cf(xr.Dataset(data, coords=coords, attrs=attrs), title=title)


def save_results(ds: xr.Dataset, path: str | Path) -> Path:
    """Write ``ds`` to NetCDF (h5netcdf) atomically and return the path."""
    return write_netcdf(ds, path, append_history=False)


def open_results(path: str | Path) -> xr.Dataset:
    """Load a sweep results file written by :func:`save_results` (fully into memory).

    Examples
    --------
    >>> import tempfile
    >>> from distributed import Client
    >>> import neurometa as nm
    >>> spec = nm.SweepSpec(action="train", base="bandit/independent", seeds=(0, 1),
    ...                     overrides={"optim.num_updates": 2, "optim.batch_size": 16,
    ...                                "workers": 1, "eval.episodes": 16})
    >>> out = tempfile.mkdtemp()
    >>> with Client(processes=False, n_workers=1, dashboard_address=":0") as client:
    ...     report = nm.run_sweep(spec, out, client=client, progress=False)
    >>> results = nm.open_results(f"{out}/results.nc")
    >>> results.sizes["seed"]
    2
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sweep results not found: {path}")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        loaded = ds.load()
    if loaded.attrs.get("source") != "sweep" or "status" not in loaded:
        raise ValueError(f"{path} is not a sweep results file (no status variable / source)")
    return loaded


def _metric_and_goal(ds: xr.Dataset, metric: str | None, goal: str | None) -> tuple[str, str]:
    metric = metric or ds.attrs.get("metric") or ""
    goal = goal or ds.attrs.get("goal") or "min"
    results = [v for v in ds.data_vars if v not in RESERVED]
    if not metric:
        if len(results) != 1:
            raise ValueError(f"name the metric to rank by; results present: {results}")
        metric = results[0]
    if metric not in results:
        raise ValueError(f"metric {metric!r} is not a result of this sweep; results: {results}")
    if goal not in ("min", "max"):
        raise ValueError(f"goal must be 'min' or 'max', not {goal!r}")
    return metric, goal


def summary_table(
    ds: xr.Dataset, metric: str | None = None, goal: str | None = None
) -> pd.DataFrame:
    """One row per setting: parameters, mean/std/sem of ``metric`` over seeds, best first.

    The index, ``rank``, counts from 0 for the best setting.

    ``std`` is the sample standard deviation (ddof = 1; NaN with one seed) and
    ``sem = std / sqrt(n_done)``, both over the seeds whose run is done. Settings with no
    finished seed come last.
    """
    metric, goal = _metric_and_goal(ds, metric, goal)
    values = ds[metric].where(ds["status"] == "done")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices / ddof with 1 seed
        mean = values.mean("seed")
        std = values.std("seed", ddof=1)
    table = xr.Dataset(
        {
            "mean": mean,
            "std": std,
            "n_done": (ds["status"] == "done").sum("seed"),
            "n_failed": (ds["status"] == "failed").sum("seed"),
        }
    )
    frame = table.to_dataframe().reset_index() if table["mean"].ndim else _scalar_frame(table)
    frame["sem"] = frame["std"] / np.sqrt(frame["n_done"].where(frame["n_done"] > 0))
    stats_cols = ["mean", "std", "sem", "n_done", "n_failed"]
    frame = frame[[c for c in frame.columns if c not in stats_cols] + stats_cols]
    frame = frame.sort_values("mean", ascending=goal == "min", na_position="last", kind="stable")
    frame.attrs.update(metric=metric, goal=goal)
    return frame.reset_index(drop=True).rename_axis("rank")


def _scalar_frame(table: xr.Dataset) -> pd.DataFrame:
    return pd.DataFrame({k: [v.item()] for k, v in table.data_vars.items()})


def summarize_sweep(
    ds: xr.Dataset, metric: str | None = None, goal: str | None = None
) -> dict[str, Any]:
    """JSON-ready summary: counts by status, the best setting and every setting's row.

    A sweep with no result variable yet (no run done) gets the counts only.
    """
    status = ds["status"].values.ravel().tolist()
    if any(v not in RESERVED for v in ds.data_vars):
        table = summary_table(ds, metric, goal)
        rows = json.loads(table.to_json(orient="records", double_precision=15))
        metric, goal = table.attrs["metric"], table.attrs["goal"]
    else:
        rows = []
    finished = [r for r in rows if r["n_done"] > 0]
    return {
        "name": ds.attrs.get("name", ""),
        "metric": metric or ds.attrs.get("metric", ""),
        "goal": goal or ds.attrs.get("goal", "min"),
        "num_runs": len(status),
        "num_done": status.count("done"),
        "num_failed": status.count("failed"),
        "num_pending": status.count("pending"),
        "best": finished[0] if finished else None,
        "settings": rows,
    }


def format_summary(summary: dict[str, Any], top: int = 10) -> str:
    """A short text table of :func:`summarize_sweep`'s output (best ``top`` settings)."""
    head = (
        f"sweep {summary['name']!r}: {summary['num_done']}/{summary['num_runs']} runs done, "
        f"{summary['num_failed']} failed, {summary['num_pending']} pending; "
        f"ranked by {summary['goal']} mean {summary['metric']} over seeds"
    )
    frame = pd.DataFrame(summary["settings"][:top])
    if frame.empty:
        return head
    return head + "\n" + frame.to_string(index=False, float_format=lambda x: f"{x:.4g}")
