"""``neurometa info FILE``: summarise a recording and validate it against the schema."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from neurometa.cli import CLIError, add_json_flag, emit_json

NAME = "info"
HELP = (
    "summarise a file neurometa wrote (a recording: task, agent, sizes, variables, validated "
    "against the schema; a sweep's results.nc; an analysis result)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``neurometa info``."""
    parser.add_argument(
        "file", type=Path, help="a recording (.nc or .zarr), sweep results or analysis result"
    )
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
        "title": str(ds.attrs.get("title", "")),
        "bytes": size,
        "attrs": {k: ds.attrs[k] for k in keys if k in ds.attrs},
        "sizes": {str(k): int(v) for k, v in ds.sizes.items()},
        "coords": coords,
        "variables": variables,
    }


def _print(summary: dict[str, Any], problems: list[str]) -> None:
    attrs = summary["attrs"]
    print(f"{summary['file']}  ({summary['bytes'] / 2**20:.2f} MiB)")
    if summary["kind"] == "recording":
        print(f"  source    {attrs.get('source', '?')}   task {attrs.get('task', '?')}"
              f"   preset {attrs.get('preset', '?')}")  # fmt: skip
    else:
        print(f"  kind      {_KINDS[summary['kind']]}: {summary.get('title', '')}")
    if "status" in summary:
        print("  runs      " + "  ".join(f"{k}={v}" for k, v in summary["status"].items()))
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
    elif summary["kind"] == "recording":
        print("  valid     yes (fits the recording schema)")
    else:
        print(f"  valid     yes (a readable {_KINDS[summary['kind']]})")


_KINDS = {"recording": "recording", "sweep": "sweep results", "result": "analysis result"}


def file_kind(ds: Any) -> str:
    """``"recording"``, ``"sweep"`` (a sweep's results.nc) or ``"result"`` (analysis output)."""
    if ds.attrs.get("source") == "sweep":
        return "sweep"
    if "source" not in ds.attrs and str(ds.attrs.get("title", "")).startswith("neurometa "):
        return "result"  # analysis and comparison results: a title, no recording attrs
    return "recording"


def _sweep_problems(path: Path) -> tuple[list[str], dict[str, Any]]:
    """Problems of a sweep results file and its status counts."""
    import numpy as np

    from neurometa.sweep import open_results

    try:
        ds = open_results(path)
    except ValueError as err:
        return [str(err)], {}
    status, counts = ds["status"].values, {}
    for name in np.unique(status):
        counts[str(name)] = int((status == name).sum())
    return [], {"name": ds.attrs.get("name", ""), "metric": ds.attrs.get("metric", ""),
                "status": counts}  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Print the summary; exit 1 if the file does not fit its kind's checks."""
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
        kind, extra = file_kind(ds), {}
        problems: list[str] = []
        if kind == "sweep":
            problems, extra = _sweep_problems(args.file)
        elif kind == "recording":
            try:
                validate_recording(ds, check_values=not args.structure_only, what=str(args.file))
            except RecordingError as err:
                problems = err.problems
        summary = {**summarise(ds, args.file), "kind": kind, **extra}
    if args.json:
        emit_json({**summary, "valid": not problems, "problems": problems})
    else:
        _print(summary, problems)
    return 1 if problems else 0
