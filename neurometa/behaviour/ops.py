"""Array operations the model recursions use, safe for complex-step differentiation.

The fitting engine differentiates a model's likelihood by the complex step (Squire &
Trapp 1998, SIAM Rev 40:110; Martins, Sturdza & Alonso 2003, ACM TOMS 29:245): with
``f`` analytic, ``f'(x) = Im f(x + i h) / h`` exactly up to rounding for a tiny ``h``, with
no subtractive cancellation. A recursion written with arithmetic, ``exp``/``log`` and the
functions here (which branch on real parts only) therefore gives exact gradients when it is
run on complex parameters, and ordinary values on real ones.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

__all__ = ["softplus", "log_softmax", "softmax", "log_prob", "one_hot", "pick", "real_max"]


def softplus(z: np.ndarray) -> np.ndarray:
    """``ln(1 + e^z)`` without overflow.

    For complex ``z = x + i y`` (a complex-step evaluation, ``|y|`` tiny) the first-order
    expansion ``softplus(x) + i y sigmoid(x)`` is used: exact to rounding for the complex
    step, and several times cheaper than complex ``exp`` and ``log1p``.
    """
    if np.iscomplexobj(z):
        x = z.real
        return np.logaddexp(0.0, x) + 1j * (z.imag * expit(x))
    return np.logaddexp(0.0, z)


def real_max(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Maximum of the real parts along ``axis`` (keepdims), a shift constant for ``exp``."""
    return np.max(np.real(x), axis=axis, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """``logits - ln Σ exp(logits)`` along the last axis, shape kept."""
    shifted = logits - real_max(logits)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Choice probabilities from logits along the last axis."""
    e = np.exp(logits - real_max(logits))
    return e / e.sum(axis=-1, keepdims=True)


def one_hot(index: np.ndarray, num: int) -> np.ndarray:
    """``(B,)`` integer -> ``(B, num)`` float one-hot (an index outside 0..num-1 gives zeros)."""
    return (np.asarray(index)[..., None] == np.arange(num)).astype(np.float64)


def pick(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[b, index[b]]`` for ``values (B, A)``, complex-safe: ``(B,)``."""
    return (values * one_hot(index, values.shape[-1])).sum(axis=-1)


def log_prob(logits: np.ndarray, choice: np.ndarray) -> np.ndarray:
    """Log-probability of ``choice (B,)`` under ``softmax(logits (B, A))``.

    Two options: ``-softplus(-(x_c - x_other))``; one option: 0.
    """
    num = logits.shape[-1]
    if num == 1:
        return np.zeros(logits.shape[:-1], dtype=logits.dtype)
    if num == 2:
        diff = logits[:, 1] - logits[:, 0]
        return -softplus(np.where(np.asarray(choice) == 1, -diff, diff))
    return pick(log_softmax(logits), choice)
