"""Empirical-Bayes (hierarchical) fits of any model: EM with the Laplace approximation.

Huys, Cools, Gölzer, Friedel, Heinz, Dolan & Dayan (2011, PLoS Comput Biol 7:e1002028,
Methods) and Daw ("Trial-by-trial data analysis using computational models", 2011, §3.3):
every subject's parameters, transformed to an unbounded scale ``h`` (each parameter's
``transform``: ``logit`` for rates, ``log`` for inverse temperatures, ``identity`` for
biases), are drawn from a Gaussian group prior ``h_i ~ N(μ, diag(σ²))``, and μ, σ² are
fitted by expectation-maximisation over all subjects together:

- E-step (Laplace approximation of each subject's posterior): the MAP estimate
  ``m_i = argmin_h NLL_i(x(h)) + ½ Σ_j (h_j − μ_j)² / σ_j²`` (all subjects at once, the
  first E-step from every random restart, later ones from the previous estimate) and the
  posterior Hessian ``A_i = ∇²NLL_i(m_i) + diag(1/σ²)`` (the NLL part by central
  differences of the exact gradient, with negative eigenvalues set to 0);
- M-step: ``μ = mean_i m_i``; ``σ_j² = mean_i (m_ij² + [A_i⁻¹]_jj) − μ_j²``;
- iterations accelerated by SQUAREM (Varadhan & Roland 2008, scheme S3), until
  ``max |Δμ|`` and ``max |Δσ|`` fall below ``tol``.

Model comparison: ``ln p(D_i | μ, σ²) ≈ −NLL_i(m_i) + ln N(m_i; μ, σ²) + (k/2) ln 2π −
½ ln det A_i`` (Laplace) and ``iBIC = −2 Σ_i ln p(D_i | μ, σ²) + 2k ln n`` with ``2k`` group
parameters and ``n`` choices in all (Huys et al. 2011 estimate the integral by sampling;
the Laplace value costs nothing extra).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from neurometa.behaviour.data import BehaviourData
from neurometa.behaviour.fitting import fits_table, start_points
from neurometa.behaviour.objective import Objective
from neurometa.behaviour.optimise import BatchedBFGS, hessian
from neurometa.behaviour.params import PARAMETERS, to_unbounded
from neurometa.seeding import RunSeeds

__all__ = ["EMConvergenceWarning", "fit_empirical_bayes"]

#: Initial group prior: mean at the centre of the restart ranges, variance 10 (SD 3.2).
_INITIAL_VAR = 10.0
#: Floor of the group variances (keeps the prior precision finite).
_MIN_VAR = 1e-4


class EMConvergenceWarning(UserWarning):
    """The EM stopped at ``max_iter`` before the group parameters settled."""


def _psd(hess: np.ndarray) -> np.ndarray:
    """Symmetric (N, k, k) matrices with negative eigenvalues set to 0.

    Applied to the NLL Hessian before the prior precision is added, so that the Laplace
    posterior covariance never exceeds the prior's where an estimate sits where the
    likelihood is locally flat or non-convex (else such subjects feed huge variances into
    the M-step). No-op at a minimum.
    """
    vals, vecs = np.linalg.eigh(hess)
    if (vals >= 0).all():
        return hess
    return (vecs * np.maximum(vals, 0.0)[:, None, :]) @ np.swapaxes(vecs, 1, 2)


@dataclass
class _Fit:
    """One E-step's result under the group prior ``mu``, ``sd`` (unbounded scale)."""

    h: np.ndarray
    nll: np.ndarray
    hess: np.ndarray
    mu: np.ndarray
    sd: np.ndarray

    @property
    def log_evidence(self) -> np.ndarray:
        """Laplace ``ln p(D_i | μ, σ²)`` per subject."""
        k, var = self.h.shape[1], self.sd**2
        log_prior = -0.5 * (((self.h - self.mu) ** 2) / var + np.log(2 * np.pi * var)).sum(1)
        logdet = np.linalg.slogdet(self.hess)[1]
        return -self.nll + log_prior + 0.5 * k * np.log(2 * np.pi) - 0.5 * logdet

    def m_step(self) -> np.ndarray:
        """``θ = (μ, σ)`` maximising the expected complete-data log-likelihood."""
        mu = self.h.mean(axis=0)
        cov_diag = np.diagonal(np.linalg.inv(self.hess), axis1=1, axis2=2)
        var = (self.h**2 + cov_diag).mean(axis=0) - mu**2
        return np.concatenate([mu, np.sqrt(np.maximum(var, _MIN_VAR))])


class _EM:
    """EM over ``θ = (μ, σ)`` with SQUAREM (see the module docstring)."""

    def __init__(self, objective: Objective, starts: list[np.ndarray], progress: bool) -> None:
        self.objective, self.starts, self.progress = objective, starts, progress
        self.num_e_steps, self.change = 0, np.inf

    def e_step(self, mu: np.ndarray, var: np.ndarray) -> _Fit:
        """Posterior modes from the current starts, their NLL and posterior Hessians."""
        obj = self.objective
        num = len(obj.data.subjects)
        obj.group = (mu, var)
        first = self.num_e_steps == 0
        h0 = np.concatenate(self.starts)
        idx = np.tile(np.arange(num), len(self.starts))
        res = BatchedBFGS(
            obj,
            gtol=1e-6,
            ftol=1e-7,
            curvature=obj.derivatives,
            progress=self.progress and first,
            desc=f"empirical Bayes {obj.model.name}",
        ).run(h0, idx)
        f = res["f"].reshape(len(self.starts), num)
        best = np.argmin(np.where(np.isfinite(f), f, np.inf), axis=0)
        h = res["h"][best * num + np.arange(num)]
        obj.group = None
        nll = obj(h[:, None], np.arange(num))[:, 0]
        hess = _psd(hessian(obj, h, np.arange(num))) + np.diag(1.0 / var)[None]
        self.num_e_steps += 1
        self.starts = [h]
        return _Fit(h, np.real(nll), hess, mu, np.sqrt(var))

    def step(self, theta: np.ndarray) -> tuple[_Fit, np.ndarray]:
        """One E-step under ``theta`` and the M-step's new ``theta``."""
        k = len(theta) // 2
        fit = self.e_step(theta[:k], theta[k:] ** 2)
        new = fit.m_step()
        self.change = float(np.abs(new - theta).max())
        return fit, new

    def run(self, theta: np.ndarray, max_iter: int, tol: float) -> tuple[_Fit, bool]:
        """Iterate from ``theta`` for at most ``max_iter`` E-steps; (last fit, converged)."""
        k = len(theta) // 2
        floor = np.concatenate([np.full(k, -np.inf), np.full(k, _MIN_VAR**0.5)])
        while True:
            fit0, theta1 = self.step(theta)
            if self.change < tol or self.num_e_steps >= max_iter:
                return fit0, self.change < tol
            fit1, theta2 = self.step(theta1)
            if self.change < tol or self.num_e_steps >= max_iter:
                return fit1, self.change < tol
            r, v = theta1 - theta, theta2 - 2 * theta1 + theta
            a = min(-np.linalg.norm(r) / max(np.linalg.norm(v), 1e-12), -1.0)
            extrapolated = np.maximum(theta - 2 * a * r + a**2 * v, floor)
            fit_x, theta_x = self.step(extrapolated)
            if self.change < tol or self.num_e_steps >= max_iter:
                return fit_x, self.change < tol
            better = fit_x.log_evidence.sum() >= fit1.log_evidence.sum()
            theta = theta_x if better else theta2


def fit_empirical_bayes(
    model: Any,
    data: BehaviourData,
    *,
    num_restarts: int = 5,
    seed: int = 0,
    weight: np.ndarray | None = None,
    progress: bool = True,
    max_iter: int = 100,
    tol: float = 1e-3,
) -> pd.DataFrame:
    """Fit a model by empirical Bayes (called by :func:`~neurometa.behaviour.fit`).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`~neurometa.behaviour.fitting.fits_table` (parameters at the
        per-subject MAP under the fitted group prior, ``nll`` without the prior,
        ``prior`` = "empirical") plus ``log_evidence`` (Laplace, per subject) and ``ibic``
        (the same on every row). ``attrs``: ``group_prior`` (parameter ->
        ``{"transform", "mean", "sd"}`` on the unbounded scale), ``ibic``,
        ``em_iterations``, ``em_converged``.
    """
    if max_iter < 1 or not tol > 0:
        raise ValueError(f"need max_iter >= 1 and tol > 0, got {max_iter} and {tol}")
    objective = Objective(model, data, scale="group", weight=weight)
    names, num = objective.names, len(data.subjects)
    rng = RunSeeds(seed).numpy("extra")
    mid = np.array([sum(PARAMETERS[n].start) / 2 for n in names])
    theta = np.concatenate(
        [to_unbounded(mid, names, "group"), np.full(len(names), _INITIAL_VAR**0.5)]
    )
    starts = [
        to_unbounded(start_points(names, num, r, rng), names, "group") for r in range(num_restarts)
    ]
    em = _EM(objective, starts, progress)
    fit, converged = em.run(theta, max_iter, tol)
    if not converged:
        warnings.warn(
            f"EM did not converge in {max_iter} iterations (last change {em.change:.2g} > "
            f"tol {tol:g}); the group prior may not have settled",
            EMConvergenceWarning,
            stacklevel=3,
        )
    x = objective.natural(fit.h)
    out = fits_table(model, data, x, fit.nll, "empirical")
    out["log_evidence"] = fit.log_evidence
    ibic = -2 * fit.log_evidence.sum() + 2 * len(names) * np.log(out["num_choices"].sum())
    out["ibic"] = ibic
    out.attrs.update(
        model=model.name,
        description=model.description,
        group_prior={
            n: {
                "transform": PARAMETERS[n].transform,
                "mean": float(fit.mu[j]),
                "sd": float(fit.sd[j]),
            }
            for j, n in enumerate(names)
        },
        ibic=float(ibic),
        em_iterations=em.num_e_steps,
        em_converged=converged,
        num_restarts=num_restarts,
        seed=seed,
    )
    return out
