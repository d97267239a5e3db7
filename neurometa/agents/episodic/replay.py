"""NEC's replay buffer: a preallocated ring of ``(observation, action, target)`` triples.

The targets are the n-step returns of :func:`neurometa.returns.n_step_returns`.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["ReplayBuffer"]


class ReplayBuffer:
    """Preallocated ring buffer of ``(obs [obs_dim], action, target)`` triples.

    Parameters
    ----------
    capacity : int
        Triples kept; the oldest are overwritten first.
    obs_dim : int
    device : torch.device
    """

    def __init__(self, capacity: int, obs_dim: int, device: torch.device) -> None:
        self.capacity = capacity
        self.obs = torch.zeros(capacity, obs_dim, device=device)
        self.actions = torch.zeros(capacity, dtype=torch.long, device=device)
        self.targets = torch.zeros(capacity, device=device)
        self.count = 0

    def add(self, obs: Tensor, actions: Tensor, targets: Tensor) -> None:
        """Append ``obs [N, obs_dim]``, ``actions [N]``, ``targets [N]``."""
        n = obs.shape[0]
        where = (self.count + torch.arange(n, device=obs.device)) % self.capacity
        self.obs[where], self.actions[where], self.targets[where] = obs, actions, targets
        self.count += n

    def sample(self, size: int, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
        """``size`` triples drawn uniformly with replacement from those stored."""
        stored = min(self.count, self.capacity)
        if stored == 0:
            raise RuntimeError("ReplayBuffer.sample: the buffer is empty")
        idx = torch.randint(0, stored, (size,), generator=generator, device=self.obs.device)
        return self.obs[idx], self.actions[idx], self.targets[idx]
