"""The A2C update written out plainly, CleanRL-style: the oracle of the fast trainer.

:meth:`neurometa.learn.Trainer.step` gets its speed from a taped rollout with a
hand-written backward pass (:mod:`neurometa.agents.lstm_kernel`) and from the shared loss
functions (:mod:`neurometa.learn.a2c`). :func:`reference_update` computes the same update
the obvious way, top to bottom: step ``nn.LSTMCell`` with autograd, sample each action,
compute the generalised advantages in a loop (Schulman et al. 2016), form the A2C loss
(Mnih et al. 2016), back-propagate through time with autograd and step the optimiser. The
tests check that both give the same gradient; ``benchmarks/train_throughput.py
--reference`` times it beside the trainer.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from neurometa.agents.base import choose_actions
from neurometa.agents.pfc import PFCNetwork
from neurometa.learn.config import OptimConfig
from neurometa.tasks import BatchedTask

__all__ = ["reference_update"]


def reference_update(
    network: PFCNetwork,
    optimizer: torch.optim.Optimizer,
    task: BatchedTask,
    generator: torch.Generator,
    config: OptimConfig,
    *,
    entropy_cost: float,
) -> Tensor:
    """One A2C update on a fresh batch of whole episodes, with plain autograd.

    Parameters
    ----------
    network : PFCNetwork
        Its ``core`` (an ``nn.LSTMCell``), ``head`` and learned initial state are used.
    optimizer : torch.optim.Optimizer
        Over ``network.parameters()``; stepped once (its learning rate as set).
    task : BatchedTask
        With meta-RL inputs (``neurometa.learn.rollout.make_task``); reset here, its
        generator continuing.
    generator : torch.Generator
        Source of the action samples.
    config : OptimConfig
        ``discount``, ``gae_lambda``, ``value_cost``, reward shift and scale, advantage
        normalisation and gradient clipping.
    entropy_cost : float
        Weight of the entropy bonus at this update.

    Returns
    -------
    Tensor, scalar
        The loss (detached); the gradients stay in the parameters' ``.grad``.

    Examples
    --------
    >>> from neurometa.learn.rollout import make_task
    >>> from neurometa.learn.config import TaskConfig
    >>> task = make_task(TaskConfig(overrides={"num_trials": 5}), 4)
    >>> net = PFCNetwork(task.obs_dim, task.num_actions, 8)
    >>> adam = torch.optim.Adam(net.parameters(), lr=1e-3)
    >>> loss = reference_update(net, adam, task, torch.Generator().manual_seed(0),
    ...                         OptimConfig(), entropy_cost=0.05)
    >>> bool(torch.isfinite(loss))
    True
    """
    obs, _ = task.reset()
    h, c = network.initial_state(task.num_envs)
    log_probs, entropies, values, rewards, dones = [], [], [], [], []
    for _ in range(task.episode_length):
        h, c = network.core(obs, (h, c))
        out = network.head(h)
        logits, value = out[:, :-1], out[:, -1]
        action = choose_actions(logits.detach(), generator, greedy=False)
        obs, reward, terminated, _, _ = task.step(action)
        log_policy = torch.log_softmax(logits, dim=-1)
        log_probs.append(log_policy.gather(1, action.unsqueeze(1)).squeeze(1))
        entropies.append(-(log_policy.exp() * log_policy).sum(-1))
        values.append(value)
        rewards.append((reward - config.reward_shift) * config.reward_scale)
        dones.append(terminated.float())

    # generalised advantages, backwards from V_T = 0 (every episode has ended)
    with torch.no_grad():
        advantages = torch.zeros(len(values), task.num_envs, device=obs.device)
        next_value = next_advantage = torch.zeros(task.num_envs, device=obs.device)
        for t in reversed(range(len(values))):
            discount = config.discount * (1.0 - dones[t])
            delta = rewards[t] + discount * next_value - values[t]
            next_advantage = delta + discount * config.gae_lambda * next_advantage
            advantages[t], next_value = next_advantage, values[t]
        returns = advantages + torch.stack(values)
        if config.normalize_advantages:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)

    pg_loss = -(torch.stack(log_probs) * advantages).mean()
    value_loss = 0.5 * (returns - torch.stack(values)).pow(2).mean()
    entropy = torch.stack(entropies).mean()
    loss = pg_loss + config.value_cost * value_loss - entropy_cost * entropy

    optimizer.zero_grad()
    loss.backward()
    max_norm = config.max_grad_norm if config.max_grad_norm is not None else math.inf
    torch.nn.utils.clip_grad_norm_(network.parameters(), max_norm)
    optimizer.step()
    return loss.detach()
