"""Run a sweep on Dask: one task per run, resumable, failures recorded, results gathered.

:func:`run_sweep` expands the spec, resolves every run's config on the client (a bad
override fails before any cluster starts), skips runs whose folder holds the done marker,
submits the others as one Dask task each (``retries=spec.retries``; a worker process that
dies has its task re-scheduled by the scheduler and its nanny restarts it), shows a progress
bar over runs as they complete, then gathers all run folders into ``results.nc`` and writes
``summary.json``.

Output folder::

    OUT/sweep.json      the spec
    OUT/runs/<run_id>/  one folder per run (see neurometa.sweep.runner)
    OUT/results.nc      the results Dataset (see neurometa.sweep.results)
    OUT/summary.json    best setting, mean and spread over seeds
"""

from __future__ import annotations

import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurometa.atomic import write_json_atomic
from neurometa.config import ConfigError
from neurometa.sweep.actions import SweepAction, get_action, resolve_config
from neurometa.sweep.cluster import SlurmOptions, open_client
from neurometa.sweep.results import collect_results, save_results, summarize_sweep
from neurometa.sweep.runner import (
    ERROR_FILE,
    RESULT_FILE,
    RUN_FILE,
    RunTask,
    execute_run,
    read_json,
)
from neurometa.sweep.spec import SweepSpec, plan_runs

__all__ = ["SweepReport", "run_sweep", "prepare_tasks"]


@dataclass
class SweepReport:
    """What one invocation of :func:`run_sweep` did."""

    out_dir: Path
    """The sweep's output folder."""
    results_path: Path
    """The results Dataset (NetCDF)."""
    num_runs: int
    """Runs in the sweep."""
    num_skipped: int
    """Runs already done before this invocation (not submitted)."""
    num_submitted: int
    """Runs submitted to the cluster by this invocation."""
    failed: dict[str, str] = field(default_factory=dict)
    """Run id -> one-line error, for runs that failed in this invocation."""
    wall_time_s: float = 0.0
    """Seconds this invocation took (cluster start-up included)."""
    summary: dict[str, Any] = field(default_factory=dict)
    """:func:`neurometa.sweep.results.summarize_sweep` of the results."""


def prepare_tasks(
    spec: SweepSpec, out_dir: Path, action: SweepAction | None = None
) -> tuple[list[RunTask], int]:
    """Resolve every run's config and return (tasks not yet done, number already done).

    Raises
    ------
    ConfigError
        For a bad override, or a run folder that was made with a different config.
    """
    action = action or get_action(spec.action)
    runs_dir = out_dir / "runs"
    tasks, num_done = [], 0
    for run in plan_runs(spec):
        config = resolve_config(action, spec.base, run.overrides)
        run_dir = runs_dir / run.run_id
        previous = read_json(run_dir / RUN_FILE)
        if previous is not None and previous["config"] != config.to_dict():
            raise ConfigError(
                f"run folder {run_dir} was made with a different config (base preset or "
                "action changed?); use a fresh --out or delete that folder"
            )
        if (run_dir / RESULT_FILE).is_file():
            num_done += 1
            continue
        tasks.append(
            RunTask(
                run_id=run.run_id,
                run_dir=str(run_dir),
                action=action,
                config=config,
                seed=run.seed,
                overrides=dict(run.overrides),
                threads=spec.threads_per_run,
            )
        )
    return tasks, num_done


def _record_lost_run(task: RunTask, err: BaseException) -> str:
    """Write ``error.json`` for a run whose Dask task itself failed (e.g. KilledWorker)."""
    run_dir = Path(task.run_dir)
    message = f"{type(err).__name__}: {err}"
    if not (run_dir / RESULT_FILE).is_file():
        record = {
            "status": "failed",
            "run_id": task.run_id,
            "error_type": type(err).__name__,
            "message": str(err),
            "traceback": "".join(traceback.format_exception(err)),
            "attempt": None,
            "lost_by_cluster": True,
        }
        write_json_atomic(run_dir / ERROR_FILE, record)
    return message


def _submit_and_wait(
    client: Any,
    tasks: list[RunTask],
    resources: dict[str, float] | None,
    spec: SweepSpec,
    progress: bool,
) -> dict[str, str]:
    """Submit one task per run, follow them with a progress bar, return failures."""
    from distributed import as_completed
    from tqdm.auto import tqdm

    token = uuid.uuid4().hex[:8]
    futures = {
        client.submit(
            execute_run,
            task,
            key=f"neurometa-sweep-{token}-{task.run_id}",
            pure=False,
            retries=spec.retries,
            resources=resources,
        ): task
        for task in tasks
    }
    failed: dict[str, str] = {}
    bar = tqdm(
        total=len(tasks),
        desc=f"sweep {spec.name}",
        unit="run",
        file=sys.stderr,
        disable=not progress,
    )
    with bar:
        for future in as_completed(futures):
            task = futures.pop(future)
            if future.status != "finished":  # the task itself failed or was cancelled
                err = future.exception() if future.status == "error" else None
                err = err or RuntimeError(f"the Dask task was {future.status}")
                failed[task.run_id] = _record_lost_run(task, err)
            else:
                outcome = future.result()
                if outcome["status"] == "failed":
                    failed[task.run_id] = f"{outcome['error_type']}: {outcome['message']}"
            future.release()
            bar.set_postfix(failed=len(failed), refresh=False)
            bar.update(1)
    return failed


def run_sweep(
    spec: SweepSpec,
    out_dir: str | Path,
    *,
    client: Any = None,
    scheduler: str | None = None,
    cluster: str = "local",
    n_workers: int | None = None,
    slurm: SlurmOptions | None = None,
    progress: bool = True,
    dashboard_address: str = ":0",
) -> SweepReport:
    """Run every (setting, seed) of ``spec`` not yet done, then gather and summarise.

    Parameters
    ----------
    spec : SweepSpec
        The sweep.
    out_dir : path-like
        Output folder (must be on a file system the workers share).
    client : distributed.Client, optional
        Use this client (and its cluster); nothing is started or closed.
    scheduler : str, optional
        Address of a running scheduler (used when ``client`` is None).
    cluster : {"local", "slurm"}
        Cluster to start when neither ``client`` nor ``scheduler`` is given.
    n_workers : int, optional
        Local worker processes (default: cores // ``spec.threads_per_run``).
    slurm : SlurmOptions, optional
        SLURM job settings for ``cluster="slurm"``.
    progress : bool
        Show a progress bar over runs (and the dashboard's address) on stderr.
    dashboard_address : str
        Dashboard of a local cluster (``":8787"``; default ``":0"``, a free port).

    Returns
    -------
    SweepReport
        Counts, failures of this invocation, the results path and the summary. No cluster is
        started when every run is already done.

    Examples
    --------
    >>> import tempfile
    >>> from distributed import Client
    >>> import neurometa as nm
    >>> spec = nm.SweepSpec(action="train", base="bandit/independent", seeds=(0, 1),
    ...                     overrides={"optim.num_updates": 2, "optim.batch_size": 16,
    ...                                "workers": 1, "eval.episodes": 16})
    >>> out = tempfile.mkdtemp()
    >>> with Client(processes=False, n_workers=1, dashboard_address=":0") as client:
    ...     report = nm.run_sweep(spec, out, client=client, progress=False)
    >>> results = nm.open_results(f"{out}/results.nc")
    >>> results.sizes["seed"]
    2
    """
    start = time.perf_counter()
    out = Path(out_dir).resolve()
    action = get_action(spec.action)
    if not spec.metric and action.metric:
        spec = spec.replace(metric=action.metric, goal=action.goal)
    action.check_metric(spec.metric)  # a misspelt metric is refused before anything runs
    tasks, num_done = prepare_tasks(spec, out, action)
    spec.save(out / "sweep.json")
    failed: dict[str, str] = {}
    if tasks and client is not None:
        failed = _submit_and_wait(client, tasks, None, spec, progress)
    elif tasks:
        with open_client(
            scheduler=scheduler,
            cluster=cluster,
            n_workers=n_workers,
            threads_per_run=spec.threads_per_run,
            slurm=slurm,
            dashboard_address=dashboard_address,
        ) as (own_client, resources):
            if progress:
                print(f"Dask dashboard: {own_client.dashboard_link}", file=sys.stderr)
            failed = _submit_and_wait(own_client, tasks, resources, spec, progress)
    results = collect_results(spec, out / "runs")
    results_path = save_results(results, out / "results.nc")
    try:
        summary = summarize_sweep(results)
    except ValueError as err:
        raise ConfigError(f"results saved to {results_path}, but cannot summarise: {err}") from err
    write_json_atomic(out / "summary.json", summary)
    return SweepReport(
        out_dir=out,
        results_path=results_path,
        num_runs=spec.num_runs,
        num_skipped=num_done,
        num_submitted=len(tasks),
        failed=failed,
        wall_time_s=time.perf_counter() - start,
        summary=summary,
    )
