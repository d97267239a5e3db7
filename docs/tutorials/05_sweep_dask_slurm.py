# %% [markdown]
# # 5. A sweep on Dask: locally now, on a SLURM cluster later
#
# Meta-RL results are believable only over seeds and settings. A `SweepSpec` names what
# each run does (the `train` action: train a preset and report its final evaluation), the
# base preset, a grid of dotted overrides and the seeds. `run_sweep` runs every
# (setting, seed) as one Dask task in its own folder, skips finished runs, resumes
# interrupted ones, records failures without stopping the others and gathers everything
# into one `xarray.Dataset` with the swept parameters and `seed` as dimensions.

# %%
import os
import tempfile

import neurometa as nm
from neurometa.sweep import plan_runs

QUICK = os.environ.get("NEUROMETA_TUTORIAL_QUICK") == "1"
work = tempfile.mkdtemp(prefix="neurometa-tutorial-")

# %%
spec = nm.SweepSpec(
    action="train",
    base="bandit/independent",
    overrides={
        "workers": 1,
        "optim.batch_size": 32 if QUICK else 256,
        "optim.num_updates": 5 if QUICK else 1000,
        "eval.episodes": 32 if QUICK else 1000,
    },
    grid={"optim.learning_rate": (0.003, 0.008)},
    seeds=(0, 1),
    metric="final_regret",
    goal="min",
)
[run.run_id for run in plan_runs(spec)]

# %% [markdown]
# ## Locally
# With no client, `run_sweep` starts a local cluster of worker *processes*, one per core,
# and closes it at the end (from a script, such processes re-import it: keep the call under
# `if __name__ == "__main__":`). Here we pass a client of two worker *threads*, which needs
# no guard and works the same in a notebook and a script.

# %%
from distributed import Client

with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as client:
    report = nm.run_sweep(spec, f"{work}/lr", client=client, progress=False)
print(f"{report.num_submitted} runs run, {len(report.failed)} failed; {report.wall_time_s:.0f} s")

# %% [markdown]
# The results: one variable per reported figure, dims = swept parameters × seed. Running
# the same sweep again finds every run done and starts no cluster.

# %%
results = nm.open_results(f"{work}/lr/results.nc")
results["final_regret"].to_pandas().round(2)

# %%
from neurometa.sweep import summary_table
from neurometa.sweep.report import plot_settings

table = summary_table(results, "final_regret", "min")
plot_settings(table)
table

# %% [markdown]
# ## On a SLURM cluster: what changes
# Only where the workers come from. The spec, the output folder layout, resuming and the
# results are the same; the output folder must be on a file system the compute nodes share.
# From the command line:
#
# ```bash
# neurometa sweep my_sweep.json --out /shared/sweeps/lr --cluster slurm \
#     --slurm-jobs 10 --slurm-queue gpu --slurm-walltime 04:00:00
# ```
#
# From Python, `run_sweep(spec, out, cluster="slurm", slurm=SlurmOptions(...))` submits the
# jobs through dask-jobqueue and closes them at the end. Each job runs `processes` worker
# processes of `threads_per_run` cores, each running one sweep run at a time. This is the
# batch script the options below would submit (nothing is submitted here):

# %%
from neurometa.sweep import SlurmOptions
from neurometa.sweep.cluster import slurm_cluster

options = SlurmOptions(
    jobs=10,
    processes=4,
    queue="cpu",
    walltime="04:00:00",
    memory="16GB",
    job_script_prologue=("source ~/neurometa/.venv/bin/activate",),
)
slurm = slurm_cluster(options, threads_per_run=1)
print(slurm.job_script())
slurm.close()

# %% [markdown]
# Or start a scheduler yourself (`dask scheduler` on a login node, `dask worker` in your own
# job scripts) and point the sweep at it with `scheduler="tcp://host:8786"`
# (`--scheduler` on the command line). See the sweeps guide for resources and retries.
