"""Export a recording (typically an agent's) as an NWB file that lab tools can read.

Layout of the file (pynwb):

- **time**: a task has no physical time, so each step gets a *nominal* time. With
  ``T`` steps per episode and nominal rate ``R`` (Hz, default 10), step ``k`` of episode
  ``e`` is at ``t = (e*T + k) / R`` seconds.
- **trials table** (``/intervals/trials``): one row per trial of every episode, with
  ``start_time``/``stop_time`` spanning the trial's steps, ``episode``, ``trial`` (and
  ``subject``/``session`` where the episodes have those coordinates), and every
  per-step variable without a unit dim (``action``, ``reward``, ``value``, ``rpe``, hidden
  task variables...). With one step per trial a variable ``x`` is the column ``x``; with
  several, one column per stage, ``x_<stage>`` (e.g. ``action_first``). A variable with one
  extra dim (``arm_probs``, ``policy``, ``obs``) is a 2-D column whose description ends in
  ``[dim: <name>]`` so that :func:`neurometa.data.read_nwb` restores the dim name.
- **processing module** ``misc``: each unit-activity variable (``h``, ``c``, any variable
  with a ``unit`` dim) as a ``TimeSeries`` of shape ``(time, unit)`` sampled at the nominal
  rate (one sample per step), plus variables with more than one extra dim.
- the recording's attrs as JSON in ``notes`` (so a re-import keeps task, agent and seed).

``read_nwb(path, timeseries="h", window=(0, 1/R))`` brings a one-step-per-trial recording
back exactly (a test checks the round trip).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurometa.atomic import atomic_path
from neurometa.data._nwb_metadata import file_metadata

__all__ = ["export_nwb", "dandi_issues", "PROCESSING_MODULE", "DEFAULT_RATE"]

#: Name of the processing module holding unit activity (an NWB schema module name).
PROCESSING_MODULE = "misc"
#: Default nominal sampling rate (Hz): one step = 0.1 s of nominal time.
DEFAULT_RATE = 10.0


def _json_attrs(attrs: dict[str, Any]) -> str:
    """The recording attrs as a JSON string (numpy values converted)."""

    def clean(v: Any) -> Any:
        return v.tolist() if hasattr(v, "tolist") else v

    return json.dumps({str(k): clean(v) for k, v in attrs.items()}, sort_keys=True)


def _trial_bounds(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """First step and step count of each trial, and the stage names (trial-major layout)."""
    trial = np.asarray(ds["trial"].values)
    stage = np.asarray(ds["stage"].values).astype(str)
    stages = list(stage[trial == trial[0]])
    spt = len(stages)
    if ds.sizes["step"] % spt or not np.array_equal(stage, np.tile(stages, len(trial) // spt)):
        raise ValueError("steps must be trial-major with the same stages in every trial")
    first = np.arange(0, ds.sizes["step"], spt)
    return first, trial[first], stages


def _description(var: xr.DataArray, name: str) -> str:
    """The column's description: a lab file's own verbatim, else long name and units."""
    if var.attrs.get("description"):
        return str(var.attrs["description"])
    text = str(var.attrs.get("long_name") or name)
    units = var.attrs.get("units")
    return f"{text} (units: {units})" if units and units != "1" else text


def _add_trials(nwb: Any, ds: xr.Dataset, rate: float) -> list[str]:
    """Fill the trials table; return the names of variables left for TimeSeries."""
    from hdmf.common import VectorData
    from pynwb.epoch import TimeIntervals

    first, trial_ids, stages = _trial_bounds(ds)
    spt, num_steps = len(stages), ds.sizes["step"]
    num_ep, num_tr = ds.sizes["episode"], len(first)
    offsets = (np.arange(num_ep)[:, None] * num_steps + first[None, :]).ravel()
    columns: dict[str, tuple[np.ndarray, str]] = {
        "episode": (np.repeat(np.asarray(ds["episode"].values), num_tr), "episode index"),
        "trial": (np.tile(trial_ids, num_ep), "trial index within the episode"),
    }
    for coord in ("subject", "session"):  # a lab recording's episodes: subjects and sessions
        if coord in ds.coords and ds[coord].dims == ("episode",):
            labels = np.asarray(ds[coord].values).astype(str)
            columns[coord] = (np.repeat(labels, num_tr), f"{coord} of the trial's episode")
    as_series = []
    for name, var in ds.data_vars.items():
        extra = [d for d in var.dims if d not in ("episode", "step")]
        if var.dims[:2] != ("episode", "step") or "unit" in extra or len(extra) > 1:
            as_series.append(str(name))
            continue
        values = var.transpose("episode", "step", *extra).values
        desc = _description(var, str(name)) + (f" [dim: {extra[0]}]" if extra else "")
        for k, stage in enumerate(stages):
            col = str(name) if spt == 1 else f"{name}_{stage}"
            per_trial = values[:, k::spt].reshape(num_ep * num_tr, *values.shape[2:])
            columns[col] = (per_trial, desc if spt == 1 else f"{desc} (stage {stage!r})")
    times = {
        "start_time": (offsets / rate, "trial start (nominal s)"),
        "stop_time": ((offsets + spt) / rate, "trial stop (nominal s)"),
    }
    table = TimeIntervals(
        name="trials",
        description="trials of every episode, in nominal time",
        columns=[
            VectorData(name=col, description=desc, data=values)
            for col, (values, desc) in {**times, **columns}.items()
        ],
    )
    nwb.trials = table
    return as_series


def _add_series(nwb: Any, ds: xr.Dataset, names: list[str], rate: float) -> None:
    """Write per-step variables with a unit dim (or several extra dims) as TimeSeries."""
    from hdmf.backends.hdf5 import H5DataIO
    from pynwb import TimeSeries

    names = [n for n in names if ds[n].dims[:2] == ("episode", "step")]
    if not names:
        return
    module = nwb.create_processing_module(
        name=PROCESSING_MODULE,
        description=(
            "neurometa: agent unit activity, one sample per task step at a nominal rate of "
            f"{rate} Hz (step k of episode e at t = (e*T + k)/{rate} s; T steps per episode)"
        ),
    )
    for name in names:
        var = ds[name]
        values = np.asarray(var.values)
        data = values.reshape(-1, *values.shape[2:])
        comments = "dims: time, " + ", ".join(var.dims[2:])
        if "unit" in var.dims:
            comments += "; unit ids: " + " ".join(map(str, ds["unit"].values.tolist()))
        module.add(
            TimeSeries(
                name=name,
                data=H5DataIO(data, compression="gzip"),
                unit=str(var.attrs.get("units", "a.u.")),
                rate=float(rate),
                starting_time=0.0,
                description=_description(var, name)
                + f"; nominal rate {rate} Hz, one sample per task step",
                comments=comments,
            )
        )


def export_nwb(
    ds: xr.Dataset,
    path: str | Path,
    *,
    rate: float = DEFAULT_RATE,
    session_start_time: datetime | None = None,
    subject: dict[str, Any] | None = None,
) -> Path:
    """Write a recording as NWB (trials table + unit activity at a nominal rate).

    A lab recording imported from NWB gets its session (identifier, description, start
    time, experimenter, institution, lab...) and its subject (id, species, sex, age,
    strain...) back; an agent recording says that its subject is simulated (species
    NCBITaxon_32630 "synthetic construct", sex "O"), so both pass the DANDI configuration
    of ``nwbinspector`` (:func:`dandi_issues`).

    Parameters
    ----------
    ds : xarray.Dataset
        A recording that passes :func:`neurometa.record.validate.validate_recording`.
    path : path-like
        Destination ``.nwb`` file (written atomically).
    rate : float
        Nominal sampling rate in Hz; one step lasts ``1 / rate`` s of nominal time.
    session_start_time : datetime, optional
        Timezone-aware start time; defaults to the lab file's, else now (UTC).
    subject : dict, optional
        ``pynwb.file.Subject`` fields that complete or override the recording's, e.g.
        ``{"species": "Mus musculus", "sex": "F", "age": "P90D"}`` for a lab recording
        imported from a CSV table (which states none).

    Returns
    -------
    pathlib.Path
        The written file.

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
    >>> mouse = {"species": "Mus musculus", "sex": "F", "age": "P90D"}
    >>> path = nm.export_nwb(nm.from_dataframe(frame, "bandit"), path, subject=mouse)
    >>> nm.read_nwb_behaviour(path, "bandit")[["subject", "trial", "choice", "reward"]].shape
    (300, 4)
    """
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.file import Subject

    from neurometa.record.validate import validate_recording  # lazy: neurometa.record -> torch

    if not np.isfinite(rate) or rate <= 0:
        raise ValueError(f"rate must be a positive number of Hz, got {rate!r}")
    validate_recording(ds)
    session, fields = file_metadata(ds, session_start_time, subject)
    try:
        nwb = NWBFile(**session, notes=_json_attrs(ds.attrs))
        nwb.subject = Subject(**fields)
    except (TypeError, ValueError) as err:  # pynwb's own checks (e.g. a naive datetime)
        raise ValueError(f"cannot describe the session or subject in NWB: {err}") from None
    as_series = _add_trials(nwb, ds, rate)
    _add_series(nwb, ds, as_series, rate)
    with atomic_path(path) as tmp, NWBHDF5IO(str(tmp), "w") as io:
        io.write(nwb)
    return Path(path)


def dandi_issues(path: str | Path) -> list[str]:
    """``nwbinspector`` messages, DANDI configuration, at BEST_PRACTICE_VIOLATION or above.

    What ``dandi validate`` would refuse (CRITICAL: missing species, sex, age, ids with
    slashes...) and the violations of NWB best practice.

    Parameters
    ----------
    path : path-like
        An NWB file.

    Returns
    -------
    list of str
        ``"<importance>: <check>: <message>"`` for each issue.

    Examples
    --------
    >>> dandi_issues("session.nwb")  # doctest: +SKIP
    []
    """
    from nwbinspector import Importance, inspect_nwbfile, load_config

    messages = inspect_nwbfile(
        nwbfile_path=str(path),
        config=load_config("dandi"),
        importance_threshold=Importance.BEST_PRACTICE_VIOLATION,
    )
    return [f"{m.importance.name}: {m.check_function_name}: {m.message}" for m in messages if m]
