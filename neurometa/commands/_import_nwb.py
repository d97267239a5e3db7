"""The ``nwb`` sub-subcommand of ``neurometa import`` (registered by ``import_.py``).

``neurometa import nwb FILE.nwb --out FILE.nc [--event cue_time] [--window 0 0.5] ...``
reads the trials and units tables (or a TimeSeries) with :func:`neurometa.data.read_nwb`
and saves a trial-level lab recording.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from neurometa.cli import CLIError, add_json_flag, emit_json

__all__ = ["add_nwb_parser", "run_nwb", "IMPORTER", "NWBImporter"]


def add_nwb_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``nwb`` parser to the ``import`` subparsers ``sub`` and return it."""
    p = sub.add_parser(
        "nwb",
        help="NWB session (trials + units or a TimeSeries) -> trial-level recording",
        description=(
            "Read the trials table and the units table (spike times) of an NWB file and "
            "write a recording with one step per trial: spike counts or rates in a window "
            "relative to a trial event column, units' metadata as coordinates. With "
            "--timeseries, average a TimeSeries (e.g. fluorescence) in the window instead."
        ),
    )
    p.add_argument("nwb_file", type=Path, help="the .nwb file")
    p.add_argument("--out", type=Path, required=True, help="destination recording (.nc/.zarr)")
    p.add_argument("--event", default="start_time", help="trial column to align to")
    p.add_argument(
        "--window",
        nargs=2,
        type=float,
        default=(0.0, 0.5),
        metavar=("W0", "W1"),
        help="window in s relative to the event (default 0 0.5)",
    )
    p.add_argument("--bin-width", type=float, help="bin width in s (adds a time_bin dim)")
    p.add_argument(
        "--measure",
        choices=("rate", "count"),
        default="rate",
        help="spike rate (spikes/s) or count per bin",
    )
    p.add_argument("--choice-column", help="trial column with the choice (default choice/action)")
    p.add_argument("--reward-column", default="reward", help="trial column with the outcome")
    p.add_argument("--columns", help="comma-separated extra trial columns (default: all)")
    p.add_argument("--episode-column", help="trial column grouping trials into episodes")
    p.add_argument("--timeseries", help="read activity from this TimeSeries, not the units")
    p.add_argument(
        "--units-table", help="Units table to use when not at /units (NAME or PARENT/NAME)"
    )
    p.add_argument(
        "--trials-table",
        help="TimeIntervals table of trials when not /intervals/trials (NAME or PARENT/NAME)",
    )
    p.add_argument("--activity-name", default="activity", help="name of the activity variable")
    p.add_argument("--task", default="lab", help="task name/preset stored in the recording")
    p.add_argument(
        "--allow-outside-trial",
        action="store_true",
        help="accept windows reaching outside a trial's start/stop times",
    )
    p.add_argument(
        "--behaviour-only",
        action="store_true",
        help="import the trials table only (no units/TimeSeries, no activity)",
    )
    p.add_argument(
        "--drop-missing",
        action="store_true",
        help="drop trials with a missing choice, reward or event time",
    )
    add_json_flag(p)
    p.set_defaults(_import_run=run_nwb)
    return p


def _config(args: argparse.Namespace) -> Any:
    from neurometa.data import NWBImportConfig

    columns = None
    if args.columns is not None:
        columns = tuple(c.strip() for c in args.columns.split(",") if c.strip())
    return NWBImportConfig(
        event=args.event,
        window=tuple(args.window),
        bin_width=args.bin_width,
        measure=args.measure,
        choice_column=args.choice_column,
        reward_column=args.reward_column,
        columns=columns,
        episode_column=args.episode_column,
        timeseries=args.timeseries,
        units_table=args.units_table,
        trials_table=args.trials_table,
        activity_name=args.activity_name,
        allow_outside_trial=args.allow_outside_trial,
        drop_missing=args.drop_missing,
        task=args.task,
        behaviour_only=args.behaviour_only,
    )


def run_nwb(args: argparse.Namespace) -> int:
    """Import the NWB file and save the recording (errors -> one-line CLIError)."""
    from neurometa.config import ConfigError
    from neurometa.data import NWBFormatError, read_nwb
    from neurometa.record import RecordingError, check_destination, save_recording

    try:
        check_destination(args.out)  # refuse an unknown suffix or a user's folder up front
        ds = read_nwb(args.nwb_file, _config(args))
        save_recording(ds, args.out)
    except (ConfigError, NWBFormatError, RecordingError, ValueError) as err:
        raise CLIError(str(err)) from err
    act = ds[args.activity_name] if args.activity_name in ds else None
    summary = {
        "out": str(args.out),
        "episodes": int(ds.sizes["episode"]),
        "trials": int(ds.sizes["step"]),
        "units": int(ds.sizes.get("unit", 0)),
        "activity": None if act is None else args.activity_name,
        "activity_units": "" if act is None else str(act.attrs.get("units", "")),
        "dropped_trials": int(ds.attrs["num_dropped_trials"]),
        "variables": sorted(map(str, ds.data_vars)),
    }
    if args.json:
        emit_json(summary)
    else:
        activity = (
            f"{summary['units']} units ({args.activity_name} in {summary['activity_units']})"
            if act is not None
            else "behaviour only (no activity)"
        )
        print(
            f"wrote {args.out}: {summary['episodes']} episode(s) x {summary['trials']} trials, "
            f"{activity}; {summary['dropped_trials']} trial(s) dropped",
            file=sys.stderr,
        )
    return 0


class NWBImporter:
    """The importer object registered in :data:`neurometa.commands.import_.IMPORTERS`."""

    help = "NWB session (trials + units or a TimeSeries) -> trial-level recording"

    def add_parser(self, sub: Any) -> argparse.ArgumentParser:
        """Add the ``nwb`` parser to the ``import`` subparsers."""
        return add_nwb_parser(sub)

    def run(self, args: argparse.Namespace) -> int:
        """Run the import (see :func:`run_nwb`)."""
        return run_nwb(args)


#: ``neurometa import nwb`` (registered by one line in ``neurometa/commands/import_.py``).
IMPORTER = NWBImporter()
