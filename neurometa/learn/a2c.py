"""The advantage actor-critic objective and its schedules (the dopamine outer loop).

The loss of one batch of whole episodes (Mnih et al. 2016; Wang et al. 2018, Methods):

    L = L_π + c_V · L_V + c_H(u) · L_H

with λ-return targets ``G^λ_t`` (γ = ``discount``), advantages ``A_t = G^λ_t − V_t``
(:func:`neurometa.returns.gae_advantages`), ``L_π`` the policy-gradient term, ``L_V`` the
value regression and ``L_H`` the negative entropy. Rewards enter the loss as
``r' = (r − shift) · scale`` (the network's input keeps the raw reward); the discount is
``γ_t = γ`` until the step that ends the episode (``γ_t = 0`` there).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from neurometa.learn import losses
from neurometa.learn.config import OptimConfig
from neurometa.learn.rollout import Rollout
from neurometa.returns import gae_advantages

__all__ = ["a2c_loss", "learning_rate_at", "entropy_cost_at"]


def a2c_loss(rollout: Rollout, config: OptimConfig, entropy_cost: float) -> tuple[Tensor, dict]:
    """The A2C loss of ``rollout`` and its parts.

    Parameters
    ----------
    rollout : Rollout
        Collected with gradients (``logits`` (T, B, A) and ``values`` (T, B) differentiable).
    config : OptimConfig
        ``discount``, ``gae_lambda``, ``value_cost``, reward shift and scale, advantage
        normalisation.
    entropy_cost : float
        Weight ``c_H`` of the entropy term at this update (:func:`entropy_cost_at`).

    Returns
    -------
    loss : Tensor, scalar
    parts : dict of str to Tensor
        ``pg_loss``, ``value_loss``, ``entropy`` (mean nats), detached scalars.
    """
    rewards = (rollout.rewards - config.reward_shift) * config.reward_scale
    discounts = config.discount * (~rollout.terminals).to(rewards.dtype)
    with torch.no_grad():
        values = rollout.values.detach()
        advantages = gae_advantages(
            rewards, discounts, values, rollout.bootstrap_value, config.gae_lambda
        )
        returns = advantages + values
        if config.normalize_advantages:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    pg = losses.policy_gradient_loss(rollout.logits, rollout.actions, advantages)
    vl = losses.value_loss(rollout.values, returns)
    ent = losses.entropy_loss(rollout.logits)
    loss = pg + config.value_cost * vl + entropy_cost * ent
    return loss, {"pg_loss": pg.detach(), "value_loss": vl.detach(), "entropy": -ent.detach()}


def learning_rate_at(config: OptimConfig, update: int) -> float:
    """Learning rate of update ``update`` (0-based) under ``config.lr_schedule``.

    With progress ``x = update / num_updates``: constant ``η_0``; linear
    ``η_0 + (η_1 − η_0) x``; cosine ``η_1 + (η_0 − η_1)(1 + cos πx)/2``.
    """
    x = update / config.num_updates
    lr0, lr1 = config.learning_rate, config.lr_final
    if config.lr_schedule == "linear":
        return lr0 + (lr1 - lr0) * x
    if config.lr_schedule == "cosine":
        return lr1 + (lr0 - lr1) * 0.5 * (1.0 + math.cos(math.pi * x))
    return lr0


def entropy_cost_at(config: OptimConfig, update: int) -> float:
    """Entropy weight of update ``update``: linear from ``entropy_cost`` to ``entropy_final``.

    ``c_H(u) = c_0 + (c_1 − c_0) · min(1, u / (f · num_updates))`` with ``f`` the anneal
    fraction.
    """
    x = min(1.0, update / (config.entropy_anneal_fraction * config.num_updates))
    return config.entropy_cost + (config.entropy_final - config.entropy_cost) * x
