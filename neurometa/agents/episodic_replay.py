"""Return targets and the replay buffer of the episodic-valuation agents.

:func:`n_step_returns` computes the value targets of Box 2, MFEC and NEC from an episode's
time-major rewards; :class:`ReplayBuffer` is NEC's preallocated ring buffer of
``(observation, action, target)`` triples.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["n_step_returns", "ReplayBuffer"]


def n_step_returns(
    rewards: Tensor, discount: float, n_step: int, bootstrap: Tensor | None = None
) -> Tensor:
    r"""Discounted ``n``-step returns of one fixed-length episode.

    .. math:: G_t = \sum_{j=0}^{\min(n, T-t)-1} \gamma^j r_{t+j}
              + [t + n < T]\, \gamma^n V_{t+n}

    with ``n = T`` when ``n_step == 0`` (Monte-Carlo returns, MFEC) and no bootstrap term
    when ``bootstrap`` is None (Box 2). Rewards after the episode's last step are zero.

    Parameters
    ----------
    rewards : Tensor, shape (T, B)
        ``r_t``, the reward following the action at step ``t``.
    discount : float
        γ in [0, 1].
    n_step : int
        Horizon ``n`` (0 = to the end of the episode).
    bootstrap : Tensor, shape (T, B), optional
        ``V_t``, the value estimate of the state at step ``t`` (NEC: ``max_a Q(s_t, a)``).

    Returns
    -------
    Tensor, shape (T, B)
    """
    if rewards.dim() != 2:
        raise ValueError(f"n_step_returns: rewards must be (T, B), got {tuple(rewards.shape)}")
    if bootstrap is not None and bootstrap.shape != rewards.shape:
        raise ValueError(
            f"n_step_returns: bootstrap shape {tuple(bootstrap.shape)} != rewards shape "
            f"{tuple(rewards.shape)}"
        )
    if n_step < 0:
        raise ValueError(f"n_step_returns: n_step must be >= 0, got {n_step}")
    steps = rewards.shape[0]
    horizon = steps if n_step == 0 or n_step > steps else n_step
    # G_t = sum_j gamma^j r_{t+j}: zero-pad the future and sum shifted copies (j < horizon)
    padded = torch.cat([rewards, rewards.new_zeros(horizon, rewards.shape[1])])
    returns = torch.zeros_like(rewards)
    for j in range(horizon):  # loop over the horizon, not over data
        returns = returns + (discount**j) * padded[j : j + steps]
    if bootstrap is not None and horizon < steps:
        returns[: steps - horizon] += (discount**horizon) * bootstrap[horizon:]
    return returns


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
