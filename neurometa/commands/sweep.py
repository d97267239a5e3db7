"""``neurometa sweep SPEC --out DIR``: seeds x configurations on Dask, resumable.

SPEC is a JSON sweep spec (see ``docs/sweeps.md``) or the name of a sweep preset. Runs go to
a local cluster by default (``--workers``), to a running scheduler (``--scheduler ADDRESS``)
or to SLURM batch jobs (``--cluster slurm --slurm-queue ...``). Re-running the same command
skips finished runs and resumes interrupted ones. The exit status is 1 when any run failed
(each failed run has an ``error.json`` with its traceback).
"""

from __future__ import annotations

import argparse
import sys

from neurometa.cli import CLIError, add_json_flag, emit_json
from neurometa.config import ConfigError

NAME = "sweep"
HELP = "run a sweep of seeds x configurations on Dask (local cluster, scheduler or SLURM)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``neurometa sweep``."""
    parser.add_argument(
        "spec", nargs="?", metavar="SPEC", help="sweep spec JSON file or sweep preset name"
    )
    parser.add_argument("--out", metavar="DIR", help="output folder (shared by all workers)")
    parser.add_argument("--list", action="store_true", help="list sweep presets and actions")
    where = parser.add_argument_group("where runs go")
    where.add_argument(
        "--scheduler", metavar="ADDRESS", help="address of a running Dask scheduler (tcp://...)"
    )
    where.add_argument(
        "--cluster", choices=("local", "slurm"), default="local", help="cluster to start"
    )
    where.add_argument(
        "--workers", type=int, metavar="N", help="local worker processes (default: cores)"
    )
    where.add_argument(
        "--dashboard",
        default=":0",
        metavar="ADDRESS",
        help="local dashboard address (default: a free port)",
    )
    where.add_argument(
        "--threads-per-run", type=int, metavar="N", help="cores each run uses (overrides the spec)"
    )
    slurm = parser.add_argument_group("SLURM (--cluster slurm, via dask-jobqueue)")
    slurm.add_argument(
        "--slurm-jobs", type=int, default=1, metavar="N", help="batch jobs to submit"
    )
    slurm.add_argument(
        "--slurm-processes", type=int, default=1, metavar="N", help="workers per job"
    )
    slurm.add_argument("--slurm-queue", default="", metavar="NAME", help="partition (#SBATCH -p)")
    slurm.add_argument("--slurm-account", default="", metavar="NAME", help="account (#SBATCH -A)")
    slurm.add_argument(
        "--slurm-walltime", default="01:00:00", metavar="HH:MM:SS", help="job time limit"
    )
    slurm.add_argument("--slurm-memory", default="8GB", metavar="SIZE", help="memory per job")
    slurm.add_argument(
        "--slurm-directive",
        action="append",
        default=[],
        metavar="LINE",
        help="extra #SBATCH line (repeat)",
    )
    slurm.add_argument(
        "--slurm-prologue",
        action="append",
        default=[],
        metavar="LINE",
        help="shell line before the worker",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_json_flag(parser)


def _list() -> int:
    from neurometa.sweep import SWEEP_PRESETS, get_action
    from neurometa.sweep.actions import ACTIONS

    get_action("train")  # registers the built-in actions
    print("sweep presets:")
    for name, spec in sorted(SWEEP_PRESETS.items()):
        print(f"  {name}: {spec.action} {spec.base}, {spec.num_runs} runs")
    print("actions:")
    for name, action in sorted(ACTIONS.items()):
        print(f"  {name}: {action.description}")
    return 0


def _check_placement(args: argparse.Namespace) -> None:
    """Refuse option combinations that would be silently ignored."""
    defaults = {"slurm_jobs": 1, "slurm_processes": 1, "slurm_queue": "", "slurm_account": "",
                "slurm_walltime": "01:00:00", "slurm_memory": "8GB", "slurm_directive": [],
                "slurm_prologue": []}  # fmt: skip
    changed = [k for k, v in defaults.items() if getattr(args, k) != v]
    if changed and (args.cluster != "slurm" or args.scheduler):
        flag = "--" + changed[0].replace("_", "-")
        raise CLIError(f"{flag} applies only with --cluster slurm (and no --scheduler)")
    if args.scheduler and (args.cluster != "local" or args.workers is not None):
        raise CLIError("--scheduler uses a running cluster; drop --cluster/--workers")


def run(args: argparse.Namespace) -> int:
    """Run the sweep and print its summary."""
    if args.list:
        return _list()
    if not args.spec or not args.out:
        raise CLIError("give a SPEC (file or preset) and --out DIR (or --list)")
    _check_placement(args)
    from neurometa.sweep import SlurmOptions, format_summary, load_spec, run_sweep

    try:
        spec = load_spec(args.spec)
        if args.threads_per_run is not None:
            spec = spec.replace(threads_per_run=args.threads_per_run)
        slurm = SlurmOptions(
            jobs=args.slurm_jobs,
            processes=args.slurm_processes,
            queue=args.slurm_queue,
            account=args.slurm_account,
            walltime=args.slurm_walltime,
            memory=args.slurm_memory,
            job_extra_directives=tuple(args.slurm_directive),
            job_script_prologue=tuple(args.slurm_prologue),
        )
        report = run_sweep(
            spec,
            args.out,
            scheduler=args.scheduler,
            cluster=args.cluster,
            n_workers=args.workers,
            slurm=slurm,
            progress=not args.no_progress,
            dashboard_address=args.dashboard,
        )
    except ConfigError as err:
        raise CLIError(str(err)) from err
    for run_id, message in sorted(report.failed.items()):
        print(f"failed: {run_id}: {message}", file=sys.stderr)
    if args.json:
        emit_json(
            {
                "out": str(report.out_dir),
                "results": str(report.results_path),
                "submitted": report.num_submitted,
                "skipped": report.num_skipped,
                "failed": report.failed,
                "wall_time_s": report.wall_time_s,
                "summary": report.summary,
            }
        )
    else:
        print(format_summary(report.summary))
        print(f"results: {report.results_path}")
    return 1 if report.summary["num_failed"] else 0
