"""``neurometa fit MODEL INPUT... --out DIR``: fit behavioural models to recordings.

Fits the named model(s) to every subject of each recording (maximum likelihood, MAP with
weak priors or empirical Bayes), compares them by cross-validated held-out likelihood, BIC
and iBIC, and writes the fits table, the comparison table and figure, and the recording
with the chosen model's per-trial latents (``model_chosen_value``, ``model_rpe``, ...) for
``neurometa analyze coding / compare / rpe``. MODEL is a name (``neurometa fit --list``),
a comma-separated list, ``all`` (the family's standard set) or ``default``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neurometa.cli import CLIError, add_json_flag, emit_json

NAME = "fit"
HELP = "fit behavioural models (Q-learning family, hybrid, ...) to recordings; compare them"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``neurometa fit``."""
    parser.add_argument("model", nargs="?", help="model name(s), 'all' or 'default'")
    parser.add_argument("inputs", nargs="*", type=Path, metavar="INPUT", help="recordings")
    parser.add_argument("--out", type=Path, help="folder for tables, figure and recordings")
    parser.add_argument(
        "--prior",
        choices=("none", "weak", "empirical"),
        default="none",
        help="maximum likelihood (none), MAP with weak priors (weak) or "
        "empirical Bayes over a Gaussian group prior (empirical)",
    )
    parser.add_argument("--restarts", type=int, default=5, help="random restarts per subject")
    parser.add_argument(
        "--folds", type=int, default=5, help="cross-validation folds (0: BIC/iBIC only)"
    )
    parser.add_argument(
        "--folds-by",
        choices=("auto", "session", "block"),
        default="auto",
        help="hold out whole sessions, or blocks of trials within sessions",
    )
    parser.add_argument(
        "--latents",
        default=None,
        help="model whose latents go into the recording (default: the best)",
    )
    parser.add_argument(
        "--common-prob",
        type=float,
        default=None,
        help="two-step common-transition probability (default: observed)",
    )
    parser.add_argument(
        "--family",
        default=None,
        help="task family (bandit, foraging, two_step) of recordings that "
        "do not name one (NWB imported without --task)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the restarts")
    parser.add_argument("--list", action="store_true", help="list the models and exit")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_json_flag(parser)


def _list_models(as_json: bool) -> int:
    from neurometa.behaviour.models import MODELS, get_model

    rows = {
        n: {
            "families": list(get_model(n).families),
            "parameters": list(get_model(n).parameters),
            "description": get_model(n).description,
        }
        for n in MODELS
    }
    if as_json:
        emit_json({"models": rows})
    else:
        for name, row in rows.items():
            print(
                f"{name:16s} {'/'.join(row['families']):18s} {', '.join(row['parameters'])}"
                f"  — {row['description']}"
            )
    return 0


def run(args: argparse.Namespace) -> int:
    """Fit, compare, write; user errors become one-line messages."""
    if args.list:
        return _list_models(args.json)
    if not args.model or not args.inputs:
        raise CLIError("usage: neurometa fit MODEL INPUT... --out DIR (see --list for models)")
    missing = [str(p) for p in args.inputs if not p.exists()]
    if missing:
        raise CLIError(f"input not found: {', '.join(missing)}")
    from neurometa.analysis.report import open_inputs, stem
    from neurometa.behaviour.report import fit_report, write_fit_report

    summary: dict = {}
    try:
        for path, ds in zip(args.inputs, open_inputs(list(args.inputs)), strict=True):
            report = fit_report(
                ds,
                args.model,
                prior=None if args.prior == "none" else args.prior,
                num_restarts=args.restarts,
                num_folds=args.folds,
                by=args.folds_by,
                seed=args.seed,
                latent_model=args.latents,
                common_prob=args.common_prob,
                family=args.family,
                progress=not args.no_progress,
            )
            name = stem(path)
            files = write_fit_report(report, args.out, name) if args.out else {}
            table = report.summary.set_index("model")
            summary[name] = {
                "family": report.family,
                "latents_from": report.latent_model,
                "best": str(report.summary["model"].iloc[0]),
                "models": table.drop(columns=[], errors="ignore").to_dict(orient="index"),
                "files": files,
            }
    except (ValueError, KeyError, OSError) as err:
        raise CLIError(f"fit: {err}".replace("\n", " ")) from err
    if args.json:
        emit_json(summary)
    else:
        for name, res in summary.items():
            print(
                f"{name}: {res['family']}; best {res['best']}; latents from {res['latents_from']}"
            )
            for model, row in res["models"].items():
                held = row.get("loglik_per_choice")
                extra = f"held-out LL/choice {held:.4f}" if held is not None else ""
                print(f"  {model:16s} BIC {row['bic']:.1f}  {extra}")
            for kind, file in res["files"].items():
                print(f"  {kind}: {file}")
        sys.stdout.flush()
    return 0
