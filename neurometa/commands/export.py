"""``neurometa export nwb FILE.nc --out FILE.nwb``: a recording as NWB for lab tools."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neurometa.atomic import atomic_path
from neurometa.cli import CLIError, add_json_flag, emit_json

NAME = "export"
HELP = "export a recording to another format (nwb: trials table + unit activity)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``nwb`` format and its options."""
    sub = parser.add_subparsers(dest="format", metavar="FORMAT", required=True)
    nwb = sub.add_parser(
        "nwb",
        help="write NWB: trials table + unit activity in processing module 'misc'",
        description=(
            "Write a recording as NWB. Tasks have no physical time: step k of episode e is "
            "placed at t = (e*T + k)/RATE s (nominal time). Unit activity (h, c) is a "
            "TimeSeries sampled at RATE in the processing module 'misc'; trial variables are "
            "columns of the trials table."
        ),
    )
    nwb.add_argument("recording", type=Path, help="recording file (.nc or .zarr)")
    nwb.add_argument("--out", type=Path, required=True, help="destination .nwb file")
    nwb.add_argument(
        "--rate", type=float, default=10.0, help="nominal sampling rate in Hz (default 10)"
    )
    nwb.add_argument(
        "--no-inspect",
        action="store_true",
        help="skip the nwbinspector check (DANDI configuration) of the output",
    )
    for field, example in SUBJECT_OPTIONS.items():
        nwb.add_argument(
            f"--{field.replace('_', '-')}",
            dest=f"subject_{field}",
            metavar=field.upper(),
            help=f"subject {field} (e.g. {example}); completes or overrides the recording's",
        )
    add_json_flag(nwb)


#: Subject fields settable from the command line, with an example each.
SUBJECT_OPTIONS = {
    "subject_id": "m042",
    "species": "'Mus musculus'",
    "sex": "F",
    "age": "P90D",
    "strain": "C57BL/6J",
}


def run(args: argparse.Namespace) -> int:
    """Export; fail (exit 2) if nwbinspector (DANDI configuration) finds an issue."""
    from neurometa.data import dandi_issues, export_nwb
    from neurometa.record import RecordingError, RecordingFileError, open_recording

    if args.out.suffix != ".nwb":
        raise CLIError(f"--out must end in .nwb, got {args.out}")
    if not args.rate > 0:
        raise CLIError(f"--rate must be positive, got {args.rate}")
    subject = {
        field: getattr(args, f"subject_{field}")
        for field in SUBJECT_OPTIONS
        if getattr(args, f"subject_{field}") is not None
    }
    try:
        ds = open_recording(args.recording)
        ds.load()
        with atomic_path(args.out) as tmp:  # a file that fails the inspection is not kept
            export_nwb(ds, tmp, rate=args.rate, subject=subject)
            issues = [] if args.no_inspect else dandi_issues(tmp)
            for issue in issues:
                print(f"nwbinspector: {issue}", file=sys.stderr)
            if issues:
                raise CLIError(_issues_message(issues, args.out))
    except (RecordingError, RecordingFileError, ValueError) as err:
        raise CLIError(str(err)) from err
    summary = {
        "out": str(args.out),
        "episodes": int(ds.sizes["episode"]),
        "steps": int(ds.sizes["step"]),
        "units": int(ds.sizes.get("unit", 0)),
        "rate_hz": args.rate,
        "inspected": not args.no_inspect,
    }
    if args.json:
        emit_json(summary)
    else:
        print(
            f"wrote {args.out}: {summary['episodes']} episodes x {summary['steps']} steps, "
            f"{summary['units']} units at a nominal {args.rate} Hz",
            file=sys.stderr,
        )
    return 0


def _issues_message(issues: list[str], out: Path) -> str:
    hint = (
        "; give the subject with --species/--sex/--age (or skip the check with --no-inspect)"
        if any("check_subject" in i for i in issues)
        else "; skip the check with --no-inspect"
    )
    return (
        f"nwbinspector (DANDI configuration) found {len(issues)} issue(s); {out} was not "
        f"written{hint}"
    )
