"""Sweeps on Dask: planning, run folders, a 2-worker local cluster, worker deaths, failures.

The per-run action here is a cheap deterministic toy (``score = (x - 1.5)^2 + 0.01 seed``)
so the engine is tested independently of the trainer's speed. A toy can fail on purpose,
fail once after writing a checkpoint (to test resume), or kill its worker process with
``os._exit`` on its first attempt (to test that a dead worker's run is retried).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cloudpickle
import numpy as np
import pytest
import xarray as xr

from neurometa.atomic import write_json_atomic, write_text_atomic
from neurometa.cli import main
from neurometa.config import Config, ConfigError
from neurometa.sweep import (
    RunTask,
    SweepAction,
    SweepSpec,
    collect_results,
    execute_run,
    load_spec,
    open_results,
    plan_runs,
    register_action,
    run_sweep,
    summarize_sweep,
    summary_table,
)
from neurometa.sweep.cluster import SlurmOptions, slurm_cluster

# Workers cannot import this test module: send its functions and classes by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@dataclass(frozen=True)
class ToyConfig(Config):
    """Config of the toy run."""

    x: float = 0.0
    """The swept parameter; the score is (x - 1.5)^2 + 0.01 * seed."""
    steps: int = 2
    """Checkpointed steps."""
    sleep_s: float = 0.0
    """Seconds slept per step (to make runs overlap on two workers)."""
    fail: bool = False
    """Raise ValueError at the end of every attempt."""
    fail_first_at: int = 0
    """On a fresh (non-resumed) attempt, raise RuntimeError after this step (0: never)."""
    crash: bool = False
    """On the first attempt, kill the worker process with os._exit (marker file in the run)."""


def toy_score(x: float, seed: int) -> float:
    return (x - 1.5) ** 2 + 0.01 * seed


def toy_resolve(name: str) -> ToyConfig:
    if name != "toy":
        raise ConfigError(f"unknown toy preset {name!r}")
    return ToyConfig()


def toy_run(config: ToyConfig, run_dir: Path, *, seed: int, resume: bool) -> dict[str, float]:
    if config.crash and not (run_dir / "crashed").exists():
        write_text_atomic(run_dir / "crashed", str(os.getpid()))
        os._exit(1)  # the worker process dies mid-run
    checkpoint = run_dir / "checkpoint.json"
    start = json.loads(checkpoint.read_text())["step"] if resume and checkpoint.exists() else 0
    for step in range(start, config.steps):
        time.sleep(config.sleep_s)
        write_json_atomic(checkpoint, {"step": step + 1})
        if not resume and config.fail_first_at == step + 1:
            raise RuntimeError(f"planted interruption after step {step + 1}")
    if config.fail:
        raise ValueError(f"planted failure for x={config.x}")
    return {"score": toy_score(config.x, seed), "start_step": start, "pid": os.getpid()}


def toy_torch_run(config: ToyConfig, run_dir: Path, *, seed: int, resume: bool) -> dict:
    import torch

    return {"torch_threads": torch.get_num_threads()}


register_action(SweepAction("toy", toy_resolve, toy_run, "score", uses_torch=False), replace=True)
register_action(SweepAction("toy_torch", toy_resolve, toy_torch_run), replace=True)


def toy_spec(**changes) -> SweepSpec:
    base = {"action": "toy", "base": "toy", "grid": {"x": (0.5, 1.5, 2.0)}, "seeds": (0, 1)}
    return SweepSpec.from_dict({**base, **changes})


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster) as dask_client,
    ):
        yield dask_client


# ---------------------------------------------------------------- planning (no cluster)


def test_plan_runs_grid_times_seeds():
    spec = toy_spec(grid={"x": (0.5, 1.5), "steps": (1, 2, 3)}, seeds=(0, 4))
    runs = plan_runs(spec)
    assert spec.num_runs == len(runs) == 12
    assert len({r.run_id for r in runs}) == 12
    assert runs[0].overrides == {"x": 0.5, "steps": 1}
    assert runs[0].seed == 0
    assert runs[-1].overrides == {"x": 1.5, "steps": 3}
    assert runs[-1].seed == 4
    assert runs[-1].index == (1, 2)
    assert runs[0].run_id == "steps=1__x=0.5__seed=0"


def test_plan_runs_settings_cross_grid():
    spec = toy_spec(grid={"x": (0.0, 1.0)}, settings=({"steps": 1}, {"steps": 5, "fail": True}))
    runs = plan_runs(spec)
    assert len(runs) == 2 * 2 * 2
    assert runs[4].overrides == {"steps": 5, "fail": True, "x": 0.0}
    assert runs[4].index == (1, 0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"seeds": (1, 1)}, "duplicates"),
        ({"seeds": ()}, "at least one seed"),
        ({"grid": {"x": ()}}, "no values"),
        ({"grid": {"x": (1.0, 1.0)}}, "duplicate values"),
        ({"settings": ({"x": 3.0},)}, "grid also sweeps"),
        ({"goal": "best"}, "goal"),
        ({"threads_per_run": 0}, "threads_per_run"),
    ],
    ids=["dup-seeds", "no-seeds", "empty-grid", "dup-grid", "clash", "goal", "threads"],
)
def test_spec_rejects_bad_input(changes, message):
    with pytest.raises(ConfigError, match=message):
        toy_spec(**changes)


def test_load_spec_file_is_strict(tmp_path):
    path = tmp_path / "spec.json"
    write_json_atomic(path, {"action": "toy", "base": "toy", "seed": [0]})
    with pytest.raises(ConfigError, match="unknown key 'seed'.*did you mean 'seeds'"):
        load_spec(path)
    with pytest.raises(ConfigError, match="neither a file nor a preset; presets: demo"):
        load_spec(tmp_path / "missing.json", presets={"demo": toy_spec()})


def test_bad_override_fails_before_any_cluster(tmp_path):
    spec = toy_spec(grid={"xx": (1.0,)})
    with pytest.raises(ConfigError, match="override xx=1.0: ToyConfig: unknown key 'xx'"):
        run_sweep(spec, tmp_path, scheduler="tcp://127.0.0.1:9", progress=False)
    assert not (tmp_path / "runs").exists()


# ---------------------------------------------------------------- one run (no cluster)


def _task(tmp_path: Path, action: str = "toy", threads: int = 1, **config) -> RunTask:
    from neurometa.sweep import get_action

    return RunTask(
        "r", str(tmp_path / "r"), get_action(action), ToyConfig(**config), 3, {}, threads
    )


def test_execute_run_writes_done_marker_then_skips(tmp_path):
    task = _task(tmp_path, x=2.0)
    first = execute_run(task)
    assert first["status"] == "done"
    assert not first["skipped"]
    assert first["results"]["score"] == pytest.approx(toy_score(2.0, 3))
    stored = json.loads((tmp_path / "r" / "result.json").read_text())
    assert stored["results"] == first["results"]
    second = execute_run(task)
    assert second["skipped"]
    assert second["results"] == first["results"]
    assert len(json.loads((tmp_path / "r" / "run.json").read_text())["attempts"]) == 1


def test_execute_run_records_error_with_traceback(tmp_path):
    outcome = execute_run(_task(tmp_path, x=0.25, fail=True))
    assert outcome["status"] == "failed"
    assert outcome["error_type"] == "ValueError"
    error = json.loads((tmp_path / "r" / "error.json").read_text())
    assert error["message"] == "planted failure for x=0.25"
    assert "in toy_run" in error["traceback"]
    assert "ValueError" in error["traceback"]
    assert not (tmp_path / "r" / "result.json").exists()


def test_execute_run_resumes_from_checkpoint(tmp_path):
    task = _task(tmp_path, steps=4, fail_first_at=2)
    assert execute_run(task)["status"] == "failed"
    assert json.loads((tmp_path / "r" / "checkpoint.json").read_text()) == {"step": 2}
    outcome = execute_run(task)
    assert outcome["status"] == "done"
    assert outcome["attempt"] == 2
    assert outcome["results"]["start_step"] == 2  # resumed, not restarted
    assert not (tmp_path / "r" / "error.json").exists()


def test_execute_run_limits_torch_threads(tmp_path):
    import torch

    before = torch.get_num_threads()
    outcome = execute_run(_task(tmp_path, action="toy_torch", threads=2))
    assert outcome["results"]["torch_threads"] == 2
    assert torch.get_num_threads() == before


def test_action_returning_non_numbers_fails_clearly(tmp_path):
    bad = SweepAction("toy_bad", toy_resolve, lambda c, d, *, seed, resume: {"a": "x"}, "a")
    task = RunTask("r", str(tmp_path / "r"), bad, ToyConfig(), 0)
    outcome = execute_run(task)
    assert outcome["status"] == "failed"
    assert outcome["message"] == "action 'toy_bad': result 'a' = 'x' is not a number"


# ---------------------------------------------------------------- sweeps on a 2-worker cluster


def test_small_sweep_completes_with_ground_truth(client, tmp_path):
    spec = toy_spec(grid={"x": (0.5, 1.5, 2.0), "sleep_s": (0.1,)}, seeds=(0, 1), name="t")
    report = run_sweep(spec, tmp_path, client=client, progress=False)
    assert (report.num_runs, report.num_submitted, report.num_skipped) == (6, 6, 0)
    assert report.failed == {}
    ds = open_results(report.results_path)
    assert ds["score"].dims == ("x", "sleep_s", "seed")
    expected = [[[toy_score(x, s) for s in (0, 1)]] for x in (0.5, 1.5, 2.0)]
    np.testing.assert_allclose(ds["score"].values, expected)
    assert (ds["status"] == "done").all()
    assert (ds["attempts"] == 1).all()
    assert len(np.unique(ds["pid"].values)) == 2  # both workers ran runs
    assert report.summary["best"]["x"] == 1.5
    assert report.summary["best"]["mean"] == pytest.approx(0.005)
    stored = SweepSpec.load(tmp_path / "sweep.json")
    assert stored == spec.replace(metric="score")  # the action filled in its metric
    xr.testing.assert_identical(ds, collect_results(stored, tmp_path / "runs"))


def test_second_invocation_does_no_repeated_work(client, tmp_path):
    spec = toy_spec()
    first = run_sweep(spec, tmp_path, client=client, progress=False)
    mtimes = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").rglob("result.json")}
    # An unreachable scheduler proves that no cluster is contacted when all runs are done.
    second = run_sweep(spec, tmp_path, scheduler="tcp://127.0.0.1:9", progress=False)
    assert (second.num_submitted, second.num_skipped) == (0, first.num_runs)
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes
    ds = open_results(second.results_path)
    assert (ds["attempts"] == 1).all()
    assert second.summary == first.summary


def test_worker_killed_mid_run_is_retried(client, tmp_path):
    spec = toy_spec(settings=({"crash": True}, {"crash": False}), grid={"x": (1.0,)}, seeds=(0,))
    report = run_sweep(spec, tmp_path, client=client, progress=False)
    assert report.failed == {}
    ds = open_results(report.results_path)
    assert (ds["status"] == "done").all()
    crashed = ds.sel(setting=0, x=1.0, seed=0)
    assert int(crashed["attempts"]) == 2
    run_dir = tmp_path / "runs" / str(crashed["run_id"].values)
    attempts = json.loads((run_dir / "run.json").read_text())["attempts"]
    assert int((run_dir / "crashed").read_text()) == attempts[0]["pid"] != attempts[1]["pid"]
    assert float(crashed["score"]) == pytest.approx(toy_score(1.0, 0))
    client.wait_for_workers(2, timeout=30)  # the nanny restarted the dead worker


def test_failing_run_is_reported_while_others_finish(client, tmp_path):
    spec = toy_spec(settings=({"fail": False}, {"fail": True}), grid={"x": (0.5, 2.0)})
    report = run_sweep(spec, tmp_path, client=client, progress=False)
    bad = {r.run_id for r in plan_runs(spec) if r.overrides["fail"]}
    assert set(report.failed) == bad
    assert all(msg.startswith("ValueError: planted failure") for msg in report.failed.values())
    ds = open_results(report.results_path)
    assert (ds["status"].sel(setting=1) == "failed").all()
    assert ds["score"].sel(setting=1).isnull().all()
    np.testing.assert_allclose(
        ds["score"].sel(setting=0).values, [[toy_score(x, s) for s in (0, 1)] for x in (0.5, 2.0)]
    )
    assert report.summary["num_failed"] == 4
    assert report.summary["num_done"] == 4
    row = report.summary["settings"][-1]
    assert (row["n_done"], row["n_failed"]) == (0, 2)
    assert row["mean"] is None


# ---------------------------------------------------------------- results and summary


def test_summary_matches_numpy_over_seeds():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(3, 4))
    ds = xr.Dataset(
        {
            "score": (("x", "seed"), scores),
            "status": (("x", "seed"), np.full((3, 4), "done", dtype="<U7")),
        },
        coords={"x": [0.1, 0.2, 0.3], "seed": np.arange(4)},
        attrs={"metric": "score", "goal": "min", "source": "sweep"},
    )
    ds["status"][1, 3] = "failed"  # excluded from the statistics
    table = summary_table(ds)
    kept = [scores[0], scores[1, :3], scores[2]]
    means = np.array([k.mean() for k in kept])
    order = np.argsort(means)
    np.testing.assert_allclose(table["x"], np.array([0.1, 0.2, 0.3])[order])
    np.testing.assert_allclose(table["mean"], means[order])
    np.testing.assert_allclose(table["std"], [kept[i].std(ddof=1) for i in order])
    np.testing.assert_allclose(
        table["sem"], [kept[i].std(ddof=1) / np.sqrt(kept[i].size) for i in order]
    )
    assert summary_table(ds, goal="max")["x"].iloc[0] == [0.1, 0.2, 0.3][order[-1]]
    summary = summarize_sweep(ds)
    assert summary["best"]["x"] == [0.1, 0.2, 0.3][order[0]]
    assert summary["num_failed"] == 1
    with pytest.raises(ValueError, match="metric 'loss' is not a result of this sweep"):
        summary_table(ds, metric="loss")


def test_config_conflict_in_existing_run_folder(tmp_path):
    spec = toy_spec(grid={"x": (1.0,)}, seeds=(0,))
    run = plan_runs(spec)[0]
    write_json_atomic(
        tmp_path / "runs" / run.run_id / "run.json",
        {"config": ToyConfig(x=1.0, steps=9).to_dict()},
    )
    with pytest.raises(ConfigError, match="was made with a different config"):
        run_sweep(spec, tmp_path, scheduler="tcp://127.0.0.1:9", progress=False)


def test_slurm_job_script_gives_each_run_its_cores():
    options = SlurmOptions(
        queue="short",
        account="lab",
        processes=2,
        job_extra_directives=("--gres=gpu:1",),
        extra={"scheduler_options": {"dashboard_address": None}},
    )
    cluster = slurm_cluster(options, threads_per_run=4)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in (
        "#SBATCH -p short",
        "#SBATCH -A lab",
        "#SBATCH --cpus-per-task=8",
        "#SBATCH --gres=gpu:1",
    ):
        assert line in script
    assert "--nthreads 4" in script
    assert "--nworkers 2" in script
    assert "--resources neurometa_run=1" in script


# ---------------------------------------------------------------- command line


def test_cli_sweep_runs_then_skips_on_rerun(client, tmp_path, capsys):
    spec_path = tmp_path / "spec.json"
    toy_spec(grid={"x": (1.0, 2.5)}, seeds=(0, 1)).save(spec_path)
    argv = ["sweep", str(spec_path), "--out", str(tmp_path / "out"), "--no-progress", "--json"]
    argv += ["--scheduler", client.scheduler.address]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["submitted"], first["skipped"]) == (4, 0)
    assert first["summary"]["best"]["x"] == 1.0
    assert first["summary"]["best"]["mean"] == pytest.approx(0.25 + 0.005)
    assert main(argv) == 0
    second = json.loads(capsys.readouterr().out)
    assert (second["submitted"], second["skipped"]) == (0, 4)
    assert main(argv[:-3]) == 0  # text summary, nothing to run
    text = capsys.readouterr().out
    assert "4/4 runs done, 0 failed" in text
    assert "ranked by min mean score" in text


def test_cli_sweep_reports_bad_spec(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "nope.json"), "--out", str(tmp_path)]) == 2
    assert "is neither a file nor a preset" in capsys.readouterr().err
