"""Cross-validated ridge regression of many neurons at once, from sufficient statistics.

The estimator is the one a lab would write with scikit-learn, per neuron::

    make_pipeline(StandardScaler(), Ridge(alpha=penalty))

with the penalty chosen per neuron by an inner cross-validation on the training folds (lowest
mean squared error averaged over the inner folds, as ``GridSearchCV(...,
scoring="neg_mean_squared_error")``), refitted on all training folds and scored on the
held-out fold. The folds are groups of trials (sessions or blocks), assigned once by
``GroupKFold``; the inner folds of outer fold ``k`` are the other outer folds (a nested
cross-validation that never splits a group).

Instead of one fit per neuron, fold and penalty, everything is computed from per-fold
sufficient statistics ``n, Σx, Σy, Σxxᵀ, Σxyᵀ, Σy²`` (one pass over the data). For a
training set with centred, standardised Gram matrix ``G = Q diag(e) Qᵀ`` and cross-products
``C`` (features × neurons), the ridge coefficients of every neuron and penalty are
``B(λ) = Q diag(1 / (e + λ)) Qᵀ C``, and the held-out squared error of each neuron is

    SSE(λ) = Σ u² − 2 bᵀ Σ z u + bᵀ (Σ z zᵀ) b,

with ``z = (x − μ_train) / s_train`` and ``u = y − ȳ_train`` summed over the test trials —
again sufficient statistics. The cost is one pass over the data plus ``O(folds² · penalties
· features² · neurons)``, independent of the number of trials; :mod:`sklearn.linear_model`
is the test oracle.

The held-out R² of a neuron pools the predictions of all folds, as
``r2_score(y, cross_val_predict(...))``: ``R² = 1 − Σ_k SSE_k / Σ_t (y_t − ȳ)²``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import GroupKFold

__all__ = [
    "FoldStats",
    "fold_ids",
    "fold_stats",
    "ridge_cv",
    "RidgeCVResult",
    "sklearn_ridge_cv",
]


@dataclass(frozen=True)
class FoldStats:
    """Sufficient statistics of each fold (leading dim: fold).

    Attributes
    ----------
    n : numpy.ndarray, shape (K,)
        Trials per fold.
    sx : numpy.ndarray, shape (K, p)
    sy : numpy.ndarray, shape (K, N)
    sxx : numpy.ndarray, shape (K, p, p)
    sxy : numpy.ndarray, shape (K, p, N)
    syy : numpy.ndarray, shape (K, N)
    """

    n: np.ndarray
    sx: np.ndarray
    sy: np.ndarray
    sxx: np.ndarray
    sxy: np.ndarray
    syy: np.ndarray

    def total(self, folds: np.ndarray) -> FoldStats:
        """Statistics of the union of ``folds`` (a 1-D index array), without the fold dim."""
        return FoldStats(*(getattr(self, f)[folds].sum(axis=0) for f in _FIELDS))

    def one(self, k: int) -> FoldStats:
        """Statistics of fold ``k`` alone, without the fold dim."""
        return FoldStats(*(getattr(self, f)[k] for f in _FIELDS))


_FIELDS = ("n", "sx", "sy", "sxx", "sxy", "syy")


def fold_ids(groups: np.ndarray, num_folds: int) -> np.ndarray:
    """Fold of every row, with ``GroupKFold`` (a group never spans two folds).

    Parameters
    ----------
    groups : numpy.ndarray, shape (n,)
        Group label of each row (session, or session × block).
    num_folds : int
        At least 3 (the inner cross-validation needs 2 training folds) and at most the number
        of groups.

    Returns
    -------
    numpy.ndarray of int, shape (n,)
    """
    num_groups = len(np.unique(groups))
    if not 3 <= num_folds <= num_groups:
        raise ValueError(
            f"num_folds must lie in [3, {num_groups}] (the number of groups: sessions or "
            f"blocks; the penalty is chosen on the training folds), got {num_folds}"
        )
    folds = np.empty(len(groups), dtype=np.int64)
    rows = np.zeros((len(groups), 1))
    for k, (_, test) in enumerate(GroupKFold(n_splits=num_folds).split(rows, groups=groups)):
        folds[test] = k
    return folds


def fold_stats(
    X: np.ndarray,
    Y: np.ndarray,
    folds: np.ndarray,
    num_folds: int,
    *,
    x_only: FoldStats | None = None,
) -> FoldStats:
    """Per-fold sufficient statistics of (X, Y).

    Parameters
    ----------
    X : numpy.ndarray, shape (n, p)
        Predictors (centred by the caller for numerical accuracy; ridge with an intercept is
        unchanged by a shift of either X or Y).
    Y : numpy.ndarray, shape (n, N)
        Activity of N neurons.
    folds : numpy.ndarray of int, shape (n,)
    num_folds : int
    x_only : FoldStats, optional
        Statistics already computed for the same X and folds; their X parts are reused (the
        null distribution changes only Y).
    """
    p, num_neurons = X.shape[1], Y.shape[1]
    sy = np.zeros((num_folds, num_neurons))
    sxy = np.zeros((num_folds, p, num_neurons))
    syy = np.zeros((num_folds, num_neurons))
    if x_only is None:
        n = np.zeros(num_folds)
        sx = np.zeros((num_folds, p))
        sxx = np.zeros((num_folds, p, p))
    else:
        n, sx, sxx = x_only.n, x_only.sx, x_only.sxx
    for k in range(num_folds):
        rows = folds == k
        Xk, Yk = X[rows], Y[rows]
        if x_only is None:
            n[k] = rows.sum()
            sx[k] = Xk.sum(axis=0)
            sxx[k] = Xk.T @ Xk
        sy[k] = Yk.sum(axis=0)
        sxy[k] = Xk.T @ Yk
        syy[k] = np.einsum("ij,ij->j", Yk, Yk)
    return FoldStats(n, sx, sy, sxx, sxy, syy)


def _held_out_sse(
    train: FoldStats, test: FoldStats, penalties: np.ndarray, standardize: bool = True
) -> np.ndarray:
    """Squared error on ``test`` of the standardised ridge fitted on ``train``, every penalty.

    Returns
    -------
    numpy.ndarray, shape (L, N)
    """
    n = train.n
    mu, ybar = train.sx / n, train.sy / n
    gram = train.sxx - n * np.outer(mu, mu)
    cross = train.sxy - n * np.outer(mu, ybar)
    scale = np.sqrt(np.clip(np.diag(gram), 0.0, None) / n)
    # StandardScaler leaves (near-)constant features unscaled.
    scale = np.where(scale < 10 * np.finfo(float).eps * np.maximum(1.0, np.abs(mu)), 1.0, scale)
    if not standardize:
        scale = np.ones_like(scale)
    evals, evecs = np.linalg.eigh(gram / np.outer(scale, scale))
    evals = np.clip(evals, 0.0, None)
    w = evecs.T @ (cross / scale[:, None])  # (p, N)
    m = test.n
    zz = test.sxx - np.outer(mu, test.sx) - np.outer(test.sx, mu) + m * np.outer(mu, mu)
    zu = test.sxy - np.outer(mu, test.sy) - np.outer(test.sx, ybar) + m * np.outer(mu, ybar)
    uu = test.syy - 2.0 * ybar * test.sy + m * ybar**2
    a = evecs.T @ (zz / np.outer(scale, scale)) @ evecs
    b = evecs.T @ (zu / scale[:, None])
    sse = np.empty((len(penalties), w.shape[1]))
    for i, lam in enumerate(penalties):  # a loop beats (L, p, N) temporaries for many neurons
        coef = w / (evals + lam)[:, None]
        sse[i] = uu - 2.0 * np.einsum("ij,ij->j", coef, b) + np.einsum("ij,ij->j", coef, a @ coef)
    return sse


@dataclass(frozen=True)
class RidgeCVResult:
    """Held-out performance of the nested cross-validated ridge.

    Attributes
    ----------
    r2 : numpy.ndarray, shape (N,)
        Pooled held-out R² (NaN for a neuron without variance).
    r2_fold : numpy.ndarray, shape (K, N)
        R² on each held-out fold (against the fold's own mean, as ``r2_score``).
    sse_fold : numpy.ndarray, shape (K, N)
        Held-out squared error per fold.
    penalty_index : numpy.ndarray of int, shape (K, N)
        Index into the penalty grid chosen on the training folds of each outer fold.
    """

    r2: np.ndarray
    r2_fold: np.ndarray
    sse_fold: np.ndarray
    penalty_index: np.ndarray


def ridge_cv(
    stats: FoldStats, penalties: np.ndarray, *, standardize: bool = True
) -> RidgeCVResult:
    """Nested cross-validated ridge of every neuron from per-fold statistics.

    For outer fold ``k``: for every other fold ``j``, fit on the folds other than ``j`` and
    ``k`` and score on ``j``; choose the penalty with the lowest mean over ``j`` of the
    mean squared error; refit on all folds but ``k`` and score on ``k``.

    Parameters
    ----------
    stats : FoldStats
        From :func:`fold_stats`, K >= 3 folds.
    penalties : numpy.ndarray, shape (L,)
        Ridge penalties (``alpha`` of :class:`sklearn.linear_model.Ridge`, on standardised
        predictors), positive.
    standardize : bool
        Scale the predictors by each training set's standard deviation (``StandardScaler``
        in the pipeline); ``False`` when the caller has scaled them already.

    Returns
    -------
    RidgeCVResult
    """
    penalties = np.asarray(penalties, dtype=np.float64)
    num_folds = len(stats.n)
    everything = np.arange(num_folds)
    sse_fold = np.empty((num_folds, stats.sy.shape[1]))
    chosen = np.empty((num_folds, stats.sy.shape[1]), dtype=np.int64)
    for k in everything:
        inner = everything[everything != k]
        mse = np.zeros((len(penalties), stats.sy.shape[1]))
        for j in inner:
            train = stats.total(inner[inner != j])
            sse = _held_out_sse(train, stats.one(j), penalties, standardize)
            mse += sse / stats.n[j]
        chosen[k] = np.argmin(mse, axis=0)
        sse = _held_out_sse(stats.total(inner), stats.one(k), penalties, standardize)
        sse_fold[k] = np.take_along_axis(sse, chosen[k][None], axis=0)[0]
    whole = stats.total(everything)
    sst = whole.syy - whole.sy**2 / whole.n
    sst_fold = stats.syy - stats.sy**2 / stats.n[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        tiny = 1e-12 * np.maximum(whole.syy, 1e-300)
        r2 = np.where(sst > tiny, 1.0 - sse_fold.sum(axis=0) / sst, np.nan)
        r2_fold = np.where(sst_fold > 1e-12 * stats.syy, 1.0 - sse_fold / sst_fold, np.nan)
    return RidgeCVResult(r2, r2_fold, sse_fold, chosen)


def sklearn_ridge_cv(
    X: np.ndarray,
    Y: np.ndarray,
    folds: np.ndarray,
    penalties: np.ndarray,
    *,
    standardize: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The same nested cross-validation with one scikit-learn search per neuron (slow).

    The reference :func:`ridge_cv` is tested against and timed beside: per neuron and outer
    fold ``k``, ``GridSearchCV(make_pipeline(StandardScaler(), Ridge()),
    cv=PredefinedSplit(folds of the training rows), scoring="neg_mean_squared_error")``,
    refitted on the training folds, predicting fold ``k``.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, p)
    Y : numpy.ndarray, shape (n, N)
    folds : numpy.ndarray of int, shape (n,)
        From :func:`fold_ids`.
    penalties : numpy.ndarray, shape (L,)
    standardize : bool
        With the ``StandardScaler`` in the pipeline (else ``Ridge`` alone).

    Returns
    -------
    r2 : numpy.ndarray, shape (N,)
        Pooled held-out R² (``r2_score`` of the concatenated predictions).
    penalty_index : numpy.ndarray of int, shape (K, N)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, groups = rng.normal(size=(60, 2)), np.repeat(np.arange(6), 10)
    >>> Y = X[:, :1] + rng.normal(size=(60, 1))
    >>> folds = fold_ids(groups, 3)
    >>> r2, _ = sklearn_ridge_cv(X, Y, folds, np.array([0.1, 10.0]))
    >>> fast = ridge_cv(fold_stats(X - X.mean(0), Y - Y.mean(0), folds, 3), np.array([0.1, 10.0]))
    >>> bool(np.allclose(r2, fast.r2))
    True
    """
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score
    from sklearn.model_selection import GridSearchCV, PredefinedSplit
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    penalties = list(np.asarray(penalties, dtype=float))
    pred = np.zeros_like(Y, dtype=np.float64)
    chosen = np.zeros((int(folds.max()) + 1, Y.shape[1]), dtype=np.int64)
    for k in range(int(folds.max()) + 1):
        train, test = folds != k, folds == k
        for j in range(Y.shape[1]):
            search = GridSearchCV(
                make_pipeline(*([StandardScaler()] if standardize else []), Ridge()),
                {"ridge__alpha": penalties},
                cv=PredefinedSplit(folds[train]),
                scoring="neg_mean_squared_error",
            ).fit(X[train], Y[train, j])
            pred[test, j] = search.predict(X[test])
            chosen[k, j] = penalties.index(search.best_params_["ridge__alpha"])
    return np.array([r2_score(Y[:, j], pred[:, j]) for j in range(Y.shape[1])]), chosen
