"""One sweep run on a worker: its folder, done marker, error record and thread limits.

A run folder ``OUT/runs/<run_id>/`` holds

- ``run.json``: the run's id, overrides, seed, action, full config and attempt history
  (rewritten at the start of every attempt);
- ``result.json``: the done marker, written atomically and last: ``status: "done"`` and the
  run's scalar results;
- ``error.json``: written when the action raised: the exception, its traceback, the attempt;
- whatever the action writes (the trainer's ``config.json``, ``checkpoint.pt``, ...).

Every file goes through :mod:`neurometa.atomic`, so a worker killed mid-write leaves either
the old or the new file, never half of one.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurometa.atomic import write_json_atomic
from neurometa.config import Config
from neurometa.sweep.actions import SweepAction

__all__ = [
    "RunTask",
    "execute_run",
    "limit_threads",
    "read_json",
    "RUN_FILE",
    "RESULT_FILE",
    "ERROR_FILE",
]

RUN_FILE = "run.json"
RESULT_FILE = "result.json"
ERROR_FILE = "error.json"


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs for one run (pickled to the worker)."""

    run_id: str
    """Folder name of the run."""
    run_dir: str
    """Absolute path of the run folder (on a file system the worker shares)."""
    action: SweepAction
    """The per-run action."""
    config: Config
    """The run's config (base preset with the overrides applied)."""
    seed: int
    """The run's seed."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Dotted key -> value, recorded in ``run.json``."""
    threads: int = 1
    """Threads (torch and BLAS) the run may use."""


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None when the file does not exist."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def limit_threads(num_threads: int, *, torch_too: bool = True) -> Iterator[None]:
    """Limit BLAS/OpenMP pools (threadpoolctl) and torch to ``num_threads`` inside the block."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=num_threads):
        if not torch_too:
            yield
            return
        import torch

        previous = torch.get_num_threads()
        torch.set_num_threads(num_threads)
        try:
            yield
        finally:
            torch.set_num_threads(previous)


def _where() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "time": time.time()}


def _start_attempt(task: RunTask, run_dir: Path) -> tuple[int, bool]:
    """Record the attempt in ``run.json``; return (attempt number, resume flag)."""
    previous = read_json(run_dir / RUN_FILE)
    history = list(previous["attempts"]) if previous else []
    history.append(_where())
    record = {
        "run_id": task.run_id,
        "action": task.action.name,
        "overrides": task.overrides,
        "seed": task.seed,
        "config": task.config.to_dict(),
        "attempts": history,
    }
    write_json_atomic(run_dir / RUN_FILE, record)
    return len(history), previous is not None


def _check_results(results: Any, action: str) -> dict[str, float]:
    """Validate an action's return value: a mapping of names to real numbers."""
    if not isinstance(results, Mapping):
        raise TypeError(f"action {action!r} returned {type(results).__name__}, not a mapping")
    out = {}
    for key, value in results.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise TypeError(f"action {action!r} returned a result named {key!r} (not a name)")
        try:
            out[key] = float(value)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"action {action!r}: result {key!r} = {value!r} is not a number"
            ) from err
    return out


def execute_run(task: RunTask) -> dict[str, Any]:
    """Run ``task`` in its folder unless it is done; never raise for an action's error.

    Returns
    -------
    dict
        The content of ``result.json`` (``status == "done"``) or of ``error.json``
        (``status == "failed"``), plus ``skipped`` (True when the run was already done).
    """
    run_dir = Path(task.run_dir)
    done = read_json(run_dir / RESULT_FILE)
    if done is not None:
        return {**done, "skipped": True}
    run_dir.mkdir(parents=True, exist_ok=True)
    attempt, resume = _start_attempt(task, run_dir)
    start = time.perf_counter()
    try:
        with limit_threads(task.threads, torch_too=task.action.uses_torch):
            raw = task.action.run(task.config, run_dir, seed=task.seed, resume=resume)
        results = _check_results(raw, task.action.name)
    except Exception as err:
        record = {
            "status": "failed",
            "run_id": task.run_id,
            "error_type": type(err).__name__,
            "message": str(err),
            "traceback": traceback.format_exc(),
            "attempt": attempt,
            "wall_time_s": time.perf_counter() - start,
            **_where(),
        }
        write_json_atomic(run_dir / ERROR_FILE, record)
        return {**record, "skipped": False}
    record = {
        "status": "done",
        "run_id": task.run_id,
        "results": {k: (v if math.isfinite(v) else None) for k, v in results.items()},
        "attempt": attempt,
        "wall_time_s": time.perf_counter() - start,
        **_where(),
    }
    with contextlib.suppress(FileNotFoundError):
        (run_dir / ERROR_FILE).unlink()
    write_json_atomic(run_dir / RESULT_FILE, record)
    return {**record, "skipped": False}
