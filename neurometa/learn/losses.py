"""Actor-critic losses as pure functions of time-major ``[T, B]`` tensors.

Time indices follow rlax and Sutton & Barto (2018): for step ``t`` of a rollout the agent
holds ``V_t = V(s_t)``, takes ``a_t``, then receives ``r_t`` (Sutton & Barto's
``R_{t+1}``) and the discount ``γ_t`` (0 where the episode ended at that step).
``bootstrap_value`` is ``V_T = V(s_T)`` after the last step. The TD error

    δ_t = r_t + γ_t V_{t+1} − V_t

is the model's dopamine signal (recorded as ``rpe``; Schultz, Dayan & Montague 1997).

All functions check shapes on entry and never modify their inputs.
"""

from __future__ import annotations

import torch
from torch import Tensor

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


def _check_time_major(**tensors: Tensor) -> tuple[int, int]:
    """Check every tensor is ``[T, B]`` with one shared ``(T, B)``; return it."""
    shape = None
    for name, x in tensors.items():
        if x.dim() != 2:
            raise ValueError(f"{name} must be time-major [T, B], got shape {tuple(x.shape)}")
        if shape is None:
            shape = tuple(x.shape)
        elif tuple(x.shape) != shape:
            raise ValueError(f"{name} has shape {tuple(x.shape)}, expected {shape}")
    return shape  # type: ignore[return-value]


def _check_bootstrap(bootstrap_value: Tensor, batch: int) -> None:
    if tuple(bootstrap_value.shape) != (batch,):
        raise ValueError(
            f"bootstrap_value must have shape ({batch},), got {tuple(bootstrap_value.shape)}"
        )


def _next_values(values: Tensor, bootstrap_value: Tensor) -> Tensor:
    """``V_{t+1}`` for ``t = 0..T−1``: values shifted by one with ``V_T`` appended."""
    return torch.cat([values[1:], bootstrap_value.unsqueeze(0)], dim=0)


def td_errors(
    rewards: Tensor, discounts: Tensor, values: Tensor, bootstrap_value: Tensor
) -> Tensor:
    """One-step TD errors (the reward prediction error, ``rpe``).

    ``δ_t = r_t + γ_t V_{t+1} − V_t`` with ``V_T = bootstrap_value``.

    Parameters
    ----------
    rewards, discounts, values : Tensor, shape (T, B)
        ``r_t``, ``γ_t`` and ``V_t``.
    bootstrap_value : Tensor, shape (B,)
        ``V_T``.

    Returns
    -------
    Tensor, shape (T, B)
    """
    _, batch = _check_time_major(rewards=rewards, discounts=discounts, values=values)
    _check_bootstrap(bootstrap_value, batch)
    return rewards + discounts * _next_values(values, bootstrap_value) - values


def lambda_returns(
    rewards: Tensor, discounts: Tensor, values: Tensor, bootstrap_value: Tensor, lambda_: float
) -> Tensor:
    """λ-returns (Sutton & Barto 2018, eq. 12.3, in recursive form).

    ``G^λ_t = r_t + γ_t [(1 − λ) V_{t+1} + λ G^λ_{t+1}]`` with ``G^λ_T = V_T``.
    λ = 1 gives the Monte-Carlo return bootstrapped from ``V_T``; λ = 0 the one-step target.

    Parameters
    ----------
    rewards, discounts, values : Tensor, shape (T, B)
    bootstrap_value : Tensor, shape (B,)
    lambda_ : float
        In ``[0, 1]``.

    Returns
    -------
    Tensor, shape (T, B)
    """
    steps, batch = _check_time_major(rewards=rewards, discounts=discounts, values=values)
    _check_bootstrap(bootstrap_value, batch)
    if not 0.0 <= lambda_ <= 1.0:
        raise ValueError(f"lambda_ must lie in [0, 1], got {lambda_}")
    next_values = _next_values(values, bootstrap_value)
    out = torch.empty_like(rewards)
    g = bootstrap_value
    for t in range(steps - 1, -1, -1):
        g = rewards[t] + discounts[t] * ((1.0 - lambda_) * next_values[t] + lambda_ * g)
        out[t] = g
    return out


def gae_advantages(
    rewards: Tensor, discounts: Tensor, values: Tensor, bootstrap_value: Tensor, lambda_: float
) -> Tensor:
    """Generalised advantage estimates (Schulman et al. 2016, eq. 16).

    ``A_t = δ_t + γ_t λ A_{t+1}`` with ``A_T = 0``, i.e. ``A_t = Σ_k (Π γ λ) δ_{t+k}``;
    equal to ``G^λ_t − V_t`` (see :func:`lambda_returns`).

    Parameters
    ----------
    rewards, discounts, values : Tensor, shape (T, B)
    bootstrap_value : Tensor, shape (B,)
    lambda_ : float
        In ``[0, 1]``.

    Returns
    -------
    Tensor, shape (T, B)
    """
    if not 0.0 <= lambda_ <= 1.0:
        raise ValueError(f"lambda_ must lie in [0, 1], got {lambda_}")
    deltas = td_errors(rewards, discounts, values, bootstrap_value)
    out = torch.empty_like(deltas)
    a = torch.zeros_like(bootstrap_value)
    for t in range(deltas.shape[0] - 1, -1, -1):
        a = deltas[t] + discounts[t] * lambda_ * a
        out[t] = a
    return out


def n_step_returns(
    rewards: Tensor, discounts: Tensor, values: Tensor, bootstrap_value: Tensor, n: int
) -> Tensor:
    """n-step returns truncated at the end of the rollout (Sutton & Barto 2018, eq. 7.1).

    ``G_{t:t+n} = r_t + γ_t r_{t+1} + … + (Π_{k<n} γ_{t+k}) V_{t+n}``, where
    ``V_{t+n}`` is ``V_T = bootstrap_value`` once ``t + n ≥ T``.

    Parameters
    ----------
    rewards, discounts, values : Tensor, shape (T, B)
    bootstrap_value : Tensor, shape (B,)
    n : int
        Number of rewards before bootstrapping (≥ 1).

    Returns
    -------
    Tensor, shape (T, B)
    """
    steps, batch = _check_time_major(rewards=rewards, discounts=discounts, values=values)
    _check_bootstrap(bootstrap_value, batch)
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    all_values = torch.cat([values, bootstrap_value.unsqueeze(0)], dim=0)  # V_0..V_T
    out = torch.empty_like(rewards)
    for t in range(steps):
        end = min(t + n, steps)
        g = all_values[end]
        for k in range(end - 1, t - 1, -1):
            g = rewards[k] + discounts[k] * g
        out[t] = g
    return out


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
