"""The A2C trainer: the slow, dopamine-driven outer loop that shapes the PFC network.

Each update (:meth:`Trainer.step`) runs ``batch_size`` whole episodes of the task (one
batched rollout), computes the A2C loss (:mod:`neurometa.learn.a2c`), clips the global
gradient norm and takes one optimiser step; :func:`train` runs the updates, evaluates, logs
and checkpoints into a run folder. :mod:`neurometa.learn.reference` writes the same update
as a plain loop. Every draw comes from generators derived from the run's seed
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
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from neurometa import __version__
from neurometa.agents.base import EpisodicNetwork
from neurometa.atomic import write_json_atomic
from neurometa.learn.a2c import a2c_loss, entropy_cost_at, learning_rate_at
from neurometa.learn.checkpoint import BEST, CHECKPOINT, load_checkpoint, save_checkpoint
from neurometa.learn.config import TrainConfig
from neurometa.learn.evaluate import evaluate, selection_score
from neurometa.learn.metrics import summarise_window, write_metrics
from neurometa.learn.networks import build_network
from neurometa.learn.parallel import Sync, spawn_workers, worker_seed
from neurometa.learn.rollout import Rollout, make_task, run_episodes
from neurometa.learn.run_folder import DONE, prepare_run_dir, run_lock
from neurometa.seeding import RunSeeds, torch_generator

__all__ = ["train", "Trainer", "TrainingDivergedError"]


class TrainingDivergedError(RuntimeError):
    """The loss or the gradient became NaN/inf; the run stopped at its last good checkpoint."""


#: Run counters saved in every checkpoint.
_COUNTERS = (
    "update",
    "episodes",
    "env_steps",
    "train_seconds",
    "metrics",
    "best_score",
    "best_update",
)


class Trainer:
    """One A2C learner: the network, its optimiser, the task and the run's generators.

    :meth:`step` is one update. :func:`train` drives a ``Trainer`` through a run and writes
    the run folder; benchmarks and tests use it directly.

    Parameters
    ----------
    config : TrainConfig
        The run's configuration.
    seed : int
        The run's seed: ``RunSeeds(seed)`` gives the streams ``task`` (episodes),
        ``sampling`` (actions), ``weights`` (initial weights) and ``lifetime``.
    device : str or torch.device
        Where to train.
    sync : Sync, optional
        This process's collective operations with ``config.workers > 1`` (rank ``r`` plays
        ``batch_size / workers`` episodes from its own generators); one process by default.

    Examples
    --------
    >>> from neurometa.learn import OptimConfig, TaskConfig, TrainConfig, Trainer
    >>> config = TrainConfig(task=TaskConfig(overrides={"num_trials": 5}),
    ...                      optim=OptimConfig(batch_size=4))
    >>> trainer = Trainer(config, seed=0)
    >>> stats = trainer.step()
    >>> trainer.update, trainer.env_steps, sorted(stats)[:3]
    (1, 20, ['cpu', 'entropy', 'entropy_cost'])
    """

    def __init__(
        self,
        config: TrainConfig,
        *,
        seed: int,
        device: str | torch.device = "cpu",
        sync: Sync | None = None,
    ) -> None:
        self.config, self.seed = config, seed
        self.sync = sync = sync or Sync()
        device = torch.device(device)
        seeds = RunSeeds(seed)
        self.task = make_task(config.task, config.optim.batch_size // config.workers, device)
        self.task.generator.manual_seed(worker_seed(seeds.int("task"), sync.rank))
        self.spec = {"input_dim": self.task.obs_dim, "num_actions": self.task.num_actions}
        self.network = build_network(
            config.network, self.spec["input_dim"], self.spec["num_actions"],
            seeds.torch("weights"),
        ).to(device)  # fmt: skip
        self.optimizer = _make_optimizer(config, self.network)
        self.sampler = torch_generator(worker_seed(seeds.int("sampling"), sync.rank), str(device))
        self.lifetime_root = worker_seed(seeds.int("lifetime"), sync.rank)
        """This rank's root of the life-time seeds (``TaskConfig.lifetime``)."""
        self.update = self.episodes = self.env_steps = 0
        self.train_seconds = 0.0
        self.metrics: list[dict[str, float]] = []
        self.best_score, self.best_update = -math.inf, -1
        self.checkpoint_update = -1
        """The update of the last checkpoint written or read (-1: none yet)."""

    def lifetime_seed(self) -> int | None:
        """The task seed that starts a new life-time at this update, else ``None``.

        With ``TaskConfig.lifetime = L > 0`` updates ``0, L, 2L, ...`` reset the task with
        seed ``SeedSequence([root, k])`` (life-time ``k = update // L``; ``root`` differs per
        rank), a pure function of the run seed, the rank and the update, so a resumed run
        draws the same life-times. A seeded reset also empties an episodic network's store
        (:func:`~neurometa.learn.rollout.run_episodes`).
        """
        lifetime = self.config.task.lifetime
        if lifetime == 0 or self.update % lifetime:
            return None
        words = np.random.SeedSequence([self.lifetime_root, self.update // lifetime])
        return int(words.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))

    def step(self) -> dict[str, float]:
        """One A2C update on a fresh batch of episodes.

        Returns
        -------
        dict of str to float
            ``loss``, ``pg_loss``, ``value_loss``, ``entropy``, ``train_return`` (and
            ``train_regret`` on tasks with arm probabilities), averaged over workers;
            ``grad_norm`` (before clipping), ``lr``, ``entropy_cost``, ``steps`` (environment
            steps, all workers), ``wall`` and ``cpu`` seconds.

        Raises
        ------
        TrainingDivergedError
            If the loss or the gradient norm is not finite (no parameter is changed).
        """
        opt, u = self.config.optim, self.update
        lr, entropy_cost = learning_rate_at(opt, u), entropy_cost_at(opt, u)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        wall0, cpu0 = time.perf_counter(), time.process_time()
        rollout = run_episodes(self.network, self.task, self.sampler, seed=self.lifetime_seed())
        loss, parts = a2c_loss(rollout, opt, entropy_cost)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        stats = self._average(loss, parts, rollout)
        self._check_finite("loss", torch.tensor(stats["loss"]))
        max_norm = opt.max_grad_norm if opt.max_grad_norm is not None else math.inf
        grad_norm = torch.nn.utils.clip_grad_norm_(self.network.parameters(), max_norm)
        self._check_finite("gradient norm", grad_norm)
        self.optimizer.step()
        world = self.sync.world_size
        steps = rollout.rewards.numel() * world
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        self.update += 1
        self.episodes += rollout.rewards.shape[1] * world
        self.env_steps += steps
        self.train_seconds += wall
        return stats | {
            "grad_norm": float(grad_norm),
            "lr": lr,
            "entropy_cost": entropy_cost,
            "steps": steps,
            "wall": wall,
            "cpu": cpu * world,
        }

    def _average(self, loss: torch.Tensor, parts: dict, rollout: Rollout) -> dict[str, float]:
        """The update's figures averaged over workers, with the gradients."""
        names = ["loss", *parts, "train_return"]
        values = [loss.detach(), *parts.values(), rollout.rewards.sum(0).mean()]
        if rollout.regrets is not None:
            names.append("train_regret")
            values.append(rollout.regrets.sum(0).mean())
        averaged = self.sync.average_gradients(self.network, torch.stack(values))
        return dict(zip(names, averaged.tolist(), strict=True))

    def _check_finite(self, what: str, value: torch.Tensor) -> None:
        if not bool(torch.isfinite(value)):
            kept = (
                f"the last good checkpoint (update {self.checkpoint_update}) is kept"
                if self.checkpoint_update >= 0
                else "no checkpoint had been written yet"
            )
            raise TrainingDivergedError(
                f"training diverged: the {what} became {float(value.detach())} "
                f"at update {self.update + 1}; "
                f"stopped, {kept}. Try a lower learning rate or a smaller max_grad_norm."
            )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write everything needed to resume bit-identically to ``path`` (``checkpoint.pt``).

        With several workers every rank must call it (the ranks' generators and episodic
        stores are gathered); rank 0 writes.
        """
        per_rank_store = self.sync.world_size > 1 and isinstance(self.network, EpisodicNetwork)
        mine = {
            "task_generator": self.task.generator.get_state(),
            "sampling_generator": self.sampler.get_state(),
            "task_state": self.task.state_dict(),
            "store": self.network.get_extra_state() if per_rank_store else None,
        }
        ranks = self.sync.gather(mine)
        self.checkpoint_update = self.update
        if not self.sync.is_main:
            return
        save_checkpoint(
            path,
            {
                "network": self.network.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "ranks": ranks,
                "network_spec": self.spec,
                "seed": self.seed,
                "neurometa_version": __version__,
                **{k: getattr(self, k) for k in _COUNTERS},
            },
        )

    def load(self, path: str | os.PathLike[str]) -> None:
        """Continue from the checkpoint at ``path`` (written by :meth:`save`)."""
        payload = load_checkpoint(path, next(self.network.parameters()).device)
        self.network.load_state_dict(payload["network"])
        self.optimizer.load_state_dict(payload["optimizer"])
        mine = payload["ranks"][self.sync.rank]
        self.task.generator.set_state(mine["task_generator"].cpu())
        self.sampler.set_state(mine["sampling_generator"].cpu())
        self.task.load_state_dict(mine["task_state"])
        if mine["store"] is not None:  # several workers: each rank has its own store
            self.network.set_extra_state(mine["store"])
        for key in _COUNTERS:
            setattr(self, key, payload[key])
        self.checkpoint_update = self.update


def _make_optimizer(config: TrainConfig, network: nn.Module) -> torch.optim.Optimizer:
    opt = config.optim
    if opt.optimizer == "rmsprop":
        return torch.optim.RMSprop(network.parameters(), lr=opt.learning_rate, eps=opt.adam_eps)
    return torch.optim.Adam(network.parameters(), lr=opt.learning_rate, eps=opt.adam_eps)


def _evaluate(trainer: Trainer, run_dir: Path) -> dict:
    """Score the network on the selection episodes; keep ``best.pt`` if it is the best yet."""
    config, network = trainer.config, trainer.network
    result = evaluate(
        network,
        config.task,
        episodes=config.eval.episodes,
        seed=RunSeeds(trainer.seed).int("eval"),
        greedy=config.eval.greedy,
        device=next(network.parameters()).device,
    )
    score = selection_score(result)
    selectable = trainer.update >= config.eval.select_from * config.optim.num_updates
    if selectable and score > trainer.best_score:
        trainer.best_score, trainer.best_update = score, trainer.update
        save_checkpoint(
            run_dir / BEST,
            {
                "network": network.state_dict(),
                "network_spec": trainer.spec,
                "update": trainer.update,
                "score": score,
                "seed": trainer.seed,
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

    Examples
    --------
    >>> import tempfile
    >>> import neurometa as nm
    >>> tiny = {"optim.num_updates": 2, "optim.batch_size": 16, "workers": 1,
    ...         "eval.episodes": 16, "task.overrides": {"num_trials": 20}}
    >>> config = nm.replace_paths(nm.get_preset("bandit/independent"), tiny)
    >>> run = nm.train(config, tempfile.mkdtemp(), seed=0, progress=False)
    >>> sorted(p.name for p in run.iterdir())
    ['best.pt', 'checkpoint.pt', 'config.json', 'done.json', 'metrics.csv']
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
    trainer = Trainer(config, seed=seed, device=device, sync=sync)
    if resuming:
        trainer.load(run_dir / CHECKPOINT)
    total, main = config.optim.num_updates, trainer.sync.is_main
    if trainer.update >= total and (run_dir / DONE).is_file():
        return
    bar = tqdm(
        total=total,
        initial=trainer.update,
        desc=f"train {config.task.preset}",
        unit="upd",
        file=sys.stderr,
        disable=not (progress and main),
        dynamic_ncols=True,
    )
    window: list[dict[str, float]] = []
    result: dict | None = None
    try:
        while trainer.update < total:
            trainer.sync.check_launcher()
            window.append(trainer.step())
            bar.update(1)
            u, last = trainer.update, trainer.update == total
            ev = config.eval.interval
            due = (ev and u % ev == 0) or last
            result = _evaluate(trainer, run_dir) if due and main else None
            if main and (u % config.log_interval == 0 or last or result is not None):
                row = summarise_window(trainer, window, result)
                trainer.metrics.append(row)
                write_metrics(run_dir, trainer.metrics)
                bar.set_postfix(_postfix(row), refresh=False)
                window = []
            if u % config.checkpoint_interval == 0 or last:
                trainer.save(run_dir / CHECKPOINT)
    finally:
        bar.close()
    if not main:
        return
    if result is None:  # killed after the last checkpoint, before done.json
        result = _evaluate(trainer, run_dir)
    _write_done(trainer, run_dir, result)


def _postfix(row: dict[str, float]) -> dict[str, str]:
    out = {"episodes": f"{int(row['episodes'])}", "steps/s": f"{row['steps_per_s']:,.0f}"}
    if "train_regret" in row:
        out["regret"] = f"{row['train_regret']:.2f}"
    else:
        out["return"] = f"{row['train_return']:.2f}"
    return out


def _write_done(trainer: Trainer, run_dir: Path, final: dict | None) -> None:
    write_json_atomic(
        run_dir / DONE,
        {
            "updates": trainer.update,
            "episodes": trainer.episodes,
            "env_steps": trainer.env_steps,
            "train_seconds": trainer.train_seconds,
            "best_update": trainer.best_update,
            "best_score": trainer.best_score,
            "final_eval": final,
            "seed": trainer.seed,
            "neurometa_version": __version__,
        },
    )
