"""Bandit and Harlow behaviour: regret curves, choice of the better arm, accuracy by trial.

- Expected regret per trial (Wang et al. 2016; Botvinick et al. 2019 Box 3):
  ``regret_t = max_k p_k - p_{a_t}``; its cumulative sum over trials averaged over episodes
  is the regret curve compared with the baselines (Bayes-optimal, Gittins, Thompson, UCB).
- Which episodes carry the regret: episodes whose total regret exceeds a threshold (the
  agent stayed on the worse arm for much of the episode) against all the others.
- Probability of choosing the better arm as a function of difficulty
  ``|p_best - p_second|`` (exploration depends on how hard the arms are to tell apart).
- Harlow learning-to-learn (Harlow 1949; Wang et al. 2018): accuracy by trial within
  episode, ~50 % on trial 1 and near 100 % after for a learner that has learned to learn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from statsmodels.stats.proportion import proportion_confint

from neurometa import returns
from neurometa.analysis._common import (
    AnalysisError,
    by_trial,
    check_recording,
    consecutive_trials,
    describe,
)

__all__ = [
    "expected_regret",
    "regret_curve",
    "regret_summary",
    "regret_split",
    "better_arm_by_difficulty",
    "harlow_accuracy",
    "win_stay_lose_shift",
]


def expected_regret(ds: xr.Dataset, *, stage: str | int = 0) -> xr.DataArray:
    """Expected regret of every trial, ``max(arm_probs) - arm_probs[action]``.

    The recording's form of :func:`neurometa.returns.expected_regret`.

    Parameters
    ----------
    ds : xarray.Dataset
        Bandit recording with ``action (episode, step)`` and ``arm_probs (episode, step,
        arm)`` (the probabilities in force when the action was chosen).
    stage : str or int
        Stage of the choice within the trial.

    Returns
    -------
    xarray.DataArray, dims (episode, trial)
    """
    check_recording(ds, ["action", "arm_probs"], analysis="regret")
    probs = by_trial(ds["arm_probs"], ds, stage)
    arm_dim = [d for d in probs.dims if d not in ("episode", "trial")]
    if len(arm_dim) != 1:
        raise AnalysisError(f"arm_probs must have one extra (arm) dim, got {probs.dims}")
    probs = probs.transpose("episode", "trial", arm_dim[0])
    action = by_trial(ds["action"], ds, stage).transpose("episode", "trial").values
    try:
        regret = returns.expected_regret(probs.values.astype(np.float64), action)
    except ValueError as err:
        raise AnalysisError(f"regret: {err}") from None
    return xr.DataArray(
        regret,
        dims=("episode", "trial"),
        coords={"episode": probs["episode"].values, "trial": probs["trial"].values},
        name="regret",
        attrs={"long_name": "expected regret per trial", "equation": "max_k p_k - p_a"},
    )


def regret_curve(ds: xr.Dataset) -> xr.Dataset:
    """Mean cumulative expected regret after each trial, with its standard error.

    Returns
    -------
    xarray.Dataset, dim trial
        ``mean``, ``sem`` (over episodes) of the cumulative regret after trial ``trial``
        (trial coordinate counts from 1); attrs ``num_episodes``, ``agent``, ``task``.

    Examples
    --------
    >>> import neurometa as nm
    >>> task = nm.make_task("bandit/independent", 100)
    >>> agent = nm.make_baseline("thompson", task)
    >>> ds = nm.record_agent(agent, task, 200, seed=0, progress=False)
    >>> curve = nm.regret_curve(ds)
    >>> curve["mean"].dims, int(curve["trial"][-1]), curve.attrs["num_episodes"]
    (('trial',), 100, 200)
    """
    cum = expected_regret(ds).cumsum("trial")
    num = cum.sizes["episode"]
    sem = cum.std("episode", ddof=1) / np.sqrt(num) if num > 1 else cum.isel(episode=0) * np.nan
    out = xr.Dataset({"mean": cum.mean("episode"), "sem": sem})
    out = out.assign_coords(trial=np.arange(1, cum.sizes["trial"] + 1))
    describe(out, {"mean": "mean cumulative expected regret", "trial": "trials completed",
                   "sem": "standard error of the mean over episodes"})  # fmt: skip
    out.attrs.update(
        num_episodes=num,
        agent=str(ds.attrs.get("agent", "")),
        task=str(ds.attrs.get("preset", ds.attrs.get("task", ""))),
    )
    return out


def regret_summary(ds: xr.Dataset, *, at: tuple[int, ...] = (10, 25, 50)) -> xr.Dataset:
    """Mean cumulative expected regret (± SEM) at trials ``at`` and at the last trial.

    Parameters
    ----------
    ds : xarray.Dataset
        Bandit recording (``action``, ``arm_probs``; see :func:`expected_regret`).
    at : tuple of int
        Trials (counted from 1) to report besides the last; those beyond the episode are
        left out.

    Returns
    -------
    xarray.Dataset, dim trial
        :func:`regret_curve` at the trials ``at`` and the last trial (sorted, unique); attrs
        as :func:`regret_curve` plus ``num_trials`` (the last trial: the final regret is
        ``summary.sel(trial=summary.attrs["num_trials"])``).

    Examples
    --------
    >>> import neurometa as nm
    >>> task = nm.make_task("bandit/independent", 100)
    >>> agent = nm.make_baseline("thompson", task)
    >>> ds = nm.record_agent(agent, task, 200, seed=0, progress=False)
    >>> summary = nm.regret_summary(ds)
    >>> summary["trial"].values.tolist(), summary.attrs["num_episodes"]
    ([10, 25, 50, 100], 200)
    """
    curve = regret_curve(ds)
    num_trials = curve.sizes["trial"]
    trials = sorted({int(t) for t in at if 1 <= t <= num_trials} | {num_trials})
    return curve.sel(trial=trials).assign_attrs(num_trials=num_trials)


def regret_split(ds: xr.Dataset, *, threshold: float = 10.0) -> xr.Dataset:
    """How much of the regret comes from a few bad episodes.

    An episode is *stuck* when its total expected regret ``Σ_t (max_k p_k − p_{a_t})``
    exceeds ``threshold`` (10 on 100-trial two-armed bandits: the worse arm was played for
    much of the episode). An agent that explores too little has more stuck episodes and
    less regret on the others than the Bayes-optimal policy.

    Parameters
    ----------
    ds : xarray.Dataset
        Bandit recording (``action``, ``arm_probs``; see :func:`expected_regret`).
    threshold : float
        Total regret above which an episode counts as stuck.

    Returns
    -------
    xarray.Dataset
        Per episode: ``regret`` (total expected regret) and ``stuck``; scalars:
        ``mean_regret`` (per episode), ``stuck_fraction`` (fraction of episodes above
        ``threshold``), ``stuck_share`` (their share of the total regret, 0 when there is
        no regret), ``mean_regret_not_stuck`` (NaN when every episode is stuck); attrs
        ``threshold``, ``num_episodes``.
    """
    if not np.isfinite(threshold) or threshold < 0:
        raise AnalysisError(f"threshold must be a finite number >= 0, got {threshold}")
    regret = expected_regret(ds).sum("trial")
    values = regret.values
    stuck = values > threshold
    out = xr.Dataset(
        {
            "regret": regret,
            "stuck": ("episode", stuck),
            "mean_regret": values.mean(),
            "stuck_fraction": stuck.mean(),
            "stuck_share": values[stuck].sum() / values.sum() if values.sum() > 0 else 0.0,
            "mean_regret_not_stuck": values[~stuck].mean() if (~stuck).any() else np.nan,
        },
        attrs={"threshold": float(threshold), "num_episodes": int(values.size)},
    )
    return describe(out, {
        "regret": "total expected regret of the episode", "stuck": f"regret > {threshold}",
        "mean_regret": "mean total regret per episode",
        "stuck_fraction": "fraction of episodes stuck",
        "stuck_share": "share of the total regret from stuck episodes",
        "mean_regret_not_stuck": "mean total regret of the episodes not stuck",
    })  # fmt: skip


def better_arm_by_difficulty(
    ds: xr.Dataset, *, num_bins: int = 5, min_trial: int = 0
) -> pd.DataFrame:
    """Probability of choosing the best arm, by difficulty ``p_best - p_second_best``.

    Parameters
    ----------
    ds : xarray.Dataset
        Bandit recording with ``action`` and ``arm_probs``.
    num_bins : int
        Equal-width difficulty bins over ``[0, max difficulty]``.
    min_trial : int
        Only trials with index ``>= min_trial`` (e.g. skip the exploration phase).

    Returns
    -------
    pandas.DataFrame, index ``difficulty_bin``
        ``bin_low, bin_high, p_better, ci_low, ci_high`` (Wilson 95 %, statsmodels
        ``proportion_confint``), ``num_trials``. Trials with tied best arms are left out.

    Examples
    --------
    >>> import neurometa as nm
    >>> task = nm.make_task("bandit/independent", 100)
    >>> agent = nm.make_baseline("thompson", task)
    >>> ds = nm.record_agent(agent, task, 200, seed=0, progress=False)
    >>> table = nm.better_arm_by_difficulty(ds, num_bins=3)
    >>> list(table.columns)
    ['bin_low', 'bin_high', 'p_better', 'ci_low', 'ci_high', 'num_trials']
    """
    check_recording(ds, ["action", "arm_probs"], analysis="better arm")
    probs = by_trial(ds["arm_probs"], ds, 0).transpose("episode", "trial", ...)
    action = by_trial(ds["action"], ds, 0).transpose("episode", "trial").values
    keep = probs["trial"].values >= min_trial
    p = np.sort(probs.values[:, keep].astype(np.float64), axis=-1)
    gap = (p[..., -1] - p[..., -2]).ravel()
    best = np.argmax(probs.values[:, keep], axis=-1).ravel()
    chose = (action[:, keep].ravel() == best).astype(np.float64)
    ok = gap > 0
    gap, chose = gap[ok], chose[ok]
    if gap.size == 0:
        raise AnalysisError("no trials with a strictly better arm")
    edges = np.linspace(0.0, gap.max(), num_bins + 1)
    idx = np.clip(np.digitize(gap, edges[1:-1]), 0, num_bins - 1)
    n = np.bincount(idx, minlength=num_bins)
    k = np.bincount(idx, weights=chose, minlength=num_bins)
    low, high = _wilson(k, n)
    return pd.DataFrame(
        {
            "bin_low": edges[:-1],
            "bin_high": edges[1:],
            "p_better": _ratio(k, n),
            "ci_low": low,
            "ci_high": high,
            "num_trials": n.astype(np.int64),
        },
        index=pd.RangeIndex(num_bins, name="difficulty_bin"),
    )


def _ratio(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``k / n``, NaN where ``n`` is 0."""
    k, n = np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64)
    return np.divide(k, n, out=np.full(n.shape, np.nan), where=n > 0)


def _wilson(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wilson 95 % interval of ``k / n`` (statsmodels), NaN where ``n`` is 0."""
    k, n = np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = proportion_confint(k, np.where(n > 0, n, 1), method="wilson")
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def harlow_accuracy(ds: xr.Dataset, *, stage: str | int = -1) -> xr.Dataset:
    """Harlow accuracy (fraction of episodes choosing the rewarded object) by trial.

    Parameters
    ----------
    ds : xarray.Dataset
        Harlow recording with the boolean ``correct`` variable.
    stage : str or int
        Stage whose ``correct`` counts (default the last step of each trial, the choice).

    Returns
    -------
    xarray.Dataset, dim trial
        ``accuracy`` and ``sem`` over episodes; trial coordinate counts from 1.

    Examples
    --------
    >>> import neurometa as nm
    >>> task = nm.make_task("harlow/wang2018", 50)
    >>> agent = nm.make_baseline("harlow_ideal", task)
    >>> ds = nm.record_agent(agent, task, 50, seed=0, progress=False)
    >>> acc = nm.harlow_accuracy(ds)
    >>> float(acc["accuracy"][1:].min())  # after the first trial the ideal observer knows
    1.0
    """
    check_recording(ds, ["correct"], analysis="Harlow accuracy")
    correct = by_trial(ds["correct"], ds, stage).astype(np.float64)
    num = correct.sizes["episode"]
    out = xr.Dataset(
        {"accuracy": correct.mean("episode"), "sem": correct.std("episode", ddof=1) / np.sqrt(num)}
    )
    out = out.assign_coords(trial=np.arange(1, correct.sizes["trial"] + 1))
    describe(out, {"accuracy": "fraction of episodes choosing correctly",
                   "sem": "standard error of the accuracy over episodes",
                   "trial": "trial within the episode"})  # fmt: skip
    out.attrs.update(num_episodes=num, agent=str(ds.attrs.get("agent", "")))
    return out


def win_stay_lose_shift(ds: xr.Dataset) -> pd.DataFrame:
    """P(repeat the previous choice) after a rewarded and after an unrewarded trial.

    Works on any one-choice-per-trial recording (agent or lab; no arm probabilities needed).
    Missed trials (action −1, NaN reward, or a gap in an imported table's ``trial_id``) break
    the pair they belong to.

    Returns
    -------
    pandas.DataFrame
        Index ``after`` = rewarded / unrewarded; ``p_stay`` (NaN without a pair),
        ``ci_low``/``ci_high`` (Wilson 95 %, statsmodels ``proportion_confint``),
        ``num_stays`` and ``num_trials`` (pairs).
    """
    check_recording(ds, ["action", "reward"], analysis="win-stay/lose-shift")
    if len(set(np.asarray(ds["stage"].values).tolist())) > 1:  # e.g. two-step: two choices
        raise AnalysisError(
            f"win-stay/lose-shift needs one choice per trial; this {ds.attrs.get('preset', '')} "
            "recording has several stages per trial (use the two-step analysis)"
        )
    action = by_trial(ds["action"], ds, 0).transpose("episode", "trial").values
    reward = by_trial(ds["reward"], ds, 0).transpose("episode", "trial").values
    ok = (action[:, 1:] >= 0) & (action[:, :-1] >= 0) & np.isfinite(reward[:, :-1])
    ok &= consecutive_trials(ds)  # lab tables: no pair across a dropped (missed) trial
    stay = (action[:, 1:] == action[:, :-1])[ok]
    won = (reward[:, :-1] > 0)[ok]
    n = np.array([won.sum(), (~won).sum()])
    k = np.array([stay[won].sum(), stay[~won].sum()])
    low, high = _wilson(k, n)
    return pd.DataFrame(
        {
            "p_stay": _ratio(k, n),
            "ci_low": low,
            "ci_high": high,
            "num_stays": k,
            "num_trials": n,
        },
        index=pd.Index(["rewarded", "unrewarded"], name="after"),
    )
