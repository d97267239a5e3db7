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
from neurometa.config import ConfigError
from neurometa.jsonable import jsonable

__all__ = ["main", "build_parser", "add_json_flag", "emit_json", "seed_arg", "CLIError"]

#: Seeds are stored as int64 (recording attrs, sweep coords) and split by numpy's SeedSequence.
MAX_SEED = 2**63 - 1


class CLIError(Exception):
    """An error to show the user as one line, with exit status 2 (no traceback)."""


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """Add the standard ``--json`` flag (one JSON object on stdout)."""
    parser.add_argument(
        "--json", action="store_true", help="print the figures as one JSON object on stdout"
    )


def seed_arg(text: str) -> int:
    """An argparse ``type`` for seeds: an integer in ``[0, 2**63 - 1]``, checked before any work.

    Examples
    --------
    >>> seed_arg("7")
    7
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a seed must be a whole number, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"a seed must lie in [0, 2**63 - 1], got {text}")
    return value


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
    from neurometa.netcdf import set_command

    # Figures go to files: a command never opens windows (a library import never sets this).
    os.environ.setdefault("MPLBACKEND", "Agg")
    parser = build_parser()
    args = parser.parse_args(argv)
    set_command(["neurometa", *(sys.argv[1:] if argv is None else argv)])
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
    except OSError as err:  # read-only folder, a file where a folder must be, disk full...
        print(f"neurometa {args.command}: error: {_os_message(err)}", file=sys.stderr)
        return 2
    except ConfigError as err:
        print(f"neurometa {args.command}: error: invalid configuration: {err}", file=sys.stderr)
        return 2
    finally:
        set_command(None)


def _os_message(err: OSError) -> str:
    """An OS error as one line naming the file(s) and the reason."""
    where = " -> ".join(str(f) for f in (err.filename, err.filename2) if f is not None)
    reason = err.strerror or str(err)
    return f"{where}: {reason}" if where else reason


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
