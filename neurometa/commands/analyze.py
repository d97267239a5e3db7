"""``neurometa analyze NAME INPUT... [--out DIR] [--json]``: run one analysis on recordings.

Analyses are looked up in :data:`ANALYSES`, a registry of ``"module:attribute"`` strings
naming :class:`neurometa.analysis.report.AnalysisSpec` objects (imported only when the
parser is built). To add an analysis, write a spec and add ONE line here, e.g.
``"compare": "neurometa.analysis.compare_report:ANALYSIS",``.

Each analysis writes its results as NetCDF + CSV and its figures as PNG under ``--out``
(nothing is written without ``--out``) and prints a summary (one JSON object with ``--json``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from neurometa.cli import CLIError, add_json_flag, emit_json

NAME = "analyze"
HELP = "run an analysis (coding, two-step, hybrid, rpe, regret, bandit, harlow, ...) on recordings"

#: Analysis name -> "module:attribute" of its AnalysisSpec.
ANALYSES: dict[str, str] = {
    "coding": "neurometa.analysis.runners:CODING",
    "two-step": "neurometa.analysis.runners:TWO_STEP",
    "hybrid": "neurometa.analysis.runners:HYBRID",
    "rpe": "neurometa.analysis.runners:RPE",
    "regret": "neurometa.analysis.runners:REGRET",
    "bandit": "neurometa.analysis.runners:BANDIT",
    "harlow": "neurometa.analysis.runners:HARLOW",
    "decode": "neurometa.analysis.runners:DECODE",
    "compare": "neurometa.analysis.compare_report:ANALYSIS",
    "sweep": "neurometa.sweep.report:ANALYSIS",
}


def load_spec(name: str):  # noqa: ANN201 - returns an AnalysisSpec (imported lazily)
    """The :class:`AnalysisSpec` registered under ``name``."""
    if name not in ANALYSES:
        raise CLIError(f"unknown analysis {name!r}; available: {', '.join(sorted(ANALYSES))}")
    module, _, attr = ANALYSES[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one sub-command per registered analysis."""
    sub = parser.add_subparsers(dest="analysis", metavar="NAME")
    for name in sorted(ANALYSES):
        spec = load_spec(name)
        sp = sub.add_parser(name, help=spec.help, description=spec.help)
        sp.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help=spec.inputs_help)
        sp.add_argument("--out", type=Path, default=None, help="folder for results and figures")
        add_json_flag(sp)
        spec.add_arguments(sp)


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
    spec = load_spec(args.analysis)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    try:
        summary = spec.run(list(args.inputs), args.out, args)
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
