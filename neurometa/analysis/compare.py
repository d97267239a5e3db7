"""Agent vs neurons: coding fractions and behaviour side by side, with tests of the difference.

Wang et al. 2018 (Nat Neurosci 21:860, Fig. 2) set the fraction of meta-RL LSTM units coding
the previous action, previous reward, their interaction and value beside the fractions of
primate OFC neurons reported by Tsutsui et al. 2016 (Nat Commun 7:12554). This module does
that comparison for any agent recording and any lab recording in the schema:

- :func:`compare_coding` runs :func:`neurometa.analysis.coding.coding_fractions` on both and
  :func:`proportion_comparison` sets the fractions side by side with Clopper-Pearson
  intervals, Newcombe's interval for the difference, a two-proportion z-test and Fisher's
  exact test;
- :func:`stay_counts` / :func:`compare_behaviour` put agent and subjects through the
  same behavioural analysis (probability of repeating the previous choice after a rewarded
  and an unrewarded trial, Wilson intervals, the same tests).

Representational similarity is in :mod:`neurometa.analysis.compare_rsa`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import stats
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    test_proportions_2indep,
)

from neurometa.analysis._common import AnalysisError, check_recording, describe
from neurometa.analysis.coding import coding_fractions

__all__ = [
    "false_positive_corrected",
    "proportion_comparison",
    "compare_coding",
    "stay_counts",
    "compare_behaviour",
]


def false_positive_corrected(fraction: np.ndarray, alpha: float) -> np.ndarray:
    """Fraction of truly coding units implied by a detected fraction and the test level.

    A unit that does not code a term is still called coding with probability ``alpha``; if
    coding units are detected with power close to 1, the detected fraction is
    ``f = p + alpha (1 - p)``, hence ``p = (f - alpha) / (1 - alpha)`` (clipped to [0, 1]).
    Apply it to the interval limits of ``f`` to get an interval for ``p``.

    Parameters
    ----------
    fraction : array-like
        Detected fractions (or their interval limits).
    alpha : float
        Test level of the coding regression, in (0, 1).
    """
    if not 0 < alpha < 1:
        raise AnalysisError(f"alpha must lie in (0, 1), got {alpha}")
    return np.clip((np.asarray(fraction, dtype=float) - alpha) / (1 - alpha), 0.0, 1.0)


def proportion_comparison(
    k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray, ci: float = 0.95
) -> dict[str, np.ndarray]:
    """Difference of two proportions: estimate, Newcombe interval, z-test and Fisher test.

    All three come from statsmodels / scipy:

    - the interval is Newcombe's hybrid score interval for ``p1 - p2`` (Newcombe 1998,
      method 10; ``statsmodels.stats.proportion.confint_proportions_2indep``, ``"newcomb"``);
    - ``z`` is the score test of ``p1 = p2`` without the small-sample factor
      (``test_proportions_2indep``, ``method="score"``, ``correction=False``), which at a
      null difference of 0 is the pooled two-proportion z-test
      ``z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2))``, ``p = (k1 + k2) / (n1 + n2)``;
      when both groups are all 0 or all 1 the proportions are equal and ``z = 0, p = 1``
      (statsmodels gives 0/0 there);
    - ``p_fisher`` is the two-sided Fisher exact test of the 2x2 table
      (``scipy.stats.fisher_exact``).

    Parameters
    ----------
    k1, n1, k2, n2 : array-like, shape (m,)
        Counts and totals of group 1 (e.g. the agent) and group 2 (the neurons).
    ci : float
        Coverage of the interval.

    Returns
    -------
    dict of numpy.ndarray, shape (m,)
        ``difference`` (p1 - p2), ``difference_low``, ``difference_high``, ``z``, ``p_z``,
        ``p_fisher``.

    Examples
    --------
    >>> out = proportion_comparison([30], [40], [5], [60])
    >>> round(float(out["difference"][0]), 3), bool(out["p_fisher"][0] < 1e-6)
    (0.667, True)
    """
    k1, n1, k2, n2 = (np.atleast_1d(np.asarray(x, dtype=np.int64)) for x in (k1, n1, k2, n2))
    if np.any(n1 <= 0) or np.any(n2 <= 0) or np.any((k1 < 0) | (k1 > n1) | (k2 < 0) | (k2 > n2)):
        raise AnalysisError("proportion_comparison needs 0 <= count <= total and total > 0")
    low, high = confint_proportions_2indep(
        k1, n1, k2, n2, method="newcomb", compare="diff", alpha=1 - ci
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        test = test_proportions_2indep(
            k1, n1, k2, n2, method="score", compare="diff", correction=False
        )
    equal = (k1 + k2 == 0) | (k1 + k2 == n1 + n2)  # pooled proportion 0 or 1
    p_fisher = np.array(
        [
            stats.fisher_exact([[a, b - a], [c, d - c]]).pvalue
            for a, b, c, d in zip(k1, n1, k2, n2, strict=True)
        ]
    )
    return {
        "difference": k1 / n1 - k2 / n2,
        "difference_low": np.asarray(low, dtype=float),
        "difference_high": np.asarray(high, dtype=float),
        "z": np.where(equal, 0.0, test.statistic),
        "p_z": np.where(equal, 1.0, test.pvalue),
        "p_fisher": p_fisher,
    }


def _side_by_side(
    agent: xr.Dataset, neural: xr.Dataset, dim: str, ci: float, names: tuple[str, str]
) -> xr.Dataset:
    """Join two ``(count, total, fraction, low, high)`` tables and test their difference."""
    out = xr.Dataset(coords={dim: agent[dim].values})
    for label, part in zip(names, (agent, neural), strict=True):
        for key in part.data_vars:
            out[f"{label}_{key}"] = (dim, part[key].values)
    test = proportion_comparison(
        agent["count"].values,
        agent["total"].values,
        neural["count"].values,
        neural["total"].values,
        ci,
    )
    for key, values in test.items():
        out[key] = (dim, values)
    out.attrs.update(ci=ci, groups=list(names), difference=f"{names[0]} minus {names[1]}")
    return out


def _coding_table(fr: xr.Dataset, alpha: float) -> xr.Dataset:
    """Counts, fractions, chance and false-positive-corrected fractions per term."""
    fr = fr.drop_sel(term="intercept")
    table = xr.Dataset(
        {
            "count": fr["num_coding"],
            "total": ("term", np.full(fr.sizes["term"], int(fr.attrs["num_units"]))),
            "fraction": fr["fraction"],
            "low": fr["fraction_low"],
            "high": fr["fraction_high"],
            "chance": fr["chance"],
            "chance_low": fr["chance_low"],
            "chance_high": fr["chance_high"],
        }
    )
    for suffix in ("", "_low", "_high"):
        source = table["fraction" if not suffix else suffix[1:]].values
        table[f"corrected{suffix}"] = ("term", false_positive_corrected(source, alpha))
    return table


def compare_coding(
    agent: xr.Dataset,
    neural: xr.Dataset,
    *,
    agent_activity: str = "h",
    neural_activity: str = "activity",
    agent_stage: str | int = 0,
    neural_stage: str | int = 0,
    alpha: float = 0.05,
    num_shuffles: int = 20,
    seed: int = 0,
    ci: float = 0.95,
) -> xr.Dataset:
    """Fraction of units coding each variable, agent beside neurons, with tests.

    Both recordings go through :func:`neurometa.analysis.coding.coding_fractions` (the OLS
    ``y = b0 + b1 a(t-1) + b2 r(t-1) + b3 a(t-1) r(t-1) + b4 V(t)``; a unit codes a term
    when its two-sided p < ``alpha``).

    Returns
    -------
    xarray.Dataset, dim term (prev_action, prev_reward, interaction, value)
        ``agent_*`` and ``neural_*``: ``count``, ``total``, ``fraction``, ``low``,
        ``high`` (Clopper-Pearson), ``chance``, ``chance_low``, ``chance_high`` (shuffled
        trials), ``corrected``, ``corrected_low``, ``corrected_high`` (the fraction and
        its interval corrected for false positives, :func:`false_positive_corrected`);
        ``difference`` (agent - neural) with ``difference_low/high`` (Newcombe),
        ``z``/``p_z`` (two-proportion z-test) and ``p_fisher`` (Fisher exact).

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
    >>> agent = ds.rename(activity="h")  # stands in for an agent run on the same trials
    >>> cmp = nm.compare_coding(agent, ds, num_shuffles=5)
    >>> [str(t) for t in cmp["term"].values][:2]
    ['prev_action', 'prev_reward']
    """
    parts = []
    for ds, activity, stage in (
        (agent, agent_activity, agent_stage),
        (neural, neural_activity, neural_stage),
    ):
        fr = coding_fractions(
            ds,
            activity=activity,
            stage=stage,
            alpha=alpha,
            num_shuffles=num_shuffles,
            seed=seed,
            ci=ci,
        )
        parts.append(_coding_table(fr, alpha))
    out = _side_by_side(parts[0], parts[1], "term", ci, ("agent", "neural"))
    out.attrs.update(
        alpha=alpha,
        num_shuffles=num_shuffles,
        seed=seed,
        agent_activity=agent_activity,
        neural_activity=neural_activity,
    )
    return out


def _bandit_stays(ds: xr.Dataset) -> tuple[list[str], list[int], list[int]]:
    """Stay counts after rewarded / unrewarded trials, from the project's bandit analysis.

    Uses :func:`neurometa.analysis.bandits.win_stay_lose_shift`, so agent and subjects go
    through the same code as ``neurometa analyze bandit``.
    """
    from neurometa.analysis.bandits import win_stay_lose_shift

    table = win_stay_lose_shift(ds)
    return list(table.index), table["num_stays"].tolist(), table["num_trials"].tolist()


def _two_step_stays(ds: xr.Dataset) -> tuple[list[str], list[int], list[int]]:
    """First-stage stay counts after each transition x outcome (Daw et al. 2011)."""
    from neurometa.analysis.two_step import (
        CONDITION_LABELS,
        condition_codes,
        stay_table,
        two_step_trials,
    )

    stays = stay_table(two_step_trials(ds))
    codes = condition_codes(stays)
    counts = np.bincount(codes, weights=stays["stay"].to_numpy(), minlength=4)
    return (
        list(CONDITION_LABELS),
        counts.astype(int).tolist(),
        np.bincount(codes, minlength=4).tolist(),
    )


def stay_counts(ds: xr.Dataset, *, ci: float = 0.95) -> xr.Dataset:
    """Stays of the previous choice pooled over trials, by the previous trial's outcome.

    Bandit-like recordings: pairs of consecutive trials ``(t-1, t)`` within an episode with
    valid choices (``action >= 0``) and a finite reward at ``t-1``, split by rewarded /
    unrewarded (:func:`neurometa.analysis.bandits.win_stay_lose_shift`). Two-step
    recordings (with ``state2``): first-stage stays split by transition (common/rare) x
    outcome, from :func:`neurometa.analysis.two_step.stay_table` (Daw et al. 2011).
    Trials are pooled and treated as independent draws (Wilson intervals from statsmodels
    ``proportion_confint``), so that the counts enter the tests of
    :func:`proportion_comparison`; :func:`neurometa.analysis.two_step.stay_probabilities`
    instead averages subjects and bootstraps clusters.

    Returns
    -------
    xarray.Dataset, dim condition (the previous trial's: ``rewarded``, ``unrewarded``;
    two-step ``common/rewarded``, ...)
        ``count`` (stays), ``total`` (pairs), ``fraction``, ``low``, ``high``.
    """
    from neurometa.analysis.trials import choice_variable

    check_recording(ds, [choice_variable(ds), "reward"], analysis="stay probabilities")
    labels, counts, totals = (_two_step_stays if "state2" in ds else _bandit_stays)(ds)
    if min(totals) == 0:
        shown = ", ".join(f"{lab}: {n}" for lab, n in zip(labels, totals, strict=True))
        raise AnalysisError(f"stay probabilities need trials after every outcome; got {shown}")
    low, high = proportion_confint(counts, totals, alpha=1 - ci, method="wilson")
    out = xr.Dataset(
        {
            "count": ("condition", counts),
            "total": ("condition", totals),
            "fraction": ("condition", np.divide(counts, totals)),
            "low": ("condition", low),
            "high": ("condition", high),
        },
        coords={"condition": labels},
    )
    describe(out, {"count": "stays", "total": "pairs of trials", "fraction": "P(stay)",
                   "low": "Wilson lower limit of P(stay)",
                   "high": "Wilson upper limit of P(stay)"})  # fmt: skip
    out.attrs.update(ci=ci, analysis="P(stay | previous outcome)")
    return out


def compare_behaviour(agent: xr.Dataset, subjects: xr.Dataset, *, ci: float = 0.95) -> xr.Dataset:
    """Stay probabilities of agent and subjects side by side, with tests of the difference.

    Returns
    -------
    xarray.Dataset, dim condition
        ``agent_*`` and ``subjects_*`` from :func:`stay_counts`, plus
        ``difference``, ``difference_low/high``, ``z``, ``p_z``, ``p_fisher``.

    Examples
    --------
    >>> import neurometa as nm
    >>> task = nm.make_task("bandit/independent", 100)
    >>> agent = nm.make_baseline("thompson", task)
    >>> ds = nm.record_agent(agent, task, 200, seed=0, progress=False)
    >>> ucb = nm.make_baseline("ucb1", task)
    >>> other = nm.record_agent(ucb, task, 200, seed=1, progress=False)
    >>> cmp = nm.compare_behaviour(ds, other)
    >>> [str(o) for o in cmp["condition"].values]
    ['rewarded', 'unrewarded']
    """
    first, second = stay_counts(agent, ci=ci), stay_counts(subjects, ci=ci)
    if list(first["condition"].values) != list(second["condition"].values):
        raise AnalysisError(
            "agent and subjects need the same task family for the same behavioural analysis; "
            f"got conditions {list(first['condition'].values)} and "
            f"{list(second['condition'].values)}"
        )
    return _side_by_side(first, second, "condition", ci, ("agent", "subjects"))
