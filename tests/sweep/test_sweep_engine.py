"""Sweeps on a 2-worker local cluster: completion, re-runs, worker deaths, failures, CLI."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import xarray as xr
from sweep_toys import ToyConfig, toy_score, toy_spec

from neurometa.atomic import write_json_atomic
from neurometa.cli import main
from neurometa.config import ConfigError
from neurometa.sweep import (
    SweepSpec,
    collect_results,
    open_results,
    plan_runs,
    run_sweep,
)


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
    collected_again = collect_results(stored, tmp_path / "runs")  # a later history line
    xr.testing.assert_identical(ds, collected_again.assign_attrs(history=ds.attrs["history"]))


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


def test_config_conflict_in_existing_run_folder(tmp_path):
    spec = toy_spec(grid={"x": (1.0,)}, seeds=(0,))
    run = plan_runs(spec)[0]
    write_json_atomic(
        tmp_path / "runs" / run.run_id / "run.json",
        {"config": ToyConfig(x=1.0, steps=9).to_dict()},
    )
    with pytest.raises(ConfigError, match="was made with a different config"):
        run_sweep(spec, tmp_path, scheduler="tcp://127.0.0.1:9", progress=False)


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


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--slurm-queue", "short"], "--slurm-queue applies only with --cluster slurm"),
        (["--scheduler", "tcp://h:1", "--workers", "2"], "drop --cluster/--workers"),
    ],
    ids=["slurm-flag-on-local", "scheduler-and-workers"],
)
def test_cli_sweep_refuses_ignored_options(tmp_path, capsys, extra, message):
    assert main(["sweep", "quick/bandit", "--out", str(tmp_path), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_cli_sweep_reports_bad_spec(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "nope.json"), "--out", str(tmp_path)]) == 2
    assert "is neither a file nor a preset" in capsys.readouterr().err


def test_run_lost_with_its_worker_is_recorded_then_finished_on_rerun(client, tmp_path, capsys):
    import dask
    from distributed import LocalCluster

    spec = toy_spec(grid={"x": (1.0,), "crash": (True,)}, seeds=(0,))
    spec.save(tmp_path / "spec.json")
    argv = ["sweep", str(tmp_path / "spec.json"), "--out", str(tmp_path / "out"), "--no-progress"]
    # allowed-failures = 0: the scheduler gives up on a run the first time its worker dies.
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            dashboard_address=":0",
            silence_logs=logging.CRITICAL,
        ) as fragile,
    ):
        assert main([*argv, "--scheduler", fragile.scheduler_address]) == 1
    crashed = plan_runs(spec)[0].run_id
    assert f"failed: {crashed}: KilledWorker" in capsys.readouterr().err
    error = json.loads((tmp_path / "out" / "runs" / crashed / "error.json").read_text())
    assert error["error_type"] == "KilledWorker"
    assert error["lost_by_cluster"] is True
    ds = open_results(tmp_path / "out" / "results.nc")
    assert ds["status"].values.ravel().tolist() == ["failed"]
    assert main([*argv, "--scheduler", client.scheduler.address]) == 0  # resumes the lost run
    ds = open_results(tmp_path / "out" / "results.nc")
    assert ds["status"].values.ravel().tolist() == ["done"]
    assert ds["attempts"].values.ravel().tolist() == [2]
    assert not (tmp_path / "out" / "runs" / crashed / "error.json").exists()
