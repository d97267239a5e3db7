"""Representational geometry of two sets of condition patterns: CKA and Procrustes shape.

Both measures compare two matrices of condition patterns ``X (conditions, units_x)`` and
``Y (conditions, units_y)`` — e.g. an agent's units and recorded neurons, averaged over the
trials of each task condition — whatever the number of units on each side:

- **linear CKA** (centred kernel alignment; Kornblith et al. 2019, ICML) with linear kernels
  ``K = X Xᵀ``, ``L = Y Yᵀ``: ``CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))``. With the
  *unbiased* HSIC estimator of Song et al. 2012 (JMLR 13:1393), the debiased CKA, which
  matters with few conditions and many units (the plain estimator is biased towards 1):
  with ``K̃``, ``L̃`` the kernels with zeroed diagonals and ``n`` conditions,

      HSIC_u(K, L) = [tr(K̃ L̃) + (1ᵀK̃1)(1ᵀL̃1) / ((n−1)(n−2)) − 2/(n−2) 1ᵀK̃L̃1] / (n(n−3)).

  Invariant to rotations and isotropic scaling of either side; 1 for a rotated copy.
- **Procrustes shape distance** (Williams et al. 2021, NeurIPS, "Generalized shape metrics
  on neural representations"): after centring each unit over conditions and scaling each
  matrix to unit Frobenius norm (zero-padding the narrower one), the angle
  ``θ = arccos ||Xᵀ Y||_*`` (nuclear norm) between the shapes — the smallest angle over
  all rotations/reflections of one onto the other; a metric, 0 for a rotated, scaled,
  translated copy and at most π/2.

:func:`permutation_test` gives each measure a null distribution by permuting which
condition of ``Y`` goes with which of ``X``. Representational similarity analysis (RDMs)
is in :mod:`neurometa.analysis.compare_rsa`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from neurometa.analysis._common import AnalysisError

__all__ = ["linear_cka", "procrustes_distance", "permutation_test"]


def _check_pair(x: np.ndarray, y: np.ndarray, minimum: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise AnalysisError(
            f"need two matrices (conditions, units) with the same conditions; got shapes "
            f"{x.shape} and {y.shape}"
        )
    if x.shape[0] < minimum:
        raise AnalysisError(f"need at least {minimum} conditions, got {x.shape[0]}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise AnalysisError("condition patterns contain NaN or infinite values")
    return x, y


def _debiased(
    xty: float, rows_x: np.ndarray, rows_y: np.ndarray, sx: float, sy: float, n: int
) -> float:
    """``n (n − 3) HSIC_u`` from feature-space sums (Kornblith et al. 2019, appendix)."""
    return xty - n / (n - 2.0) * float(rows_x @ rows_y) + sx * sy / ((n - 1.0) * (n - 2.0))


def linear_cka(x: np.ndarray, y: np.ndarray, *, debiased: bool = True) -> float:
    """Linear CKA of two sets of condition patterns.

    Parameters
    ----------
    x : numpy.ndarray, shape (n, p)
    y : numpy.ndarray, shape (n, q)
        Patterns of the same ``n`` conditions (``n >= 4`` for the debiased estimator).
    debiased : bool
        Unbiased HSIC (Song et al. 2012) in numerator and denominator; else the plain
        (biased) estimator ``||XᵀY||²_F / (||XᵀX||_F ||YᵀY||_F)`` of centred matrices.

    Returns
    -------
    float
        At most 1; the debiased value can be slightly negative for unrelated patterns and
        is NaN when a side has no variance left after debiasing.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(10, 5))
    >>> rotation = np.linalg.qr(rng.normal(size=(5, 5)))[0]
    >>> round(linear_cka(x, 3 * x @ rotation), 6)
    1.0
    """
    x, y = _check_pair(x, y, 4 if debiased else 2)
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    xty = float(np.linalg.norm(x.T @ y) ** 2)
    xtx = float(np.linalg.norm(x.T @ x) ** 2)
    yty = float(np.linalg.norm(y.T @ y) ** 2)
    if debiased:
        n = x.shape[0]
        rx, ry = np.einsum("ij,ij->i", x, x), np.einsum("ij,ij->i", y, y)
        sx, sy = float(rx.sum()), float(ry.sum())
        xty = _debiased(xty, rx, ry, sx, sy, n)
        xtx = _debiased(xtx, rx, rx, sx, sx, n)
        yty = _debiased(yty, ry, ry, sy, sy, n)
    if xtx <= 0 or yty <= 0:
        return float("nan")
    return float(xty / np.sqrt(xtx * yty))


def procrustes_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Angular Procrustes shape distance (Williams et al. 2021), in radians.

    Parameters
    ----------
    x : numpy.ndarray, shape (n, p)
    y : numpy.ndarray, shape (n, q)
        Patterns of the same ``n >= 2`` conditions.

    Returns
    -------
    float
        ``arccos ||X̂ᵀ Ŷ||_*`` for centred, unit-norm ``X̂``, ``Ŷ``: 0 when ``y`` is a
        rotated, scaled and shifted copy of ``x``; π/2 for orthogonal shapes.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(8, 4))
    >>> rotation = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    >>> round(procrustes_distance(x, 2 * x @ rotation + 1), 6)
    0.0
    """
    x, y = _check_pair(x, y, 2)
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    nx, ny = np.linalg.norm(x), np.linalg.norm(y)
    if nx == 0 or ny == 0:
        raise AnalysisError("a set of condition patterns has no variance across conditions")
    nuclear = np.linalg.svd(x.T @ y / (nx * ny), compute_uv=False).sum()
    return float(np.arccos(np.clip(nuclear, -1.0, 1.0)))


def permutation_test(
    statistic: Callable[[np.ndarray, np.ndarray], float],
    x: np.ndarray,
    y: np.ndarray,
    *,
    num_permutations: int,
    rng: np.random.Generator,
    greater: bool = True,
) -> tuple[float, np.ndarray, float]:
    """A statistic of ``(x, y)`` against its values with ``y``'s conditions permuted.

    Parameters
    ----------
    statistic : callable
        ``statistic(x, y) -> float``, e.g. :func:`linear_cka`.
    x, y : numpy.ndarray, shape (n, p) and (n, q)
    num_permutations : int
    rng : numpy.random.Generator
    greater : bool
        Whether larger values mean more alike (CKA, RSA); ``False`` for distances.

    Returns
    -------
    observed : float
    null : numpy.ndarray, shape (num_permutations,)
    p_value : float
        ``(1 + #{null at least as extreme}) / (1 + num_permutations)``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=(12, 6))
    >>> obs, null, p = permutation_test(linear_cka, x, x + 0.1 * rng.normal(size=(12, 6)),
    ...                                 num_permutations=99, rng=rng)
    >>> p
    0.01
    """
    if num_permutations < 1:
        raise AnalysisError("num_permutations must be positive")
    observed = statistic(x, y)
    null = np.array([statistic(x, y[rng.permutation(len(y))]) for _ in range(num_permutations)])
    with np.errstate(invalid="ignore"):
        extreme = null >= observed if greater else null <= observed
    return observed, null, float((1 + extreme.sum()) / (1 + num_permutations))
