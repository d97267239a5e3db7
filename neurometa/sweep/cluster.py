"""Where a sweep runs: a Dask client on a local cluster, a scheduler address, or SLURM.

- ``local`` (default): :class:`distributed.LocalCluster` with worker *processes*, one thread
  each (one run at a time per worker), ``n_workers`` defaulting to the usable cores divided
  by ``threads_per_run``. Nannies restart a worker process that dies; the scheduler
  re-submits the run it was running.
- ``scheduler``: the address of a running scheduler (``tcp://host:8786``); start its workers
  with ``--nthreads 1`` so each runs one sweep run at a time.
- ``slurm``: :class:`dask_jobqueue.SLURMCluster`; each batch job holds ``processes`` workers,
  each given ``threads_per_run`` cores and one run slot (the Dask worker resource
  :data:`RUN_SLOT`), so runs never oversubscribe the cores SLURM granted.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from neurometa.config import Config, ConfigError, check_range

__all__ = ["SlurmOptions", "RUN_SLOT", "usable_cores", "open_client", "slurm_cluster"]

#: Dask worker resource that limits SLURM workers to one sweep run at a time.
RUN_SLOT = "neurometa_run"


@dataclass(frozen=True)
class SlurmOptions(Config):
    """Batch-job settings for :class:`dask_jobqueue.SLURMCluster` (one job = many workers)."""

    jobs: int = 1
    """Number of SLURM jobs to submit (total workers = jobs x processes)."""
    processes: int = 1
    """Dask worker processes per job (runs in parallel per job)."""
    queue: str = ""
    """SLURM partition (``#SBATCH -p``); empty: the cluster's default."""
    account: str = ""
    """SLURM account (``#SBATCH -A``); empty: none."""
    walltime: str = "01:00:00"
    """Job time limit, ``HH:MM:SS``."""
    memory: str = "8GB"
    """Memory per job (shared by its worker processes)."""
    job_extra_directives: tuple[str, ...] = ()
    """Extra ``#SBATCH`` lines, e.g. ``("--gres=gpu:1", "--constraint=skylake")``."""
    job_script_prologue: tuple[str, ...] = ()
    """Shell lines run before the worker starts, e.g. ``("module load cuda",
    "source .venv/bin/activate")``."""
    local_directory: str = ""
    """Scratch folder for worker spill files on the compute node; empty: Dask's default."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Any other ``SLURMCluster`` keyword arguments, passed through unchanged."""

    def __post_init__(self) -> None:
        check_range(self, "jobs", low=1)
        check_range(self, "processes", low=1)


def usable_cores() -> int:
    """CPU cores this process may run on (affinity-aware)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def slurm_cluster(options: SlurmOptions, threads_per_run: int = 1) -> Any:
    """A :class:`dask_jobqueue.SLURMCluster` sized by ``options`` (jobs are not yet submitted).

    Each job asks for ``processes * threads_per_run`` cores; each worker gets
    ``threads_per_run`` threads but one :data:`RUN_SLOT`, so it runs one sweep run at a time.
    Call ``cluster.scale(jobs=options.jobs)`` to submit the jobs.
    """
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError as err:  # pragma: no cover - dask-jobqueue is in the dist extra
        raise ConfigError(
            "--cluster slurm needs dask-jobqueue (pip install neurometa-rl[dist])"
        ) from err
    kwargs: dict[str, Any] = {
        "cores": options.processes * threads_per_run,
        "processes": options.processes,
        "memory": options.memory,
        "walltime": options.walltime,
        "worker_extra_args": ["--resources", f"{RUN_SLOT}=1"],
        "job_extra_directives": list(options.job_extra_directives),
        "job_script_prologue": list(options.job_script_prologue),
    }
    if options.queue:
        kwargs["queue"] = options.queue
    if options.account:
        kwargs["account"] = options.account
    if options.local_directory:
        kwargs["local_directory"] = options.local_directory
    clash = set(options.extra) & set(kwargs)
    if clash:
        raise ConfigError(f"SlurmOptions.extra repeats {sorted(clash)}; set those fields instead")
    kwargs.update(options.extra)
    return SLURMCluster(**kwargs)


@contextlib.contextmanager
def open_client(
    *,
    scheduler: str | None = None,
    cluster: str = "local",
    n_workers: int | None = None,
    threads_per_run: int = 1,
    slurm: SlurmOptions | None = None,
    connect_timeout_s: float = 30.0,
    dashboard_address: str = ":0",
) -> Iterator[tuple[Any, dict[str, float] | None]]:
    """Yield ``(client, resources)`` for a sweep and close what was started on exit.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running Dask scheduler; overrides ``cluster``.
    cluster : {"local", "slurm"}
        Which cluster to start when no scheduler is given.
    n_workers : int, optional
        Local worker processes (default: usable cores // ``threads_per_run``, at least 1).
    threads_per_run : int
        Cores each run uses.
    slurm : SlurmOptions, optional
        Job settings for ``cluster="slurm"``.
    connect_timeout_s : float
        Seconds to wait for ``scheduler`` before a :class:`ConfigError`.
    dashboard_address : str
        Where a local cluster serves its dashboard (``":8787"``; ``":0"``: a free port).

    Yields
    ------
    tuple
        The :class:`distributed.Client` and the per-task ``resources`` to submit with
        (``None`` except on SLURM).
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=connect_timeout_s)
        except (OSError, TimeoutError) as err:
            raise ConfigError(
                f"cannot connect to the Dask scheduler at {scheduler}: {err}"
            ) from err
        with client:
            yield client, None
        return
    if cluster == "local":
        if n_workers is not None and n_workers < 1:
            raise ConfigError(f"n_workers must be at least 1, got {n_workers}")
        workers = n_workers or max(1, usable_cores() // threads_per_run)
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=dashboard_address,
                silence_logs=40,
            ) as local,
            Client(local) as client,
        ):
            yield client, None
        return
    if cluster == "slurm":
        options = slurm or SlurmOptions()
        with slurm_cluster(options, threads_per_run) as jobs:
            jobs.scale(jobs=options.jobs)
            with Client(jobs) as client:
                yield client, {RUN_SLOT: 1}
        return
    raise ConfigError(f"unknown cluster {cluster!r}; choose 'local' or 'slurm' (or --scheduler)")
