"""The results Dataset summary, and the SLURM and scheduler plumbing."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neurometa.cli import main
from neurometa.config import ConfigError
from neurometa.sweep import save_results, summarize_sweep, summary_table
from neurometa.sweep.cluster import SlurmOptions, slurm_cluster


def _results(scores: np.ndarray) -> xr.Dataset:
    """A results Dataset over (x, seed) with one failed run at x=0.2, seed=3."""
    ds = xr.Dataset(
        {
            "score": (("x", "seed"), scores),
            "status": (("x", "seed"), np.full((3, 4), "done", dtype="<U7")),
        },
        coords={"x": [0.1, 0.2, 0.3], "seed": np.arange(4)},
        attrs={"metric": "score", "goal": "min", "source": "sweep", "name": "t"},
    )
    ds["status"][1, 3] = "failed"  # excluded from the statistics
    return ds


def test_summary_matches_numpy_over_seeds():
    scores = np.random.default_rng(0).normal(size=(3, 4))
    ds = _results(scores)
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


def test_slurm_job_script_gives_each_run_its_cores():
    options = SlurmOptions(
        queue="short",
        account="lab",
        processes=2,
        job_extra_directives=("--gres=gpu:1",),
        extra={"scheduler_options": {"dashboard_address": ":0"}},
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


def test_unreachable_scheduler_is_a_clear_error():
    from neurometa.sweep import open_client

    with (
        pytest.raises(
            ConfigError, match="cannot connect to the Dask scheduler at tcp://127.0.0.1:9"
        ),
        open_client(scheduler="tcp://127.0.0.1:9", connect_timeout_s=1),
    ):
        pass  # pragma: no cover - never reached


def test_analyze_sweep_command_prints_and_writes_the_summary(tmp_path, capsys):
    scores = np.arange(12.0).reshape(3, 4)[::-1]  # x = 0.3 has the lowest scores
    save_results(_results(scores), tmp_path / "results.nc")
    argv = ["analyze", "sweep", str(tmp_path / "results.nc"), "--json", "--out", str(tmp_path)]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["best"]["x"] == 0.3
    assert summary["best"]["mean"] == pytest.approx(1.5)  # mean of 0, 1, 2, 3
    assert [row["x"] for row in summary["settings"]] == [0.3, 0.2, 0.1]
    assert summary["settings"][1]["mean"] == pytest.approx(5.0)  # 4, 5, 6 (7 failed)
    assert summary["num_failed"] == 1
    table = pd.read_csv(tmp_path / "results_settings.csv")
    np.testing.assert_allclose(table["mean"], [1.5, 5.0, 9.5])
    assert (tmp_path / "results_settings.png").stat().st_size > 0


def test_sweep_package_imports_without_torch_or_dask():
    code = (
        "import sys\n"
        "import neurometa.sweep, neurometa.sweep.report\n"
        "print('torch' in sys.modules, 'distributed' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False False"
