"""``neurometa train PRESET --out RUN_DIR``: train a meta-RL agent with A2C."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from neurometa.cli import CLIError, add_json_flag, emit_json, seed_arg
from neurometa.config import ConfigError, replace_paths

NAME = "train"
HELP = "train a meta-RL agent (PFC LSTM + dopamine TD error) from a preset"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``neurometa train``."""
    parser.add_argument(
        "preset", nargs="?", help="training preset id (see --list) or a config.json path"
    )
    parser.add_argument("--out", type=Path, help="run folder to write (required to train)")
    parser.add_argument("--seed", type=seed_arg, default=0, help="the run's seed (default 0)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")
    parser.add_argument("--updates", type=int, help="number of updates (optim.num_updates)")
    add_set_flag(parser)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--list", action="store_true", help="list the presets and exit")
    add_json_flag(parser)


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def add_set_flag(
    parser: argparse.ArgumentParser,
    help: str = "override a config field, e.g. optim.learning_rate=1e-3 (value parsed as JSON)",
) -> None:
    """Add the repeatable ``--set KEY=VALUE`` option read by :func:`build_config`."""
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help
    )


def build_config(preset: str, updates: int | None, overrides: list[str]):  # noqa: ANN201
    """The :class:`TrainConfig` of ``preset`` with ``--updates`` and ``--set`` applied."""
    from neurometa.learn import TrainConfig, get_preset

    path = Path(preset)
    if preset.endswith(".json") and path.is_file():
        config = TrainConfig.load(path)
    else:
        config = get_preset(preset)
    changes = {} if updates is None else {"optim.num_updates": updates}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CLIError(f"--set expects KEY=VALUE, got {item!r}")
        changes[key.strip()] = _parse_value(value)
    return replace_paths(config, changes)


def run(args: argparse.Namespace) -> int:
    """Train and report where the run folder is."""
    import torch

    from neurometa.learn import PRESETS, TrainingDivergedError, train
    from neurometa.learn.checkpoint import CheckpointError

    if args.list:
        for name, cfg in PRESETS.items():
            print(
                f"{name:28s} task={cfg.task.preset} units={cfg.network.num_units} "
                f"updates={cfg.optim.num_updates} batch={cfg.optim.batch_size}"
            )
        return 0
    if args.preset is None:
        raise CLIError("give a PRESET (see neurometa train --list)")
    if args.out is None:
        raise CLIError("--out RUN_DIR is required")
    if args.threads < 1:
        raise CLIError(f"--threads must be positive, got {args.threads}")
    if args.resume and not (args.out / "checkpoint.pt").is_file():
        raise CLIError(
            f"--resume: {args.out} holds no run to continue (no checkpoint.pt); leave out "
            "--resume to start one"
        )
    torch.set_num_threads(args.threads)
    try:
        config = build_config(args.preset, args.updates, args.overrides)
        run_dir = train(
            config,
            args.out,
            seed=args.seed,
            resume=args.resume,
            device=args.device,
            progress=not args.no_progress,
        )
    except KeyboardInterrupt:
        print(
            f"neurometa train: interrupted; continue from the last checkpoint with: "
            f"neurometa train {args.preset} --out {args.out} --seed {args.seed} --resume "
            "(with the same --updates/--set options)",
            file=sys.stderr,
        )
        return 130
    except KeyError as err:
        raise CLIError(str(err.args[0])) from err
    except (
        ConfigError,
        CheckpointError,
        FileExistsError,
        TrainingDivergedError,
        RuntimeError,
    ) as err:
        raise CLIError(str(err)) from err
    done = json.loads((run_dir / "done.json").read_text(encoding="utf-8"))
    if args.json:
        emit_json({"run_dir": str(run_dir), **done})
    else:
        final = done.get("final_eval") or {}
        score = (
            f"regret {final['regret']:.3f}"
            if "regret" in final
            else f"return {final.get('return', float('nan')):.3f}"
        )
        print(
            f"trained {done['updates']} updates ({done['env_steps']:,} steps); selection-set "
            f"{score}; run folder: {run_dir}"
        )
    return 0
