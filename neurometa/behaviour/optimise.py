"""Exact gradients by the complex step, and a BFGS run for many small problems at once.

The fitting engine minimises one objective per (subject, restart) pair — a few parameters
each, hundreds of problems — on an unbounded scale. :class:`BatchedBFGS` runs all problems
together: each iteration makes one vectorised call of the objective for every problem still
running (the model's recursion over all their trials in one pass), then each problem takes
its own BFGS step (Nocedal & Wright 2006, Algorithm 6.1, with the initial scaling of their
eq. 6.20) with its own Armijo backtracking; a problem stops when its largest gradient
component falls below ``gtol`` or its objective has gained less than ``ftol`` three
iterations running.

Gradients are exact (to rounding) by the complex step: ``∂f/∂h_j = Im f(h + i ε e_j) / ε``
with ``ε = 1e-20`` (Squire & Trapp 1998; Martins et al. 2003). The ``k`` perturbed copies of
every problem run as one batch. ``benchmarks/behaviour_fit.py`` measures this against
forward differences and torch autograd on the same recursion.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["complex_step", "BatchedBFGS", "hessian"]

#: Imaginary step of the complex-step derivative.
EPS = 1e-20
#: Step fractions tried together after a failed full step (then the same again, scaled).
_BACKTRACK = np.array([0.3, 0.1, 0.03, 0.01])

Values = Callable[[np.ndarray, np.ndarray], np.ndarray]
Derivatives = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def complex_step(values: Values, h: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Objective and its exact gradient for the problems ``idx`` at ``h (P, k)``.

    Parameters
    ----------
    values : callable
        ``values(H (P, M, k), idx (P,)) -> (P, M)``: the objective of problem ``idx[p]`` at
        each of ``M`` (complex) points.
    h : numpy.ndarray, shape (P, k)
    idx : numpy.ndarray of int, shape (P,)

    Returns
    -------
    f : numpy.ndarray, shape (P,)
    grad : numpy.ndarray, shape (P, k)
    """
    k = h.shape[1]
    points = h[:, None, :] + 1j * EPS * np.eye(k)[None]
    out = values(points, idx)
    return np.real(out[:, 0]), np.imag(out) / EPS


def hessian(values: Values, h: np.ndarray, idx: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Hessian ``(P, k, k)`` by central differences of the exact gradient (error O(step²))."""
    num, k = h.shape
    offsets = np.concatenate([step * np.eye(k), -step * np.eye(k)])  # (2k, k)
    points = (h[:, None, :] + offsets[None]).reshape(-1, k)
    _, grad = complex_step(values, points, np.repeat(idx, 2 * k))
    grad = grad.reshape(num, 2 * k, k)
    hess = (grad[:, :k] - grad[:, k:]) / (2 * step)
    return 0.5 * (hess + np.swapaxes(hess, 1, 2))


class BatchedBFGS:
    """BFGS on many independent problems, all evaluated in one call per iteration.

    Parameters
    ----------
    values : callable
        See :func:`complex_step`.
    gtol : float
        A problem converges when ``max_j |∂f/∂h_j| < gtol``.
    ftol : float
        ... or when it gains less than ``ftol`` three iterations running (1e-5: the
        optimum's objective to about 1e-6; measured on 100 hybrid fits, the summed NLL
        moved by 1e-4 against ``ftol = 1e-9`` while the longest run fell from 264 to 81
        iterations).
    max_iter : int
    max_step : float
        Longest step (Euclidean norm on the unbounded scale) tried.
    progress : bool
        Show a tqdm bar (on stderr) of the problems still running.
    curvature : callable, optional
        ``(h, idx) -> (f, g, F)``: the first inverse-Hessian estimate is ``(F + μI)⁻¹``
        (e.g. the Fisher information) instead of a scaled identity, which roughly halves
        the iterations on choice likelihoods.
    race : (int, float) or None
        Random restarts of one problem share its ``idx``; after ``race[0]`` iterations a
        restart whose objective is more than ``race[1]`` above the best restart of its
        problem stops (it is not going to be kept). None: every restart runs to the end.
    """

    def __init__(
        self,
        values: Values,
        *,
        gtol: float = 1e-5,
        ftol: float = 1e-5,
        max_iter: int = 500,
        max_step: float = 4.0,
        progress: bool = False,
        desc: str = "fit",
        curvature: Derivatives | None = None,
        race: tuple[int, float] | None = (15, 5.0),
    ) -> None:
        self.values, self.gtol, self.ftol, self.curvature = values, gtol, ftol, curvature
        self.race = race
        self.max_iter, self.max_step, self.progress, self.desc = max_iter, max_step, progress, desc

    def _line_search(self, h, f, g, d, idx):
        """Armijo backtracking from step 1 (capped length); returns new h, f, g, moved.

        After a failed full step the shorter steps :data:`_BACKTRACK` are tried together in
        one evaluation (a pass over few problems costs about as much as over one).
        """
        slope = (g * d).sum(-1)
        cap = np.minimum(1.0, self.max_step / np.maximum(np.linalg.norm(d, axis=1), 1e-300))
        new_h, new_f, new_g = h.copy(), f.copy(), g.copy()
        moved = np.zeros(len(idx), dtype=bool)
        todo = np.arange(len(idx))
        for scales in (np.array([1.0]), _BACKTRACK, _BACKTRACK * _BACKTRACK[-1]):
            m = len(scales)
            step = cap[todo, None] * scales[None]  # (n, m)
            trial = (h[todo, None] + step[..., None] * d[todo, None]).reshape(-1, h.shape[1])
            tf, tg = complex_step(self.values, trial, np.repeat(idx[todo], m))
            tf, tg = tf.reshape(-1, m), tg.reshape(-1, m, h.shape[1])
            ok = np.isfinite(tf) & np.isfinite(tg).all(axis=2)
            ok &= tf <= f[todo, None] + 1e-4 * step * slope[todo, None]
            first = np.argmax(ok, axis=1)  # the longest acceptable step
            hit = ok.any(axis=1)
            rows = todo[hit]
            pick = first[hit]
            new_h[rows] = trial.reshape(-1, m, h.shape[1])[hit, pick]
            new_f[rows], new_g[rows] = tf[hit, pick], tg[hit, pick]
            moved[rows] = True
            todo = todo[~hit]
            if todo.size == 0:
                break
        return new_h, new_f, new_g, moved

    def run(self, h0: np.ndarray, idx: np.ndarray) -> dict[str, np.ndarray]:
        """Minimise every problem from ``h0 (P, k)``; ``idx (P,)`` names the problems.

        Returns
        -------
        dict
            ``h (P, k)``, ``f (P,)``, ``grad (P, k)``, ``converged (P,)``, ``iterations (P,)``.
        """
        num, k = h0.shape
        h = np.array(h0, dtype=np.float64)
        if self.curvature is not None:
            f, g, fisher = self.curvature(h, idx)
            scale = np.maximum(np.abs(np.diagonal(fisher, axis1=1, axis2=2)).max(axis=1), 1e-8)
            inv = np.linalg.inv(fisher + 1e-3 * scale[:, None, None] * np.eye(k)[None])
            fresh = np.zeros(num, dtype=bool)
        else:
            f, g = complex_step(self.values, h, idx)
            inv = np.broadcast_to(np.eye(k), (num, k, k)).copy()
            fresh = np.ones(num, dtype=bool)
        small = np.zeros(num, dtype=np.int64)
        iters = np.zeros(num, dtype=np.int64)
        converged = np.abs(g).max(axis=1) < self.gtol
        active = np.flatnonzero(~converged & np.isfinite(f))
        bar = _bar(num, self.progress, self.desc)
        bar.update(num - active.size)
        for _ in range(self.max_iter):
            if active.size == 0:
                break
            ha, fa, ga = h[active], f[active], g[active]
            d = -(inv[active] @ ga[..., None])[..., 0]
            uphill = (d * ga).sum(-1) >= 0
            d[uphill] = -ga[uphill]
            nh, nf, ng, moved = self._line_search(ha, fa, ga, d, idx[active])
            s, y = nh - ha, ng - ga
            sy = (s * y).sum(-1)
            upd = moved & (sy > 1e-12)
            if upd.any():
                a = active[upd]
                start = fresh[a]
                scale = sy[upd] / np.maximum((y[upd] ** 2).sum(-1), 1e-300)
                inv[a[start]] = scale[start, None, None] * np.eye(k)
                fresh[a] = False
                inv[a] = _bfgs_update(inv[a], s[upd], y[upd], sy[upd])
            gain = fa - nf
            h[active], f[active], g[active] = nh, nf, ng
            iters[active] += 1
            small[active] = np.where(gain < self.ftol, small[active] + 1, 0)
            stop = (np.abs(ng).max(axis=1) < self.gtol) | (small[active] >= 3) | ~moved
            converged[active[stop & moved]] = True
            converged[active[stop & ~moved & (np.abs(ng).max(axis=1) < 1e-3)]] = True
            bar.update(int(stop.sum()))
            active = active[~stop]
            if self.race is not None and active.size and iters[active[0]] >= self.race[0]:
                best = np.full(int(idx.max()) + 1, np.inf)
                np.minimum.at(best, idx, f)
                behind = f[active] > best[idx[active]] + self.race[1]
                bar.update(int(behind.sum()))
                active = active[~behind]
        bar.close()
        return {"h": h, "f": f, "grad": g, "converged": converged, "iterations": iters}


def _bfgs_update(inv: np.ndarray, s: np.ndarray, y: np.ndarray, sy: np.ndarray) -> np.ndarray:
    """``H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ`` with ``ρ = 1 / sᵀy``, batched."""
    rho = (1.0 / sy)[:, None, None]
    eye = np.eye(s.shape[1])[None]
    left = eye - rho * s[:, :, None] * y[:, None, :]
    return left @ inv @ np.swapaxes(left, 1, 2) + rho * s[:, :, None] * s[:, None, :]


class _NoBar:
    def update(self, n: int) -> None:
        del n

    def close(self) -> None:
        pass


def _bar(total: int, show: bool, desc: str):  # noqa: ANN202 - tqdm or a stand-in
    if not show:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="fit", leave=False, mininterval=0.5)
