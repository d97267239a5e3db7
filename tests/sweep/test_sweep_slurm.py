"""The SLURM path of sweeps, end to end, without a cluster.

Stand-in ``sbatch``, ``squeue`` and ``scancel`` scripts on ``PATH`` do on this machine what
SLURM would do on a compute node: ``sbatch`` runs the job script that dask-jobqueue wrote (in
its own process group, its output in a log) and prints ``Submitted batch job <id>``;
``scancel`` ends that process group. So the generated job script (its ``#SBATCH`` lines and
the worker command with the run-slot resource), the worker start and the gathering of the
results are all exercised.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
from sweep_toys import toy_score, toy_spec

from neurometa.sweep import open_results, run_sweep
from neurometa.sweep.cluster import RUN_SLOT, SlurmOptions

SBATCH = """#!/usr/bin/env bash
# stand-in sbatch: run the job script here, detached, in its own process group
set -e
script="$1"
log="{jobs}/job-$$.log"
cp "$script" "{jobs}/script-$$.sh"
setsid bash "{jobs}/script-$$.sh" > "$log" 2>&1 < /dev/null &  # jobqueue removes $script
echo "$!" > "{jobs}/pid-$$"
echo "Submitted batch job $!"
"""
SQUEUE = """#!/usr/bin/env bash
# stand-in squeue: the jobs whose process group is alive
echo "JOBID STATE"
for f in {jobs}/pid-*; do [ -e "$f" ] || continue; id=$(cat "$f");
  kill -0 "$id" 2>/dev/null && echo "$id RUNNING"; done
exit 0
"""
SCANCEL = """#!/usr/bin/env bash
# stand-in scancel: end each job's process group
for id in "$@"; do echo "$id" >> "{jobs}/cancelled"; kill -TERM -- "-$id" 2>/dev/null || true;
done
"""


@pytest.fixture
def fake_slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bin folder with the stand-in commands first on PATH; returns the jobs folder."""
    bin_dir, jobs = tmp_path / "bin", tmp_path / "jobs"
    bin_dir.mkdir()
    jobs.mkdir()
    for name, text in (("sbatch", SBATCH), ("squeue", SQUEUE), ("scancel", SCANCEL)):
        path = bin_dir / name
        path.write_text(text.format(jobs=jobs))
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    here = Path(__file__).resolve().parent  # the "node" shares the project folder
    paths = [str(here.parents[1]), str(here), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, paths)))
    return jobs


@pytest.mark.timeout(300)
def test_a_sweep_on_slurm_runs_its_job_script_and_gathers_every_result(fake_slurm, tmp_path):
    spec = toy_spec(grid={"x": (0.5, 2.0)}, seeds=(0, 1), name="slurm")
    options = SlurmOptions(
        jobs=1, processes=1, walltime="00:05:00", memory="1GB", queue="short",
        job_extra_directives=("--constraint=test",), local_directory=str(tmp_path / "scratch"),
    )  # fmt: skip
    report = run_sweep(spec, tmp_path / "out", cluster="slurm", slurm=options, progress=False)
    assert report.failed == {}
    ds = open_results(report.results_path)
    expected = [[toy_score(x, s) for s in (0, 1)] for x in (0.5, 2.0)]
    np.testing.assert_allclose(ds["score"].values, expected)
    assert (ds["status"] == "done").all()
    scripts = list(fake_slurm.glob("script-*.sh"))
    assert len(scripts) == 1  # one job submitted
    script = scripts[0].read_text()
    for line in ("#SBATCH -p short", "#SBATCH -t 00:05:00", "#SBATCH --constraint=test"):
        assert line in script
    assert f"--resources {RUN_SLOT}=1" in script
    assert "distributed.cli.dask_worker" in script
    assert len(np.unique(ds["pid"].values)) == 1  # every run in the job's one worker
    assert ds["pid"].values.flat[0] != os.getpid()
    assert (fake_slurm / "cancelled").is_file()  # the job was cancelled when the sweep ended
