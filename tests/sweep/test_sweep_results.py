"""The results Dataset summary, and the SLURM and scheduler plumbing."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from neurometa.config import ConfigError
from neurometa.sweep import (
    summarize_sweep,
    summary_table,
)
from neurometa.sweep.cluster import SlurmOptions, slurm_cluster


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
