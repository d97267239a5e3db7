"""Empirical-Bayes (hierarchical) fit of the Daw 2011 hybrid model: EM with the Laplace step.

Huys, Cools, Gölzer, Friedel, Heinz, Dolan & Dayan (2011, PLoS Comput Biol 7:e1002028,
Methods) and Daw ("Trial-by-trial data analysis using computational models", 2011, in
Attention & Performance XXIII, §3.3): every subject's parameters, transformed to an
unbounded scale ``h``, are drawn from a Gaussian group prior ``h_i ~ N(μ, diag(σ²))``,
and μ, σ² are fitted by expectation-maximisation over all subjects together:

- transform: ``h = logit(x)`` for α1, α2, λ and w; ``h = ln x`` for β1, β2; ``h = x`` for
  the perseveration p (:data:`TRANSFORMS`);
- E-step (Laplace approximation of each subject's posterior): the MAP estimate
  ``m_i = argmin_h NLL_i(x(h)) + ½ Σ_j (h_j − μ_j)² / σ_j²`` and the Hessian
  ``A_i = ∇²NLL_i(m_i) + diag(1/σ²)`` (the NLL part by finite differences, all subjects
  and offsets in one vectorised likelihood pass; the prior part exact);
- M-step: ``μ = mean_i m_i``; ``σ_j² = mean_i (m_ij² + [A_i⁻¹]_jj) − μ_j²``;
- repeat until ``max_j |Δμ_j|`` and ``max_j |Δσ_j|`` fall below ``tol`` (a variance that
  collapses towards 0, as with few subjects, converges in σ though not in ln σ²).

The E-step reuses the vectorised likelihood of :mod:`neurometa.analysis.hybrid_fit` (no
second copy of the recursion). The first E-step starts each subject from ``num_restarts``
random points (those of the ML fit) under a broad initial prior (mean at the centre of the
start ranges, variance 10), runs a joint L-BFGS-B from each
(:func:`~neurometa.analysis.hybrid_fit.minimise_subjects`), refines it by a vectorised
Newton's method and keeps each subject's best; later E-steps are Newton steps from the
previous estimate (a second start at μ never found a better optimum in trials).
The Newton Hessian uses central differences on the diagonal and forward ones off it
(``1 + 2k + k(k−1)/2`` parameter sets per subject, 36 for the hybrid model).

Model comparison: the per-subject log evidence ``ln p(D_i | μ, σ²)`` is taken from the
same Laplace approximation, ``−NLL_i(m_i) + ln N(m_i; μ, σ²) + (k/2) ln 2π − ½ ln det A_i``,
and ``iBIC = −2 Σ_i ln p(D_i | μ, σ²) + 2k ln n`` (Huys et al. 2011, with ``2k`` group
parameters and ``n`` choices in all; Huys et al. estimate the integral by sampling from the
prior, here it is the Laplace value, which costs nothing extra).
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from neurometa.analysis._common import AnalysisError
from neurometa.analysis.hybrid_fit import (
    MODELS,
    START_RANGES,
    TrialArrays,
    _full_params,
    _starts,
    _subject_nll,
    fit_table,
    minimise_subjects,
    trial_arrays,
)
from neurometa.seeding import RunSeeds

__all__ = ["TRANSFORMS", "EMConvergenceWarning", "to_natural", "to_unbounded", "fit_hybrid_em"]

#: Transform of each parameter to the unbounded scale of the group prior.
TRANSFORMS: dict[str, str] = {
    "alpha1": "logit", "alpha2": "logit", "lam": "logit", "w": "logit",
    "beta1": "log", "beta2": "log", "pers": "identity",
}  # fmt: skip

#: Box on the unbounded scale (numerical safety only: α, λ, w within 6e-6 of 0 and 1,
#: β in (9e-4, 150), |p| <= 20); the group prior keeps estimates well inside it.
_BOX: dict[str, tuple[float, float]] = {"logit": (-12.0, 12.0), "log": (-7.0, 5.0),
                                       "identity": (-20.0, 20.0)}  # fmt: skip

#: Initial group prior: mean at the centre of START_RANGES, variance 10 (SD 3.2).
_INITIAL_VAR = 10.0
#: Floor of the group variances (keeps the prior precision finite).
_MIN_VAR = 1e-4
#: Step of the finite-difference gradient and Hessian on the unbounded scale.
_HESS_STEP = 1e-3
#: Step lengths tried along each Newton direction (the best per subject is kept).
_STEPS = np.array([1.0, 0.5, 0.25, 0.1, 0.03, 0.01])
#: Smallest curvature of a Newton step (``|eigenvalue|`` floor of the posterior Hessian).
_MIN_CURVATURE = 0.1
#: Newton iterations per E-step at most.
_NEWTON_ITERS = 50
#: A subject's Newton iterations stop once its posterior objective gains less than this.
_NEWTON_TOL = 1e-7


class EMConvergenceWarning(UserWarning):
    """The EM stopped at ``max_iter`` before the group parameters settled."""


def to_natural(h: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Unbounded ``h (..., k)`` -> natural parameters ``x (..., k)`` (inverse of TRANSFORMS)."""
    x = np.array(h, dtype=np.float64, copy=True)
    for j, name in enumerate(names):
        kind = TRANSFORMS[name]
        if kind == "logit":
            x[..., j] = expit(h[..., j])
        elif kind == "log":
            x[..., j] = np.exp(h[..., j])
    return x


def to_unbounded(x: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Natural parameters ``x (..., k)`` -> ``h (..., k)``, clipped into the numerical box."""
    h = np.array(x, dtype=np.float64, copy=True)
    for j, name in enumerate(names):
        kind = TRANSFORMS[name]
        with np.errstate(divide="ignore"):
            if kind == "logit":
                h[..., j] = logit(x[..., j])
            elif kind == "log":
                h[..., j] = np.log(x[..., j])
        h[..., j] = np.clip(h[..., j], *_BOX[kind])
    return h


def _nll_h(data: TrialArrays, model: str, h: np.ndarray, c: float) -> np.ndarray:
    """NLL per subject and parameter set on the unbounded scale: (N, M, k) -> (N, M)."""
    names = MODELS[model][0]
    return _subject_nll(data, _full_params(to_natural(h, names), model), c)


def _hessian_offsets(k: int, step: float) -> np.ndarray:
    """Offsets (1 + 2k + k(k−1)/2, k) of the stencil: 0, +e_j, −e_j, and e_j + e_l (j < l)."""
    eye = step * np.eye(k)
    pairs = [eye[j] + eye[l] for j in range(k) for l in range(j + 1, k)]  # noqa: E741
    return np.array([np.zeros(k), *eye, *(-eye), *pairs])


def _grad_hess(f: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Gradient (N, k) and Hessian (N, k, k) from values ``f (N, M)`` at :func:`_hessian_offsets`.

    With step s: ``g_j = (f(+e_j) − f(−e_j)) / 2s`` and ``H_jj = (f(+e_j) − 2 f(0) +
    f(−e_j)) / s²`` (central, error O(s²)); ``H_jl = (f(e_j + e_l) − f(e_j) − f(e_l) +
    f(0)) / s²`` (error O(s)).
    """
    f0, plus, minus = f[:, :1], f[:, 1 : k + 1], f[:, k + 1 : 2 * k + 1]
    grad = (plus - minus) / (2 * _HESS_STEP)
    hess = np.zeros((f.shape[0], k, k))
    idx = np.arange(k)
    hess[:, idx, idx] = (plus - 2 * f0 + minus) / _HESS_STEP**2
    col = 2 * k + 1
    for j in range(k):
        for l in range(j + 1, k):  # noqa: E741
            value = (f[:, col] - plus[:, j] - plus[:, l] + f0[:, 0]) / _HESS_STEP**2
            hess[:, j, l] = hess[:, l, j] = value
            col += 1
    return grad, hess


def nll_hessian(data: TrialArrays, model: str, h: np.ndarray, c: float) -> np.ndarray:
    """Hessian of each subject's NLL on the unbounded scale at ``h (N, k)`` -> ``(N, k, k)``.

    Finite differences (see :func:`_grad_hess`), every subject and offset in one pass.
    """
    k = h.shape[1]
    f = _nll_h(data, model, h[:, None] + _hessian_offsets(k, _HESS_STEP)[None], c)
    return _grad_hess(f, k)[1]


def _subset(data: TrialArrays, subjects: np.ndarray) -> TrialArrays:
    """The sequences of the (sorted) subject indices ``subjects``, renumbered 0..len-1."""
    if len(subjects) == len(data.subjects):
        return data
    keep = np.isin(data.seq_subject, subjects)
    out = copy.copy(data)
    for name in ("choice1", "state2", "choice2", "reward", "valid", "row_index"):
        setattr(out, name, getattr(data, name)[keep])
    out.seq_subject = np.searchsorted(subjects, data.seq_subject[keep])
    out.subjects = data.subjects[subjects]
    return out


def _newton(
    data: TrialArrays, model: str, h: np.ndarray, mu: np.ndarray, var: np.ndarray, c: float
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised damped Newton on each subject's posterior from ``h (N, k)``.

    Each iteration evaluates the finite-difference gradient and Hessian of the NLL (prior
    terms exact) and takes ``d = −A⁻¹ g`` with A's eigenvalues replaced by their absolute
    values floored at :data:`_MIN_CURVATURE` (a descent direction also where the posterior
    is not convex, e.g. from a poor start); each subject keeps the best of the step lengths
    :data:`_STEPS` (or stays) and drops out once it gains less than :data:`_NEWTON_TOL`.
    Returns the estimate (N, k) and the posterior Hessian there (N, k, k).
    """
    k = h.shape[1]
    h = h.copy()
    offsets = _hessian_offsets(k, _HESS_STEP)
    lo, hi = np.array([_BOX[TRANSFORMS[n]] for n in MODELS[model][0]]).T
    active = np.arange(len(h))
    for _ in range(_NEWTON_ITERS):
        sub, x = _subset(data, active), h[active]
        f = _nll_h(sub, model, x[:, None] + offsets[None], c)
        grad, hess = _grad_hess(f, k)
        vals, vecs = np.linalg.eigh(hess + np.diag(1.0 / var)[None])
        proj = (np.swapaxes(vecs, 1, 2) @ (grad + (x - mu) / var)[..., None])[..., 0]
        step = -(vecs @ (proj / np.maximum(np.abs(vals), _MIN_CURVATURE))[..., None])[..., 0]
        trial = np.clip(x[:, None] + _STEPS[None, :, None] * step[:, None], lo, hi)
        values = _nll_h(sub, model, trial, c) + 0.5 * (((trial - mu) ** 2) / var).sum(-1)
        best = values.argmin(axis=1)
        rows = np.arange(len(active))
        gain = f[:, 0] + 0.5 * (((x - mu) ** 2) / var).sum(-1) - values[rows, best]
        h[active[gain > 0]] = trial[rows, best][gain > 0]
        active = active[gain > _NEWTON_TOL]
        if active.size == 0:
            break
    return h, _psd(nll_hessian(data, model, h, c)) + np.diag(1.0 / var)[None]


def _e_step(
    data: TrialArrays, model: str, starts: list[np.ndarray], mu: np.ndarray, var: np.ndarray,
    c: float, *, lbfgs: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """MAP estimates (N, k) from the best of ``starts``, their NLL (N,) and Hessians (N, k, k).

    Each start is refined by :func:`_newton`, after a joint L-BFGS-B run when ``lbfgs``
    (used from the random starts of the first E-step, where Newton steps are poor).
    """
    names = MODELS[model][0]
    bounds = [_BOX[TRANSFORMS[n]] for n in names]

    def value_fn(h: np.ndarray) -> np.ndarray:
        return _nll_h(data, model, h, c) + 0.5 * (((h - mu) ** 2) / var).sum(axis=-1)

    best, best_hess, best_value = None, None, None
    for start in starts:
        opt = minimise_subjects(value_fn, start, bounds) if lbfgs else start
        opt, hess = _newton(data, model, opt, mu, var, c)
        value = value_fn(opt[:, None])[:, 0]
        if best is None:
            best, best_hess, best_value = opt, hess, value
        else:
            better = value < best_value
            best[better], best_hess[better] = opt[better], hess[better]
            best_value[better] = value[better]
    nll = _nll_h(data, model, best[:, None], c)[:, 0]
    return best, nll, best_hess


def _psd(hess: np.ndarray) -> np.ndarray:
    """Symmetric (N, k, k) matrices with negative eigenvalues set to 0.

    Applied to the NLL Hessian before the prior precision is added, so that the Laplace
    posterior covariance never exceeds the prior's, also where an estimate sits on the
    numerical box or the likelihood is locally non-convex (without it, such subjects feed
    huge variances into the M-step and the group prior runs away). No-op at a minimum.
    """
    vals, vecs = np.linalg.eigh(hess)
    if (vals >= 0).all():
        return hess
    return (vecs * np.maximum(vals, 0.0)[:, None, :]) @ np.swapaxes(vecs, 1, 2)


def _log_evidence(
    h: np.ndarray, nll: np.ndarray, hess: np.ndarray, mu: np.ndarray, var: np.ndarray
) -> np.ndarray:
    """Laplace ``ln p(D_i | μ, σ²)`` per subject (see the module docstring)."""
    k = h.shape[1]
    log_prior = -0.5 * (((h - mu) ** 2) / var + np.log(2 * np.pi * var)).sum(axis=1)
    return -nll + log_prior + 0.5 * k * np.log(2 * np.pi) - 0.5 * np.linalg.slogdet(hess)[1]


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
        return _log_evidence(self.h, self.nll, self.hess, self.mu, self.sd**2)

    def m_step(self) -> np.ndarray:
        """``θ = (μ, σ)`` maximising the expected complete-data log-likelihood."""
        mu = self.h.mean(axis=0)
        cov_diag = np.diagonal(np.linalg.inv(self.hess), axis1=1, axis2=2)
        var = (self.h**2 + cov_diag).mean(axis=0) - mu**2
        return np.concatenate([mu, np.sqrt(np.maximum(var, _MIN_VAR))])


class _EM:
    """EM over ``θ = (μ, σ)``, accelerated by SQUAREM (Varadhan & Roland 2008, scheme S3).

    From ``θ0``: ``θ1 = F(θ0)``, ``θ2 = F(θ1)`` (F: one E-step and M-step), ``r = θ1 − θ0``,
    ``v = θ2 − θ1 − r``, ``a = min(−|r| / |v|, −1)``, ``θ' = θ0 − 2a r + a² v`` (σ floored),
    then ``θ0 ← F(θ')`` if the Laplace evidence at θ' is at least that at θ1, else ``θ2``
    (plain EM). Converged when ``max |F(θ) − θ| < tol`` at any E-step; the result is that
    E-step (estimates under the prior θ).
    """

    def __init__(self, data: TrialArrays, model: str, c: float, starts: list[np.ndarray]):
        self.data, self.model, self.c, self.starts = data, model, c, starts
        self.num_e_steps, self.change = 0, np.inf

    def step(self, theta: np.ndarray) -> tuple[_Fit, np.ndarray]:
        """One E-step under ``theta`` (warm-started) and the M-step's new ``theta``."""
        k = len(theta) // 2
        mu, sd = theta[:k], theta[k:]
        h, nll, hess = _e_step(self.data, self.model, self.starts, mu, sd**2, self.c,
                               lbfgs=self.num_e_steps == 0)  # fmt: skip
        self.num_e_steps += 1
        self.starts = [h]
        fit = _Fit(h, nll, hess, mu, sd)
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


def fit_hybrid_em(
    trials: pd.DataFrame,
    *,
    model: str = "hybrid",
    num_restarts: int = 5,
    seed: int = 0,
    common_prob: float | None = None,
    max_iter: int = 100,
    tol: float = 1e-3,
) -> pd.DataFrame:
    """Fit the hybrid (or a nested) model by empirical Bayes: EM over a Gaussian group prior.

    Parameters
    ----------
    trials : pandas.DataFrame
        Two-step trial table, as for :func:`neurometa.analysis.hybrid_fit.fit_hybrid`.
    model : {"hybrid", "model_free", "model_based"}
    num_restarts : int
        Random starts per subject in the first E-step (seeded by ``seed``).
    seed : int
    common_prob : float, optional
        Common-transition probability; default the observed common rate.
    max_iter : int
        EM iterations at most; an :class:`EMConvergenceWarning` if they run out.
    tol : float
        Convergence when ``max |Δμ|`` and ``max |Δσ|`` (unbounded scale) are below ``tol``.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`~neurometa.analysis.hybrid_fit.fit_hybrid` (parameters at the
        per-subject MAP under the fitted group prior, ``nll`` without the prior, ``aic``,
        ``bic``, ``prior`` = "empirical") plus ``log_evidence`` (Laplace, per subject) and
        ``ibic`` (the same on every row). ``attrs``: ``group_prior`` (parameter ->
        ``{"transform", "mean", "sd"}`` on the unbounded scale), ``ibic``,
        ``em_iterations``, ``em_converged``.

    Examples
    --------
    >>> import neurometa as nm
    >>> task = nm.make_task("two_step/daw2011", 20, num_trials=100)
    >>> agent = nm.make_baseline("hybrid", task, w=0.8)
    >>> ds = nm.record_agent(agent, task, 20, seed=0, progress=False)
    >>> trials = nm.two_step_trials(ds)
    >>> fits = nm.fit_hybrid_em(trials, num_restarts=1, seed=0, max_iter=3)
    >>> "w" in fits
    True
    """
    if model not in MODELS:
        raise AnalysisError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
    if num_restarts < 1:
        raise AnalysisError(f"num_restarts must be >= 1, got {num_restarts}")
    if max_iter < 1 or not tol > 0:
        raise AnalysisError(f"need max_iter >= 1 and tol > 0, got {max_iter} and {tol}")
    data = trial_arrays(trials)
    c = data.common_prob if common_prob is None else float(common_prob)
    names = MODELS[model][0]
    rng = RunSeeds(seed).numpy("extra")
    mid = np.array([sum(START_RANGES[n]) / 2 for n in names])
    theta = np.concatenate([to_unbounded(mid, names), np.full(len(names), _INITIAL_VAR**0.5)])
    starts = [
        to_unbounded(_starts(names, len(data.subjects), r, rng), names)
        for r in range(num_restarts)
    ]
    em = _EM(data, model, c, starts)
    fit, converged = em.run(theta, max_iter, tol)
    if not converged:
        warnings.warn(
            f"EM did not converge in {max_iter} iterations (last change {em.change:.2g} > "
            f"tol {tol:g}); the group prior may not have settled",
            EMConvergenceWarning,
            stacklevel=2,
        )
    out = fit_table(data, _full_params(to_natural(fit.h, names), model), fit.nll, model,
                    "empirical")  # fmt: skip
    out["log_evidence"] = fit.log_evidence
    ibic = -2 * fit.log_evidence.sum() + 2 * len(names) * np.log(out["num_choices"].sum())
    out["ibic"] = ibic
    out.attrs = {
        "group_prior": {
            n: {"transform": TRANSFORMS[n], "mean": float(fit.mu[j]), "sd": float(fit.sd[j])}
            for j, n in enumerate(names)
        },
        "ibic": float(ibic),
        "em_iterations": em.num_e_steps,
        "em_converged": converged,
    }
    return out
