"""Sweeps of seeds x configurations on Dask: resumable, fault-tolerant, one result dataset.

A :class:`SweepSpec` names a per-run action (``train``, ...), a base preset, a grid and/or
list of dotted overrides, and seeds. :func:`run_sweep` runs each (setting, seed) as one Dask
task in its own folder, skips finished runs, resumes interrupted ones, records failures
without stopping the others, and gathers everything into one :class:`xarray.Dataset` with
the swept parameters and ``seed`` as dims (``results.nc``) plus a summary over seeds.

Dask is imported only when a sweep runs; the results and summary functions need neither
Dask nor torch. See ``docs/sweeps.md`` for local clusters, scheduler addresses and SLURM.
"""

from neurometa.sweep.actions import ACTIONS, SweepAction, get_action, register_action
from neurometa.sweep.cluster import SlurmOptions, open_client
from neurometa.sweep.engine import SweepReport, run_sweep
from neurometa.sweep.presets import SWEEP_PRESETS
from neurometa.sweep.results import (
    collect_results,
    format_summary,
    open_results,
    save_results,
    summarize_sweep,
    summary_table,
)
from neurometa.sweep.runner import RunTask, execute_run
from neurometa.sweep.spec import RunPlan, SweepSpec, load_spec, plan_runs

__all__ = [
    "ACTIONS",
    "SWEEP_PRESETS",
    "RunPlan",
    "RunTask",
    "SlurmOptions",
    "SweepAction",
    "SweepReport",
    "SweepSpec",
    "collect_results",
    "execute_run",
    "format_summary",
    "get_action",
    "load_spec",
    "open_client",
    "open_results",
    "plan_runs",
    "register_action",
    "run_sweep",
    "save_results",
    "summarize_sweep",
    "summary_table",
]
