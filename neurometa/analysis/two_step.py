"""Two-step task behaviour: trial tables, stay probabilities and logistic regressions.

- Stay probabilities after {common, rare} × {rewarded, unrewarded} trials (Daw et al. 2011,
  Neuron 69:1204) with cluster-bootstrap confidence intervals.
- ``stay ~ 1 + reward + transition + reward × transition`` (±1 coding; Daw 2011) by logistic
  regression (statsmodels) pooled over subjects (population-averaged coefficients, not a
  mixed model), with standard errors clustered by subject where there are at least
  :data:`MIN_CLUSTERS` subjects (else by session where there are that many; else none).
- Miller et al. 2017 (Nat Neurosci 20:1269) lagged regression of the first-stage choice on
  the past ``L`` trials' type (common/rare × rewarded/omitted) with its model-based and
  model-free indices; Akam et al. 2015 (PLoS Comput Biol 11:e1004648) stay regression with
  the ``correct`` predictor that absorbs the spurious reward × transition effect of a
  model-free learner tracking the better option.

A trial table has one row per completed trial: ``subject, episode, trial, choice1, state2,
choice2, reward, common`` (+ ``better_choice1`` when reward probabilities are known: the
first-stage choice whose common state pays best, −1 on ties; + ``trial_index``, the trial's
position in the recording, for tables made from recordings).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
import xarray as xr
from statsmodels.discrete.discrete_model import BinaryResultsWrapper
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from neurometa.analysis._common import AnalysisError, by_trial, check_recording, trial_sum
from neurometa.seeding import RunSeeds

__all__ = [
    "CONDITIONS",
    "CONDITION_LABELS",
    "condition_codes",
    "two_step_trials",
    "stay_table",
    "stay_probabilities",
    "logistic_table",
    "stay_regression",
    "lagged_regression",
    "akam_regression",
    "TRIAL_TYPES",
]

#: The four stay-probability conditions: (transition, outcome).
CONDITIONS: tuple[tuple[str, str], ...] = (
    ("common", "rewarded"),
    ("rare", "rewarded"),
    ("common", "unrewarded"),
    ("rare", "unrewarded"),
)


#: Labels of :data:`CONDITIONS` (``"common/rewarded"``, ...).
CONDITION_LABELS: tuple[str, ...] = tuple(f"{t}/{o}" for t, o in CONDITIONS)


def condition_codes(stays: pd.DataFrame) -> np.ndarray:
    """Position in :data:`CONDITIONS` of each row of a :func:`stay_table`.

    Returns
    -------
    numpy.ndarray of int, shape (len(stays),)
        0 common/rewarded, 1 rare/rewarded, 2 common/unrewarded, 3 rare/unrewarded (of the
        previous trial).
    """
    common = stays["common"].to_numpy(dtype=bool)
    rewarded = stays["rewarded"].to_numpy(dtype=bool)
    return np.where(common, 0, 1) + np.where(rewarded, 0, 2)


def _better_choice1(reward_probs: np.ndarray) -> np.ndarray:
    """First-stage choice whose common second-stage state pays best; −1 on ties."""
    state_value = reward_probs.max(axis=-1) if reward_probs.ndim == 4 else reward_probs
    diff = state_value[..., 1] - state_value[..., 0]
    return np.where(diff > 0, 1, np.where(diff < 0, 0, -1))


def two_step_trials(ds: xr.Dataset) -> pd.DataFrame:
    """Convert a step-level two-step recording (agent or lab) to a trial table.

    Stage 0 holds the first-stage choice, stage 1 the second-stage choice, ``state2`` and
    ``common_transition``; the reward of a trial is the sum over its steps. Trials with a
    missing choice (−1) or reward (NaN) are dropped.

    Parameters
    ----------
    ds : xarray.Dataset
        Recording with ``reward``, ``state2``, 2 steps per trial and either ``action``
        (agents) or ``choice1`` (+ ``choice2``) at the second stage (lab tables), or one step
        per trial (an NWB trials table) with ``choice1`` (else ``action``) and optional
        ``choice2``; optional
        ``common_transition``, ``reward_probs`` (``(..., 2, 2)`` Daw 2011 or ``(..., 2)``
        Wang/Miller), ``subject`` coordinate on ``episode`` and ``trial_id`` (lab trial
        numbers).

    Returns
    -------
    pandas.DataFrame, index ``completed_trial``
        The trial table; ``attrs["second_stage_choice"]`` is False for the Wang/Miller
        variant (reward probabilities per state only).

    Examples
    --------
    >>> import neurometa as nm
    >>> task = nm.make_task("two_step/daw2011", 20, num_trials=100)
    >>> agent = nm.make_baseline("hybrid", task, w=0.8)
    >>> ds = nm.record_agent(agent, task, 20, seed=0, progress=False)
    >>> trials = nm.two_step_trials(ds)
    >>> len(trials), "common" in trials
    (2000, True)
    """
    check_recording(ds, ["reward", "state2"], analysis="two-step")
    trial = np.asarray(ds["trial"].values)
    one_step = ds.sizes["step"] > 1 and trial[1] != trial[0]  # lab files: one row per trial
    if not one_step and (
        ds.sizes["step"] % 2 or len(set(np.asarray(ds["stage"].values[:2]).tolist())) != 2
    ):
        raise AnalysisError("a two-step recording needs 2 steps per trial, or one per trial")
    last = 0 if one_step else 1
    if "action" in ds and not one_step:
        first, second = by_trial(ds["action"], ds, 0), by_trial(ds["action"], ds, 1)
    elif "choice1" in ds or "action" in ds:
        first = by_trial(ds["choice1" if "choice1" in ds else "action"], ds, last)
        second = by_trial(ds["choice2"], ds, last) if "choice2" in ds else xr.full_like(first, 0)
    else:
        raise AnalysisError("two-step: the recording has neither 'action' nor 'choice1'")
    cols = {
        "choice1": first,
        "choice2": second,
        "state2": by_trial(ds["state2"], ds, last),
        "reward": trial_sum(ds["reward"], ds),
    }
    if "common_transition" in ds:
        cols["common"] = by_trial(ds["common_transition"], ds, last)
    if "trial_id" in ds:
        cols["trial"] = by_trial(ds["trial_id"], ds, 0)
    second_choice = ("action" in ds and not one_step) or "choice2" in ds
    if "reward_probs" in ds:
        probs = by_trial(ds["reward_probs"], ds, 0)
        second_choice = probs.ndim == 4
        cols["better_choice1"] = xr.DataArray(_better_choice1(probs.values), dims=probs.dims[:2])
    arrays = {k: v.transpose("episode", "trial", ...).values for k, v in cols.items()}
    num_episodes, num_trials = arrays["choice1"].shape
    grid = np.meshgrid(np.arange(num_episodes), np.arange(num_trials), indexing="ij")
    arrays.setdefault("trial", np.asarray(ds["trial"].values)[:: 1 if one_step else 2][grid[1]])
    if "subject" in ds.coords:
        subject = np.asarray(ds["subject"].values).astype(str)[grid[0]]
    else:
        subject = np.full(grid[0].shape, str(ds.attrs.get("agent", "agent")))
    ok = (arrays["choice1"] >= 0) & (arrays["state2"] >= 0) & np.isfinite(arrays["reward"])
    if second_choice:
        ok &= arrays["choice2"] >= 0
    table = pd.DataFrame(
        {"subject": subject[ok], "episode": grid[0][ok], "trial_index": grid[1][ok]},
        index=pd.RangeIndex(int(ok.sum()), name="completed_trial"),
    )
    for name in ("trial", "choice1", "state2", "choice2", "reward", "common", "better_choice1"):
        if name in arrays:
            table[name] = arrays[name][ok]
    if "common" not in table:
        table["common"] = table["state2"] == table["choice1"]
    table = table.astype({"choice1": np.int64, "state2": np.int64, "common": bool})
    table.attrs["second_stage_choice"] = second_choice
    return table


def stay_table(trials: pd.DataFrame) -> pd.DataFrame:
    """Pairs of consecutive trials: whether the first-stage choice repeated, and after what.

    Parameters
    ----------
    trials : pandas.DataFrame
        A trial table (see :func:`two_step_trials`).

    Returns
    -------
    pandas.DataFrame
        One row per trial ``t`` whose predecessor ``t - 1`` (same subject and episode,
        consecutive trial number) exists: ``subject, episode, trial, stay`` (0/1),
        ``rewarded``, ``common`` (of trial t − 1), ``correct`` (+1/−1/0, when
        ``better_choice1`` is known) and ``choice1``.
    """
    t = trials.sort_values(["subject", "episode", "trial"]).reset_index(drop=True)
    same = (t["subject"].to_numpy()[1:] == t["subject"].to_numpy()[:-1]) & (
        t["episode"].to_numpy()[1:] == t["episode"].to_numpy()[:-1]
    )
    same &= np.diff(t["trial"].to_numpy()) == 1
    cur, prev = t.iloc[1:][same].reset_index(drop=True), t.iloc[:-1][same].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "subject": cur["subject"],
            "episode": cur["episode"],
            "trial": cur["trial"],
            "stay": (cur["choice1"] == prev["choice1"]).astype(np.int64),
            "rewarded": prev["reward"].to_numpy() > 0,
            "common": prev["common"].to_numpy(dtype=bool),
            "choice1": cur["choice1"],
        }
    )
    if "better_choice1" in t:
        better = prev["better_choice1"].to_numpy()
        out["correct"] = np.where(better < 0, 0, np.where(prev["choice1"] == better, 1, -1))
    if len(out) == 0:
        raise AnalysisError("no pairs of consecutive trials to compute stay probabilities from")
    return out


#: Fewest clusters for cluster-robust standard errors and the cluster bootstrap. With fewer
#: (e.g. one subject's 2-5 sessions) the cluster covariance has rank < G and its SEs are
#: meaningless; Cameron & Miller (2015, J Hum Resour 50:317) discuss the few-cluster problem.
MIN_CLUSTERS = 10


def _clusters(stays: pd.DataFrame, num_params: int = 0) -> tuple[np.ndarray | None, str]:
    """Cluster codes for SEs / the bootstrap, and the unit's name.

    Subjects when there are at least ``max(MIN_CLUSTERS, num_params + 1)``, else sessions
    (subject × episode) when there are that many, else none (``None, "none"``).
    """
    need = max(MIN_CLUSTERS, num_params + 1)
    for cols, unit in ((["subject"], "subject"), (["subject", "episode"], "episode")):
        codes = stays.groupby(cols, sort=True).ngroup().to_numpy()
        if codes.max(initial=-1) + 1 >= need:
            return codes, unit
    return None, "none"


def _per_subject_mean(counts: np.ndarray, totals: np.ndarray, mult: np.ndarray) -> np.ndarray:
    """Weighted mean over subjects of each subject's stay probability.

    ``counts, totals``: ``(R, S, 4)`` stays and trials per subject and condition; ``mult``
    ``(R, S)``: how often each subject counts (1, or its multiplicity in a bootstrap resample
    of subjects). Subjects without a trial in a condition are left out of that condition.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(totals > 0, counts / np.where(totals > 0, totals, 1.0), 0.0)
        weight = np.where(totals > 0, mult[..., None], 0.0)
        return (p * weight).sum(axis=1) / weight.sum(axis=1)


def stay_probabilities(
    trials: pd.DataFrame, *, num_boot: int = 1000, seed: int = 0, ci: float = 0.95
) -> pd.DataFrame:
    """Stay probability after each transition × outcome, with bootstrap intervals.

    With several subjects ``p_stay`` is the mean over subjects of each subject's stay
    probability (as Daw et al. 2011, Fig. 2, plot it: every subject counts once), else the
    pooled proportion over trials. The interval is the percentile interval of ``num_boot``
    resamples of clusters — subjects, or sessions (subject × episode), when there are at least
    :data:`MIN_CLUSTERS` — else of trials; each resample recomputes the same statistic.

    Returns
    -------
    pandas.DataFrame
        Index ``condition`` (``"common/rewarded"``, ...) in :data:`CONDITIONS` order;
        columns ``transition, outcome, p_stay, ci_low, ci_high, num_trials``; ``attrs``:
        ``resampled`` (the resampled unit) and ``averaged`` (``"subjects"`` or ``"trials"``).

    Examples
    --------
    >>> import neurometa as nm
    >>> task = nm.make_task("two_step/daw2011", 20, num_trials=100)
    >>> agent = nm.make_baseline("hybrid", task, w=0.8)
    >>> ds = nm.record_agent(agent, task, 20, seed=0, progress=False)
    >>> trials = nm.two_step_trials(ds)
    >>> stay = nm.stay_probabilities(trials, num_boot=200)
    >>> stay[["transition", "outcome", "num_trials"]].shape
    (4, 3)
    """
    stays = stay_table(trials)
    codes, unit = _clusters(stays)
    if codes is None:
        codes, unit = np.arange(len(stays)), "trial"
    subject = pd.factorize(stays["subject"])[0]
    num_subjects = subject.max() + 1
    cond = condition_codes(stays)
    # stays and trials per resampled unit, spread over (subject, condition) columns
    num_units = codes.max() + 1
    per_unit = np.zeros((2, num_units, num_subjects * 4))
    np.add.at(per_unit[0], (codes, subject * 4 + cond), stays["stay"].to_numpy())
    np.add.at(per_unit[1], (codes, subject * 4 + cond), 1.0)

    unit_subject = np.zeros(num_units, dtype=np.int64)
    unit_subject[codes] = subject  # subject of each unit (units nest in subjects)

    def statistic(weights: np.ndarray) -> np.ndarray:  # weights (R, units) -> (R, 4)
        counts, totals = ((weights @ m).reshape(len(weights), num_subjects, 4) for m in per_unit)
        mult = np.ones((len(weights), num_subjects))
        if unit == "subject":  # a subject drawn twice counts twice
            mult[:, unit_subject] = weights
        return _per_subject_mean(counts, totals, mult)

    rng = RunSeeds(seed).numpy("extra")
    boot = np.empty((num_boot, 4))
    chunk = max(1, 2_000_000 // num_units)  # resample weights in chunks of ~2 M cells
    for first in range(0, num_boot, chunk):
        rows = min(chunk, num_boot - first)
        draws = rng.integers(0, num_units, size=(rows, num_units))
        flat = (draws + num_units * np.arange(rows)[:, None]).ravel()
        weights = np.bincount(flat, minlength=rows * num_units).reshape(rows, num_units)
        boot[first : first + rows] = statistic(weights.astype(np.float64))
    p = statistic(np.ones((1, num_units)))[0]
    tail = (1 - ci) / 2
    labels = pd.Index(CONDITION_LABELS, name="condition")
    out = pd.DataFrame(CONDITIONS, columns=["transition", "outcome"], index=labels)
    out["p_stay"] = p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN conditions
        out["ci_low"] = np.nanquantile(boot, tail, axis=0)
        out["ci_high"] = np.nanquantile(boot, 1 - tail, axis=0)
    out["num_trials"] = np.bincount(cond, minlength=4).astype(np.int64)
    out.attrs.update(
        resampled=unit,
        averaged="subjects" if num_subjects > 1 else "trials",
        num_subjects=int(num_subjects),
        ci=ci,
    )
    return out


def logistic_table(y: np.ndarray, X: pd.DataFrame, groups: np.ndarray | None) -> pd.DataFrame:
    """Fit ``logit P(y=1) = X b`` with statsmodels; cluster-robust SEs when ``groups`` given.

    With ``groups`` (G clusters) the covariance is statsmodels' cluster-robust sandwich with
    its default small-sample factor ``G/(G-1) (N-1)/(N-K)``, and p-values and intervals use
    the t distribution with ``G - 1`` degrees of freedom (``use_t=True``; Cameron & Miller
    2015 — the normal reference is anti-conservative with tens of clusters). Without groups:
    the usual maximum-likelihood SEs and normal p-values. Callers choose ``groups`` with
    :func:`_clusters`, which refuses too few clusters for the sandwich to be of full rank.

    Returns
    -------
    pandas.DataFrame
        Index ``term`` (the columns of ``X``); columns ``coef, se, statistic, p, ci_low,
        ci_high`` (``statistic`` is the Wald statistic ``coef / se``, referred to t(G − 1)
        with clusters and to the normal without); ``attrs``: ``cov_type``, ``num_obs``,
        ``num_clusters`` (0 without), ``reference`` (``"t"`` or ``"normal"``), ``df`` (the
        t degrees of freedom; infinite for the normal) and ``perfect_separation`` (True
        when statsmodels detected it: estimates unreliable).
    """
    return _logit(y, X, groups)[1]


def _logit(
    y: np.ndarray, X: pd.DataFrame, groups: np.ndarray | None
) -> tuple[BinaryResultsWrapper, pd.DataFrame]:
    """The fitted statsmodels results and their table (see :func:`logistic_table`)."""
    model = sm.Logit(np.asarray(y, dtype=np.float64), X.astype(np.float64))
    kwargs: dict = {}
    num_clusters = 0 if groups is None else int(len(np.unique(groups)))
    if groups is not None:
        kwargs = {"cov_type": "cluster", "cov_kwds": {"groups": groups}, "use_t": True}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PerfectSeparationWarning)
        try:
            res = model.fit(disp=0, maxiter=200, **kwargs)
        except np.linalg.LinAlgError as err:
            raise AnalysisError(f"logistic regression failed (singular design): {err}") from err
    separated = any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
    ci = res.conf_int()
    out = pd.DataFrame(
        {
            "coef": res.params,
            "se": res.bse,
            "statistic": res.tvalues,
            "p": res.pvalues,
            "ci_low": ci[0],
            "ci_high": ci[1],
        }
    )
    out.index.name = "term"
    out.attrs.update(
        cov_type=res.cov_type,
        num_obs=int(res.nobs),
        num_clusters=num_clusters,
        reference="t" if res.use_t else "normal",
        df=float(num_clusters - 1) if res.use_t else float("inf"),
        perfect_separation=separated,
    )
    return res, out


def stay_regression(trials: pd.DataFrame) -> pd.DataFrame:
    """Logistic regression ``stay ~ 1 + reward + transition + reward × transition`` (Daw 2011).

    Reward +1 rewarded / −1 not; transition +1 common / −1 rare (of the previous trial).
    A model-free learner shows a reward main effect; a model-based one the interaction.

    Examples
    --------
    >>> import neurometa as nm
    >>> task = nm.make_task("two_step/daw2011", 20, num_trials=100)
    >>> agent = nm.make_baseline("hybrid", task, w=0.8)
    >>> ds = nm.record_agent(agent, task, 20, seed=0, progress=False)
    >>> trials = nm.two_step_trials(ds)
    >>> table = nm.stay_regression(trials)
    >>> bool(table.loc["reward:transition", "coef"] > 0)  # the model-based signature
    True
    """
    stays = stay_table(trials)
    r = np.where(stays["rewarded"], 1.0, -1.0)
    c = np.where(stays["common"], 1.0, -1.0)
    X = pd.DataFrame({"intercept": 1.0, "reward": r, "transition": c, "reward:transition": r * c})
    return logistic_table(stays["stay"].to_numpy(), X, _clusters(stays, X.shape[1])[0])


#: Trial types of the Miller 2017 lagged regression: (name, common, rewarded).
TRIAL_TYPES: tuple[tuple[str, bool, bool], ...] = (
    ("common_reward", True, True),
    ("common_omission", True, False),
    ("rare_reward", False, True),
    ("rare_omission", False, False),
)


def _lagged_design(
    trials: pd.DataFrame, num_lags: int
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Choices ``(n,)``, the lagged design and the rows (subject, episode) kept."""
    t = trials.sort_values(["subject", "episode", "trial"]).reset_index(drop=True)
    key = t["subject"].astype(str) + "\x00" + t["episode"].astype(str)
    pos = t.groupby(key, sort=False).cumcount().to_numpy()
    trial = t["trial"].to_numpy()
    side = np.where(t["choice1"].to_numpy() == 1, 1.0, -1.0)
    rewarded = t["reward"].to_numpy() > 0
    common = t["common"].to_numpy(dtype=bool)
    keep = pos >= num_lags
    keep[keep] &= trial[keep] - trial[np.flatnonzero(keep) - num_lags] == num_lags
    rows = np.flatnonzero(keep)
    cols = {"intercept": np.ones(rows.size)}
    for lag in range(1, num_lags + 1):
        past = rows - lag
        for name, is_common, is_rewarded in TRIAL_TYPES:
            match = (common[past] == is_common) & (rewarded[past] == is_rewarded)
            cols[f"{name}_lag{lag}"] = np.where(match, side[past], 0.0)
    if rows.size == 0:
        raise AnalysisError(f"no trial has {num_lags} consecutive predecessors")
    return t["choice1"].to_numpy()[rows], pd.DataFrame(cols), t.iloc[rows]


def lagged_regression(
    trials: pd.DataFrame, *, num_lags: int = 5
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Miller et al. 2017 lagged logistic regression of the first-stage choice.

    ``logit P(choice1_t = 1) = b0 + sum_{l=1..L} sum_{type} b_{type,l} x_{type,t-l}``
    with ``x = +1`` if trial ``t - l`` was of that type (common/rare × reward/omission) and
    its choice was 1, ``-1`` if of that type with choice 0, else 0. Indices summed over lags:
    model-based = ``sum_l (CR - CO - RR + RO)``; model-free = ``sum_l (CR - CO + RR - RO)``.

    Parameters
    ----------
    trials : pandas.DataFrame
        A trial table.
    num_lags : int
        Number of past trials ``L``.

    Returns
    -------
    coefficients : pandas.DataFrame
        As :func:`logistic_table` (clustered as :func:`stay_regression`).
    indices : pandas.DataFrame
        Index ``contrast`` (``model_based``, ``model_free``): ``estimate, se, statistic, p,
        ci_low, ci_high`` of each sum of coefficients, from the fitted model's Wald test
        (statsmodels ``t_test``: same covariance and reference distribution as the
        coefficients).

    Examples
    --------
    >>> import neurometa as nm
    >>> task = nm.make_task("two_step/daw2011", 20, num_trials=100)
    >>> agent = nm.make_baseline("hybrid", task, w=0.8)
    >>> ds = nm.record_agent(agent, task, 20, seed=0, progress=False)
    >>> trials = nm.two_step_trials(ds)
    >>> coefs, summary = nm.lagged_regression(trials, num_lags=3)
    >>> len(coefs) > 0
    True
    """
    if num_lags < 1:
        raise AnalysisError(f"num_lags must be >= 1, got {num_lags}")
    y, X, rows = _lagged_design(trials, num_lags)
    res, table = _logit(y, X, _clusters(rows, X.shape[1])[0])
    signs = {"model_based": (1, -1, -1, 1), "model_free": (1, -1, 1, -1)}
    weights = np.zeros((len(signs), X.shape[1]))
    for row, sign in enumerate(signs.values()):
        for lag in range(1, num_lags + 1):
            for (name, _, _), s in zip(TRIAL_TYPES, sign, strict=True):
                weights[row, X.columns.get_loc(f"{name}_lag{lag}")] = s
    test = res.t_test(weights)
    ci = test.conf_int()
    indices = pd.DataFrame(
        {
            "estimate": test.effect,
            "se": test.sd.ravel(),
            "statistic": test.statistic.ravel(),
            "p": np.asarray(test.pvalue).ravel(),
            "ci_low": ci[:, 0],
            "ci_high": ci[:, 1],
        },
        index=pd.Index(list(signs), name="contrast"),
    )
    indices.attrs.update({k: table.attrs[k] for k in ("reference", "df", "num_obs")})
    return table, indices


def akam_regression(trials: pd.DataFrame) -> pd.DataFrame:
    """Akam et al. 2015 stay regression with the ``correct`` predictor.

    ``logit P(stay) = b0 + b_c correct + b_r reward + b_t transition + b_rt reward × transition``
    with ±1 coding and ``correct`` = +1 if the previous first-stage choice was the one whose
    common state paid best, −1 if not (0 on ties). Needs ``better_choice1`` in the table
    (recordings with ``reward_probs``).
    """
    if "better_choice1" not in trials:
        raise AnalysisError(
            "the Akam 2015 regression needs the reward probabilities (column better_choice1; "
            "recordings with reward_probs)"
        )
    stays = stay_table(trials)
    r = np.where(stays["rewarded"], 1.0, -1.0)
    c = np.where(stays["common"], 1.0, -1.0)
    X = pd.DataFrame(
        {
            "intercept": 1.0,
            "correct": stays["correct"].astype(np.float64),
            "reward": r,
            "transition": c,
            "reward:transition": r * c,
        }
    )
    return logistic_table(stays["stay"].to_numpy(), X, _clusters(stays, X.shape[1])[0])
