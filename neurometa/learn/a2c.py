"""The advantage actor-critic objective and its schedules (the dopamine outer loop).

The loss of one batch of whole episodes (Mnih et al. 2016; Wang et al. 2018, Methods):

    L = L_π + c_V · L_V + c_H(u) · L_H

with λ-return targets ``G^λ_t`` (γ = ``discount``), advantages ``A_t = G^λ_t − V_t``
(:func:`neurometa.learn.losses.gae_advantages`), ``L_π`` the policy-gradient term, ``L_V`` the
value regression and ``L_H`` the negative entropy. Rewards enter the loss as
``r' = (r − shift) · scale`` (the network's input keeps the raw reward), where ``r`` is the
sampled reward, with ``reward_signal = "expected"`` its expectation ``p[a_t]``, or with
``reward_signal = "regret"`` minus the expected regret ``−(max_k p_k − p[a_t])`` (unbiased
because ``max_k p_k`` is fixed before the first action), or with ``reward_signal =
"relative"`` that regret in reward units, ``p[a_t] − max_k p_k + mean_b max_k p_k`` (mean over
the batch's episodes). With a blend (``signal_blend_start`` < ``signal_blend_end``) the
loss's reward is ``(1 − m) r_t + m s_t`` for the signal ``s_t``, with the weight ``m`` rising
linearly over that part of the run (:func:`signal_weight_at`).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from neurometa.learn import losses
from neurometa.learn.config import OptimConfig
from neurometa.learn.rollout import Rollout

__all__ = ["a2c_loss", "learning_rate_at", "entropy_cost_at", "signal_weight_at", "loss_rewards"]


def loss_rewards(rollout: Rollout, config: OptimConfig, signal_weight: float = 1.0) -> Tensor:
    """The rewards the loss's returns are built from, ``(T, B)``, before shift and scale.

    ``(1 − m) r_t + m s_t`` with ``m`` = ``signal_weight`` and ``s_t`` the
    ``config.reward_signal`` (module docstring); the sampled rewards ``r_t`` when the signal
    is ``sampled`` or ``m`` is 0.
    """
    rewards = rollout.rewards
    if config.reward_signal == "sampled" or signal_weight == 0.0:
        return rewards
    if rollout.expected_rewards is None or rollout.regrets is None:
        raise ValueError(
            f"OptimConfig.reward_signal = {config.reward_signal!r} needs a task whose info "
            "gives 'arm_probs' (the bandit families); use reward_signal = 'sampled'"
        )
    if config.reward_signal == "expected":
        signal = rollout.expected_rewards
    elif config.reward_signal == "regret":
        signal = -rollout.regrets
    else:  # relative: p[a] − p_max + batch mean of p_max
        best = rollout.expected_rewards + rollout.regrets
        signal = rollout.expected_rewards - best + best.mean(dim=1, keepdim=True)
    return (
        signal
        if signal_weight == 1.0
        else (1.0 - signal_weight) * rewards + signal_weight * signal
    )


def a2c_loss(
    rollout: Rollout, config: OptimConfig, entropy_cost: float, signal_weight: float = 1.0
) -> tuple[Tensor, dict]:
    """The A2C loss of ``rollout`` and its parts.

    Parameters
    ----------
    rollout : Rollout
        Collected with gradients (``logits`` (T, B, A) and ``values`` (T, B) differentiable).
    config : OptimConfig
        ``discount``, ``gae_lambda``, ``value_cost``, reward signal, shift/scale,
        normalisation.
    entropy_cost : float
        Weight ``c_H`` of the entropy term at this update.
    signal_weight : float
        Weight ``m`` of ``config.reward_signal`` against the sampled rewards
        (:func:`signal_weight_at`; 1: the signal only).

    Returns
    -------
    loss : Tensor, scalar
    parts : dict of str to Tensor
        ``pg_loss``, ``value_loss``, ``entropy`` (mean nats), detached scalars.
    """
    rewards = loss_rewards(rollout, config, signal_weight)
    rewards = (rewards - config.reward_shift) * config.reward_scale
    discounts = config.discount * (~rollout.terminals).to(rewards.dtype)
    with torch.no_grad():
        values = rollout.values.detach()
        advantages = losses.gae_advantages(
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


def signal_weight_at(config: OptimConfig, update: int, began: int | None = None) -> float:
    """Weight ``m`` of ``reward_signal`` against the sampled rewards at update ``update``.

    With progress ``x = update / num_updates``, start ``s`` and end ``e`` of the blend:
    ``m = clip((x − s) / (e − s), 0, 1)``; ``m = 1[x ≥ s]`` when ``s = e``. With a gate
    (``signal_blend_gate``) the blend starts at update ``began`` instead (``m = 0`` while it
    is None): ``m = clip((update − began) / ((e − s) · num_updates), 0, 1)``.
    """
    if config.signal_blend_gate is None:
        x, first = update / config.num_updates, config.signal_blend_start
    elif began is None:
        return 0.0
    else:
        x, first = (update - began) / config.num_updates, 0.0
    if x < first:
        return 0.0
    width = config.signal_blend_end - config.signal_blend_start
    return 1.0 if width <= 0.0 else min(1.0, (x - first) / width)
