"""``neurometa analyze NAME INPUT... [--out DIR] [--json]``: run one analysis on recordings.

Each analysis is a function ``run(inputs, out=None, **options) -> dict`` of the analysis
layer (e.g. :func:`neurometa.analysis.runners.run_coding`), registered in :data:`ANALYSES`
with the keyword arguments the command line exposes. Every option is described once, in
:data:`OPTIONS`; its default is the function's own (shown in ``--help``). To add an
analysis, write the function and add ONE entry to :data:`ANALYSES`.

Each analysis writes its results as NetCDF + CSV and its figures as PNG under ``--out``
(nothing is written without ``--out``) and prints a summary (one JSON object with ``--json``).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurometa.cli import CLIError, add_json_flag, emit_json, seed_arg

NAME = "analyze"
HELP = "run an analysis (coding, two-step, hybrid, rpe, regret, bandit, harlow, ...) on recordings"

__all__ = ["Analysis", "ANALYSES", "OPTIONS", "add_options", "chosen_options", "load_function"]


@dataclass(frozen=True)
class Analysis:
    """One analysis reachable as ``neurometa analyze NAME``."""

    help: str
    """One line for ``--help``."""
    function: str
    """``"module:function"`` of ``run(inputs, out=None, **options) -> dict``."""
    options: tuple[str, ...] = ()
    """Keyword arguments of the function the command line exposes (keys of OPTIONS)."""
    config: str | None = None
    """``"module:Class"`` of a config dataclass whose fields are the options (their
    defaults), for a function that takes ``**options``."""
    inputs_help: str = "recording files"
    """What the positional inputs are, for ``--help``."""


_CODING = ("activity", "stage", "value", "alpha", "num_shuffles", "seed")
_HYBRID = ("num_restarts", "prior", "common_prob", "seed")

#: Analysis name -> its function and options.
ANALYSES: dict[str, Analysis] = {
    "coding": Analysis(
        "single-unit coding regression (Tsutsui 2016; Wang 2018)",
        "neurometa.analysis.runners:run_coding",
        _CODING,
    ),
    "two-step": Analysis(
        "two-step stay probabilities and regressions (Daw 2011; Miller 2017; Akam 2015)",
        "neurometa.analysis.runners:run_two_step",
        ("num_boot", "num_lags", "seed"),
    ),
    "hybrid": Analysis(
        "hybrid MB/MF model fits with nested MF and MB fits (Daw 2011)",
        "neurometa.analysis.runners:run_hybrid",
        _HYBRID,
    ),
    "rpe": Analysis(
        "RPE decomposition into MF and MB-MF parts (Daw 2011; Wang 2018)",
        "neurometa.analysis.runners:run_rpe",
        ("signal", "onset_stage", "outcome_stage", *_HYBRID),
    ),
    "regret": Analysis(
        "mean cumulative expected regret with SE, curves",
        "neurometa.analysis.runners:run_regret",
        ("at",),
    ),
    "bandit": Analysis(
        "bandit behaviour: win-stay/lose-shift, P(better arm) by difficulty, regret",
        "neurometa.analysis.runners:run_bandit",
        ("num_bins",),
    ),
    "harlow": Analysis(
        "Harlow accuracy by trial within episode", "neurometa.analysis.runners:run_harlow"
    ),
    "decode": Analysis(
        "cross-validated decoding of a task variable from units (folds grouped by episode)",
        "neurometa.analysis.runners:run_decode",
        ("target", "features", "stage", "num_folds"),
    ),
    "compare": Analysis(
        "agent vs neurons: coding fractions, RSA, behaviour (Wang 2018 vs Tsutsui 2016); "
        "give AGENT.nc then NEURONS.nc",
        "neurometa.analysis.compare_report:run_compare",
        (
            "agent_activity",
            "neural_activity",
            "agent_stage",
            "neural_stage",
            "alpha",
            "ci",
            "num_shuffles",
            "num_permutations",
            "num_splits",
            "seed",
        ),  # fmt: skip
        config="neurometa.analysis.compare_report:CompareConfig",
        inputs_help=(
            "two recordings, in this order: AGENT.nc, the agent's recording (its units in "
            "--agent-activity, default h: `neurometa record`), then NEURONS.nc, the lab "
            "recording with the neurons (in --neural-activity, default activity: "
            "`neurometa import`)"
        ),
    ),
    "encoding": Analysis(
        "encoding models: cross-validated ridge per neuron from predictor sets, nulls, ceiling",
        "neurometa.analysis.encoding_report:run_encoding",
        (
            "sets",
            "unions",
            "categorical",
            "activity",
            "stage",
            "predictor_stage",
            "num_folds",
            "group_by",
            "block_length",
            "null",
            "num_null",
            "skip_first",
            "standardize",
            "alpha",
            "seed",
        ),  # fmt: skip
    ),
    "sweep": Analysis(
        "summary of a sweep's results.nc: best setting, mean and spread over seeds",
        "neurometa.sweep.report:run_sweep_report",
        ("metric", "goal", "top"),
    ),
}

#: Every option of every analysis: keyword -> (flag, argparse keywords without default).
OPTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "activity": ("--activity", {"help": "unit-activity variable"}),
    "stage": ("--stage", {"help": "stage name or index within the trial"}),
    "value": (
        "--value",
        {
            "help": "value regressor: a variable; if the recording has none, the family's "
            "default behavioural model is fitted and its model_chosen_value used (or the "
            "named model_* latent, or a model name such as hybrid); 'none' drops the term"
        },
    ),  # fmt: skip
    "alpha": ("--alpha", {"type": float, "help": "significance level of the coding tests"}),
    "ci": ("--ci", {"type": float, "help": "coverage of the confidence intervals"}),
    "num_shuffles": ("--shuffles", {"type": int, "help": "shuffles for the chance level"}),
    "seed": ("--seed", {"type": seed_arg, "help": "seed of shuffles/bootstraps/restarts"}),
    "num_boot": ("--boot", {"type": int, "help": "bootstrap resamples"}),
    "num_lags": ("--lags", {"type": int, "help": "lags of the Miller 2017 regression"}),
    "num_restarts": ("--restarts", {"type": int, "help": "random restarts per subject"}),
    "prior": (
        "--prior",
        {
            "choices": ("none", "weak", "empirical"),
            "help": "maximum likelihood (none, the default), MAP with weak priors (weak; "
            "Gershman 2016) or empirical Bayes: EM over a Gaussian group prior (empirical; "
            "Huys et al. 2011)",
        },
    ),
    "common_prob": (
        "--common-prob",
        {
            "type": float,
            "help": "common-transition probability of the model-based system (default: the "
            "observed rate; Daw et al. 2011 used the task's 0.7)",
        },
    ),
    "signal": ("--signal", {"help": "regressed variable"}),
    "onset_stage": ("--onset-stage", {"help": "stage of the second-stage-onset signal"}),
    "outcome_stage": ("--outcome-stage", {"help": "stage of the outcome signal"}),
    "at": ("--at", {"type": int, "nargs": "+", "help": "trials to report"}),
    "num_bins": ("--bins", {"type": int, "help": "difficulty bins"}),
    "target": ("--target", {"help": "variable to decode (e.g. action)"}),
    "features": ("--features", {"help": "unit-activity variable"}),
    "num_folds": ("--folds", {"type": int, "help": "GroupKFold folds (by episode)"}),
    "agent_activity": ("--agent-activity", {"help": "agent activity variable"}),
    "neural_activity": ("--neural-activity", {"help": "neural activity variable"}),
    "agent_stage": ("--agent-stage", {"help": "agent stage (name or index)"}),
    "neural_stage": ("--neural-stage", {"help": "neural stage (name or index)"}),
    "num_permutations": ("--permutations", {"type": int, "help": "RSA permutations"}),
    "num_splits": ("--splits", {"type": int, "help": "RSA split halves (noise ceiling)"}),
    "sets": (
        "--set",
        {
            "action": "append",
            "metavar": "NAME=INPUT:VARS",
            "help": "a predictor set: input 0 is the neural recording, e.g. agent=1:h or "
            "task=0:action,prev_reward",
        },
    ),
    "unions": ("--union", {"action": "append", "metavar": "A+B", "help": "union of sets"}),
    "categorical": ("--categorical", {"help": "comma-separated variables coded one-hot"}),
    "predictor_stage": ("--predictor-stage", {"help": "stage of the predictors"}),
    "group_by": ("--group-by", {"help": "cross-validation groups: episode or a variable"}),
    "block_length": ("--block-length", {"type": int, "help": "blocks of this many trials"}),
    "null": ("--null", {"choices": ("circular", "session"), "help": "null distribution"}),
    "num_null": ("--null-draws", {"type": int, "help": "null draws"}),
    "skip_first": (
        "--skip-first",
        {"type": int, "help": "trials left out at the start of every session"},
    ),
    "standardize": (
        "--standardize",
        {"choices": ("all", "fold"), "help": "z-score predictors over all trials or per fold"},
    ),
    "metric": ("--metric", {"help": "result to rank by (default: the spec's)"}),
    "goal": (
        "--goal",
        {"choices": ("min", "max"), "help": "better is min/max (default: the spec's)"},
    ),
    "top": ("--top", {"type": int, "help": "settings listed in the summary"}),
}


def _load(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def load_function(name: str) -> Callable[..., dict[str, Any]]:
    """The function registered under ``name`` in :data:`ANALYSES`."""
    if name not in ANALYSES:
        raise CLIError(f"unknown analysis {name!r}; available: {', '.join(sorted(ANALYSES))}")
    return _load(ANALYSES[name].function)


def _defaults(analysis: Analysis) -> dict[str, Any]:
    """Each option's default: the function's keyword default, or the config field's."""
    if analysis.config is not None:
        return {f.name: f.default for f in dataclasses.fields(_load(analysis.config))}
    params = inspect.signature(_load(analysis.function)).parameters
    return {name: p.default for name, p in params.items()}


def add_options(
    parser: argparse.ArgumentParser, analysis: Analysis, names: Iterable[str] | None = None
) -> None:
    """Add the options ``names`` (default: all) of ``analysis`` to ``parser``.

    An option left out of the command line is left out of the call, so the function's
    default applies; ``--help`` shows it.
    """
    defaults = _defaults(analysis)
    for name in analysis.options if names is None else names:
        flag, kwargs = OPTIONS[name]
        default = defaults.get(name, inspect.Parameter.empty)
        kwargs = {"metavar": flag[2:].upper().replace("-", "_"), **kwargs}
        if "choices" in kwargs:
            del kwargs["metavar"]
        if default is inspect.Parameter.empty:
            parser.add_argument(flag, dest=name, required=True, **kwargs)
            continue
        if default is not None:  # None: the help says what happens
            shown = " ".join(map(str, default)) if isinstance(default, tuple) else default
            kwargs["help"] = f"{kwargs['help']} (default: {shown})"
        parser.add_argument(flag, dest=name, default=argparse.SUPPRESS, **kwargs)


def chosen_options(args: argparse.Namespace, analysis: Analysis) -> dict[str, Any]:
    """The options of ``analysis`` given on the command line, as keyword arguments."""
    return {name: getattr(args, name) for name in analysis.options if hasattr(args, name)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one sub-command per registered analysis."""
    sub = parser.add_subparsers(dest="analysis", metavar="NAME")
    for name in sorted(ANALYSES):
        analysis = ANALYSES[name]
        sp = sub.add_parser(name, help=analysis.help, description=analysis.help)
        sp.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help=analysis.inputs_help)
        sp.add_argument("--out", type=Path, default=None, help="folder for results and figures")
        add_json_flag(sp)
        add_options(sp, analysis)


def _rounded(value: object) -> str:
    """A figure for reading: 4 significant digits (``--json`` keeps full precision)."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_rounded(v) for v in value) + "]"
    return str(value)


def _print_summary(summary: dict, indent: str = "") -> None:
    for key, value in summary.items():
        if isinstance(value, dict):
            print(f"{indent}{key}:")
            _print_summary(value, indent + "  ")
        elif isinstance(value, list | tuple) and value and all(isinstance(v, dict) for v in value):
            print(f"{indent}{key}:")
            for item in value:
                print(f"{indent}  -")
                _print_summary(item, indent + "    ")
        else:
            print(f"{indent}{key}: {_rounded(value)}")


def run(args: argparse.Namespace) -> int:
    """Run the chosen analysis; user errors become one-line :class:`CLIError` messages."""
    if not getattr(args, "analysis", None):
        raise CLIError(f"name an analysis: {', '.join(sorted(ANALYSES))}")
    missing = [str(p) for p in args.inputs if not p.exists()]
    if missing:
        raise CLIError(f"input not found: {', '.join(missing)}")
    function = load_function(args.analysis)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    try:
        summary = function(
            list(args.inputs), args.out, **chosen_options(args, ANALYSES[args.analysis])
        )
    except (ValueError, KeyError, OSError) as err:
        files = ", ".join(str(p) for p in args.inputs)
        # str() of a KeyError quotes its message
        message = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
        head = args.analysis.replace("-", " ")
        if not message.lower().startswith((args.analysis, head)):
            message = f"{args.analysis}: {message}"
        raise CLIError(f"{message} [input: {files}]".replace("\n", " ")) from err
    if args.out is not None:
        summary = {"out": str(args.out), **summary}
    if args.json:
        emit_json(summary)
    else:
        _print_summary(summary)
        sys.stdout.flush()
    return 0
