"""The agent contract used by rollouts and the recorder (trained networks and baselines).

An agent acts on a batched task (see :mod:`neurometa.tasks.base`) one step at a time:

1. ``agent.begin(task, generator)`` at every ``task.reset()``: set up per-episode state for
   ``task.num_envs`` episodes (``generator`` is the seeded ``torch.Generator`` for action
   sampling).
2. ``action, out = agent.act(obs, info)`` each step: ``action`` is ``int64 [B]``; ``out``
   maps recordable quantities to tensors with leading dim ``B``: ``policy [B, A]`` (action
   probabilities, required), ``value [B]`` where the agent has a value estimate, and unit
   activity ``h [B, U]``, ``c [B, U]`` and memory read-outs for networks.
3. ``out = agent.observe(action, reward, terminated, info)`` after ``task.step``: belief or
   value updates; may return ``rpe [B]`` (the agent's own prediction error) and other
   per-step quantities.

``agent.discount`` (float) is the γ used to compute ``rpe`` from ``value`` when the agent
does not report one itself; ``agent.name`` is a short identifier for recordings.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

__all__ = ["Agent"]


@runtime_checkable
class Agent(Protocol):
    """What rollouts and the recorder need from an agent (see module docstring)."""

    name: str
    discount: float

    def begin(self, task, generator: torch.Generator) -> None:  # noqa: ANN001
        """Start new episodes on ``task``."""

    def act(self, obs: Tensor, info: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Choose actions ``int64 [B]``; return them with recordable outputs."""

    def observe(
        self, action: Tensor, reward: Tensor, terminated: Tensor, info: dict[str, Tensor]
    ) -> dict[str, Tensor]:
        """Take in the outcome of the step; return per-step outputs (e.g. ``rpe``)."""
