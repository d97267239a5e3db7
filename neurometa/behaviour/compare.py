"""Model comparison: cross-validated held-out likelihood, BIC and integrated BIC.

- **Held-out log-likelihood per trial** (the main criterion): the trials are split into
  folds — by session when every subject has at least two sessions, else by block
  (``num_folds`` contiguous blocks of each session) — and each fold's choices are
  predicted by the model fitted to the other folds. The recursion still runs through the
  held-out trials (the subject experienced them), only their choices leave the
  likelihood. Reported per subject as the mean log-probability of a held-out choice
  (both stages of a two-step trial count), and over subjects as mean ± SEM.
- **BIC** = k ln n + 2 NLL of the full-data fit, per subject and summed (lower is better).
- **iBIC** (empirical Bayes only, Huys et al. 2011): see
  :mod:`neurometa.behaviour.empirical_bayes`.

A model outside this package (e.g. a trained network run on the animal's trials) enters
the same comparison as :class:`~neurometa.behaviour.models.given_policy.GivenPolicy`: its
per-trial logits plus at most an inverse temperature and a bias.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from neurometa.behaviour.data import BehaviourData, behaviour_data
from neurometa.behaviour.fitting import fit
from neurometa.behaviour.latents import subject_parameters
from neurometa.behaviour.models import get_model
from neurometa.behaviour.objective import Objective

__all__ = ["fold_ids", "cross_validate", "compare_models", "plot_model_comparison"]


def fold_ids(data: BehaviourData, num_folds: int = 5, by: str = "auto") -> tuple[np.ndarray, str]:
    """Fold of every trial position ``(S, T)`` (−1 on padding) and the rule used.

    Parameters
    ----------
    by : {"auto", "session", "block"}
        ``session``: each subject's sessions are dealt round-robin to
        ``min(num_folds, sessions)`` folds; ``block``: each session is cut into
        ``num_folds`` contiguous blocks of trials; ``auto``: sessions when every subject
        has at least two, else blocks.
    """
    if num_folds < 2:
        raise ValueError(f"num_folds must be >= 2, got {num_folds}")
    sessions = np.bincount(data.seq_subject, minlength=len(data.subjects))
    if by == "auto":
        by = "session" if sessions.min() >= 2 else "block"
    folds = np.full(data.valid.shape, -1, dtype=np.int64)
    if by == "session":
        if sessions.min() < 2:
            few = data.subjects[np.argmin(sessions)]
            raise ValueError(f"subject {str(few)!r} has one session: use folds by block")
        for s in range(len(data.subjects)):
            seqs = np.flatnonzero(data.seq_subject == s)
            for i, seq in enumerate(seqs):
                folds[seq] = i % min(num_folds, len(seqs))
    elif by == "block":
        lengths = data.valid.sum(axis=1)
        t = np.arange(data.valid.shape[1])[None]
        folds = np.minimum(t * num_folds // np.maximum(lengths[:, None], 1), num_folds - 1)
    else:
        raise ValueError(f"by must be 'auto', 'session' or 'block', got {by!r}")
    return np.where(data.valid, folds, -1), by


def cross_validate(
    model: Any,
    source: Any,
    *,
    num_folds: int = 5,
    by: str = "auto",
    prior: str | None = None,
    num_restarts: int = 3,
    seed: int = 0,
    family: str | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Held-out log-likelihood of each subject's choices under a model (see the module).

    Returns
    -------
    pandas.DataFrame
        One row per subject: ``subject``, ``model``, ``heldout_loglik`` (summed over
        folds), ``heldout_choices``, ``loglik_per_choice`` (their ratio),
        ``choice_probability`` (its exponential: the geometric-mean probability of a
        held-out choice); ``attrs``: ``folds_by``, ``num_folds``.
    """
    model = get_model(model)
    data = behaviour_data(source, family)
    folds, rule = fold_ids(data, num_folds, by)
    num = len(data.subjects)
    total, count = np.zeros(num), np.zeros(num)
    stages = 2 if data.family == "two_step" and data.info["num_choice2"] > 1 else 1
    for f in range(int(folds.max()) + 1):
        test = folds == f
        if not test.any():
            continue
        fits = fit(
            model,
            data,
            weight=~test & (folds >= 0),
            prior=prior,
            num_restarts=num_restarts,
            seed=seed,
            standard_errors=False,
            progress=progress,
        )
        x = subject_parameters(model, fits, data.subjects)
        objective = Objective(model, data, weight=test)
        total += np.real(objective.loglik(x[:, None], np.arange(num)))[:, 0]
        count += stages * np.bincount(data.seq_subject, weights=test.sum(axis=1), minlength=num)
    out = pd.DataFrame(
        {
            "subject": data.subjects,
            "model": model.name,
            "heldout_loglik": total,
            "heldout_choices": count.astype(np.int64),
        }
    )
    out["loglik_per_choice"] = total / np.maximum(count, 1)
    out["choice_probability"] = np.exp(out["loglik_per_choice"])
    out.attrs.update(folds_by=rule, num_folds=num_folds)
    return out


def compare_models(
    models: Any,
    source: Any,
    *,
    num_folds: int = 5,
    by: str = "auto",
    prior: str | None = None,
    num_restarts: int = 3,
    seed: int = 0,
    family: str | None = None,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compare models by held-out likelihood, BIC and (empirical Bayes) iBIC.

    Parameters
    ----------
    models : sequence of str or BehaviourModel
        Registered names or model objects (e.g. a
        :class:`~neurometa.behaviour.models.given_policy.GivenPolicy`).
    source : xarray.Dataset, pandas.DataFrame or BehaviourData
    num_folds, by
        Cross-validation folds (:func:`fold_ids`); ``num_folds=0`` skips it.
    prior, num_restarts, seed, family, progress
        As :func:`~neurometa.behaviour.fit`.

    Returns
    -------
    per_subject : pandas.DataFrame
        One row per (model, subject): the full-data fit's parameters, ``nll``, ``bic``
        (and ``ibic``/``log_evidence`` for empirical Bayes) and the held-out columns of
        :func:`cross_validate`.
    summary : pandas.DataFrame
        One row per model, best first: ``num_params``, ``num_subjects``,
        ``loglik_per_choice`` (mean over subjects) with ``loglik_per_choice_sem``,
        ``heldout_loglik`` (summed), ``delta_heldout`` (vs the best model), ``bic``
        (summed), ``ibic`` (when fitted), ``best_subjects`` (subjects for which the model
        has the highest held-out likelihood, or lowest BIC without folds).

    Examples
    --------
    >>> from neurometa.behaviour import simulate
    >>> table = simulate("q_learning", {"alpha": [0.3] * 3, "beta": [5.0] * 3},
    ...                  "bandit/reversal", 200)
    >>> _, summary = compare_models(["q_learning", "q_forgetting"], table, family="bandit",
    ...                             num_folds=2, progress=False)
    >>> list(summary.columns[:3])
    ['model', 'num_params', 'num_subjects']
    """
    data = behaviour_data(source, family)
    rows, folds_by = [], None
    for model in [models] if isinstance(models, str) else list(models):
        model = get_model(model)
        fits = fit(
            model, data, prior=prior, num_restarts=num_restarts, seed=seed, progress=progress
        )
        if num_folds:
            cv = cross_validate(
                model,
                data,
                num_folds=num_folds,
                by=by,
                prior=prior,
                num_restarts=num_restarts,
                seed=seed,
                progress=progress,
            )
            folds_by = cv.attrs["folds_by"]
            fits = fits.merge(cv.drop(columns="model"), on="subject")
        rows.append(fits)
    per_subject = pd.concat(rows, ignore_index=True)
    summary = _summary(per_subject, bool(num_folds))
    summary.attrs.update(
        folds_by=folds_by or "none", num_folds=num_folds, prior="none" if prior is None else prior
    )
    return per_subject, summary


def _summary(per_subject: pd.DataFrame, heldout: bool) -> pd.DataFrame:
    grouped = per_subject.groupby("model", sort=False)
    out = pd.DataFrame(
        {"num_params": grouped["num_params"].first(), "num_subjects": grouped["subject"].nunique()}
    )
    if heldout:
        out["loglik_per_choice"] = grouped["loglik_per_choice"].mean()
        out["loglik_per_choice_sem"] = grouped["loglik_per_choice"].sem(ddof=1)
        out["heldout_loglik"] = grouped["heldout_loglik"].sum()
        out["delta_heldout"] = out["heldout_loglik"] - out["heldout_loglik"].max()
        key, best_is = "heldout_loglik", "max"
    else:
        key, best_is = "bic", "min"
    out["bic"] = grouped["bic"].sum()
    if "ibic" in per_subject:
        out["ibic"] = grouped["ibic"].first()
    wide = per_subject.pivot_table(index="subject", columns="model", values=key)
    winner = wide.idxmax(axis=1) if best_is == "max" else wide.idxmin(axis=1)
    out["best_subjects"] = winner.value_counts().reindex(out.index).fillna(0).astype(int)
    out = out.sort_values(key, ascending=best_is == "min")
    return out.reset_index()


def plot_model_comparison(summary: pd.DataFrame, *, ax: Any = None) -> Any:
    """Bar chart of each model's held-out log-likelihood per choice (mean ± SEM over subjects).

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`compare_models` (with held-out columns).
    ax : matplotlib.axes.Axes, optional
        Drawn into (a new figure's axes otherwise).

    Returns
    -------
    matplotlib.axes.Axes
        Bars relative to chance (``ln 0.5`` per choice for two options is marked); error bars
        are the SEM over subjects; the title states n (subjects) and the folds.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(1.2 + 0.9 * len(summary), 3.2))
    if "loglik_per_choice" not in summary:
        raise ValueError("the summary has no held-out columns (compare with num_folds >= 2)")
    x = np.arange(len(summary))
    sem = summary["loglik_per_choice_sem"].fillna(0.0)  # one subject: no SEM
    ax.bar(x, summary["loglik_per_choice"], yerr=sem, color="0.6", edgecolor="0.2", capsize=3)
    ax.axhline(np.log(0.5), color="0.3", ls=":", lw=1, label="chance (2 options)")
    ax.set_xticks(x, summary["model"], rotation=30, ha="right")
    ax.set_ylabel("held-out log-likelihood per choice")
    low = float((summary["loglik_per_choice"] - sem).min())
    high = float((summary["loglik_per_choice"] + sem).max())
    ax.set_ylim(min(low, np.log(0.5)) - 0.02, high + 0.02)
    n = int(summary["num_subjects"].max())
    folds = summary.attrs.get("folds_by", "")
    bars = "mean ± SEM over subjects" if n > 1 else "one subject, no error bars"
    ax.set_title(f"n = {n} subject(s); {bars}; folds by {folds}", fontsize=9)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return ax
