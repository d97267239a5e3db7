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

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from neurometa import __version__
from neurometa.atomic import write_json_atomic
from neurometa.learn.a2c import a2c_loss, entropy_cost_at, learning_rate_at, signal_weight_at
from neurometa.learn.checkpoint import (
    BEST,
    CHECKPOINT,
    load_checkpoint,
    save_checkpoint,
)
from neurometa.learn.config import OptimConfig, TrainConfig
from neurometa.learn.evaluate import evaluate, selection_score
from neurometa.learn.metrics import summarise_window, write_metrics
from neurometa.learn.networks import build_network
from neurometa.learn.parallel import Sync, spawn_workers, worker_seed
from neurometa.learn.rollout import has_store, make_task, run_episodes
from neurometa.learn.run_folder import DONE, prepare_run_dir, run_lock
from neurometa.seeding import RunSeeds, torch_generator

__all__ = ["train", "TrainingDivergedError"]


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
    sync: Sync = field(default_factory=Sync)
    update: int = 0
    episodes: int = 0
    env_steps: int = 0
    train_seconds: float = 0.0
    metrics: list[dict[str, float]] = field(default_factory=list)
    best_score: float = -math.inf
    best_update: int = -1
    checkpoint_update: int = -1
    done: bool = False
    lifetime_seed: int = 0
    """This rank's root of the life-time seeds (``TaskConfig.lifetime``)."""
    first_regret: float | None = None
    """Training regret of the first update (the gate of ``OptimConfig.signal_blend_gate``)."""
    blend_began: int | None = None
    """Update at which the gated blend of the reward signal began (None: not yet)."""


#: Run counters saved in every checkpoint, and the state of the gated reward-signal blend.
_COUNTERS = (
    "update",
    "episodes",
    "env_steps",
    "train_seconds",
    "metrics",
    "best_score",
    "best_update",
)
_GATE = ("first_regret", "blend_began")


def _make_optimizer(config: TrainConfig, network: nn.Module) -> torch.optim.Optimizer:
    opt = config.optim
    if opt.optimizer == "rmsprop":
        return torch.optim.RMSprop(network.parameters(), lr=opt.learning_rate, eps=opt.adam_eps)
    return torch.optim.Adam(network.parameters(), lr=opt.learning_rate, eps=opt.adam_eps)


def _fresh_state(
    config: TrainConfig, seed: int, device: torch.device, sync: Sync | None = None
) -> _RunState:
    sync = sync or Sync()
    seeds = RunSeeds(seed)
    task = make_task(config.task, config.optim.batch_size // config.workers, device)
    task.generator.manual_seed(worker_seed(seeds.int("task"), sync.rank))
    spec = {"input_dim": task.obs_dim, "num_actions": task.num_actions}
    network = build_network(
        config.network, spec["input_dim"], spec["num_actions"], seeds.torch("weights")
    ).to(device)
    optimizer = _make_optimizer(config, network)
    sampler = torch_generator(worker_seed(seeds.int("sampling"), sync.rank), str(device))
    state = _RunState(network, optimizer, task, sampler, spec, sync)
    state.lifetime_seed = worker_seed(seeds.int("lifetime"), sync.rank)
    return state


def lifetime_reset_seed(state: _RunState, lifetime: int) -> int | None:
    """The task seed that starts a new life-time at this update, else ``None``.

    With ``lifetime = L > 0`` updates ``0, L, 2L, ...`` reset the task with seed
    ``SeedSequence([root, k])`` (life-time ``k = update // L``; ``root`` differs per rank), a
    pure function of the run seed, the rank and the update, so a resumed run draws the same
    life-times. A seeded reset also empties an episodic network's store (``run_episodes``).
    """
    if lifetime == 0 or state.update % lifetime:
        return None
    words = np.random.SeedSequence([state.lifetime_seed, state.update // lifetime])
    return int(words.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _resume_state(
    config: TrainConfig, run_dir: Path, seed: int, device: torch.device, sync: Sync
) -> _RunState:
    payload = load_checkpoint(run_dir / CHECKPOINT, device)
    state = _fresh_state(config, seed, device, sync)
    state.network.load_state_dict(payload["network"])
    state.optimizer.load_state_dict(payload["optimizer"])
    # checkpoints of earlier versions: one process's generators under their own keys, and
    # no task state
    generators = payload.get("generators") or [
        (payload["task_generator"], payload["sampling_generator"])
    ]
    task_generator, sampling_generator, *rest = generators[sync.rank]
    task_state = rest[0] if rest else {}
    state.task.generator.set_state(task_generator.cpu())
    state.sampler.set_state(sampling_generator.cpu())
    state.task.load_state_dict(task_state)
    # per-rank stores: None with one process (the network's state_dict holds its store) and
    # in checkpoints older than them
    stores = payload.get("rank_stores")
    if stores is not None:
        state.network.set_extra_state(stores[sync.rank])
    for key in _COUNTERS:
        setattr(state, key, payload[key])
    for key in _GATE:  # absent from checkpoints older than the gate
        setattr(state, key, payload.get(key))
    state.checkpoint_update = state.update
    state.done = (run_dir / DONE).is_file() and state.update >= config.optim.num_updates
    return state


def _save(state: _RunState, run_dir: Path, seed: int) -> None:
    # every rank's generators and, with several workers, episodic store (all ranks take part
    # in the gather; rank 0 writes): each rank plays its own slice of the batch, so each has
    # its own store (one process: the network's state_dict already holds it)
    per_rank = state.sync.world_size > 1 and has_store(state.network)
    gathered = state.sync.gather(
        (
            state.task.generator.get_state(),
            state.sampler.get_state(),
            state.task.state_dict(),
            state.network.get_extra_state() if per_rank else None,
        )
    )
    generators = [entry[:3] for entry in gathered]
    stores = [entry[3] for entry in gathered]
    state.checkpoint_update = state.update
    if not state.sync.is_main:
        return
    save_checkpoint(
        run_dir / CHECKPOINT,
        {
            "network": state.network.state_dict(),
            "optimizer": state.optimizer.state_dict(),
            "generators": generators,
            "rank_stores": stores if per_rank else None,
            "network_spec": state.spec,
            "seed": seed,
            "neurometa_version": __version__,
            **{k: getattr(state, k) for k in _COUNTERS + _GATE},
        },
    )


def _open_blend_gate(state: _RunState, opt: OptimConfig, regret: float | None) -> None:
    """Start the gated reward-signal blend after this update if the run has left chance.

    ``regret`` is the batch-mean training regret averaged over workers, so every rank agrees.
    """
    if opt.signal_blend_gate is None or state.blend_began is not None:
        return
    if regret is None:
        raise ValueError(
            "OptimConfig.signal_blend_gate needs a task that reports the regret (the bandit "
            "families); leave it None"
        )
    if state.first_regret is None:
        state.first_regret = regret
    after = state.update + 1
    started = after >= opt.signal_blend_start * opt.num_updates
    if started and regret <= opt.signal_blend_gate * state.first_regret:
        state.blend_began = after


def _train_step(state: _RunState, config: TrainConfig) -> dict[str, float]:
    """One A2C update on a fresh batch of episodes; raise on a non-finite loss or gradient."""
    opt, u = config.optim, state.update
    lr, entropy_cost = learning_rate_at(opt, u), entropy_cost_at(opt, u)
    for group in state.optimizer.param_groups:
        group["lr"] = lr
    wall0, cpu0 = time.perf_counter(), time.process_time()
    seed = lifetime_reset_seed(state, config.task.lifetime)
    rollout = run_episodes(state.network, state.task, state.sampler, seed=seed)
    weight = signal_weight_at(opt, u, state.blend_began)
    loss, parts = a2c_loss(rollout, opt, entropy_cost, weight)
    state.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    names = ["loss", *parts, "train_return"] + (
        ["train_regret"] if rollout.regrets is not None else []
    )
    values = [loss.detach(), *parts.values(), rollout.rewards.sum(0).mean()]
    if rollout.regrets is not None:
        values.append(rollout.regrets.sum(0).mean())
    stats = dict(
        zip(
            names,
            state.sync.average_gradients(state.network, torch.stack(values)).tolist(),
            strict=True,
        )
    )
    _check_finite("loss", torch.tensor(stats["loss"]), state)
    max_norm = opt.max_grad_norm if opt.max_grad_norm is not None else math.inf
    grad_norm = torch.nn.utils.clip_grad_norm_(state.network.parameters(), max_norm)
    _check_finite("gradient norm", grad_norm, state)
    state.optimizer.step()
    _open_blend_gate(state, opt, stats.get("train_regret"))
    steps = rollout.rewards.numel() * state.sync.world_size
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    state.update += 1
    state.episodes += rollout.rewards.shape[1] * state.sync.world_size
    state.env_steps += steps
    state.train_seconds += wall
    return stats | {
        "grad_norm": float(grad_norm),
        "lr": lr,
        "entropy_cost": entropy_cost,
        "steps": steps,
        "wall": wall,
        "cpu": cpu * state.sync.world_size,
    }


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

    With ``config.workers > 1`` the episodes of every update are split over that many
    processes started with the ``spawn`` method, which re-import the calling script: call
    ``train`` from a script under ``if __name__ == "__main__":`` (the standard
    :mod:`multiprocessing` rule), or set ``workers=1``.

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
        required); without a checkpoint there, start it. A finished run of the same config
        and seed returns at once, with or without ``resume``.
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
        When ``run_dir`` holds an unfinished run and ``resume`` is False, or another process
        is training in it.
    """
    run_dir, device = Path(run_dir), _check_device(device)
    with run_lock(run_dir):  # one trainer per folder (a second --resume is refused)
        resuming = prepare_run_dir(config, run_dir, seed, resume)
        args = (config, run_dir, seed, resuming, device, progress)
        if config.workers == 1:
            _run(*args)
            return run_dir
        try:
            spawn_workers(_run, config.workers, args, scratch=run_dir)
        except torch.multiprocessing.ProcessRaisedException as err:
            if TrainingDivergedError.__name__ in str(err):
                raise TrainingDivergedError(str(err).strip().splitlines()[-1]) from err
            raise
    return run_dir


def _run(
    config: TrainConfig,
    run_dir: Path,
    seed: int,
    resuming: bool,
    device: torch.device,
    progress: bool,
    sync: Sync | None = None,
) -> None:
    """The training loop of one worker (rank 0 evaluates, logs and writes the run folder)."""
    sync = sync or Sync()
    if resuming:
        state = _resume_state(config, run_dir, seed, device, sync)
    else:
        state = _fresh_state(config, seed, device, sync)
    if state.done:
        return
    total, main = config.optim.num_updates, sync.is_main
    bar = tqdm(
        total=total,
        initial=state.update,
        desc=f"train {config.task.preset}",
        unit="upd",
        file=sys.stderr,
        disable=not (progress and main),
        dynamic_ncols=True,
    )
    window: list[dict[str, float]] = []
    result: dict | None = None
    try:
        while state.update < total:
            sync.check_launcher()
            window.append(_train_step(state, config))
            bar.update(1)
            u, last = state.update, state.update == total
            ev = config.eval.interval
            due = (ev and u % ev == 0) or last
            result = _evaluate(state, config, seed, run_dir) if due and main else None
            if main and (u % config.log_interval == 0 or last or result is not None):
                row = summarise_window(state, window, result)
                state.metrics.append(row)
                write_metrics(run_dir, state.metrics)
                bar.set_postfix(_postfix(row), refresh=False)
                window = []
            if u % config.checkpoint_interval == 0 or last:
                _save(state, run_dir, seed)
    finally:
        bar.close()
    if not main:
        return
    if result is None:  # killed after the last checkpoint, before done.json
        result = _evaluate(state, config, seed, run_dir)
    _write_done(state, run_dir, seed, result)


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
            "signal_blend_began": state.blend_began,
            "final_eval": final,
            "seed": seed,
            "neurometa_version": __version__,
        },
    )
