"""The one parameter vocabulary of the behavioural models.

Every model names its free parameters from :data:`PARAMETERS`, so that a name means the
same thing (range, scale, prior) in every model, in the fits table and in the latents'
attributes. Each :class:`Param` carries

- ``bounds``: the box of maximum-likelihood and MAP fits;
- ``transform``: the unbounded scale of the empirical-Bayes group prior (Huys et al. 2011):
  ``logit`` for rates in [0, 1], ``log`` for inverse temperatures, ``identity`` for biases;
- ``prior``: the weakly informative prior of MAP fits (Gershman 2016, J Math Psychol
  71:1-6): ``("beta", a, b)``, ``("gamma", shape, scale)`` or ``("normal", mean, sd)``;
- ``start``: the range random restarts are drawn from (inside the bounds, away from the
  flat, saturated corners).

Examples
--------
>>> PARAMETERS["alpha"].bounds
(0.0, 1.0)
>>> PARAMETERS["beta"].transform
'log'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, gammaln

__all__ = ["Param", "PARAMETERS", "log_prior", "to_natural", "to_unbounded"]


@dataclass(frozen=True)
class Param:
    """One named parameter: meaning, box, group-prior scale, weak prior, restart range."""

    name: str
    """Name used by every model and in every table."""
    long_name: str
    """What it is, in words (CF ``long_name`` of the fits table)."""
    bounds: tuple[float, float]
    """Box of maximum-likelihood and MAP fits."""
    transform: str
    """Scale of the empirical-Bayes group prior: ``logit``, ``log`` or ``identity``."""
    prior: tuple[str, float, float]
    """Weak prior of MAP fits: ``(family, a, b)``."""
    start: tuple[float, float]
    """Range of random restarts."""


def _rate(name: str, long_name: str) -> Param:
    return Param(name, long_name, (0.0, 1.0), "logit", ("beta", 1.1, 1.1), (0.1, 0.9))


def _temperature(name: str, long_name: str) -> Param:
    return Param(name, long_name, (0.0, 20.0), "log", ("gamma", 1.2, 5.0), (1.0, 8.0))


#: Every parameter any model uses, by name.
PARAMETERS: dict[str, Param] = {
    p.name: p
    for p in (
        _rate("alpha", "learning rate"),
        _rate("alpha_pos", "learning rate for positive prediction errors"),
        _rate("alpha_neg", "learning rate for negative prediction errors"),
        _rate("forgetting", "decay rate of the unchosen options' values towards 0"),
        _rate("alpha_c", "choice-kernel learning rate"),
        _temperature("beta", "inverse temperature of the softmax choice rule"),
        Param(
            "beta_c",
            "choice-kernel weight (inverse temperature of the choice kernel)",
            (-10.0, 10.0),
            "identity",
            ("normal", 0.0, 5.0),
            (-1.0, 1.0),
        ),
        Param(
            "perseveration",
            "value bonus for repeating the previous choice",
            (-2.0, 2.0),
            "identity",
            ("normal", 0.0, 1.0),
            (-0.5, 0.5),
        ),
        Param(
            "bias",
            "bias towards option 1 (logit units)",
            (-5.0, 5.0),
            "identity",
            ("normal", 0.0, 2.0),
            (-0.5, 0.5),
        ),
        _rate("alpha1", "first-stage learning rate"),
        _rate("alpha2", "second-stage learning rate"),
        _rate("lam", "eligibility-trace decay lambda (outcome's weight on first-stage values)"),
        _temperature("beta1", "first-stage inverse temperature"),
        _temperature("beta2", "second-stage inverse temperature"),
        _rate("w", "model-based weight (0 model-free, 1 model-based)"),
        Param(
            "tau",
            "time constant of the leaky income integrator (trials)",
            (1.0, 100.0),
            "log",
            ("gamma", 2.0, 10.0),
            (2.0, 30.0),
        ),
        Param(
            "lapse",
            "probability of a uniformly random choice",
            (0.001, 1.0),
            "logit",
            ("beta", 1.1, 1.1),
            (0.02, 0.3),
        ),
    )
}

#: Box on the unbounded scale of the group prior (numerical safety only).
BOX: dict[str, tuple[float, float]] = {
    "logit": (-12.0, 12.0),
    "log": (-7.0, 5.0),
    "identity": (-20.0, 20.0),
}


def _sigmoid(h: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-h))


def to_natural(h: np.ndarray, names: tuple[str, ...], scale: str) -> np.ndarray:
    """Unbounded ``h (..., k)`` -> natural parameters ``x (..., k)``.

    Parameters
    ----------
    h : numpy.ndarray, shape (..., k), real or complex (complex-step derivatives)
    names : tuple of str
        Parameter names of the last axis.
    scale : {"box", "group"}
        ``box``: ``x = lo + (hi - lo) sigmoid(h)`` maps the real line onto the fit's box
        (maximum likelihood and MAP); ``group``: each parameter's :attr:`Param.transform`
        (empirical Bayes).
    """
    x = np.array(h, copy=True)
    for j, name in enumerate(names):
        p = PARAMETERS[name]
        if scale == "box":
            lo, hi = p.bounds
            x[..., j] = lo + (hi - lo) * _sigmoid(h[..., j])
        elif p.transform == "logit":
            lo, hi = p.bounds
            x[..., j] = lo + (hi - lo) * _sigmoid(h[..., j])
        elif p.transform == "log":
            x[..., j] = np.exp(h[..., j])
    return x


def to_unbounded(x: np.ndarray, names: tuple[str, ...], scale: str) -> np.ndarray:
    """Natural ``x (..., k)`` -> unbounded ``h (..., k)`` (inverse of :func:`to_natural`).

    Values on or outside a bound are clipped to the numerical box :data:`BOX` (group scale)
    or to ``|h| <= 30`` (box scale).
    """
    x = np.asarray(x, dtype=np.float64)
    h = np.array(x, copy=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        for j, name in enumerate(names):
            p = PARAMETERS[name]
            lo, hi = p.bounds
            if scale == "box" or p.transform == "logit":
                u = (x[..., j] - lo) / (hi - lo)
                h[..., j] = np.log(u) - np.log1p(-u)
            elif p.transform == "log":
                h[..., j] = np.log(x[..., j])
            box = (-30.0, 30.0) if scale == "box" else BOX[p.transform]
            h[..., j] = np.clip(np.nan_to_num(h[..., j], nan=0.0), *box)
    return h


def log_prior(x: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Log density of the weak priors at natural ``x (..., k)`` -> ``(...)`` (complex-safe).

    Beta(a, b) on the unit-rescaled box: ``(a-1) ln u + (b-1) ln(1-u) - ln B(a, b)``;
    Gamma(shape a, scale b): ``(a-1) ln x - x/b - ln Γ(a) - a ln b``;
    Normal(a, b): ``-(x-a)²/(2b²) - ln(b √(2π))``.
    """
    out = np.zeros(x.shape[:-1], dtype=x.dtype)
    for j, name in enumerate(names):
        family, a, b = PARAMETERS[name].prior
        v = x[..., j]
        if family == "beta":
            lo, hi = PARAMETERS[name].bounds
            u = (v - lo) / (hi - lo)
            out = out + (a - 1) * np.log(u) + (b - 1) * np.log(1 - u) - betaln(a, b)
        elif family == "gamma":
            out = out + (a - 1) * np.log(v) - v / b - gammaln(a) - a * np.log(b)
        else:
            out = out - 0.5 * ((v - a) / b) ** 2 - np.log(b * np.sqrt(2 * np.pi))
    return out
