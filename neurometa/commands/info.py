"""``neurometa info FILE``: summarise a recording and validate it against the schema."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from neurometa.cli import CLIError, add_json_flag, emit_json

NAME = "info"
HELP = "summarise a recording file (task, agent, sizes, variables) and validate it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``neurometa info``."""
    parser.add_argument("file", type=Path, help="a recording (.nc or .zarr)")
    parser.add_argument(
        "--structure-only",
        action="store_true",
        help="skip the value checks (NaN, policy sums, action range), which read all the data",
    )
    add_json_flag(parser)


def summarise(ds: Any, path: Path) -> dict[str, Any]:
    """The summary of a recording as plain Python values (what ``--json`` prints)."""
    keys = ("source", "task", "preset", "agent", "seed", "discount", "schema_version",
            "neurometa_version")  # fmt: skip
    variables = {
        str(name): {
            "dims": list(var.dims),
            "dtype": str(var.dtype),
            "long_name": str(var.attrs.get("long_name", "")),
        }  # fmt: skip
        for name, var in ds.data_vars.items()
    }
    coords = {str(n): {"dims": list(c.dims), "dtype": str(c.dtype)} for n, c in ds.coords.items()}
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else (
        path.stat().st_size)  # fmt: skip
    return {
        "file": str(path),
        "bytes": size,
        "attrs": {k: ds.attrs[k] for k in keys if k in ds.attrs},
        "sizes": {str(k): int(v) for k, v in ds.sizes.items()},
        "coords": coords,
        "variables": variables,
    }


def _print(summary: dict[str, Any], problems: list[str]) -> None:
    attrs = summary["attrs"]
    print(f"{summary['file']}  ({summary['bytes'] / 2**20:.2f} MiB)")
    print(f"  source    {attrs.get('source', '?')}   task {attrs.get('task', '?')}"
          f"   preset {attrs.get('preset', '?')}")  # fmt: skip
    if "agent" in attrs:
        print(f"  agent     {attrs['agent']}   seed {attrs.get('seed', '?')}"
              f"   discount {attrs.get('discount', '?')}")  # fmt: skip
    print(f"  schema    v{attrs.get('schema_version', '?')}"
          f"   written by neurometa {attrs.get('neurometa_version', '?')}")  # fmt: skip
    print("  sizes     " + "  ".join(f"{k}={v}" for k, v in summary["sizes"].items()))
    print("  coords    " + "  ".join(summary["coords"]))
    print("  variables")
    width = max((len(n) for n in summary["variables"]), default=0)
    for name, var in summary["variables"].items():
        dims = "(" + ", ".join(var["dims"]) + ")"
        print(f"    {name:<{width}}  {dims:<36} {var['dtype']:<8} {var['long_name']}")
    if problems:
        print(f"  INVALID: {len(problems)} problem(s)")
        for problem in problems:
            print(f"    - {problem}")
    else:
        print("  valid     yes (fits the recording schema)")


def run(args: argparse.Namespace) -> int:
    """Print the summary; exit 1 if the file does not fit the schema."""
    from neurometa.record import (
        RecordingError,
        RecordingFileError,
        open_recording,
        validate_recording,
    )

    try:
        ds = open_recording(args.file, validate=False)
    except (RecordingFileError, ValueError) as err:
        raise CLIError(str(err)) from None
    with ds:
        try:
            validate_recording(ds, check_values=not args.structure_only, what=str(args.file))
            problems: list[str] = []
        except RecordingError as err:
            problems = err.problems
        summary = summarise(ds, args.file)
    if args.json:
        emit_json({**summary, "valid": not problems, "problems": problems})
    else:
        _print(summary, problems)
    return 1 if problems else 0
