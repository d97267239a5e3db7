"""The toy sweep action shared by the sweep tests (workers receive it by value).

``score = (x - 1.5)^2 + 0.01 seed``: cheap and deterministic, so the engine is tested
independently of the trainer's speed. A toy run can fail on purpose, fail once after writing
a checkpoint (to test resume), or kill its worker process with ``os._exit`` on its first
attempt (to test that a dead worker's run is retried).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cloudpickle

from neurometa.atomic import write_json_atomic, write_text_atomic
from neurometa.config import Config, ConfigError
from neurometa.sweep import SweepAction, SweepSpec, register_action

# Workers cannot import this test helper: send its functions and classes by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@dataclass(frozen=True)
class ToyConfig(Config):
    """Config of the toy run."""

    x: float = 0.0
    """The swept parameter; the score is (x - 1.5)^2 + 0.01 * seed."""
    steps: int = 2
    """Checkpointed steps."""
    sleep_s: float = 0.0
    """Seconds slept per step (to make runs overlap on two workers)."""
    fail: bool = False
    """Raise ValueError at the end of every attempt."""
    fail_first_at: int = 0
    """On a fresh (non-resumed) attempt, raise RuntimeError after this step (0: never)."""
    crash: bool = False
    """On the first attempt, kill the worker process with os._exit (marker file in the run)."""


def toy_score(x: float, seed: int) -> float:
    return (x - 1.5) ** 2 + 0.01 * seed


def toy_resolve(name: str) -> ToyConfig:
    if name != "toy":
        raise ConfigError(f"unknown toy preset {name!r}")
    return ToyConfig()


def toy_run(config: ToyConfig, run_dir: Path, *, seed: int, resume: bool) -> dict[str, float]:
    if config.crash and not (run_dir / "crashed").exists():
        write_text_atomic(run_dir / "crashed", str(os.getpid()))
        os._exit(1)  # the worker process dies mid-run
    checkpoint = run_dir / "checkpoint.json"
    start = json.loads(checkpoint.read_text())["step"] if resume and checkpoint.exists() else 0
    for step in range(start, config.steps):
        time.sleep(config.sleep_s)
        write_json_atomic(checkpoint, {"step": step + 1})
        if not resume and config.fail_first_at == step + 1:
            raise RuntimeError(f"planted interruption after step {step + 1}")
    if config.fail:
        raise ValueError(f"planted failure for x={config.x}")
    return {"score": toy_score(config.x, seed), "start_step": start, "pid": os.getpid()}


def toy_torch_run(config: ToyConfig, run_dir: Path, *, seed: int, resume: bool) -> dict:
    import torch

    return {"torch_threads": torch.get_num_threads()}


register_action(SweepAction("toy", toy_resolve, toy_run, "score", uses_torch=False), replace=True)
register_action(SweepAction("toy_torch", toy_resolve, toy_torch_run), replace=True)


def toy_spec(**changes) -> SweepSpec:
    base = {"action": "toy", "base": "toy", "grid": {"x": (0.5, 1.5, 2.0)}, "seeds": (0, 1)}
    return SweepSpec.from_dict({**base, **changes})
