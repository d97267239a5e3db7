"""Single-unit coding: one OLS per unit, all units in one least-squares solve.

Tsutsui et al. 2016 (Nat Commun 7:12554) and Wang et al. 2018 (Nat Neurosci 21:860) fit,
for every unit ``u`` and trial ``t`` (activity taken at one stage of the trial),

    y_u(t) = b0 + b1 a(t-1) + b2 r(t-1) + b3 a(t-1) r(t-1) + b4 V(t) + e,

with the previous action ``a`` and previous reward ``r`` coded ±1 and ``V`` the current value
estimate, and call a unit coding a variable when the two-sided t-test of its coefficient
gives p < α. The design ``X`` is shared by all units, so its QR factorisation is computed
once and applied to every unit (chunked over units to bound memory); the fraction of coding units
is compared with a chance level obtained by shuffling trials (seeded).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import linalg, stats
from statsmodels.stats.proportion import proportion_confint

from neurometa.analysis._common import (
    AnalysisError,
    by_trial,
    check_recording,
    consecutive_trials,
    describe,
    trial_sum,
)
from neurometa.analysis.trials import choice_variable, trial_choice

__all__ = [
    "CODING_TERMS",
    "OLSDesign",
    "RankDeficientError",
    "rank_problem",
    "ols_attrs",
    "ols_units",
    "coding_design",
    "coding_regression",
    "coding_fractions",
]

#: Names of the regressors of the coding regression, in design-column order.
CODING_TERMS: tuple[str, ...] = ("intercept", "prev_action", "prev_reward", "interaction", "value")


class RankDeficientError(AnalysisError):
    """A regression design whose columns are not independent; ``regressor`` names the one."""

    def __init__(self, regressor: str, message: str) -> None:
        self.regressor = regressor
        super().__init__(message)


def rank_problem(X: np.ndarray, names: tuple[str, ...]) -> tuple[str, str]:
    """The first regressor that makes ``X (n, k)`` rank deficient, and why.

    A column of ones is the intercept; any other constant column is reported as constant
    (with its value), else the first column that is a linear combination of the ones before
    it is reported as collinear with them.

    Examples
    --------
    >>> X = np.column_stack([np.ones(4), [1.0, -1, 1, -1], np.ones(4)])
    >>> regressor, why = rank_problem(X, ("intercept", "prev_action", "prev_reward"))
    >>> regressor, why.split(",")[0]
    ('prev_reward', "regressor 'prev_reward' is constant (1 on all 4 rows)")
    """
    n, k = X.shape
    for j in range(k):
        col = X[:, j]
        if np.ptp(col) == 0 and j > 0:
            return names[j], (
                f"regressor {names[j]!r} is constant ({col[0]:g} on all {n} rows), so it "
                "cannot be told apart from the intercept"
            )
        if np.linalg.matrix_rank(X[:, : j + 1]) < j + 1:
            before = ", ".join(repr(m) for m in names[:j])
            return names[j], f"regressor {names[j]!r} is a linear combination of {before}"
    return names[-1], "the regressors are collinear"  # pragma: no cover - rank tests agree


#: Why a coding regressor can be constant in a recording.
_CONSTANT_REASONS = {
    "prev_action": "the same option was chosen on every trial used",
    "prev_reward": "every trial used was rewarded, or none was",
    "interaction": "a(t-1)·r(t-1) does not vary",
    "value": "the value regressor does not change",
}


class OLSDesign:
    """Ordinary least squares for many responses sharing one design matrix.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, k)
        Design matrix (include a column of ones for an intercept); full column rank.

    Notes
    -----
    With the thin QR decomposition ``X = QR``: ``b = R^-1 Q'y``,
    ``s^2 = |y - Xb|^2 / (n - k)``, ``se_j = s sqrt([(X'X)^-1]_jj)``, ``t_j = b_j / se_j`` and
    ``p_j = 2 P(T_{n-k} > |t_j|)`` (the same statistics as ``statsmodels.OLS``).
    """

    def __init__(self, X: np.ndarray, names: tuple[str, ...] | None = None) -> None:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise AnalysisError(f"design must be 2-D (n, k), got shape {X.shape}")
        n, k = X.shape
        if n <= k:
            raise AnalysisError(f"need more observations than regressors, got n={n}, k={k}")
        if not np.all(np.isfinite(X)):
            raise AnalysisError("design contains NaN or infinite values")
        q, r = np.linalg.qr(X)
        if np.linalg.matrix_rank(r) < k:
            names = tuple(names) if names is not None else tuple(f"x{j}" for j in range(k))
            regressor, why = rank_problem(X, names)
            raise RankDeficientError(regressor, f"design is rank deficient: {why}")
        self.X = X
        self.q = q
        self.r = r
        self.df_resid = n - k
        r_inv = np.linalg.inv(r)
        self.xtx_inv_diag = np.sum(r_inv**2, axis=1)  # diag((X'X)^-1) = row norms of R^-1

    def fit(self, Y: np.ndarray) -> dict[str, np.ndarray]:
        """Fit every column of ``Y``.

        Parameters
        ----------
        Y : numpy.ndarray, shape (n, m)
            One response per column.

        Returns
        -------
        dict
            ``coef``, ``se``, ``t``, ``p``, each shape (k, m); ``rss`` shape (m,).

        Notes
        -----
        ``RSS = y'y - |Q'y|^2`` avoids forming the residuals; columns fitted almost exactly
        (RSS below 1e-6 of ``y'y``, where that difference would lose digits) get their
        residuals computed explicitly. Units whose response is constant (silent, or saturated
        at ±1) get NaN ``se``, ``t`` and ``p`` (their residuals are rounding noise, whose
        t-values would be meaningless) and are never significant. Units with a NaN response
        (e.g. outside a recorded unit's observation intervals) get NaN everywhere.
        """
        Y = np.asarray(Y, dtype=np.float64)
        if Y.ndim != 2 or Y.shape[0] != self.X.shape[0]:
            raise AnalysisError(f"responses must have shape ({self.X.shape[0]}, m), got {Y.shape}")
        finite = np.isfinite(Y).all(axis=0)
        if not finite.all():
            part = self.fit(Y[:, finite])
            out = {}
            for key, val in part.items():
                out[key] = np.full((*val.shape[:-1], Y.shape[1]), np.nan)
                out[key][..., finite] = val
            return out
        qty = (Y.T @ self.q).T  # (k, m); this operand order is the fast BLAS path
        coef = linalg.solve_triangular(self.r, qty)
        yty = np.einsum("ij,ij->j", Y, Y)
        rss = yty - np.einsum("ij,ij->j", qty, qty)
        exact = rss <= 1e-6 * yty
        if exact.any():
            resid = Y[:, exact] - self.X @ coef[:, exact]
            rss[exact] = np.einsum("ij,ij->j", resid, resid)
        rss = np.maximum(rss, 0.0)
        se = np.sqrt(np.outer(self.xtx_inv_diag, rss / self.df_resid))
        with np.errstate(divide="ignore", invalid="ignore"):
            t = coef / se
        p = 2.0 * stats.t.sf(np.abs(t), self.df_resid)
        constant = np.ptp(Y, axis=0) == 0  # e.g. a silent or saturated unit: nothing to test
        se[:, constant] = t[:, constant] = p[:, constant] = np.nan
        return {"coef": coef, "se": se, "t": t, "p": p, "rss": rss}


def ols_attrs(response_units: str = "1") -> dict[str, dict[str, str]]:
    """CF ``long_name`` and ``units`` of the statistics of :meth:`OLSDesign.fit`.

    The predictors of the project's regressions are dimensionless (±1 codes, values and
    prediction errors in reward units), so a coefficient has the response's units.

    Examples
    --------
    >>> ols_attrs("Hz")["coef"]
    {'long_name': 'regression coefficient', 'units': 'Hz'}
    """
    return {
        "coef": {"long_name": "regression coefficient", "units": response_units},
        "se": {"long_name": "standard error of the coefficient", "units": response_units},
        "t": {"long_name": "t statistic (coef / se)", "units": "1"},
        "p": {"long_name": "two-sided p-value of the t-test", "units": "1"},
    }


def ols_units(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    chunk_units: int = 2048,
    names: tuple[str, ...] | None = None,
) -> dict[str, np.ndarray]:
    """OLS of every unit's activity on a shared design, chunked over units.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, k)
    Y : array-like, shape (n, U)
        Activity; any array supporting column slicing (numpy, memmap, dask is computed per
        chunk).
    chunk_units : int
        Units per chunk; peak extra memory is about ``3 * n * chunk_units * 8`` bytes.
    names : tuple of str, optional
        Names of the regressors, for the error that a rank-deficient design raises.

    Returns
    -------
    dict
        ``coef``, ``se``, ``t``, ``p`` of shape (k, U).
    """
    design = OLSDesign(X, names)
    num_units = Y.shape[1]
    out = {key: np.empty((X.shape[1], num_units)) for key in ("coef", "se", "t", "p")}
    for start in range(0, num_units, chunk_units):
        stop = min(start + chunk_units, num_units)
        res = design.fit(np.asarray(Y[:, start:stop]))
        for key in out:
            out[key][:, start:stop] = res[key]
    return out


def coding_design(
    prev_action: np.ndarray, prev_reward: np.ndarray, value: np.ndarray
) -> np.ndarray:
    """The coding-regression design ``[1, a, r, a·r, V]`` with ±1 coded ``a`` and ``r``.

    Parameters
    ----------
    prev_action : numpy.ndarray, shape (n,)
        Previous choice, 0/1 (coded +1 for 1 and −1 for 0).
    prev_reward : numpy.ndarray, shape (n,)
        Previous reward (coded +1 when > 0, else −1).
    value : numpy.ndarray, shape (n,)
        Current value estimate, used as is.

    Returns
    -------
    numpy.ndarray, shape (n, 5)
        Columns in the order of :data:`CODING_TERMS`.
    """
    a = np.asarray(prev_action)
    if not np.isin(a, (0, 1)).all():
        raise AnalysisError("the coding regression needs binary (0/1) previous actions")
    a = 2.0 * a - 1.0
    r = np.where(np.asarray(prev_reward) > 0, 1.0, -1.0)
    v = np.asarray(value, dtype=np.float64)
    return np.column_stack([np.ones_like(a), a, r, a * r, v])


def _coding_inputs(
    ds: xr.Dataset, activity: str, stage: str | int, value: xr.DataArray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Design ``(n, 5)``, activity ``(n, U)`` and the episode of each row ``(n,)``."""
    action = trial_choice(ds)  # agents: action at the first stage; lab two-step: choice1
    reward = trial_sum(ds["reward"], ds).transpose("episode", "trial").values
    if value is None:
        value = ds["value"]
    drop = value is False  # the value term left out
    if drop:
        value = xr.zeros_like(ds["reward"], dtype=np.float64)
    v = by_trial(value, ds, stage).transpose("episode", "trial").values
    y = by_trial(ds[activity], ds, stage).transpose("episode", "trial", "unit").values
    num_episodes, num_trials = action.shape
    if num_trials < 2:
        raise AnalysisError("the coding regression needs at least two trials per episode")
    rows = (action[:, :-1] >= 0) & (action[:, 1:] >= 0) & np.isfinite(v[:, 1:])
    rows &= np.isfinite(reward[:, :-1])
    rows &= consecutive_trials(ds)  # lab tables: no pair across a dropped (missed) trial
    X = coding_design(action[:, :-1][rows], reward[:, :-1][rows], v[:, 1:][rows])
    X = X[:, :-1] if drop else X
    episodes = np.broadcast_to(np.arange(num_episodes)[:, None], rows.shape)[rows]
    return X, y[:, 1:][rows], episodes


def coding_regression(
    ds: xr.Dataset,
    *,
    activity: str = "h",
    stage: str | int = 0,
    value: xr.DataArray | None = None,
    alpha: float = 0.05,
    chunk_units: int = 2048,
) -> xr.Dataset:
    """Single-unit coding regression of a recording (Tsutsui 2016; Wang 2018).

    Parameters
    ----------
    ds : xarray.Dataset
        Recording with ``action`` (or, for lab two-step data, ``choice1``), ``reward``,
        ``value`` (unless ``value`` is given) and the activity ``(episode, step, unit)``.
    activity : str
        Name of the unit-activity variable (``"h"``, ``"c"``, or recorded rates).
    stage : str or int
        Stage within the trial at which activity and value are taken.
    value : xarray.DataArray or False, optional, dims (episode, step)
        Value regressor, e.g. a fitted model's ``model_chosen_value``
        (:func:`neurometa.behaviour.add_latents`); default ``ds.value``; False leaves the
        value term out.
    alpha : float
        Significance level of the two-sided t-tests.
    chunk_units : int
        Units per least-squares chunk.

    Returns
    -------
    xarray.Dataset
        ``coef``, ``se``, ``t``, ``p`` and boolean ``significant``, dims (term, unit); attrs
        ``alpha``, ``num_obs``, ``df_resid``, ``stage``, ``activity``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import neurometa as nm
    >>> rng = np.random.default_rng(0)  # 4 sessions of 100 trials, 20 units
    >>> frame = pd.DataFrame({"subject": "m1", "session": np.repeat([1, 2, 3, 4], 100),
    ...                       "trial": np.tile(np.arange(100), 4),
    ...                       "choice": rng.integers(0, 2, 400),
    ...                       "reward": rng.integers(0, 2, 400)})
    >>> ds = nm.from_dataframe(frame, "bandit")
    >>> prev_reward = ds["reward"].shift(step=1, fill_value=0) * 2 - 1  # r(t-1) coded ±1
    >>> rates = rng.normal(size=(4, 100, 20))
    >>> rates[..., :10] += prev_reward.values[..., None]  # units 0-9 code the previous reward
    >>> ds["activity"] = (("episode", "step", "unit"), rates)
    >>> ds = ds.assign_coords(unit=np.arange(20))
    >>> ds["value"] = ds["reward"].rolling(step=5, min_periods=1).mean()  # a stand-in estimate
    >>> fit = nm.coding_regression(ds, activity="activity")
    >>> bool(fit["significant"].sel(term="prev_reward")[:10].all())  # the 10 planted units
    True
    """
    X, Y = _checked_inputs(ds, activity, stage, value, alpha)
    return _unit_table(_coding_ols(X, Y, chunk_units), ds, activity, stage, alpha, X)


def _coding_ols(X: np.ndarray, Y: np.ndarray, chunk_units: int = 2048) -> dict[str, np.ndarray]:
    """:func:`ols_units` of the coding design; a rank-deficient one says which term and why."""
    try:
        return ols_units(X, Y, chunk_units=chunk_units, names=CODING_TERMS)
    except RankDeficientError as err:
        reason = _CONSTANT_REASONS.get(err.regressor, "")
        raise RankDeficientError(
            err.regressor, f"coding regression: {err}" + (f" ({reason})" if reason else "")
        ) from err


def _checked_inputs(
    ds: xr.Dataset, activity: str, stage: str | int, value: xr.DataArray | None, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """The design ``(n, 5)`` and activity ``(n, U)`` of a validated recording."""
    check_recording(
        ds,
        [choice_variable(ds), "reward", activity] + ([] if value is not None else ["value"]),
        analysis="coding regression",
    )
    if not 0 < alpha < 1:
        raise AnalysisError(f"alpha must lie in (0, 1), got {alpha}")
    X, Y, _ = _coding_inputs(ds, activity, stage, value)
    return X, Y


def _unit_table(
    res: dict[str, np.ndarray],
    ds: xr.Dataset,
    activity: str,
    stage: str | int,
    alpha: float,
    X: np.ndarray,
) -> xr.Dataset:
    """The fits of :func:`ols_units` as a labelled (term, unit) Dataset."""
    described = ols_attrs(ds[activity].attrs.get("units", "1"))
    out = xr.Dataset(
        {key: (("term", "unit"), res[key], attrs) for key, attrs in described.items()},
        coords={"term": list(CODING_TERMS[: X.shape[1]]), "unit": ds[activity]["unit"].values},
    )
    out["significant"] = out["p"] < alpha
    describe(out, {"significant": f"p < {alpha}"})
    out.attrs.update(
        alpha=alpha,
        num_obs=X.shape[0],
        df_resid=X.shape[0] - X.shape[1],
        stage=str(stage),
        activity=activity,
        equation="y = b0 + b1 a(t-1) + b2 r(t-1) + b3 a(t-1)r(t-1) + b4 V(t); a, r coded ±1",
    )
    return out


def coding_fractions(
    ds: xr.Dataset,
    *,
    activity: str = "h",
    stage: str | int = 0,
    value: xr.DataArray | None = None,
    alpha: float = 0.05,
    num_shuffles: int = 20,
    seed: int = 0,
    ci: float = 0.95,
    fit: xr.Dataset | None = None,
) -> xr.Dataset:
    """Fraction of units coding each regressor, with its chance level from shuffled trials.

    The observed fraction gets a Clopper-Pearson binomial interval
    (``statsmodels.stats.proportion.proportion_confint``, ``method="beta"``); the chance
    level is the mean fraction over ``num_shuffles`` fits in which the rows of the design are
    permuted (trials shuffled against activity, seeded with ``seed``), with the central
    ``ci`` interval of the shuffled fractions.

    Parameters
    ----------
    ds, activity, stage, value, alpha
        As :func:`coding_regression`.
    num_shuffles : int
        Shuffled fits for the chance level.
    seed : int
        Seed of the shuffles.
    ci : float
        Coverage of both intervals.
    fit : xarray.Dataset, optional
        The :func:`coding_regression` of the same recording with the same options, when the
        caller has it (it is then not fitted again).

    Returns
    -------
    xarray.Dataset, dim term
        ``fraction``, ``fraction_low``, ``fraction_high``, ``chance``, ``chance_low``,
        ``chance_high``, ``num_coding``; attrs ``num_units`` (units whose activity varies:
        the denominator), ``num_constant_units`` and ``num_incomplete_units`` (activity NaN
        in some trials, e.g. outside a unit's recording intervals; both left out),
        ``num_shuffles``, ``seed``, ``ci`` and those of the fit.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import neurometa as nm
    >>> rng = np.random.default_rng(0)  # 4 sessions of 100 trials, 20 units
    >>> frame = pd.DataFrame({"subject": "m1", "session": np.repeat([1, 2, 3, 4], 100),
    ...                       "trial": np.tile(np.arange(100), 4),
    ...                       "choice": rng.integers(0, 2, 400),
    ...                       "reward": rng.integers(0, 2, 400)})
    >>> ds = nm.from_dataframe(frame, "bandit")
    >>> prev_reward = ds["reward"].shift(step=1, fill_value=0) * 2 - 1  # r(t-1) coded ±1
    >>> rates = rng.normal(size=(4, 100, 20))
    >>> rates[..., :10] += prev_reward.values[..., None]  # units 0-9 code the previous reward
    >>> ds["activity"] = (("episode", "step", "unit"), rates)
    >>> ds = ds.assign_coords(unit=np.arange(20))
    >>> ds["value"] = ds["reward"].rolling(step=5, min_periods=1).mean()  # a stand-in estimate
    >>> fr = nm.coding_fractions(ds, activity="activity", num_shuffles=5)
    >>> bool(fr["fraction"].sel(term="prev_reward") >= 0.5), fr.attrs["num_units"]
    (True, 20)
    """
    X, Y = _checked_inputs(ds, activity, stage, value, alpha)
    if fit is None:
        fit = _unit_table(_coding_ols(X, Y), ds, activity, stage, alpha, X)
    elif (fit.attrs.get("activity"), fit.attrs.get("stage"), fit.attrs.get("alpha")) != (
        activity,
        str(stage),
        alpha,
    ) or fit.attrs.get("num_obs") != X.shape[0]:
        raise AnalysisError("fit= is not the coding regression of these inputs and options")
    complete = np.isfinite(Y).all(axis=0)  # e.g. a unit not recorded in some trials (NaN)
    varies = np.ptp(Y, axis=0) > 0  # False for constant and for incomplete units (NaN)
    Y = Y[:, varies]
    num_units = Y.shape[1]
    if num_units == 0:
        if not complete.any():
            raise AnalysisError(
                f"every unit of {activity!r} has missing values (NaN) in the trials used: "
                "no unit was recorded in all of them"
            )
        raise AnalysisError(f"every unit of {activity!r} is constant over the trials used")
    count = fit["significant"].sum("unit").values.astype(np.int64)
    low, high = proportion_confint(count, num_units, alpha=1 - ci, method="beta")
    rng = np.random.default_rng(seed)
    shuffled = np.empty((num_shuffles, X.shape[1]))
    for i in range(num_shuffles):
        res = ols_units(X[rng.permutation(X.shape[0])], Y)
        shuffled[i] = np.mean(res["p"] < alpha, axis=1)
    tail = (1.0 - ci) / 2.0

    out = xr.Dataset(
        {
            "fraction": ("term", count / num_units),
            "fraction_low": ("term", low),
            "fraction_high": ("term", high),
            "num_coding": ("term", count),
            "chance": ("term", shuffled.mean(axis=0)),
            "chance_low": ("term", np.quantile(shuffled, tail, axis=0)),
            "chance_high": ("term", np.quantile(shuffled, 1 - tail, axis=0)),
        },
        coords={"term": list(CODING_TERMS[: X.shape[1]])},
    )
    describe(out, {
        "fraction": "fraction of units coding the term",
        "fraction_low": "Clopper-Pearson lower limit of the fraction",
        "fraction_high": "Clopper-Pearson upper limit of the fraction",
        "num_coding": "number of units coding the term",
        "chance": "mean fraction with trials shuffled",
        "chance_low": "lower quantile of the shuffled fractions",
        "chance_high": "upper quantile of the shuffled fractions",
    })  # fmt: skip
    out.attrs.update(
        fit.attrs,
        num_units=num_units,
        num_constant_units=int((complete & ~varies).sum()),
        num_incomplete_units=int((~complete).sum()),
        num_shuffles=num_shuffles,
        seed=seed,
        ci=ci,
    )
    return out
