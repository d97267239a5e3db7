"""Shared helpers for the task tests: a rollout that stacks everything a task returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
from torch import Tensor

from neurometa.tasks import BatchedTask


@dataclass
class Rollout:
    """One episode: ``obs [T+1, B, D]``, ``actions/rewards/terminated [T, B]``, infos."""

    obs: Tensor
    actions: Tensor
    rewards: Tensor
    terminated: Tensor
    truncated: Tensor
    reset_info: dict[str, Tensor]
    infos: dict[str, Tensor]  # each key stacked over steps: [T, B, ...]


def run_episode(
    task: BatchedTask,
    *,
    seed: int | None,
    action_seed: int = 0,
    policy: Callable[[int, Tensor], Tensor] | None = None,
) -> Rollout:
    """Reset ``task`` (with ``seed``) and play one episode with random or given actions."""
    obs, info = task.reset(seed=seed)
    reset_info = {k: v.clone() for k, v in info.items()}
    gen = torch.Generator().manual_seed(action_seed)
    observations, actions, rewards, terms, truncs = [obs.clone()], [], [], [], []
    infos: dict[str, list[Tensor]] = {k: [] for k in info}
    for t in range(task.episode_length):
        action = torch.randint(0, task.num_actions, (task.num_envs,), generator=gen)
        if policy is not None:
            action = policy(t, action)
        obs, reward, terminated, truncated, info = task.step(action)
        observations.append(obs.clone())
        actions.append(action)
        rewards.append(reward)
        terms.append(terminated)
        truncs.append(truncated)
        for key in infos:
            infos[key].append(info[key].clone())
    return Rollout(
        torch.stack(observations),
        torch.stack(actions),
        torch.stack(rewards),
        torch.stack(terms),
        torch.stack(truncs),
        reset_info,
        {k: torch.stack(v) for k, v in infos.items()},
    )


@pytest.fixture
def rollout() -> Callable[..., Rollout]:
    """The :func:`run_episode` helper."""
    return run_episode
