"""Import NWB files (trials + units or a TimeSeries) into the recording schema.

A lab session stored as NWB (Neurodata Without Borders, via ``pynwb``) becomes one
recording with ``source = "lab"``: one ``step`` per trial (``trial = step``), the subject's
choice as ``action``, the outcome as ``reward``, every other scalar trial column as a
variable over ``(episode, step)``, and unit activity over ``(episode, step, unit)``
(plus ``time_bin`` when a bin width is given).

Unit activity is either

- **spike counts or rates** from the units table: for unit ``u`` and trial ``k`` with
  alignment time ``e_k`` (a trial column such as ``start_time`` or ``cue_time``),
  ``count[k, u, b] = #{s in spike_times[u] : e_k + w0 + b*dt <= s < e_k + w0 + (b+1)*dt}``
  and ``rate = count / dt`` (spikes/s), with window ``(w0, w1)`` and bin width ``dt``
  (``dt = w1 - w0`` when no bin width is given, and then there is no ``time_bin`` dim);
  where the units table has ``obs_intervals``, bins outside a unit's intervals are NaN (the
  unit was not recorded then), not 0; or
- **continuous activity** from a ``TimeSeries`` (``timeseries=NAME``, e.g. fluorescence or
  an agent's exported units): the mean of the samples whose time lies in each bin.

Unit-table columns with one scalar per unit are kept as coordinates on ``unit`` named
``unit_<column>``; the unit ids are the ``unit`` coordinate. ``trial_id`` holds each trial's
position in time order among all trials of the file, so trials dropped as missed leave gaps
that the analyses of "the previous trial" respect. Choices are coded 0..K-1 (text labels in
sorted order, kept in ``action_labels``); negative numeric codes are refused, since -1 marks a
missed trial.

Examples
--------
>>> ds = read_nwb("session.nwb", event="cue_time", window=(0.0, 0.5))  # doctest: +SKIP
>>> ds["activity"].dims  # doctest: +SKIP
('episode', 'step', 'unit')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import xarray as xr

from neurometa.config import Config, ConfigError, check_choice, check_range
from neurometa.data._nwb_layout import assemble_recording
from neurometa.data._nwb_metadata import metadata_attrs
from neurometa.data._nwb_tables import (
    NWBFormatError,
    exported_attrs,
    find_timeseries,
    open_nwb,
    trial_table,
    unit_coords,
    unit_obs_intervals,
    unit_spike_trains,
    units_table,
)

__all__ = ["NWBImportConfig", "NWBFormatError", "read_nwb", "ACTIVITY_NAME"]

#: Name of the unit-activity variable of imported lab data (agents record ``h``).
ACTIVITY_NAME = "activity"

#: Tolerance (s) when placing regularly sampled TimeSeries samples into windows.
_SAMPLE_TOL = 1e-6


@dataclass(frozen=True)
class NWBImportConfig(Config):
    """Options of :func:`read_nwb` (also the flags of ``neurometa import nwb``).

    Examples
    --------
    >>> import neurometa as nm
    >>> config = nm.NWBImportConfig(event="start_time", window=(0.0, 0.5), measure="count")
    >>> config.window, config.measure
    ((0.0, 0.5), 'count')
    """

    event: str = "start_time"
    """Trial column (seconds) that the activity window is aligned to."""
    window: tuple[float, ...] = (0.0, 0.5)
    """Window ``(w0, w1)`` in seconds relative to the event; ``w1 > w0``."""
    bin_width: float | None = None
    """Bin width in seconds; ``None`` gives one bin (no ``time_bin`` dim)."""
    measure: Literal["rate", "count"] = "rate"
    """Spike ``rate`` (spikes/s, written as UDUNITS ``Hz``) or ``count`` per bin (units table
    only)."""
    choice_column: str | None = None
    """Trial column holding the choice; ``None`` uses ``choice``, else ``action``."""
    reward_column: str = "reward"
    """Trial column holding the outcome."""
    columns: tuple[str, ...] | None = None
    """Extra trial columns to keep; ``None`` keeps every column with one value per trial."""
    episode_column: str | None = None
    """Trial column grouping trials into episodes (sessions/blocks); ``None`` uses a column
    named ``episode`` when there is one, else all trials form one episode."""
    timeseries: str | None = None
    """Name of a TimeSeries to read activity from instead of the units table."""
    activity_name: str = ACTIVITY_NAME
    """Name of the activity variable in the recording."""
    allow_outside_trial: bool = False
    """Accept windows that reach outside ``[start_time, stop_time]`` of a trial."""
    drop_missing: bool = False
    """Drop trials whose choice, reward or event time is missing (counted in attrs)."""
    task: str = "lab"
    """Task name stored in the recording's ``task`` attribute."""
    behaviour_only: bool = False
    """Import the trials table only (no units or TimeSeries needed, no activity)."""
    units_table: str | None = None
    """Units table to read spikes from, by name (``PARENT/NAME`` where names repeat), when it
    is not at ``/units`` (e.g. ``ecephys/kilosort_units``); ``None``: ``/units``."""
    trials_table: str | None = None
    """TimeIntervals table holding the trials, by name, when it is not ``/intervals/trials``
    (e.g. ``behavior_trials``); ``None``: ``/intervals/trials``."""

    def __post_init__(self) -> None:
        check_choice(self, "measure", ("rate", "count"))
        if len(self.window) != 2:
            raise ConfigError(f"NWBImportConfig.window = {self.window!r}: need two numbers")
        w0, w1 = self.window
        if not (np.isfinite(w0) and np.isfinite(w1)) or w1 <= w0:
            raise ConfigError(f"NWBImportConfig.window = {self.window!r}: need finite w0 < w1")
        if self.bin_width is not None:
            check_range(self, "bin_width", low=0.0, low_inclusive=False)
            num = (w1 - w0) / self.bin_width
            if abs(num - round(num)) > 1e-6:
                raise ConfigError(
                    f"NWBImportConfig.bin_width = {self.bin_width} does not divide the window "
                    f"length {w1 - w0} into whole bins"
                )
        if not self.activity_name.isidentifier():
            raise ConfigError(f"activity_name {self.activity_name!r} is not a valid name")

    @property
    def bin_edges(self) -> np.ndarray:
        """Bin edges relative to the event, shape (num_bins + 1,), seconds."""
        w0, w1 = self.window
        width = (w1 - w0) if self.bin_width is None else self.bin_width
        num = int(round((w1 - w0) / width))
        return w0 + width * np.arange(num + 1)


def read_nwb(
    path: str | Path, config: NWBImportConfig | None = None, **overrides: Any
) -> xr.Dataset:
    """Read an NWB session into a trial-level recording (``source = "lab"``).

    Parameters
    ----------
    path : path-like
        The ``.nwb`` file.
    config : NWBImportConfig, optional
        Import options; keyword ``overrides`` replace single fields.

    Returns
    -------
    xarray.Dataset
        Dims ``episode``, ``step`` (= trial within the episode), ``unit`` (+ ``time_bin``).
        Variables ``action`` (int64), ``reward`` (float32), the kept trial columns,
        ``start_time``/``stop_time``/``event_time`` (s), and the activity
        ``(episode, step, unit[, time_bin])`` (float32). Coordinates ``subject`` on
        ``episode``, ``trial``/``stage`` on ``step``, ``unit_<column>`` on ``unit``.

    Raises
    ------
    NWBFormatError
        No trials table, no units table (or no such TimeSeries), unknown column names (the
        message lists the columns present), missing values, or windows outside a trial.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import neurometa as nm
    >>> rng = np.random.default_rng(0)  # 4 sessions of 100 trials, 20 units
    >>> frame = pd.DataFrame({"subject": "m1", "session": np.repeat([1, 2, 3, 4], 100),
    ...                       "trial": np.tile(np.arange(100), 4),
    ...                       "choice": rng.integers(0, 2, 400),
    ...                       "reward": rng.integers(0, 2, 400)})
    >>> ds = nm.from_dataframe(frame, "bandit")
    >>> prev_reward = ds["reward"].shift(step=1, fill_value=0) * 2 - 1  # r(t-1) coded ±1
    >>> rates = rng.normal(size=(4, 100, 20))
    >>> rates[..., :10] += prev_reward.values[..., None]  # units 0-9 code the previous reward
    >>> ds["activity"] = (("episode", "step", "unit"), rates)
    >>> ds = ds.assign_coords(unit=np.arange(20))
    >>> ds["value"] = ds["reward"].rolling(step=5, min_periods=1).mean()  # a stand-in estimate
    >>> import tempfile, pathlib
    >>> path = nm.export_nwb(ds, pathlib.Path(tempfile.mkdtemp()) / "m1.nwb")
    >>> lab = nm.read_nwb(path, timeseries="activity", window=(0.0, 0.1))
    >>> lab["activity"].shape
    (4, 100, 20)
    """
    cfg = config or NWBImportConfig()
    if overrides:
        cfg = cfg.replace(**overrides)
    path = Path(path)
    with open_nwb(path) as nwb:
        trials = trial_table(nwb, cfg)
        activity = None if cfg.behaviour_only else _activity(nwb, trials, cfg)
        meta = _session_meta(nwb, path)
    return assemble_recording(trials, activity, cfg, meta)


def _activity(nwb: Any, trials: Any, cfg: NWBImportConfig) -> dict[str, Any]:
    """Trial-aligned activity, shape (num_trials, num_units, num_bins), with unit labels."""
    starts = trials.frame["start_time"].to_numpy(float)
    stops = trials.frame["stop_time"].to_numpy(float)
    events = trials.frame[cfg.event].to_numpy(float)
    edges = events[:, None] + cfg.bin_edges[None, :]
    _check_windows(edges, starts, stops, trials.frame.index.to_numpy(), cfg)
    if cfg.timeseries is not None:
        series = find_timeseries(nwb, cfg.timeseries)
        values, unit_ids = _timeseries_means(series, edges, cfg)
        return {
            "values": values.astype(np.float32),
            "unit_ids": unit_ids,
            "coords": {},
            "attrs": {
                **_series_units(str(series.unit)),
                "long_name": f"mean of TimeSeries {cfg.timeseries!r} in {cfg.window} s "
                f"around {cfg.event}",
            },
        }
    units = units_table(nwb, cfg.units_table)
    spikes, unit_ids = unit_spike_trains(units)
    counts = np.stack([_count_spikes(s, edges) for s in spikes], axis=1)
    width = np.diff(cfg.bin_edges)[None, None, :]
    values = counts if cfg.measure == "count" else counts / width
    intervals = unit_obs_intervals(units)
    if intervals is not None:  # a unit is unknown (NaN), not silent, outside its intervals
        for u, spans in enumerate(intervals):
            values[:, u][~_observed(edges, spans)] = np.nan
    return {
        "values": values.astype(np.float32),
        "unit_ids": unit_ids,
        "coords": unit_coords(units, len(unit_ids)),
        "attrs": {
            "units": "count" if cfg.measure == "count" else "Hz",  # UDUNITS: spikes per s
            "long_name": f"spike {cfg.measure} in {cfg.window} s around {cfg.event}",
        },
    }


#: TimeSeries units that state no physical unit (NWB's default is "no unit").
_NO_UNITS = frozenset({"", "a.u.", "au", "a.u", "arbitrary", "arbitrary units", "no unit", "n/a"})


def _series_units(unit: str) -> dict[str, str]:
    """CF ``units`` of a TimeSeries' samples: arbitrary units become ``"1"`` (with a comment)."""
    if unit.strip().lower() in _NO_UNITS:
        return {"units": "1", "comment": f"the TimeSeries states no physical unit ({unit!r})"}
    return {"units": unit}


def _check_windows(
    edges: np.ndarray, starts: np.ndarray, stops: np.ndarray, ids: np.ndarray, cfg: NWBImportConfig
) -> None:
    """Raise unless every window lies inside its trial (or ``allow_outside_trial``)."""
    if cfg.allow_outside_trial:
        return
    tol = 1e-9
    bad = np.flatnonzero((edges[:, 0] < starts - tol) | (edges[:, -1] > stops + tol))
    if bad.size:
        shown = ", ".join(
            f"trial {ids[k]} [{starts[k]:.4g}, {stops[k]:.4g}] s vs window "
            f"[{edges[k, 0]:.4g}, {edges[k, -1]:.4g}] s"
            for k in bad[:3]
        )
        raise NWBFormatError(
            f"the window {cfg.window} s around {cfg.event!r} falls outside {bad.size} of "
            f"{len(ids)} trials ({shown}{', ...' if bad.size > 3 else ''}); shorten the window, "
            "align to another event, or pass allow_outside_trial (--allow-outside-trial)"
        )


def _observed(edges: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """Bins ``(num_trials, num_bins)`` lying wholly inside one of the ``spans`` ``(n, 2)``."""
    lo, hi = edges[:, :-1, None], edges[:, 1:, None]
    tol = 1e-9
    return ((lo >= spans[:, 0] - tol) & (hi <= spans[:, 1] + tol)).any(axis=-1)


def _count_spikes(spike_times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Spike counts per bin, shape (num_trials, num_bins), for sorted ``spike_times``.

    Bins are half-open ``[edges[k, b], edges[k, b + 1])``.
    """
    idx = np.searchsorted(spike_times, edges.ravel(), side="left").reshape(edges.shape)
    return np.diff(idx, axis=1).astype(np.float64)


def _timeseries_means(
    series: Any, edges: np.ndarray, cfg: NWBImportConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Mean of a TimeSeries' samples in each bin, shape (num_trials, num_units, num_bins)."""
    data = np.asarray(series.data[:])
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2:
        raise NWBFormatError(
            f"TimeSeries {series.name!r} has data of shape {data.shape}; expected "
            "(time,) or (time, unit)"
        )
    if series.timestamps is not None:
        times = np.asarray(series.timestamps[:], dtype=float)
    else:
        start = float(series.starting_time or 0.0)
        times = start + np.arange(data.shape[0]) / float(series.rate)
    lo = np.searchsorted(times, edges[:, :-1] - _SAMPLE_TOL, side="left")
    hi = np.searchsorted(times, edges[:, 1:] - _SAMPLE_TOL, side="left")
    empty = np.argwhere(hi <= lo)
    if empty.size:
        k, b = empty[0]
        raise NWBFormatError(
            f"{len(empty)} bins hold no sample of TimeSeries {series.name!r}, e.g. bin {b} of "
            f"trial {k} ([{edges[k, b]:.4g}, {edges[k, b + 1]:.4g}) s); use a wider window or "
            "bin width"
        )
    out = np.empty((edges.shape[0], data.shape[1], edges.shape[1] - 1))
    for k, b in np.ndindex(*lo.shape):
        out[k, :, b] = data[lo[k, b] : hi[k, b]].mean(axis=0, dtype=np.float64)
    return out, np.arange(data.shape[1])


def _session_meta(nwb: Any, path: Path) -> dict[str, Any]:
    """Subject and provenance of the session (NetCDF-storable attributes)."""
    subject = getattr(nwb, "subject", None)
    subject_id = getattr(subject, "subject_id", None) or "unknown"
    meta: dict[str, Any] = {
        "subject": str(subject_id),
        "nwb_file": path.name,
        "nwb_identifier": str(nwb.identifier),
        "session_description": str(nwb.session_description),
        "session_start_time": nwb.session_start_time.isoformat(),
    }
    meta.update(metadata_attrs(nwb))
    origin = exported_attrs(nwb)
    if origin is not None:
        meta["origin_attrs"] = origin
    return meta
