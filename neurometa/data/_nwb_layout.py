"""Lay imported trial-major arrays out in the recording schema (episode, step, unit).

Private helper of :mod:`neurometa.data.nwb`.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import xarray as xr

from neurometa import __version__
from neurometa.data._nwb_tables import NWBFormatError, TrialTable

__all__ = ["assemble_recording", "episode_layout"]

#: Trial columns stored as float32 (the schema's float variables written by the recorder).
_FLOAT32 = ("reward", "value", "rpe")


def episode_layout(frame: Any, has_groups: bool) -> tuple[np.ndarray, list[Any]]:
    """Row order and episode labels: trials grouped by episode, in time order within each.

    Returns
    -------
    order : numpy.ndarray, shape (num_episodes * num_trials,)
        Row positions, episode-major.
    labels : list
        The episode labels (order of first appearance).
    """
    if not has_groups:
        return np.arange(len(frame)), [0]
    groups = frame["__episode__"].to_numpy()
    labels = list(dict.fromkeys(groups.tolist()))
    rows = [np.flatnonzero(groups == lab) for lab in labels]
    sizes = {len(r) for r in rows}
    if len(sizes) != 1:
        counts = ", ".join(f"{lab}: {len(r)}" for lab, r in zip(labels, rows, strict=True))
        raise NWBFormatError(
            f"episodes must have equal numbers of trials to form (episode, step) arrays; "
            f"trials per episode: {counts}"
        )
    return np.concatenate(rows), labels


def _episode_coord(labels: list[Any]) -> np.ndarray:
    """Integer episode coordinate: the labels when they are integers, else 0..E-1."""
    arr = np.asarray(labels)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    return np.arange(len(labels), dtype=np.int64)


def _trial_variables(trials: TrialTable, cfg: Any, shaped: Any) -> dict[str, Any]:
    """The trial columns as (dims, values, attrs) over (episode, step[, extra dim])."""
    es = ("episode", "step")
    frame = trials.frame
    data: dict[str, Any] = {}
    for name in frame.columns:
        if name == "__episode__":
            continue
        values = frame[name].to_numpy()
        if values.dtype == object:
            values = values.astype(str)
        if name in _FLOAT32:
            values = values.astype(np.float32)
        data[name] = (es, shaped(values), {"description": trials.descriptions.get(name, "")})
    data["event_time"] = (es, shaped(frame[cfg.event].to_numpy(float)), {"units": "s"})
    for name, (values, dim) in trials.arrays.items():
        data[name] = ((*es, dim), shaped(values), {"description": trials.descriptions[name]})
    return data


def assemble_recording(
    trials: TrialTable, activity: dict[str, Any] | None, cfg: Any, meta: dict[str, Any]
) -> xr.Dataset:
    """Build the lab recording from trial-major arrays.

    Parameters
    ----------
    trials : TrialTable
        Kept trials (one row per trial, sorted by start time).
    activity : dict or None
        ``values`` (num_trials, num_units, num_bins), ``unit_ids`` (num_units,), ``coords``
        (``unit_<column>`` -> values (num_units,)) and ``attrs``; ``None`` for behaviour only.
    cfg : NWBImportConfig
    meta : dict
        Session metadata from the file (subject, identifier, provenance).

    Returns
    -------
    xarray.Dataset
        The recording (``source = "lab"``), one step per trial.
    """
    frame = trials.frame
    order, labels = episode_layout(frame, "__episode__" in frame)
    num_episodes = len(labels)
    num_steps = len(order) // num_episodes
    es = ("episode", "step")

    def shaped(values: np.ndarray) -> np.ndarray:
        values = np.asarray(values)[order]
        return values.reshape(num_episodes, num_steps, *values.shape[1:])

    data = _trial_variables(trials, cfg, shaped)
    coords: dict[str, Any] = {
        "episode": _episode_coord(labels),
        "step": np.arange(num_steps, dtype=np.int64),
        "trial": ("step", np.arange(num_steps, dtype=np.int64)),
        "stage": ("step", np.full(num_steps, cfg.event)),
        "subject": ("episode", np.full(num_episodes, meta["subject"])),
    }
    if activity is not None:
        act = shaped(activity["values"])
        dims: tuple[str, ...] = (*es, "unit", "time_bin")
        if cfg.bin_width is None:
            act, dims = act[..., 0], dims[:-1]
        else:
            coords["time_bin"] = (
                "time_bin",
                cfg.bin_edges[:-1],
                {"units": "s", "long_name": f"bin start after {cfg.event}"},
            )
        data[cfg.activity_name] = (dims, act, activity["attrs"])
        coords["unit"] = np.asarray(activity["unit_ids"]).astype(np.int64)
        coords.update({k: ("unit", v) for k, v in activity["coords"].items()})
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(_attrs(trials, cfg, meta))
    return ds


def _attrs(trials: TrialTable, cfg: Any, meta: dict[str, Any]) -> dict[str, Any]:
    """Schema attributes of an imported recording, with the file's provenance."""
    from neurometa.record.schema import SCHEMA_VERSION  # lazy: neurometa.record imports torch

    origin = meta.get("origin_attrs", {})
    attrs: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "source": "lab",
        "task": str(origin.get("task", cfg.task)),
        "preset": str(origin.get("preset", cfg.task)),
        "config_json": json.dumps({"nwb_import": cfg.to_dict()}, sort_keys=True),
        "neurometa_version": __version__,
        "event": cfg.event,
        "window": np.asarray(cfg.window, dtype=float),
        "measure": "none"
        if cfg.behaviour_only
        else (cfg.measure if cfg.timeseries is None else "mean"),
        "num_dropped_trials": trials.num_dropped,
        **{k: v for k, v in meta.items() if k != "origin_attrs"},
    }
    if trials.action_labels is not None:
        attrs["action_labels"] = json.dumps(trials.action_labels)  # JSON: h5netcdf-safe
    for key in ("agent", "seed", "discount", "config_json"):
        if key in origin:
            attrs[f"origin_{key}"] = origin[key]
    return attrs
