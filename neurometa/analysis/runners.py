"""The analyses of :mod:`neurometa.analysis` run over recording files.

Each ``run_<analysis>(inputs, out=None, **options)`` opens the recordings, computes, writes
its results (NetCDF + CSV, :func:`~neurometa.analysis.report.write_result`) and figures (PNG)
under ``out`` when given, and returns a JSON-ready summary. They are plain functions: the
command line (``neurometa analyze NAME``, :mod:`neurometa.commands.analyze`) builds its
options from their keyword arguments, and the pipelines in ``analyses/`` call them.

Example::

    from neurometa.analysis.runners import run_regret
    summary = run_regret(["thompson.nc", "ucb1.nc"], "results/regret")
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from neurometa.analysis._common import AnalysisError
from neurometa.analysis.report import input_labels, open_inputs, write_figure, write_result

__all__ = [
    "run_coding",
    "run_two_step",
    "run_hybrid",
    "run_rpe",
    "run_regret",
    "run_bandit",
    "run_harlow",
    "run_decode",
]

Paths = list[str | os.PathLike[str]]


def _paths(inputs: Paths) -> list[Path]:
    return [Path(p) for p in inputs]


def _labelled(inputs: Paths) -> list[tuple[Path, str, Any]]:
    """(path, distinct label, opened recording) of each input (labels: :func:`input_labels`)."""
    paths = _paths(inputs)
    return list(zip(paths, input_labels(paths), open_inputs(paths), strict=True))


def _prior(prior: str | None) -> str | None:
    """``prior`` as the hybrid fit takes it (``"none"`` is maximum likelihood)."""
    return None if prior in (None, "none") else prior


def run_coding(
    inputs: Paths,
    out: str | os.PathLike[str] | None = None,
    *,
    activity: str = "h",
    stage: str | int = 0,
    value: str = "value",
    alpha: float = 0.05,
    num_shuffles: int = 20,
    seed: int = 0,
) -> dict[str, Any]:
    """Single-unit coding regression and fractions of coding units of each recording.

    Writes ``coding_units_<stem>`` (per unit), ``coding_fractions_<stem>`` (per term) and
    its figure. ``value`` names the value regressor: a variable of the recording; or, when
    the recording has no such variable, ``"value"`` (the default) or a ``model_*`` latent
    name: the family's default behavioural model is fitted to the recording's choices and
    its latent used (``"value"``: ``model_chosen_value``; :func:`neurometa.behaviour.add_latents`),
    which the summary says (``value_regressor``); a model name (e.g. ``"hybrid"``): that
    model's ``model_chosen_value``; ``"none"``: the value term is left out.

    Returns
    -------
    dict
        Per input stem, per term: ``fraction`` and ``chance``.
    """
    from neurometa.analysis.coding import coding_fractions, coding_regression
    from neurometa.analysis.plotting import plot_coding_fractions

    summary: dict[str, Any] = {}
    for path, name, ds in _labelled(inputs):
        ds, regressor, note = _value(ds, value, seed, path)
        kw = dict(activity=activity, stage=stage, value=regressor)
        fit = coding_regression(ds, **kw, alpha=alpha)
        frac = coding_fractions(
            ds, **kw, alpha=alpha, num_shuffles=num_shuffles, seed=seed, fit=fit
        )
        write_result(out, f"coding_units_{name}", fit)
        write_result(out, f"coding_fractions_{name}", frac)
        write_figure(out, f"coding_fractions_{name}", lambda f=frac: plot_coding_fractions(f))
        summary[name] = frac[["fraction", "chance"]].to_dataframe().to_dict(orient="index")
        if note:
            summary[name]["value_regressor"] = note
    return summary


def _value(ds: Any, value: str, seed: int, path: Path) -> tuple[Any, Any, str]:
    """The recording (with latents if a model was fitted), the regressor and a note."""
    if value == "none":
        return ds, False, "none (value term left out)"
    if value in ds:
        return ds, ds[value], ""
    from neurometa.behaviour import MODELS, add_latents

    if value in MODELS:
        model, latent = value, "model_chosen_value"
    elif value == "value" or value.startswith("model_"):
        model, latent = None, "model_chosen_value" if value == "value" else value
    else:
        raise AnalysisError(
            f"{path}: no value variable {value!r} (see --value: a variable, 'none', a model "
            f"name or a model_* latent)"
        )
    ds, fits = add_latents(ds, model, seed=seed, progress=False)
    if latent not in ds:
        raise AnalysisError(f"{path}: the fitted model has no latent {latent!r}")
    note = (
        f"{latent} of the {fits['model'].iloc[0]} model fitted by maximum likelihood to this "
        f"recording's choices (the recording has no {value!r})"
    )
    print(f"coding {path}: value regressor = {note}", file=sys.stderr)
    return ds, ds[latent], note


def run_two_step(
    inputs: Paths,
    out: str | os.PathLike[str] | None = None,
    *,
    num_boot: int = 1000,
    num_lags: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Two-step behaviour of each recording (Daw 2011; Miller 2017; Akam 2015).

    Writes the trial table, stay probabilities (and their figure), the stay regression,
    the lagged regression and its model-based / model-free indices, and the Akam regression
    where reward probabilities are recorded.

    Returns
    -------
    dict
        Per input stem: ``num_trials``, ``p_stay`` per condition, ``stay_regression``,
        ``model_indices`` (and ``akam_regression``): coefficient, standard error and p.
    """
    from neurometa.analysis.plotting import plot_stay_probabilities
    from neurometa.analysis.two_step import (
        akam_regression,
        lagged_regression,
        stay_probabilities,
        stay_regression,
        two_step_trials,
    )

    summary: dict[str, Any] = {}
    for _path, name, ds in _labelled(inputs):
        trials = two_step_trials(ds)
        stay = stay_probabilities(trials, num_boot=num_boot, seed=seed)
        reg = stay_regression(trials)
        coefs, indices = lagged_regression(trials, num_lags=num_lags)
        write_result(out, f"trials_{name}", trials)
        write_result(out, f"stay_probabilities_{name}", stay)
        write_result(out, f"stay_regression_{name}", reg)
        write_result(out, f"lagged_regression_{name}", coefs)
        write_result(out, f"model_indices_{name}", indices)
        write_figure(
            out,
            f"stay_probabilities_{name}",
            lambda s=stay, n=name: plot_stay_probabilities(s, title=n),
        )
        result = {
            "num_trials": len(trials),
            "p_stay": {f"{r.transition}_{r.outcome}": float(r.p_stay) for r in stay.itertuples()},
            "stay_regression": reg[["coef", "se", "p"]].to_dict(orient="index"),
            "model_indices": indices[["estimate", "se", "p"]].to_dict(orient="index"),
        }
        if "better_choice1" in trials:
            akam = akam_regression(trials)
            write_result(out, f"akam_regression_{name}", akam)
            result["akam_regression"] = akam[["coef", "se", "p"]].to_dict(orient="index")
        summary[name] = result
    return summary


def run_hybrid(
    inputs: Paths,
    out: str | os.PathLike[str] | None = None,
    *,
    num_restarts: int = 5,
    prior: str | None = None,
    common_prob: float | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Hybrid-model fits with the nested model-free and model-based fits (Daw 2011).

    ``prior``: None (or ``"none"``) for maximum likelihood, ``"weak"`` for MAP with weak
    priors, ``"empirical"`` for empirical Bayes (see :func:`neurometa.behaviour.fit`).
    Writes ``hybrid_fits_<stem>`` (one
    row per model and subject).

    Returns
    -------
    dict
        Per input stem: ``num_failed_fits`` (left out), ``num_subjects``, ``mean_w``,
        summed ``nll``/``aic``/``bic`` per model, ``best_by_bic`` (and with empirical
        Bayes ``ibic``, ``best_by_ibic``, ``group_prior_hybrid``).
    """
    from neurometa.analysis.two_step import two_step_trials

    summary: dict[str, Any] = {}
    for _path, name, ds in _labelled(inputs):
        trials = two_step_trials(ds)
        fits, num_failed = _fit_nested(trials, num_restarts, seed, _prior(prior), common_prob)
        if fits is None:
            raise AnalysisError(
                f"{name}: every fit failed (a fit needs more choices than parameters and at "
                "least 2 completed trials per subject); nothing to compare"
            )
        write_result(out, f"hybrid_fits_{name}", fits.rename_axis("fit"))
        failed = _failed_fits(fits)
        num_failed += int(failed.sum())
        kept = fits[~failed]
        totals = kept.groupby("model")[["nll", "aic", "bic"]].sum()
        hybrid = kept[kept["model"] == "hybrid"]
        summary[name] = {
            "num_failed_fits": num_failed,
            "num_subjects": int(hybrid.shape[0]),
            "mean_w": float(hybrid["w"].mean()),
            "models": totals.to_dict(orient="index"),
            "best_by_bic": str(totals["bic"].idxmin()),
        }
        if "ibic" in fits:  # empirical Bayes: group priors and integrated BIC per model
            ibic = fits.groupby("model")["ibic"].first()
            summary[name]["ibic"] = ibic.to_dict()
            summary[name]["best_by_ibic"] = str(ibic.idxmin())
            summary[name]["group_prior_hybrid"] = fits.attrs["hybrid"]["group_prior"]
    return summary


def _fit_nested(
    trials: Any, num_restarts: int, seed: int, prior: str | None, common_prob: float | None
) -> tuple[Any, int]:
    """Hybrid, model-free and model-based fits of the subjects each model can be fitted to.

    A subject with no more choices than a model's parameters (or fewer than 2 completed
    trials) is left out of that model's fit and counted as a failed fit.
    """
    import pandas as pd

    from neurometa.behaviour import fit, get_model

    per_trial = 2 if trials.attrs.get("second_stage_choice", True) else 1
    choices = trials.groupby("subject").size() * per_trial
    fits, failed = [], 0
    for model in ("hybrid", "model_free", "model_based"):
        k = len(get_model(model).parameters)
        keep = choices.index[(choices > k) & (choices >= 2 * per_trial)]
        failed += len(choices) - len(keep)
        if len(keep):
            part = trials[trials["subject"].isin(keep)]
            fits.append(
                fit(
                    model,
                    part,
                    family="two_step",
                    num_restarts=num_restarts,
                    seed=seed,
                    prior=prior,
                    common_prob=common_prob,
                    progress=True,
                )
            )
    if not fits:
        return None, failed
    out = pd.concat(fits, ignore_index=True)
    out.attrs = {str(f["model"].iloc[0]): dict(f.attrs) for f in fits}
    return out, failed


def _failed_fits(fits: Any) -> Any:
    """Fits that say nothing: a non-finite likelihood, or no more choices than parameters.

    With no more choices than parameters the likelihood is flat in some direction and the
    estimate is wherever the optimiser started.
    """
    import numpy as np

    nll = fits["nll"].to_numpy(dtype=float)
    return ~np.isfinite(nll) | (fits["num_choices"] <= fits["num_params"]).to_numpy()


def run_rpe(
    inputs: Paths,
    out: str | os.PathLike[str] | None = None,
    *,
    signal: str = "rpe",
    onset_stage: str | int = 0,
    outcome_stage: str | int = 1,
    num_restarts: int = 5,
    prior: str | None = None,
    common_prob: float | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """RPE decomposition into model-free and (MB − MF) parts (Daw 2011; Wang 2018).

    See :func:`neurometa.analysis.rpe.rpe_decomposition`. Writes
    ``rpe_decomposition_<stem>`` and, for a one-dimensional signal, its figure.

    Returns
    -------
    dict
        Per input stem: per event and term, ``coef`` and ``p`` (a one-dimensional signal),
        or ``num_units``.
    """
    from neurometa.analysis.plotting import plot_rpe_decomposition
    from neurometa.analysis.rpe import rpe_decomposition

    summary: dict[str, Any] = {}
    for _path, name, ds in _labelled(inputs):
        res = rpe_decomposition(
            ds,
            signal=signal,
            onset_stage=onset_stage,
            outcome_stage=outcome_stage,
            num_restarts=num_restarts,
            seed=seed,
            prior=_prior(prior),
            common_prob=common_prob,
        )
        write_result(out, f"rpe_decomposition_{name}", res)
        if res["coef"].ndim == 2:
            write_figure(out, f"rpe_decomposition_{name}", lambda r=res: plot_rpe_decomposition(r))
            summary[name] = {
                str(e): {
                    str(t): {
                        "coef": float(res["coef"].sel(event=e, term=t)),
                        "p": float(res["p"].sel(event=e, term=t)),
                    }
                    for t in res["term"].values
                }
                for e in res["event"].values
            }
        else:
            summary[name] = {"num_units": int(res["coef"].shape[-1])}
    return summary


def run_regret(
    inputs: Paths,
    out: str | os.PathLike[str] | None = None,
    *,
    at: tuple[int, ...] = (10, 25, 50),
) -> dict[str, Any]:
    """Mean cumulative expected regret (± SEM) of each recording; curves on one figure.

    Writes ``regret_curves`` (dims input, trial; inputs labelled ``label (agent)``, labels of
    :func:`~neurometa.analysis.report.input_labels`: distinct even where file names are the
    same) and its figure.

    Returns
    -------
    dict
        ``results``: per input, ``input``, ``num_episodes``, ``num_trials``, ``agent``,
        ``task``, ``final`` ({"mean", "sem"}) and ``at`` ({"10": {"mean", "sem"}, ...});
        with one input, its entries also at the top level.
    """
    import xarray as xr

    from neurometa.analysis.bandits import regret_curve, regret_summary
    from neurometa.analysis.plotting import plot_regret_curves

    results, curves = [], {}
    for path, name, ds in _labelled(inputs):
        res = regret_summary(ds, at=tuple(at))
        results.append({"input": str(path), **_regret_json(res, at)})
        agent = res.attrs["agent"]  # labels are distinct (input_labels)
        curves[f"{name} ({agent})" if agent else name] = regret_curve(ds)
    if out is not None:
        stacked = xr.concat(list(curves.values()), dim="input", join="outer")
        write_result(out, "regret_curves", stacked.assign_coords(input=list(curves)))
        write_figure(out, "regret_curves", lambda: plot_regret_curves(curves))
    summary: dict[str, Any] = {"results": results}
    if len(results) == 1:
        summary.update({k: v for k, v in results[0].items() if k != "input"})
    return summary


def _regret_json(res: Any, at: tuple[int, ...]) -> dict[str, Any]:
    """A :func:`~neurometa.analysis.bandits.regret_summary` as the CLI's JSON reports it."""

    def point(t: int) -> dict[str, float]:
        row = res.sel(trial=t)
        return {"mean": float(row["mean"]), "sem": float(row["sem"])}

    num_trials = int(res.attrs["num_trials"])
    return {
        "num_episodes": int(res.attrs["num_episodes"]),
        "num_trials": num_trials,
        "agent": res.attrs["agent"],
        "task": res.attrs["task"],
        "final": point(num_trials),
        "at": {str(t): point(t) for t in at if 1 <= t <= num_trials},
    }


def run_bandit(
    inputs: Paths,
    out: str | os.PathLike[str] | None = None,
    *,
    num_bins: int = 5,
) -> dict[str, Any]:
    """Bandit behaviour: win-stay/lose-shift, P(better arm) by difficulty, regret.

    Writes ``win_stay_lose_shift_<stem>``; for recordings with ``arm_probs`` also
    ``better_arm_<stem>`` (and figure) and the regret curves of :func:`run_regret`.

    Returns
    -------
    dict
        Per input stem: ``p_stay_after`` and ``p_better_by_difficulty``; ``regret``: the
        ``results`` of :func:`run_regret`.
    """
    from neurometa.analysis.bandits import better_arm_by_difficulty, win_stay_lose_shift
    from neurometa.analysis.plotting import plot_better_arm

    summary: dict[str, Any] = {}
    paths = _paths(inputs)
    datasets = open_inputs(paths)
    for name, ds in zip(input_labels(paths), datasets, strict=True):
        wsls = win_stay_lose_shift(ds)
        write_result(out, f"win_stay_lose_shift_{name}", wsls)
        result: dict[str, Any] = {"p_stay_after": wsls["p_stay"].to_dict()}
        if "arm_probs" in ds:
            better = better_arm_by_difficulty(ds, num_bins=num_bins)
            write_result(out, f"better_arm_{name}", better)
            write_figure(out, f"better_arm_{name}", lambda b=better: plot_better_arm(b))
            result["p_better_by_difficulty"] = better[["bin_low", "bin_high", "p_better"]].to_dict(
                orient="records"
            )
        summary[name] = result
    with_probs = [p for p, ds in zip(paths, datasets, strict=True) if "arm_probs" in ds]
    if with_probs:
        summary["regret"] = run_regret(with_probs, out)["results"]
    return summary


def run_harlow(inputs: Paths, out: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Harlow accuracy by trial within episode (Harlow 1949; Wang 2018).

    Returns
    -------
    dict
        Per input stem: ``accuracy`` and ``sem`` by trial.
    """
    from neurometa.analysis.bandits import harlow_accuracy
    from neurometa.analysis.plotting import plot_accuracy_by_trial

    summary: dict[str, Any] = {}
    for _path, name, ds in _labelled(inputs):
        acc = harlow_accuracy(ds)
        write_result(out, f"harlow_accuracy_{name}", acc)
        write_figure(out, f"harlow_accuracy_{name}", lambda a=acc: plot_accuracy_by_trial(a))
        summary[name] = {
            "accuracy": acc["accuracy"].values.tolist(),
            "sem": acc["sem"].values.tolist(),
        }
    return summary


def run_decode(
    inputs: Paths,
    out: str | os.PathLike[str] | None = None,
    *,
    target: str,
    features: str = "h",
    stage: str | int = 0,
    num_folds: int = 5,
) -> dict[str, Any]:
    """Cross-validated decoding of ``target`` from units (folds grouped by episode).

    See :func:`neurometa.analysis.population.decode`. Writes ``decode_<target>_<stem>``.

    Returns
    -------
    dict
        Per input stem: ``metric``, ``mean_score``, ``mean_chance``.
    """
    from neurometa.analysis.population import decode

    summary: dict[str, Any] = {}
    for _path, name, ds in _labelled(inputs):
        res = decode(ds, target, features=features, stage=stage, num_folds=num_folds)
        write_result(out, f"decode_{target}_{name}", res)
        summary[name] = {
            "metric": res.attrs["metric"],
            "mean_score": float(res["mean_score"]),
            "mean_chance": float(res["mean_chance"]),
        }
    return summary
