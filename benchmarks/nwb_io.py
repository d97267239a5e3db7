"""Benchmark NWB import (spike counting) and export (agent recording -> NWB).

Prints, for a simulated session (``datasets/make_example_nwb.py``) the time to write it with
pynwb and to import it with :func:`neurometa.data.read_nwb` (window counts and binned counts),
and, for a synthetic agent recording, the time to export it with
:func:`neurometa.data.export_nwb` and to re-import its unit activity. Timings include
file I/O and are wall-clock on the current machine (say how loaded it was when you report).

Usage::

    python benchmarks/nwb_io.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xarray as xr

from neurometa.data import export_nwb, read_nwb
from neurometa.record.schema import SCHEMA_VERSION
from neurometa.seeding import RunSeeds

ROOT = Path(__file__).resolve().parents[1]


def _example_module():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location(
        "make_example_nwb", ROOT / "datasets" / "make_example_nwb.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_example_nwb"] = module
    spec.loader.exec_module(module)
    return module


def _agent_recording(num_episodes: int, num_trials: int, num_units: int) -> xr.Dataset:
    """A schema-valid agent-like recording with random values (bandit, one step per trial)."""
    rng = RunSeeds(0).numpy("extra")
    shape = (num_episodes, num_trials)
    policy = np.full((*shape, 2), 0.5, dtype=np.float32)
    steps = np.arange(num_trials)
    return xr.Dataset(
        {
            "action": (("episode", "step"), rng.integers(0, 2, shape)),
            "reward": (("episode", "step"), rng.integers(0, 2, shape).astype(np.float32)),
            "value": (("episode", "step"), rng.random(shape, dtype=np.float32)),
            "policy": (("episode", "step", "action_id"), policy),
            "obs": (("episode", "step", "obs_feature"), np.ones((*shape, 1), np.float32)),
            "h": (("episode", "step", "unit"), rng.random((*shape, num_units), np.float32)),
        },
        coords={
            "episode": np.arange(num_episodes),
            "step": steps,
            "trial": ("step", steps),
            "stage": ("step", np.full(num_trials, "choice")),
            "unit": np.arange(num_units),
        },
        attrs={
            "schema_version": SCHEMA_VERSION,
            "source": "agent",
            "task": "bandit",
            "preset": "bandit/independent",
            "config_json": "{}",
            "neurometa_version": "bench",
            "agent": "random",
            "seed": 0,
            "discount": 0.9,
        },
    )


def _timed(fn, repeats: int) -> float:  # noqa: ANN001
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return float(best)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    mod = _example_module()
    units, trials = (50, 100) if args.quick else (200, 300)
    episodes = 20 if args.quick else 300
    repeats = 1 if args.quick else 3
    out: dict[str, float | int] = {"units": units, "trials": trials, "agent_episodes": episodes}
    with tempfile.TemporaryDirectory() as tmp:
        lab = Path(tmp) / "lab.nwb"
        cfg = mod.ExampleConfig(num_trials=trials, num_units=units)
        out["example_write_s"] = _timed(lambda: mod.write_example(lab, cfg), repeats)
        out["example_size_mb"] = lab.stat().st_size / 1e6
        out["import_window_s"] = _timed(
            lambda: read_nwb(lab, event="cue_time", window=(0.0, 0.5)), repeats
        )
        out["import_binned_s"] = _timed(
            lambda: read_nwb(lab, event="cue_time", window=(-0.5, 1.0), bin_width=0.05), repeats
        )
        agent = _agent_recording(episodes, 100, 48)
        nwb = Path(tmp) / "agent.nwb"
        out["export_s"] = _timed(lambda: export_nwb(agent, nwb), repeats)
        out["export_size_mb"] = nwb.stat().st_size / 1e6
        out["reimport_s"] = _timed(
            lambda: read_nwb(nwb, timeseries="h", window=(0.0, 0.1), activity_name="h"), repeats
        )
    if args.json:
        print(json.dumps(out, sort_keys=True))
    else:
        for key, value in out.items():
            print(f"{key:18s} {value:.3f}" if isinstance(value, float) else f"{key:18s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
