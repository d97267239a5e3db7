"""TD errors, multi-step returns and expected regret: one definition for every layer.

Each function takes numpy arrays or torch tensors (and returns the same kind), so the
trainer, the agents, the recorder, the sweeps and the torch-free analyses all use these
definitions. This module never imports torch itself.

Time indices follow rlax and Sutton & Barto (2018): arrays are time-major ``(T, B)``; at
step ``t`` the agent holds ``V_t = V(s_t)``, takes ``a_t``, then receives ``r_t`` (Sutton &
Barto's ``R_{t+1}``) and the discount ``γ_t`` (0 where the episode ended with that step).
``bootstrap_value`` is ``V_T = V(s_T)`` after the last step. The TD error

    δ_t = r_t + γ_t V_{t+1} − V_t

is the model's dopamine signal (recorded as ``rpe``; Schultz, Dayan & Montague 1997).
Every function checks shapes on entry and never modifies its inputs.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "td_errors",
    "n_step_returns",
    "lambda_returns",
    "gae_advantages",
    "expected_regret",
]

Array = Any
"""A numpy array or a torch tensor."""


def _namespace(x: Array) -> ModuleType:
    """``numpy`` for arrays, ``torch`` for tensors (torch is never imported here)."""
    if isinstance(x, np.ndarray):
        return np
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        return torch
    raise TypeError(f"expected a numpy array or a torch tensor, got {type(x).__name__}")


def _concat(xp: ModuleType, parts: list[Array]) -> Array:
    return xp.cat(parts) if xp is not np else np.concatenate(parts)


def _check_time_major(**arrays: Array) -> tuple[int, int]:
    """Check every array is ``(T, B)`` with one shared shape; return it."""
    shape = None
    for name, x in arrays.items():
        _namespace(x)
        if x.ndim != 2:
            raise ValueError(f"{name} must be time-major (T, B), got shape {tuple(x.shape)}")
        if shape is None:
            shape = tuple(x.shape)
        elif tuple(x.shape) != shape:
            raise ValueError(f"{name} has shape {tuple(x.shape)}, expected {shape}")
    return shape  # type: ignore[return-value]


def _check_bootstrap(bootstrap_value: Array, batch: int) -> None:
    if tuple(bootstrap_value.shape) != (batch,):
        raise ValueError(
            f"bootstrap_value must have shape ({batch},), got {tuple(bootstrap_value.shape)}"
        )


def _check_lambda(lambda_: float) -> None:
    if not 0.0 <= lambda_ <= 1.0:
        raise ValueError(f"lambda_ must lie in [0, 1], got {lambda_}")


def td_errors(rewards: Array, discounts: Array, values: Array, bootstrap_value: Array) -> Array:
    """One-step TD errors, the reward prediction error ``rpe`` (Sutton & Barto 2018, eq. 6.5).

    ``δ_t = r_t + γ_t V_{t+1} − V_t`` with ``V_T = bootstrap_value``.

    Parameters
    ----------
    rewards, discounts, values : array, shape (T, B)
        ``r_t``, ``γ_t`` and ``V_t``.
    bootstrap_value : array, shape (B,)
        ``V_T``.

    Returns
    -------
    array, shape (T, B)

    Examples
    --------
    >>> import numpy as np
    >>> r, g, v = np.array([[1.0], [2.0]]), np.full((2, 1), 0.5), np.array([[0.1], [0.2]])
    >>> td_errors(r, g, v, np.array([0.4])).round(6).tolist()
    [[1.0], [2.0]]
    """
    _, batch = _check_time_major(rewards=rewards, discounts=discounts, values=values)
    _check_bootstrap(bootstrap_value, batch)
    next_values = _concat(_namespace(values), [values[1:], bootstrap_value[None]])
    return rewards + discounts * next_values - values


def n_step_returns(
    rewards: Array, discounts: Array, values: Array, bootstrap_value: Array, n: int
) -> Array:
    """n-step returns truncated at the end of the rollout (Sutton & Barto 2018, eq. 7.1).

    ``G_{t:t+n} = r_t + γ_t r_{t+1} + … + (Π_{k<n} γ_{t+k}) V_{t+n}``, where ``V_{t+n}`` is
    ``V_T = bootstrap_value`` once ``t + n ≥ T``; ``n ≥ T`` gives the Monte-Carlo return
    bootstrapped from ``V_T`` (and no bootstrap at all where ``γ_{T−1} = 0``). Computed
    backwards, ``G = r_{t+i} + γ_{t+i} G`` for ``i = n−1, …, 0``, vectorised over ``t``.

    Parameters
    ----------
    rewards, discounts, values : array, shape (T, B)
    bootstrap_value : array, shape (B,)
    n : int
        Number of rewards before bootstrapping (≥ 1).

    Returns
    -------
    array, shape (T, B)

    Examples
    --------
    >>> import numpy as np
    >>> r, g, v = np.array([[1.0], [2.0]]), np.full((2, 1), 0.5), np.array([[0.1], [0.2]])
    >>> n_step_returns(r, g, v, np.array([0.4]), n=2).round(6).tolist()
    [[2.1], [2.2]]
    """
    steps, batch = _check_time_major(rewards=rewards, discounts=discounts, values=values)
    _check_bootstrap(bootstrap_value, batch)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    xp, n = _namespace(rewards), min(n, steps)
    pad = n - 1
    tail = bootstrap_value[None].repeat(pad, 0) if xp is np else bootstrap_value.expand(pad, -1)
    returns = _concat(xp, [values[n:], bootstrap_value[None], tail])  # V_{min(t+n, T)}
    rewards = _concat(xp, [rewards, xp.zeros_like(rewards[:pad])])  # r = 0, γ = 1 after T
    discounts = _concat(xp, [discounts, xp.ones_like(discounts[:pad])])
    for i in range(n - 1, -1, -1):
        returns = rewards[i : i + steps] + discounts[i : i + steps] * returns
    return returns


def lambda_returns(
    rewards: Array, discounts: Array, values: Array, bootstrap_value: Array, lambda_: float
) -> Array:
    """λ-returns (Sutton & Barto 2018, eq. 12.3, in recursive form).

    ``G^λ_t = r_t + γ_t [(1 − λ) V_{t+1} + λ G^λ_{t+1}]`` with ``G^λ_T = V_T``.
    λ = 1 gives the Monte-Carlo return bootstrapped from ``V_T``; λ = 0 the one-step target.

    Parameters
    ----------
    rewards, discounts, values : array, shape (T, B)
    bootstrap_value : array, shape (B,)
    lambda_ : float
        In ``[0, 1]``.

    Returns
    -------
    array, shape (T, B)

    Examples
    --------
    >>> import numpy as np
    >>> r, g, v = np.array([[1.0], [2.0]]), np.full((2, 1), 0.5), np.array([[0.1], [0.2]])
    >>> lambda_returns(r, g, v, np.array([0.4]), lambda_=0.5).round(6).tolist()
    [[1.6], [2.2]]
    """
    steps, batch = _check_time_major(rewards=rewards, discounts=discounts, values=values)
    _check_bootstrap(bootstrap_value, batch)
    _check_lambda(lambda_)
    xp = _namespace(rewards)
    next_values = _concat(xp, [values[1:], bootstrap_value[None]])
    out = xp.empty_like(rewards)
    g = bootstrap_value
    for t in range(steps - 1, -1, -1):
        g = rewards[t] + discounts[t] * ((1.0 - lambda_) * next_values[t] + lambda_ * g)
        out[t] = g
    return out


def gae_advantages(
    rewards: Array, discounts: Array, values: Array, bootstrap_value: Array, lambda_: float
) -> Array:
    """Generalised advantage estimates (Schulman et al. 2016, eq. 16).

    ``A_t = δ_t + γ_t λ A_{t+1}`` with ``A_T = 0``, i.e. ``A_t = Σ_k (Π γ λ) δ_{t+k}``;
    equal to ``G^λ_t − V_t`` (see :func:`lambda_returns`).

    Parameters
    ----------
    rewards, discounts, values : array, shape (T, B)
    bootstrap_value : array, shape (B,)
    lambda_ : float
        In ``[0, 1]``.

    Returns
    -------
    array, shape (T, B)

    Examples
    --------
    >>> import numpy as np
    >>> r, g, v = np.array([[1.0], [2.0]]), np.full((2, 1), 0.5), np.array([[0.1], [0.2]])
    >>> gae_advantages(r, g, v, np.array([0.4]), lambda_=0.5).round(6).tolist()
    [[1.5], [2.0]]
    """
    _check_lambda(lambda_)
    deltas = td_errors(rewards, discounts, values, bootstrap_value)
    xp = _namespace(deltas)
    out = xp.empty_like(deltas)
    a = xp.zeros_like(bootstrap_value)
    for t in range(deltas.shape[0] - 1, -1, -1):
        a = deltas[t] + discounts[t] * lambda_ * a
        out[t] = a
    return out


def expected_regret(arm_probs: Array, actions: Array) -> Array:
    """Expected regret of each choice, ``max_k p_k − p_{a}`` (Wang et al. 2016).

    The expected reward lost by choosing ``a`` instead of the best arm, given the arms'
    reward probabilities ``p`` in force at the choice.

    Parameters
    ----------
    arm_probs : array, shape (..., K)
        Reward probability of each arm.
    actions : array, shape (...), integer
        The arm chosen, in ``[0, K)``.

    Returns
    -------
    array, shape (...)
        Of the dtype of ``arm_probs``.

    Raises
    ------
    ValueError
        If the shapes disagree or an action is not an arm.

    Examples
    --------
    >>> import numpy as np
    >>> expected_regret(np.array([[0.2, 0.7], [0.9, 0.4]]), np.array([0, 0])).tolist()
    [0.49999999999999994, 0.0]
    """
    xp = _namespace(arm_probs)
    num_arms = arm_probs.shape[-1]
    if tuple(actions.shape) != tuple(arm_probs.shape[:-1]):
        raise ValueError(
            f"actions of shape {tuple(actions.shape)} do not match arm_probs of shape "
            f"{tuple(arm_probs.shape)} (expected {tuple(arm_probs.shape[:-1])})"
        )
    if actions.dtype.is_floating_point if xp is not np else actions.dtype.kind not in "iu":
        raise ValueError(f"actions must be integers, got {actions.dtype}")
    size = actions.size if xp is np else actions.numel()
    low, high = (int(actions.min()), int(actions.max())) if size else (0, 0)
    if low < 0 or high >= num_arms:
        raise ValueError(
            f"actions must lie in [0, {num_arms}) (an arm), got values in [{low}, {high}]"
        )
    if xp is np:
        chosen = np.take_along_axis(arm_probs, actions[..., None], axis=-1)[..., 0]
        return arm_probs.max(axis=-1) - chosen
    chosen = arm_probs.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    return arm_probs.max(-1).values - chosen
