"""The run folder's first checks: a new run writes ``config.json``; a resumed one must match.

Used by :func:`neurometa.learn.trainer.train` once, in the launching process, before any
worker starts (so that workers never race on these checks).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neurometa.config import ConfigError
from neurometa.learn.checkpoint import CHECKPOINT, CONFIG, load_checkpoint
from neurometa.learn.config import TrainConfig

__all__ = ["config_differences", "check_resumable", "prepare_run_dir"]


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
    """Check the run folder; write ``config.json`` for a new run. Return whether to resume."""
    if (run_dir / CHECKPOINT).is_file():
        if not resume:
            raise FileExistsError(
                f"{run_dir} already holds a run; pass resume=True (--resume) to continue it "
                "or choose another folder"
            )
        check_resumable(config, run_dir, seed)
        return True
    if (run_dir / CONFIG).is_file() and not resume:
        raise FileExistsError(f"{run_dir} already holds a {CONFIG}; choose another folder")
    run_dir.mkdir(parents=True, exist_ok=True)
    config.save(run_dir / CONFIG)
    return False
