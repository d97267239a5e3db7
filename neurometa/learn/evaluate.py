"""Evaluation of a frozen network on seeded test episodes.

The score of a run is measured on episodes the network never trained on: a fixed selection
set during training (to choose ``best.pt``) and fresh episodes for reporting.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from neurometa.agents.base import EpisodicNetwork
from neurometa.learn.config import TaskConfig
from neurometa.learn.rollout import make_task, run_episodes
from neurometa.seeding import torch_generator

__all__ = ["evaluate", "selection_score"]


@torch.no_grad()
def evaluate(
    network: nn.Module,
    task_config: TaskConfig,
    *,
    episodes: int,
    seed: int,
    greedy: bool = True,
    device: str | torch.device = "cpu",
    batch_size: int = 1000,
) -> dict[str, float]:
    """Run ``episodes`` seeded test episodes with frozen weights.

    Parameters
    ----------
    network : nn.Module
        Network following the :mod:`neurometa.agents.pfc` contract.
    task_config : TaskConfig
        The task (meta-RL inputs included).
    episodes : int
        Number of test episodes (run in batches of ``batch_size``). With
        ``task_config.lifetime = L > 0`` they are played as life-times of ``L`` consecutive
        episodes per batch member (``ceil(episodes / L)`` members, at most ``batch_size``):
        the first episode of each life-time is a seeded reset (a new pool of contexts, an
        empty episodic store), the others continue it, so the score covers every encounter
        of a context and not only the first.
    seed : int
        Seeds the task and, when sampling, the actions: same seed, same episodes
        (life-time ``k`` is reset with ``seed + k``).
    greedy : bool
        Argmax actions (True) or sampled ones.
    device : str or torch.device
        Where to run.
    batch_size : int
        Episodes per batch.

    Returns
    -------
    dict
        ``episodes``; ``return`` and ``return_sem`` (mean and standard error of the episode
        return); for tasks with ``arm_probs`` also ``regret`` and ``regret_sem`` (cumulative
        expected regret per episode, Σ_t max(p) − p[a_t]).
    """
    if episodes < 1:
        raise ValueError(f"episodes must be positive, got {episodes}")
    was_training = network.training
    network.eval()
    life = task_config.lifetime
    num_envs = min(math.ceil(episodes / life) if life else episodes, batch_size)
    task = make_task(task_config, num_envs, device)
    sampler = torch_generator(seed + 1, str(task.device))
    returns, regrets = [], []
    remaining, played = episodes, 0
    with _separate_lifetime(network):
        while remaining > 0:
            new_life = played == 0 or (life and played % life == 0)
            seed_now = seed + (played // life if life else 0) if new_life else None
            rollout = run_episodes(network, task, sampler, greedy=greedy, seed=seed_now)
            played += 1
            keep = min(remaining, task.num_envs)
            returns.append(rollout.rewards.sum(0)[:keep].double().cpu())
            if rollout.regrets is not None:
                regrets.append(rollout.regrets.sum(0)[:keep].double().cpu())
            remaining -= keep
    network.train(was_training)
    out = {"episodes": float(episodes), **_mean_sem("return", torch.cat(returns))}
    if regrets:
        out.update(_mean_sem("regret", torch.cat(regrets)))
    return out


@contextmanager
def _separate_lifetime(network: nn.Module) -> Iterator[None]:
    """Run the test episodes in a life-time of their own, then give back the network's store.

    An :class:`~neurometa.agents.base.EpisodicNetwork` starts the seeded test episodes with an
    empty store (see :func:`run_episodes`); the store it held before, the training
    life-time's, is restored afterwards, so evaluating during training leaves training as
    it was. Networks without a store pass through unchanged.
    """
    if not isinstance(network, EpisodicNetwork):
        yield
        return
    saved = network.get_extra_state()
    try:
        yield
    finally:
        network.set_extra_state(saved)


def _mean_sem(name: str, x: torch.Tensor) -> dict[str, float]:
    sem = float(x.std()) / math.sqrt(len(x)) if len(x) > 1 else float("nan")
    return {name: float(x.mean()), f"{name}_sem": sem}


def selection_score(result: dict[str, float]) -> float:
    """Higher is better: minus the regret where the task has one, else the mean return."""
    return -result["regret"] if "regret" in result else result["return"]
