"""Every kind of NetCDF file the toolkit writes passes the CF check of ``cf_checker``.

One module-scoped folder holds one file of each kind, made the way a user makes it (the
CLI where there is a command): agent recordings (a trained PFC agent with units, a baseline),
CSV and NWB imports, every analysis's result tables, the agent-neuron comparison, and a
sweep's ``results.nc``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cf_checker import cf_problems

from neurometa import __version__
from neurometa.cli import main
from neurometa.learn import TrainConfig, train
from neurometa.learn.config import EvalConfig, NetworkConfig, OptimConfig, TaskConfig

ROOT = Path(__file__).resolve().parents[1]


def tiny_config(preset: str = "bandit/independent", num_trials: int = 10) -> TrainConfig:
    """A training config that runs in about a second (for file-format checks, not learning)."""
    return TrainConfig(
        task=TaskConfig(preset=preset, overrides={"num_trials": num_trials}),
        network=NetworkConfig(num_units=8),
        optim=OptimConfig(num_updates=2, batch_size=4),
        eval=EvalConfig(interval=2, episodes=8),
        checkpoint_interval=1,
        workers=1,
    )


def _cli(*argv: str) -> None:
    assert main([str(a) for a in argv]) == 0, argv


def _bandit_csv(path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 60
    pd.DataFrame(
        {
            "subject": np.repeat(["m1", "m2"], n // 2),
            "trial": np.tile(np.arange(n // 2), 2),
            "choice": rng.integers(0, 2, n),
            "reward": rng.integers(0, 2, n),
            "rt_ms": rng.uniform(200, 600, n).round(1),
            "block_type": rng.integers(0, 3, n),
        }
    ).to_csv(path, index=False)
    return path


def _two_step_csv(path: Path) -> Path:
    rng = np.random.default_rng(1)
    n = 200
    choice1 = rng.integers(0, 2, n)
    common = rng.random(n) < 0.7
    pd.DataFrame(
        {
            "subject": np.repeat(["r1", "r2"], n // 2),
            "trial": np.tile(np.arange(n // 2), 2),
            "choice1": choice1,
            "state2": np.where(common, choice1, 1 - choice1),
            "choice2": rng.integers(0, 2, n),
            "reward": rng.integers(0, 2, n),
        }
    ).to_csv(path, index=False)
    return path


def _example_nwb(path: Path) -> Path:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(
        "make_example_nwb", ROOT / "datasets" / "make_example_nwb.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_example_nwb", module)
    spec.loader.exec_module(module)
    return module.write_example(path, module.ExampleConfig(num_trials=120, num_units=6), seed=0)


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    """A folder with one file of every kind the toolkit writes."""
    d = tmp_path_factory.mktemp("cf")
    run = train(tiny_config(), d / "run", seed=0, progress=False)
    _cli("record", "--run", run, "--episodes", 16, "--sample", "--out", d / "agent.nc",
         "--no-progress")  # fmt: skip
    _cli("record", "--agent", "thompson", "--task", "bandit/independent", "--episodes", 6,
         "--out", d / "baseline.nc", "--no-progress")  # fmt: skip
    _cli("record", "--agent", "hybrid", "--task", "two_step/daw2011", "--episodes", 4,
         "--task-set", "num_trials=30", "--out", d / "hybrid.nc", "--no-progress")  # fmt: skip
    _cli("import", "bandit-csv", _bandit_csv(d / "bandit.csv"), "--out", d / "bandit_lab.nc")
    _cli("import", "two-step-csv", _two_step_csv(d / "ts.csv"), "--out", d / "ts_lab.nc")
    nwb = _example_nwb(d / "example.nwb")
    _cli("import", "nwb", nwb, "--out", d / "nwb_lab.nc", "--event", "cue_time",
         "--window", "0", "0.5")  # fmt: skip
    _cli("import", "nwb", nwb, "--out", d / "nwb_binned.nc", "--event", "cue_time",
         "--window", "0", "0.5", "--bin-width", "0.25", "--measure", "count")  # fmt: skip
    _cli("export", "nwb", d / "agent.nc", "--out", d / "agent.nwb")
    _cli("import", "nwb", d / "agent.nwb", "--out", d / "agent_back.nc", "--timeseries", "h",
         "--window", "0", "0.1")  # fmt: skip
    out = d / "results"
    _cli("analyze", "coding", d / "agent.nc", "--out", out / "coding")
    _cli("analyze", "coding", d / "nwb_lab.nc", "--activity", "activity", "--out",
         out / "coding_lab")  # fmt: skip
    _cli("analyze", "regret", d / "agent.nc", d / "baseline.nc", "--out", out / "regret")
    _cli("analyze", "bandit", d / "baseline.nc", "--out", out / "bandit")
    _cli("analyze", "decode", d / "agent.nc", "--target", "action", "--out", out / "decode")
    _cli("analyze", "two-step", d / "ts_lab.nc", "--out", out / "two_step")
    _cli("analyze", "hybrid", d / "ts_lab.nc", "--restarts", 1, "--out", out / "hybrid")
    _cli("analyze", "rpe", d / "hybrid.nc", "--out", out / "rpe")
    _cli("analyze", "compare", d / "agent.nc", d / "nwb_lab.nc", "--permutations", 20,
         "--shuffles", 2, "--out", out / "compare")  # fmt: skip
    _sweep(d / "sweep")
    return d


def _sweep(out: Path) -> None:
    from distributed import Client, LocalCluster

    from neurometa.sweep import SweepSpec, run_sweep

    spec = SweepSpec.from_dict(
        {"action": "cf_toy", "base": "toy", "grid": {"x": [0.5, 1.5]}, "seeds": [0, 1]}
    )
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        run_sweep(spec, out, client=client, progress=False)


def _register_toy_action() -> None:
    from dataclasses import dataclass

    from neurometa.config import Config
    from neurometa.sweep import SweepAction, register_action

    @dataclass(frozen=True)
    class CFToy(Config):
        """The toy run's score is its seed."""

        x: float = 0.0
        """The swept parameter (unused)."""

    def run(config, run_dir, *, seed, resume):  # noqa: ANN001, ANN202
        return {"score": float(seed)}

    register_action(SweepAction("cf_toy", lambda name: CFToy(), run, "score", uses_torch=False),
                    replace=True)  # fmt: skip


_register_toy_action()


def _netcdf_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.nc"))


def test_every_file_kind_was_written(written: Path) -> None:
    names = _netcdf_files(written)
    for expected in ("agent.nc", "bandit_lab.nc", "nwb_lab.nc", "sweep/results.nc"):
        assert expected in names
    assert any(n.startswith("results/compare/") for n in names)
    assert len([n for n in names if n.startswith("results/")]) >= 15


def _failing(folder: Path, names: list[str]) -> str:
    problems = {name: cf_problems(folder / name) for name in names}
    return "\n".join(f"{n}: {p}" for n, ps in problems.items() for p in ps)


def test_recordings_imports_and_sweep_results_pass_the_cf_check(written: Path) -> None:
    names = [n for n in _netcdf_files(written) if not n.startswith("results/")]
    assert len(names) == 9  # 3 recordings, 5 imports, 1 sweep
    failing = _failing(written, names)
    assert not failing, failing


def test_analysis_results_pass_the_cf_check(written: Path) -> None:
    failing = _failing(written, [n for n in _netcdf_files(written) if n.startswith("results/")])
    assert not failing, failing


def test_history_names_the_command_and_version(written: Path) -> None:
    import xarray as xr

    with xr.open_dataset(written / "bandit_lab.nc") as ds:
        history = ds.attrs["history"]
    assert f"neurometa {__version__}: neurometa import bandit-csv" in history
    assert str(written / "bandit.csv") in history


def test_units_come_from_the_column_name_and_the_import(written: Path) -> None:
    import xarray as xr

    with xr.open_dataset(written / "bandit_lab.nc") as ds:
        assert ds["rt_ms"].attrs["units"] == "ms"
        assert "rt_ms" in ds["rt_ms"].attrs["long_name"]
    with xr.open_dataset(written / "nwb_lab.nc") as ds:
        assert ds["activity"].attrs["units"] == "Hz"
        assert ds["start_time"].attrs["units"] == "s"
        assert ds["action"].attrs["long_name"] == "chosen option (0 left, 1 right)"
        assert ds["cue_time"].attrs["units"] == "s"
        assert ds["unit_location"].attrs["long_name"] == "simulated recording area"
    with xr.open_dataset(written / "nwb_binned.nc") as ds:
        assert ds["activity"].attrs["units"] == "count"


def test_the_checker_finds_what_it_checks(tmp_path: Path) -> None:
    import xarray as xr

    bad = xr.Dataset(
        {"rate": ("index", [1.0], {"units": "spikes/s", "long_name": "rate"}), "n": ("index", [1])}
    )
    bad.to_netcdf(tmp_path / "bad.nc", engine="h5netcdf")
    problems = "\n".join(cf_problems(tmp_path / "bad.nc"))
    for part in ("Conventions", "title", "history", "generic name", "spikes/s", "'n': no long"):
        assert part in problems


def test_info_on_a_sweeps_own_results_file(written: Path, capsys) -> None:
    assert main(["info", str(written / "sweep" / "results.nc")]) == 0
    out = capsys.readouterr().out
    assert "INVALID" not in out
    assert "sweep results" in out
    assert "done=4" in out


def test_info_on_an_analysis_result(written: Path, capsys) -> None:
    import json

    path = written / "results" / "regret" / "regret_curves.nc"
    assert main(["info", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["kind"], summary["valid"]) == ("result", True)
