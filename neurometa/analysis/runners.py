"""The analyses of :mod:`neurometa.analysis` as :class:`AnalysisSpec` units for the CLI.

``neurometa analyze coding | two-step | hybrid | rpe | regret | bandit | harlow | decode``;
each writes its results (NetCDF + CSV) and figures (PNG) under ``--out`` and returns a
summary (printed as one JSON object with ``--json``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from neurometa.analysis.report import AnalysisSpec, open_inputs, stem, write_figure, write_result

__all__ = ["CODING", "TWO_STEP", "HYBRID", "RPE", "REGRET", "BANDIT", "HARLOW", "DECODE"]


def _seed(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="seed of shuffles/bootstraps/restarts")


def _coding_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--activity", default="h", help="unit-activity variable (default h)")
    parser.add_argument("--stage", default="0", help="stage name or index within the trial")
    parser.add_argument(
        "--value",
        default="value",
        help="value regressor variable; missing 'value' or 'model_*': the family's default "
        "behavioural model is fitted and its latent used (value: model_chosen_value); "
        "'none' leaves the term out",
    )
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level")
    parser.add_argument("--shuffles", type=int, default=20, help="shuffles for the chance level")
    _seed(parser)


def _stage(text: str) -> str | int:
    return int(text) if text.lstrip("-").isdigit() else text


def _run_coding(inputs: list[Path], out: Path | None, args: argparse.Namespace) -> dict[str, Any]:
    from neurometa.analysis.coding import coding_fractions, coding_regression
    from neurometa.analysis.plotting import plot_coding_fractions

    summary: dict[str, Any] = {}
    for path, ds in zip(inputs, open_inputs(inputs), strict=True):
        ds, value, note = _coding_value(path, ds, args.value, args.seed)
        kw = dict(activity=args.activity, stage=_stage(args.stage), value=value, alpha=args.alpha)
        fit = coding_regression(ds, **kw)
        frac = coding_fractions(ds, **kw, num_shuffles=args.shuffles, seed=args.seed)
        name = stem(path)
        write_result(out, f"coding_units_{name}", fit)
        write_result(out, f"coding_fractions_{name}", frac)
        write_figure(out, f"coding_fractions_{name}", lambda f=frac: plot_coding_fractions(f))
        summary[name] = {
            str(t): {
                "fraction": float(frac["fraction"].sel(term=t)),
                "chance": float(frac["chance"].sel(term=t)),
            }
            for t in frac["term"].values
        }
        if note:
            summary[name]["value_regressor"] = note
    return summary


def _coding_value(path: Path, ds: Any, name: str, seed: int) -> tuple[Any, Any, str]:
    """The value regressor: the recording's, a fitted behavioural model's, or none (False)."""
    if name == "none":
        return ds, False, "none (value term left out)"
    if name in ds:
        return ds, ds[name], ""
    if name != "value" and not name.startswith("model_"):
        raise ValueError(f"{path}: no value variable {name!r} (see --value)")
    import sys

    from neurometa.behaviour import add_latents

    ds, fits = add_latents(ds, seed=seed, progress=False)
    latent = "model_chosen_value" if name == "value" else name
    if latent not in ds:
        raise ValueError(f"{path}: the fitted model has no latent {latent!r}")
    note = (f"{latent} of the {fits['model'].iloc[0]} model fitted by maximum likelihood to "
            f"this recording's choices (the recording has no {name!r})")  # fmt: skip
    print(f"coding {path}: value regressor = {note}", file=sys.stderr)
    return ds, ds[latent], note


def _two_step_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--boot", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--lags", type=int, default=5, help="lags of the Miller 2017 regression")
    _seed(parser)


def _run_two_step(
    inputs: list[Path], out: Path | None, args: argparse.Namespace
) -> dict[str, Any]:
    from neurometa.analysis.plotting import plot_stay_probabilities
    from neurometa.analysis.two_step import (
        akam_regression,
        lagged_regression,
        stay_probabilities,
        stay_regression,
        two_step_trials,
    )

    summary: dict[str, Any] = {}
    for path, ds in zip(inputs, open_inputs(inputs), strict=True):
        name = stem(path)
        trials = two_step_trials(ds)
        stay = stay_probabilities(trials, num_boot=args.boot, seed=args.seed)
        reg = stay_regression(trials)
        coefs, indices = lagged_regression(trials, num_lags=args.lags)
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


def _hybrid_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--restarts", type=int, default=5, help="random restarts per subject")
    parser.add_argument(
        "--prior",
        choices=("none", "weak", "empirical"),
        default="none",
        help="maximum likelihood (none), MAP with weak priors (weak; Gershman 2016) or "
        "empirical Bayes: EM over a Gaussian group prior (empirical; Huys et al. 2011)",
    )
    parser.add_argument(
        "--common-prob",
        type=float,
        default=None,
        help="common-transition probability of the model-based system (default: the "
        "observed rate; Daw et al. 2011 used the task's 0.7)",
    )
    _seed(parser)


def _prior(args: argparse.Namespace) -> str | None:
    """The ``--prior`` choice as ``neurometa.behaviour.fit`` takes it (``none``: ML)."""
    return None if getattr(args, "prior", "none") == "none" else args.prior


def _run_hybrid(inputs: list[Path], out: Path | None, args: argparse.Namespace) -> dict[str, Any]:
    from neurometa.analysis.two_step import two_step_trials
    from neurometa.behaviour import fit_models

    summary: dict[str, Any] = {}
    for path, ds in zip(inputs, open_inputs(inputs), strict=True):
        name = stem(path)
        prior = _prior(args)
        fits = fit_models(
            ("hybrid", "model_free", "model_based"),
            two_step_trials(ds),
            family="two_step",
            num_restarts=args.restarts,
            seed=args.seed,
            prior=prior,
            common_prob=getattr(args, "common_prob", None),
            progress=False,
        )
        write_result(out, f"hybrid_fits_{name}", fits)
        totals = fits.groupby("model")[["nll", "aic", "bic"]].sum()
        hybrid = fits[fits["model"] == "hybrid"]
        summary[name] = {
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


def _rpe_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--signal", default="rpe", help="regressed variable (default rpe)")
    parser.add_argument(
        "--onset-stage", default="0", help="stage of the second-stage-onset signal"
    )
    parser.add_argument("--outcome-stage", default="1", help="stage of the outcome signal")
    _hybrid_args(parser)


def _run_rpe(inputs: list[Path], out: Path | None, args: argparse.Namespace) -> dict[str, Any]:
    from neurometa.analysis.plotting import plot_rpe_decomposition
    from neurometa.analysis.rpe import rpe_decomposition

    summary: dict[str, Any] = {}
    for path, ds in zip(inputs, open_inputs(inputs), strict=True):
        name = stem(path)
        res = rpe_decomposition(
            ds,
            signal=args.signal,
            onset_stage=_stage(args.onset_stage),
            outcome_stage=_stage(args.outcome_stage),
            num_restarts=args.restarts,
            seed=args.seed,
            prior=_prior(args),
            common_prob=getattr(args, "common_prob", None),
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


def _regret_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--at", type=int, nargs="+", default=[10, 25, 50], help="trials to report")


def _run_regret(inputs: list[Path], out: Path | None, args: argparse.Namespace) -> dict[str, Any]:
    import xarray as xr

    from neurometa.analysis.bandits import regret_curve, regret_summary
    from neurometa.analysis.plotting import plot_regret_curves

    results, curves = [], {}
    for path, ds in zip(inputs, open_inputs(inputs), strict=True):
        res = regret_summary(ds, at=tuple(args.at))
        results.append({"input": str(path), **res})
        label = f"{stem(path)} ({res['agent']})" if res["agent"] else stem(path)
        curves[label] = regret_curve(ds)
    if out is not None:
        stacked = xr.concat(list(curves.values()), dim="input", join="outer")
        write_result(out, "regret_curves", stacked.assign_coords(input=list(curves)))
        write_figure(out, "regret_curves", lambda: plot_regret_curves(curves))
    summary: dict[str, Any] = {"results": results}
    if len(results) == 1:
        summary.update({k: v for k, v in results[0].items() if k != "input"})
    return summary


def _run_bandit(inputs: list[Path], out: Path | None, args: argparse.Namespace) -> dict[str, Any]:
    from neurometa.analysis.bandits import better_arm_by_difficulty, win_stay_lose_shift
    from neurometa.analysis.plotting import plot_better_arm

    summary: dict[str, Any] = {}
    datasets = open_inputs(inputs)
    for path, ds in zip(inputs, datasets, strict=True):
        name = stem(path)
        wsls = win_stay_lose_shift(ds)
        write_result(out, f"win_stay_lose_shift_{name}", wsls)
        result: dict[str, Any] = {
            "p_stay_after": dict(zip(wsls["after"], wsls["p_stay"], strict=True))
        }
        if "arm_probs" in ds:
            better = better_arm_by_difficulty(ds, num_bins=args.bins)
            write_result(out, f"better_arm_{name}", better)
            write_figure(out, f"better_arm_{name}", lambda b=better: plot_better_arm(b))
            result["p_better_by_difficulty"] = better[["bin_low", "bin_high", "p_better"]].to_dict(
                orient="records"
            )
        summary[name] = result
    with_probs = [p for p, ds in zip(inputs, datasets, strict=True) if "arm_probs" in ds]
    if with_probs:
        regret = _run_regret(with_probs, out, argparse.Namespace(at=[10, 25, 50]))
        summary["regret"] = regret["results"]
    return summary


def _bandit_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bins", type=int, default=5, help="difficulty bins")


def _run_harlow(inputs: list[Path], out: Path | None, args: argparse.Namespace) -> dict[str, Any]:
    from neurometa.analysis.bandits import harlow_accuracy
    from neurometa.analysis.plotting import plot_accuracy_by_trial

    summary: dict[str, Any] = {}
    for path, ds in zip(inputs, open_inputs(inputs), strict=True):
        name = stem(path)
        acc = harlow_accuracy(ds)
        write_result(out, f"harlow_accuracy_{name}", acc)
        write_figure(out, f"harlow_accuracy_{name}", lambda a=acc: plot_accuracy_by_trial(a))
        summary[name] = {
            "accuracy": acc["accuracy"].values.tolist(),
            "sem": acc["sem"].values.tolist(),
        }
    return summary


def _decode_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", required=True, help="variable to decode (e.g. action)")
    parser.add_argument("--features", default="h", help="unit-activity variable (default h)")
    parser.add_argument("--stage", default="0", help="stage name or index within the trial")
    parser.add_argument("--folds", type=int, default=5, help="GroupKFold folds (by episode)")


def _run_decode(inputs: list[Path], out: Path | None, args: argparse.Namespace) -> dict[str, Any]:
    from neurometa.analysis.population import decode

    summary: dict[str, Any] = {}
    for path, ds in zip(inputs, open_inputs(inputs), strict=True):
        name = stem(path)
        res = decode(
            ds,
            args.target,
            features=args.features,
            stage=_stage(args.stage),
            num_folds=args.folds,
        )
        write_result(out, f"decode_{args.target}_{name}", res)
        summary[name] = {k: res.attrs[k] for k in ("metric", "mean_score", "mean_chance")}
    return summary


def _no_args(parser: argparse.ArgumentParser) -> None:
    del parser


CODING = AnalysisSpec(
    "single-unit coding regression (Tsutsui 2016; Wang 2018)", _coding_args, _run_coding
)
TWO_STEP = AnalysisSpec(
    "two-step stay probabilities and regressions (Daw 2011; Miller 2017; Akam 2015)",
    _two_step_args,
    _run_two_step,
)
HYBRID = AnalysisSpec(
    "hybrid MB/MF model fits with nested MF and MB fits (Daw 2011)", _hybrid_args, _run_hybrid
)
RPE = AnalysisSpec(
    "RPE decomposition into MF and MB-MF parts (Daw 2011; Wang 2018)", _rpe_args, _run_rpe
)
REGRET = AnalysisSpec("mean cumulative expected regret with SE, curves", _regret_args, _run_regret)
BANDIT = AnalysisSpec(
    "bandit behaviour: win-stay/lose-shift, P(better arm) by difficulty, regret",
    _bandit_args,
    _run_bandit,
)
HARLOW = AnalysisSpec("Harlow accuracy by trial within episode", _no_args, _run_harlow)
DECODE = AnalysisSpec(
    "cross-validated decoding of a task variable from units (folds grouped by episode)",
    _decode_args,
    _run_decode,
)
