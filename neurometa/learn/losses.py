"""Actor-critic losses as pure functions of time-major ``[T, B]`` tensors.

The policy-gradient, value and entropy terms of the A2C objective
(:mod:`neurometa.learn.a2c`). Their targets, the TD errors and the λ-returns / GAE, are
defined once for every layer in :mod:`neurometa.returns` (with the time indices of rlax
and Sutton & Barto 2018) and are importable from here too.

All functions check shapes on entry and never modify their inputs.
"""

from __future__ import annotations

import torch
from torch import Tensor

from neurometa.returns import (
    _check_time_major,
    gae_advantages,
    lambda_returns,
    n_step_returns,
    td_errors,
)

__all__ = [
    "td_errors",
    "n_step_returns",
    "lambda_returns",
    "gae_advantages",
    "policy_gradient_loss",
    "value_loss",
    "entropy",
    "entropy_loss",
]


def policy_gradient_loss(logits: Tensor, actions: Tensor, advantages: Tensor) -> Tensor:
    """REINFORCE-with-baseline loss (Williams 1992; Mnih et al. 2016).

    ``L_π = −mean_{t,b} [ log π(a_t | s_t) · sg(A_t) ]``; ``sg`` stops the gradient, so
    the advantage acts as a fixed weight.

    Parameters
    ----------
    logits : Tensor, shape (T, B, A)
    actions : Tensor, shape (T, B), int64
    advantages : Tensor, shape (T, B)

    Returns
    -------
    Tensor, scalar
    """
    if logits.dim() != 3:
        raise ValueError(f"logits must be [T, B, A], got shape {tuple(logits.shape)}")
    _check_time_major(actions=actions, advantages=advantages, logits_tb=logits[..., 0])
    log_probs = torch.log_softmax(logits, dim=-1)
    chosen = log_probs.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    return -(chosen * advantages.detach()).mean()


def value_loss(values: Tensor, returns: Tensor) -> Tensor:
    """Squared-error value loss ``L_V = mean_{t,b} ½ (sg(G_t) − V_t)²``.

    Parameters
    ----------
    values : Tensor, shape (T, B)
    returns : Tensor, shape (T, B)
        Targets (gradient stopped).

    Returns
    -------
    Tensor, scalar
    """
    _check_time_major(values=values, returns=returns)
    return 0.5 * (returns.detach() - values).pow(2).mean()


def entropy(logits: Tensor) -> Tensor:
    """Policy entropy ``H_t = −Σ_a π(a|s_t) log π(a|s_t)`` in nats.

    Parameters
    ----------
    logits : Tensor, shape (..., A)

    Returns
    -------
    Tensor, shape (...)
    """
    log_probs = torch.log_softmax(logits, dim=-1)
    return -(log_probs.exp() * log_probs).sum(-1)


def entropy_loss(logits: Tensor) -> Tensor:
    """Entropy bonus as a loss: ``L_H = −mean_{t,b} H_t`` (minimising it raises entropy).

    Parameters
    ----------
    logits : Tensor, shape (T, B, A)

    Returns
    -------
    Tensor, scalar
    """
    if logits.dim() != 3:
        raise ValueError(f"logits must be [T, B, A], got shape {tuple(logits.shape)}")
    return -entropy(logits).mean()
