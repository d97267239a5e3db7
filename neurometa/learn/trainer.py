"""The A2C trainer: the slow, dopamine-driven outer loop that shapes the PFC network.

Each update runs ``batch_size`` whole episodes of the task (one batched rollout), computes
the A2C loss (:mod:`neurometa.learn.a2c`), clips the global gradient norm and takes one
optimiser step. Every draw comes from generators derived from the run's seed
(:class:`neurometa.seeding.RunSeeds`: ``task`` for the episodes, ``sampling`` for actions,
``weights`` for the initial weights, ``eval`` for the selection episodes), and their states
are saved in every checkpoint, so a run resumed with ``resume=True`` ends with exactly the
same weights as an uninterrupted one.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from neurometa import __version__
from neurometa.atomic import write_json_atomic
from neurometa.config import ConfigError
from neurometa.learn.a2c import a2c_loss, entropy_cost_at, learning_rate_at
from neurometa.learn.checkpoint import (
    BEST,
    CHECKPOINT,
    CONFIG,
    load_checkpoint,
    save_checkpoint,
)
from neurometa.learn.config import TrainConfig
from neurometa.learn.evaluate import evaluate, selection_score
from neurometa.learn.metrics import summarise_window, write_metrics
from neurometa.learn.networks import build_network
from neurometa.learn.rollout import make_task, run_episodes
from neurometa.seeding import RunSeeds

__all__ = ["train", "TrainingDivergedError"]

DONE = "done.json"


class TrainingDivergedError(RuntimeError):
    """The loss or the gradient became NaN/inf; the run stopped at its last good checkpoint."""


@dataclass
class _RunState:
    """Everything that changes during a run (and is saved in ``checkpoint.pt``)."""

    network: nn.Module
    optimizer: torch.optim.Optimizer
    task: Any
    sampler: torch.Generator
    spec: dict[str, int]
    update: int = 0
    episodes: int = 0
    env_steps: int = 0
    train_seconds: float = 0.0
    metrics: list[dict[str, float]] = field(default_factory=list)
    best_score: float = -math.inf
    best_update: int = -1
    checkpoint_update: int = -1
    done: bool = False


def _make_optimizer(config: TrainConfig, network: nn.Module) -> torch.optim.Optimizer:
    opt = config.optim
    if opt.optimizer == "rmsprop":
        return torch.optim.RMSprop(network.parameters(), lr=opt.learning_rate, eps=opt.adam_eps)
    return torch.optim.Adam(network.parameters(), lr=opt.learning_rate, eps=opt.adam_eps)


def _fresh_state(config: TrainConfig, seed: int, device: torch.device) -> _RunState:
    seeds = RunSeeds(seed)
    task = make_task(config.task, config.optim.batch_size, device)
    task.generator.manual_seed(seeds.int("task"))
    spec = {"input_dim": task.obs_dim, "num_actions": task.num_actions}
    network = build_network(
        config.network, spec["input_dim"], spec["num_actions"], seeds.torch("weights")
    ).to(device)
    optimizer = _make_optimizer(config, network)
    return _RunState(network, optimizer, task, seeds.torch("sampling", str(device)), spec)


def _config_differences(a: TrainConfig, b: TrainConfig) -> list[str]:
    def flat(d: dict, prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k: v})
        return out

    fa, fb = flat(a.to_dict()), flat(b.to_dict())
    return sorted(k for k in fa.keys() | fb.keys() if fa.get(k) != fb.get(k))


def _resume_state(
    config: TrainConfig, run_dir: Path, seed: int, device: torch.device
) -> _RunState:
    saved = TrainConfig.load(run_dir / CONFIG)
    diff = _config_differences(saved, config)
    if diff:
        raise ConfigError(
            f"{run_dir}: the config differs from the run's {CONFIG} in {', '.join(diff)}; "
            "resume with the same config or start a new run folder"
        )
    payload = load_checkpoint(run_dir / CHECKPOINT, device)
    if payload["seed"] != seed:
        raise ConfigError(
            f"{run_dir}: the run was started with seed {payload['seed']}, not {seed}"
        )
    state = _fresh_state(config, seed, device)
    state.network.load_state_dict(payload["network"])
    state.optimizer.load_state_dict(payload["optimizer"])
    state.task.generator.set_state(payload["task_generator"].cpu())
    state.sampler.set_state(payload["sampling_generator"].cpu())
    for key in (
        "update",
        "episodes",
        "env_steps",
        "train_seconds",
        "metrics",
        "best_score",
        "best_update",
    ):
        setattr(state, key, payload[key])
    state.checkpoint_update = state.update
    state.done = (run_dir / DONE).is_file() and state.update >= config.optim.num_updates
    return state


def _start(
    config: TrainConfig, run_dir: Path, seed: int, resume: bool, device: torch.device
) -> _RunState:
    if (run_dir / CHECKPOINT).is_file():
        if not resume:
            raise FileExistsError(
                f"{run_dir} already holds a run; pass resume=True (--resume) to continue it "
                "or choose another folder"
            )
        return _resume_state(config, run_dir, seed, device)
    if (run_dir / CONFIG).is_file() and not resume:
        raise FileExistsError(f"{run_dir} already holds a {CONFIG}; choose another folder")
    run_dir.mkdir(parents=True, exist_ok=True)
    config.save(run_dir / CONFIG)
    return _fresh_state(config, seed, device)


def _save(state: _RunState, run_dir: Path, seed: int) -> None:
    save_checkpoint(
        run_dir / CHECKPOINT,
        {
            "network": state.network.state_dict(),
            "optimizer": state.optimizer.state_dict(),
            "task_generator": state.task.generator.get_state(),
            "sampling_generator": state.sampler.get_state(),
            "network_spec": state.spec,
            "seed": seed,
            "neurometa_version": __version__,
            **{
                k: getattr(state, k)
                for k in (
                    "update",
                    "episodes",
                    "env_steps",
                    "train_seconds",
                    "metrics",
                    "best_score",
                    "best_update",
                )
            },
        },
    )
    state.checkpoint_update = state.update


def _train_step(state: _RunState, config: TrainConfig) -> dict[str, float]:
    """One A2C update on a fresh batch of episodes; raise on a non-finite loss or gradient."""
    opt, u = config.optim, state.update
    lr, entropy_cost = learning_rate_at(opt, u), entropy_cost_at(opt, u)
    for group in state.optimizer.param_groups:
        group["lr"] = lr
    wall0, cpu0 = time.perf_counter(), time.process_time()
    rollout = run_episodes(state.network, state.task, state.sampler)
    loss, parts = a2c_loss(rollout, opt, entropy_cost)
    _check_finite("loss", loss, state)
    state.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    max_norm = opt.max_grad_norm if opt.max_grad_norm is not None else math.inf
    grad_norm = torch.nn.utils.clip_grad_norm_(state.network.parameters(), max_norm)
    _check_finite("gradient norm", grad_norm, state)
    state.optimizer.step()
    steps = rollout.rewards.numel()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    state.update += 1
    state.episodes += rollout.rewards.shape[1]
    state.env_steps += steps
    state.train_seconds += wall
    stats = {
        "loss": loss.detach(),
        "grad_norm": grad_norm,
        **parts,
        "train_return": rollout.rewards.sum(0).mean(),
    }
    if rollout.regrets is not None:
        stats["train_regret"] = rollout.regrets.sum(0).mean()
    out = {k: float(v) for k, v in stats.items()}
    return out | {"lr": lr, "entropy_cost": entropy_cost, "steps": steps, "wall": wall, "cpu": cpu}


def _check_finite(what: str, value: torch.Tensor, state: _RunState) -> None:
    if not bool(torch.isfinite(value)):
        kept = (
            f"the last good checkpoint (update {state.checkpoint_update}) is kept"
            if state.checkpoint_update >= 0
            else "no checkpoint had been written yet"
        )
        raise TrainingDivergedError(
            f"training diverged: the {what} became {float(value.detach())} "
            f"at update {state.update + 1}; "
            f"stopped, {kept}. Try a lower learning rate or a smaller max_grad_norm."
        )


def _evaluate(state: _RunState, config: TrainConfig, seed: int, run_dir: Path) -> dict:
    result = evaluate(
        state.network,
        config.task,
        episodes=config.eval.episodes,
        seed=RunSeeds(seed).int("eval"),
        greedy=config.eval.greedy,
        device=next(state.network.parameters()).device,
    )
    score = selection_score(result)
    if score > state.best_score:
        state.best_score, state.best_update = score, state.update
        save_checkpoint(
            run_dir / BEST,
            {
                "network": state.network.state_dict(),
                "network_spec": state.spec,
                "update": state.update,
                "score": score,
                "seed": seed,
            },
        )
    return result


def _check_device(device: str | torch.device) -> torch.device:
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was requested but torch.cuda.is_available() is False")
    return device


def train(
    config: TrainConfig,
    run_dir: str | os.PathLike[str],
    *,
    seed: int,
    resume: bool = False,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> Path:
    """Train a network with A2C and write the run folder.

    Parameters
    ----------
    config : TrainConfig
        The run's configuration (saved as ``config.json``).
    run_dir : path-like
        Output folder: ``config.json``, ``checkpoint.pt``, ``best.pt``, ``metrics.csv`` and,
        at the end, ``done.json``.
    seed : int
        The run's seed (all generators derive from it).
    resume : bool
        Continue the run in ``run_dir`` from its last checkpoint (same config and seed
        required); without a checkpoint there, start it. A finished run returns at once.
    device : str or torch.device
        ``"cpu"`` or ``"cuda"``.
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    Path
        ``run_dir``.

    Raises
    ------
    TrainingDivergedError
        When the loss or the gradient norm becomes NaN/inf (the last checkpoint is kept).
    FileExistsError
        When ``run_dir`` already holds a run and ``resume`` is False.
    """
    run_dir, device = Path(run_dir), _check_device(device)
    state = _start(config, run_dir, seed, resume, device)
    if state.done:
        return run_dir
    total = config.optim.num_updates
    bar = tqdm(
        total=total,
        initial=state.update,
        desc=f"train {config.task.preset}",
        unit="upd",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )
    window: list[dict[str, float]] = []
    result: dict | None = None
    try:
        while state.update < total:
            window.append(_train_step(state, config))
            bar.update(1)
            u, last = state.update, state.update == total
            ev = config.eval.interval
            result = (
                _evaluate(state, config, seed, run_dir) if (ev and u % ev == 0) or last else None
            )
            if u % config.log_interval == 0 or last or result is not None:
                row = summarise_window(state, window, result)
                state.metrics.append(row)
                write_metrics(run_dir, state.metrics)
                bar.set_postfix(_postfix(row), refresh=False)
                window = []
            if u % config.checkpoint_interval == 0 or last:
                _save(state, run_dir, seed)
    finally:
        bar.close()
    if result is None:  # killed after the last checkpoint, before done.json
        result = _evaluate(state, config, seed, run_dir)
    _write_done(state, run_dir, seed, result)
    return run_dir


def _postfix(row: dict[str, float]) -> dict[str, str]:
    out = {"episodes": f"{int(row['episodes'])}", "steps/s": f"{row['steps_per_s']:,.0f}"}
    if "train_regret" in row:
        out["regret"] = f"{row['train_regret']:.2f}"
    else:
        out["return"] = f"{row['train_return']:.2f}"
    return out


def _write_done(state: _RunState, run_dir: Path, seed: int, final: dict | None) -> None:
    write_json_atomic(
        run_dir / DONE,
        {
            "updates": state.update,
            "episodes": state.episodes,
            "env_steps": state.env_steps,
            "train_seconds": state.train_seconds,
            "best_update": state.best_update,
            "best_score": state.best_score,
            "final_eval": final,
            "seed": seed,
            "neurometa_version": __version__,
        },
    )
