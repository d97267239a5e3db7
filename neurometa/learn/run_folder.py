"""The run folder's first checks: a new run writes ``config.json``; a resumed one must match.

Used by :func:`neurometa.learn.trainer.train` once, in the launching process, before any
worker starts (so that workers never race on these checks).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from neurometa.config import ConfigError
from neurometa.learn.checkpoint import CHECKPOINT, CONFIG, load_checkpoint
from neurometa.learn.config import TrainConfig

__all__ = ["config_differences", "check_resumable", "prepare_run_dir", "run_lock", "DONE", "LOCK"]

#: Written when a run finishes; ``.lock`` is held while a process trains in the folder.
DONE, LOCK = "done.json", ".lock"


def config_differences(a: TrainConfig, b: TrainConfig) -> list[str]:
    """Dotted names of the fields where ``a`` and ``b`` differ."""

    def flat(d: dict, prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k: v})
        return out

    fa, fb = flat(a.to_dict()), flat(b.to_dict())
    return sorted(k for k in fa.keys() | fb.keys() if fa.get(k) != fb.get(k))


def check_resumable(config: TrainConfig, run_dir: Path, seed: int) -> None:
    """Raise ``ConfigError`` unless ``run_dir`` holds a run of ``config`` and ``seed``."""
    saved = TrainConfig.load(run_dir / CONFIG)
    diff = config_differences(saved, config)
    if diff:
        raise ConfigError(
            f"{run_dir}: the config differs from the run's {CONFIG} in {', '.join(diff)}; "
            "resume with the same config or start a new run folder"
        )
    payload = load_checkpoint(run_dir / CHECKPOINT)
    if payload["seed"] != seed:
        raise ConfigError(
            f"{run_dir}: the run was started with seed {payload['seed']}, not {seed}"
        )


def prepare_run_dir(config: TrainConfig, run_dir: Path, seed: int, resume: bool) -> bool:
    """Check the run folder; write ``config.json`` for a new run. Return whether to resume.

    - a finished run (``done.json``) of the same config and seed is returned as it is, with
      or without ``resume`` (re-running a notebook cell trains nothing again);
    - an unfinished run needs ``resume=True``;
    - a folder holding only the ``config.json`` of a start that failed before its first
      checkpoint (e.g. a worker process that could not start) is started again when the
      config is the same.
    """
    if (run_dir / CHECKPOINT).is_file():
        if not resume and not (run_dir / DONE).is_file():
            raise FileExistsError(
                f"{run_dir} already holds an unfinished run; pass resume=True (--resume) to "
                "continue it from its last checkpoint, or choose another folder"
            )
        check_resumable(config, run_dir, seed)
        return True
    if (run_dir / CONFIG).is_file():
        diff = config_differences(TrainConfig.load(run_dir / CONFIG), config)
        if diff:
            raise FileExistsError(
                f"{run_dir} holds the {CONFIG} of a run that saved no checkpoint, with another "
                f"config (differences: {', '.join(diff)}); choose another folder or remove it"
            )
    run_dir.mkdir(parents=True, exist_ok=True)
    config.save(run_dir / CONFIG)
    return False


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run folder for this process while it trains; refuse a second trainer.

    An advisory ``fcntl`` lock on ``run_dir/.lock`` (the kernel releases it when the process
    dies, so a killed trainer leaves no stale lock). Raises ``FileExistsError`` naming the
    process that trains there.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise FileExistsError(
            f"{run_dir} is being trained by another process (pid {holder}); wait for it to "
            "finish (or stop it) before resuming"
        ) from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
