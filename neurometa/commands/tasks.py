"""``neurometa tasks``: list the registered task presets, or show one preset's parameters."""

from __future__ import annotations

import argparse
import sys

from neurometa.cli import CLIError, add_json_flag, emit_json

NAME = "tasks"
HELP = "list the task presets (id, description, paper), or show one preset's defaults"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--show ID`` and ``--json``."""
    parser.add_argument("--show", metavar="ID", help="print the default parameters of one preset")
    add_json_flag(parser)


def _show(preset_id: str, as_json: bool) -> int:
    from neurometa.tasks import PRESETS, UnknownTaskError, preset_config

    try:
        config = preset_config(preset_id)
    except UnknownTaskError as err:
        raise CLIError(str(err)) from err
    preset = PRESETS[preset_id]
    if as_json:
        emit_json(
            {
                "id": preset.id,
                "description": preset.description,
                "paper": preset.paper,
                "paper_url": preset.paper_url,
                "config": config.to_dict(),
            }
        )
        return 0
    print(f"{preset.id}: {preset.description}\n  paper: {preset.paper} ({preset.paper_url})")
    for key, value in config.to_dict().items():
        print(f"  {key} = {value!r}")
    return 0


def run(args: argparse.Namespace) -> int:
    """List presets (or show one) and return 0."""
    if args.show:
        return _show(args.show, args.json)
    from neurometa.tasks import PRESETS

    presets = sorted(PRESETS.values(), key=lambda p: p.id)
    if args.json:
        rows = [
            {"id": p.id, "description": p.description, "paper": p.paper, "paper_url": p.paper_url}
            for p in presets
        ]
        emit_json({"presets": rows, "gym_prefix": "gym:"})
        return 0
    width = max(len(p.id) for p in presets)
    for p in presets:
        sys.stdout.write(f"{p.id:<{width}}  {p.description}  [{p.paper}]\n")
    sys.stdout.write(f"{'gym:<env-id>':<{width}}  any registered Gymnasium env (e.g. neurogym)\n")
    return 0
