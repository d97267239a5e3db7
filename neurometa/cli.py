"""The ``neurometa`` command line.

Subcommands live one per module in :mod:`neurometa.commands`; each module defines

- ``NAME`` (the subcommand, e.g. ``"train"``) and ``HELP`` (one line),
- ``add_arguments(parser: argparse.ArgumentParser) -> None``,
- ``run(args: argparse.Namespace) -> int`` (the exit status).

Modules are discovered automatically, so adding a command never edits this file. Commands
that report figures take ``--json`` (see :func:`add_json_flag`) and then print exactly one
JSON object on stdout (progress bars and messages go to stderr).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
from collections.abc import Sequence
from typing import Any

from neurometa import __version__
from neurometa.jsonable import jsonable

__all__ = ["main", "build_parser", "add_json_flag", "emit_json", "CLIError"]


class CLIError(Exception):
    """An error to show the user as one line, with exit status 2 (no traceback)."""


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """Add the standard ``--json`` flag (one JSON object on stdout)."""
    parser.add_argument(
        "--json", action="store_true", help="print the figures as one JSON object on stdout"
    )


def emit_json(obj: dict[str, Any]) -> None:
    """Print ``obj`` as one JSON object on stdout."""
    sys.stdout.write(json.dumps(jsonable(obj), sort_keys=True) + "\n")
    sys.stdout.flush()


def _command_modules() -> list[Any]:
    import neurometa.commands as pkg

    modules = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"neurometa.commands.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            modules.append(module)
    return modules


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="neurometa",
        description=(
            "Fast and slow RL as biologically mapped agents: train meta-RL agents, record "
            "their units into xarray datasets, and run the analyses labs use."
        ),
    )
    parser.add_argument("--version", action="version", version=f"neurometa {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        sp = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(sp)
        sp.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse ``argv`` and run the chosen subcommand."""
    # Figures go to files: a command never opens windows (a library import never sets this).
    os.environ.setdefault("MPLBACKEND", "Agg")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except CLIError as err:
        print(f"neurometa {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"neurometa {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
