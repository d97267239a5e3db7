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

    Episodes with fewer trials than the longest are padded at the end (row ``-1``), as the
    CSV import does; :func:`pad_take` fills those steps with the schema's missing marks.

    Returns
    -------
    order : numpy.ndarray, shape (num_episodes * max_trials,)
        Row positions, episode-major; ``-1`` for padding.
    labels : list
        The episode labels (order of first appearance).
    """
    if not has_groups:
        return np.arange(len(frame)), [0]
    groups = frame["__episode__"]
    missing = groups.isna().to_numpy() | (groups.astype(str).str.strip() == "").to_numpy()
    if missing.any():
        raise NWBFormatError(
            f"the episode column has no value in {int(missing.sum())} trials; fill it or "
            "import without episode_column (--episode-column)"
        )
    values = groups.to_numpy()
    labels = list(dict.fromkeys(values.tolist()))
    rows = [np.flatnonzero(values == lab) for lab in labels]
    longest = max(len(r) for r in rows)
    order = np.full((len(rows), longest), -1, dtype=np.int64)
    for e, r in enumerate(rows):
        order[e, : len(r)] = r
    return order.ravel(), labels


def pad_take(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``values[order]`` along the first axis, with ``-1`` rows filled as missing.

    Fill: ``-1`` for integers, NaN for floats, False for booleans, ``""`` for text.
    """
    values = np.asarray(values)
    out = values[np.maximum(order, 0)]
    pad = order < 0
    if pad.any():
        kind = out.dtype.kind
        if kind == "f":
            out[pad] = np.nan
        elif kind in "iu":
            out[pad] = -1
        elif kind == "b":
            out[pad] = False
        else:
            out = out.astype(str)
            out[pad] = ""
    return out


def _episode_subjects(frame: Any, order: np.ndarray, num_episodes: int, default: str) -> Any:
    """Subject of each episode: an exported recording's ``subject`` column, else the file's."""
    if "__subject__" not in frame:
        return np.full(num_episodes, default)
    first = order.reshape(num_episodes, -1)[:, 0]
    return frame["__subject__"].to_numpy().astype(str)[first]


def _episode_coords(labels: list[Any]) -> dict[str, Any]:
    """Integer ``episode`` coordinate (the labels when integers, else 0..E-1) and the labels."""
    arr = np.asarray(labels)
    if arr.dtype.kind in "iu":
        return {"episode": arr.astype(np.int64)}
    return {
        "episode": np.arange(len(labels), dtype=np.int64),
        "episode_label": ("episode", np.asarray([str(x) for x in labels])),
    }


def _trial_variables(trials: TrialTable, cfg: Any, shaped: Any) -> dict[str, Any]:
    """The trial columns as (dims, values, attrs) over (episode, step[, extra dim])."""
    es = ("episode", "step")
    frame = trials.frame
    data: dict[str, Any] = {}
    for name in frame.columns:
        if name in ("__episode__", "__subject__"):
            continue
        values = frame[name].to_numpy()
        if values.dtype == object:
            values = values.astype(str)
        if name in _FLOAT32:
            values = values.astype(np.float32)
        data[name] = (es, shaped(values), _column_attrs(name, trials, values))
    event_time = {"long_name": f"time of the alignment event {cfg.event!r}", "units": "s"}
    data["event_time"] = (es, shaped(frame[cfg.event].to_numpy(float)), event_time)
    for name, (values, dim) in trials.arrays.items():
        data[name] = ((*es, dim), shaped(values), _column_attrs(name, trials, values))
    return data


def _column_attrs(name: str, trials: TrialTable, values: np.ndarray) -> dict[str, str]:
    """``long_name`` (the file's column description), ``units`` and the description itself."""
    from neurometa.netcdf import column_attrs
    from neurometa.record.spec import variable_spec

    description = trials.descriptions.get(name, "")
    attrs = column_attrs(name, description, where="the NWB trials table")
    spec = variable_spec(name)
    if spec is not None:  # a schema variable (action, reward...): the schema's units
        attrs["units"] = spec.units
        attrs.pop("comment", None)
    if values.dtype.kind not in "biuf":
        attrs = {"long_name": attrs["long_name"]}  # CF: text has no units
    if description:
        attrs["description"] = description
    return attrs


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
        values = pad_take(values, order)
        return values.reshape(num_episodes, num_steps, *values.shape[1:])

    from neurometa.record.spec import task_family  # lazy, as in _attrs

    data = _trial_variables(trials, cfg, shaped)
    if task_family(meta.get("origin_attrs", {}).get("preset", cfg.task)) == "two_step":
        # an exported two-step recording: its per-trial task variables, under the schema's
        # names, are the second stage's columns (the first stage's come before the choice)
        for name in ("choice1", "choice2", "state2", "common_transition"):
            if name not in data and f"{name}_second" in data:
                data[name] = data[f"{name}_second"]
    coords: dict[str, Any] = {
        **_episode_coords(labels),
        "step": np.arange(num_steps, dtype=np.int64),
        "trial": ("step", np.arange(num_steps, dtype=np.int64)),
        "stage": ("step", np.full(num_steps, cfg.event)),
        "subject": ("episode", _episode_subjects(frame, order, num_episodes, meta["subject"])),
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
        coords.update(activity["coords"])
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
