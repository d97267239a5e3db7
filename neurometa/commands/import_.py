"""``neurometa import FORMAT FILE --out FILE.nc``: bring lab data into the recording schema.

Formats are looked up in :data:`IMPORTERS`, a registry of ``"module:attribute"`` strings
naming an importer object, in one of two forms:

- ``help`` (one line), ``add_arguments(parser)`` and ``run(args) -> dict``: the command adds
  ``FILE``, ``--out`` and ``--json``, and prints the returned summary;
- ``add_parser(subparsers) -> parser`` and ``run(args) -> int``: the importer builds its own
  parser and does its own printing.

To add a format, add ONE line, e.g. ``"nwb": "neurometa.commands._import_nwb:IMPORTER",``.
"""

from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurometa.cli import CLIError, add_json_flag, emit_json

NAME = "import"
HELP = "import lab data (two-step-csv, bandit-csv, ...) into a recording file"

#: Format name -> "module:attribute" of its importer.
IMPORTERS: dict[str, str] = {
    "two-step-csv": "neurometa.commands.import_:TWO_STEP_CSV",
    "bandit-csv": "neurometa.commands.import_:BANDIT_CSV",
    "nwb": "neurometa.commands._import_nwb:IMPORTER",
    "two-step-nwb": "neurometa.commands.import_:TWO_STEP_NWB",
    "bandit-nwb": "neurometa.commands.import_:BANDIT_NWB",
}


@dataclass(frozen=True)
class TableImporter:
    """Importer of a behaviour table (:mod:`neurometa.data.tables`) from a CSV or NWB file."""

    layout: str
    """Layout name in :data:`neurometa.data.tables.LAYOUTS`."""
    help: str
    """One line for ``--help``."""
    source: str = "csv"
    """``"csv"`` (a tidy table) or ``"nwb"`` (an NWB trials table,
    :mod:`neurometa.data.nwb_behaviour`)."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Options of a table import."""
        parser.add_argument("--preset", default=None, help="task preset id for the recording")
        if self.source == "nwb":
            parser.add_argument(
                "--trials-table",
                help="TimeIntervals table of trials when not /intervals/trials (NAME or "
                "PARENT/NAME)",
            )
            parser.add_argument(
                "--session-column",
                help="trial column splitting a subject's trials into sessions (default: "
                "'session', else 'episode' where present)",
            )

    def run(self, args: argparse.Namespace) -> dict[str, Any]:
        """Read, check and convert the table; write the recording to ``args.out``."""
        from neurometa.data import NWBFormatError
        from neurometa.data.tables import TableError, read_table, table_to_recording
        from neurometa.record.io import check_destination, save_recording
        from neurometa.record.validate import RecordingError

        try:
            check_destination(args.out)  # refuse a user's folder or an unknown suffix first
            if self.source == "nwb":
                from neurometa.data.nwb_behaviour import read_nwb_behaviour

                table = read_nwb_behaviour(
                    args.input,
                    self.layout,
                    trials_table_name=args.trials_table,
                    session_column=args.session_column,
                )
            else:
                table = read_table(args.input, self.layout)
            if self.layout == "two_step":
                table["common"] = table["state2"] == table["choice1"]
            ds = table_to_recording(table, preset=args.preset)
            save_recording(ds, args.out)
        except (TableError, NWBFormatError, FileNotFoundError, RecordingError, ValueError) as err:
            raise CLIError(str(err)) from err
        return {
            "out": str(args.out),
            "num_subjects": int(table["subject"].nunique()),
            "num_episodes": int(ds.sizes["episode"]),
            "num_trials": len(table),
            "num_missed_trials": int(table.attrs["num_missed_trials"]),
        }


TWO_STEP_CSV = TableImporter(
    "two_step", "two-step table: subject, trial, choice1, state2, choice2, reward"
)
BANDIT_CSV = TableImporter("bandit", "bandit table: subject, trial, choice, reward")
TWO_STEP_NWB = TableImporter(
    "two_step", "two-step behaviour from an NWB trials table (lab or exported agent)", "nwb"
)
BANDIT_NWB = TableImporter(
    "bandit", "bandit behaviour from an NWB trials table (lab or exported agent)", "nwb"
)


def _load(name: str):  # noqa: ANN202
    module, _, attr = IMPORTERS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One sub-command per registered format."""
    sub = parser.add_subparsers(dest="format", metavar="FORMAT")
    for name in sorted(IMPORTERS):
        importer = _load(name)
        if hasattr(importer, "add_parser"):
            sp = importer.add_parser(sub)
        else:
            sp = sub.add_parser(name, help=importer.help, description=importer.help)
            sp.add_argument("input", type=Path, metavar="FILE", help="the file to import")
            sp.add_argument("--out", type=Path, required=True, help="recording to write")
            add_json_flag(sp)
            importer.add_arguments(sp)
        sp.set_defaults(_import_run=importer.run)


def run(args: argparse.Namespace) -> int:
    """Import one file; table problems are reported as one error listing each row."""
    if not getattr(args, "format", None):
        raise CLIError(f"name a format: {', '.join(sorted(IMPORTERS))}")
    summary = args._import_run(args)
    if not isinstance(summary, dict):
        return int(summary or 0)
    if args.json:
        emit_json(summary)
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")
    return 0
