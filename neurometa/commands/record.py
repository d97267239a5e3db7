"""``neurometa record``: record a baseline or a trained agent into a recording file.

Two forms::

    neurometa record --agent thompson --task bandit/independent --episodes 1000 --out t.nc
    neurometa record --run runs/bandit --episodes 1000 --out pfc.nc
    neurometa record --run runs/bandit --behaviour lab.nc --out pfc_on_lab.nc   # animal's trials

Agents are built by :func:`neurometa.agents.make_agent`. ``--agent`` also takes the
episodic-control agents ``mfec``, ``nec`` and ``box2`` (presets of
:data:`neurometa.agents.episodic.EPISODIC_CONTROL_PRESETS`, fields changed with ``--param``).
They learn online — every batch of episodes is written to their stores before
the next — so there is no separate training run: the recording *is* their learning, from an
empty memory, in batches of 8 episodes unless ``--batch-size`` says otherwise. Their memory
read-outs (``q_values``, ``memory_size``, ``nearest_distance``) are recorded.

Episodes stream to disk batch by batch (NetCDF ``.nc`` by default, Zarr ``.zarr``),
atomically; a progress bar goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from neurometa.cli import CLIError, add_json_flag, emit_json, seed_arg

#: Default batch of the online-learning episodic-control agents (they learn between batches).
EPISODIC_BATCH = 8

NAME = "record"
HELP = "record a baseline or trained agent's episodes (units, RPE, task variables) to a file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``neurometa record``."""
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument(
        "--agent",
        help="baseline agent name (e.g. thompson, ucb1, hybrid) or episodic-control agent "
        "(mfec, nec, box2: they learn while recorded)",
    )
    who.add_argument("--run", type=Path, help="run folder of a trained agent (neurometa train)")
    parser.add_argument("--task", help="task preset id for --agent (e.g. bandit/independent)")
    parser.add_argument("--episodes", type=int, help="episodes to record (not with --behaviour)")
    parser.add_argument(
        "--behaviour",
        type=Path,
        help="a lab recording: run the agent on the animal's own trials (its choices, "
        "outcomes and stimuli), one episode per session, lined up trial for trial",
    )
    parser.add_argument("--out", type=Path, required=True, help="output file (.nc or .zarr)")
    parser.add_argument(
        "--seed", type=seed_arg, default=0, help="the recording's seed (default 0)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        help=f"episodes in parallel (default <= 256; <= {EPISODIC_BATCH} for mfec/nec/box2)",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="baseline (or mfec/nec/box2) config field, value parsed as JSON, e.g. "
        "--param w=0.5 or --param epsilon=0.05",
    )
    parser.add_argument(
        "--task-set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field of the task preset for --agent, e.g. --task-set num_trials=50",
    )
    parser.add_argument(
        "--sample", action="store_true", help="trained agent: sample actions (default: greedy)"
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_json_flag(parser)


def _pairs(items: list[str], option: str) -> dict[str, Any]:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}`` (values parsed as JSON when they can be)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise CLIError(f"{option} expects KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = json.loads(text)
        except json.JSONDecodeError:
            out[key.strip()] = text
    return out


def _named(args: argparse.Namespace, batch: int) -> tuple[Any, Any, str, dict[str, Any]]:
    """A baseline, or an episodic-control agent with an empty memory (seeded by --seed)."""
    from neurometa.agents import make_agent
    from neurometa.agents.episodic import EpisodicControlAgent
    from neurometa.tasks import make

    if not args.task:
        raise CLIError("--agent needs --task PRESET (see neurometa tasks)")
    overrides, params = _pairs(args.task_set, "--task-set"), _pairs(args.param, "--param")
    task = make(args.task, batch, args.device, **overrides)
    agent = make_agent(args.agent, task, seed=args.seed, device=args.device, **params)
    if isinstance(agent, EpisodicControlAgent):
        about = {"episodic_control": args.agent, "config": agent.config.to_dict()}
    else:
        about = {"baseline": args.agent, "params": params}
    return agent, task, args.task, {"agent": about, "task_overrides": overrides}


def _trained(args: argparse.Namespace, batch: int) -> tuple[Any, Any, str, dict[str, Any]]:
    from neurometa.agents import make_agent
    from neurometa.learn import TrainConfig

    if args.task or args.param or args.task_set:
        raise CLIError("--run records the run's own task; drop --task/--param/--task-set")
    config = TrainConfig.load(args.run / "config.json")
    agent = make_agent(args.run, device=args.device, greedy=not args.sample)
    task = agent.make_task(batch, args.device)
    weights = _weights_used(args.run, config.optim.num_updates)
    if not weights["run_finished"]:
        print(
            f"neurometa record: warning: {args.run} is unfinished (no done.json: still "
            f"training, stopped or diverged); recording the weights of update "
            f"{weights['update']} of {weights['num_updates']} ({weights['file']})",
            file=sys.stderr,
        )
    meta = {"train": config.to_dict(), "run": str(args.run), "weights": weights}
    return agent, task, config.task.preset, meta


def _weights_used(run: Path, num_updates: int) -> dict[str, Any]:
    """Which checkpoint file a run's agent is loaded from, its update, whether the run ended."""
    from neurometa.learn.checkpoint import BEST, CHECKPOINT, load_checkpoint

    name = BEST if (run / BEST).is_file() else CHECKPOINT
    return {
        "file": name,
        "update": int(load_checkpoint(run / name)["update"]),
        "num_updates": int(num_updates),
        "run_finished": (run / "done.json").is_file(),
    }


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def run(args: argparse.Namespace) -> int:
    """Record and report the file, its size and the throughput."""
    from neurometa.config import ConfigError
    from neurometa.record import RecordingError, check_destination, record

    if args.behaviour is not None:
        from neurometa.commands._record_behaviour import run_replay

        return run_replay(args, _pairs)
    if args.episodes is None or args.episodes < 1:
        raise CLIError(f"--episodes must be a positive number, got {args.episodes}")
    from neurometa.agents.episodic.control import EPISODIC_CONTROL_PRESETS

    episodic = args.agent in EPISODIC_CONTROL_PRESETS
    batch = args.batch_size or min(args.episodes, EPISODIC_BATCH if episodic else 256)
    if batch < 1:
        raise CLIError(f"--batch-size must be positive, got {batch}")
    try:
        check_destination(args.out)  # before any work: not a user's folder, a known suffix
        build = _named if args.agent else _trained
        agent, task, preset, config = build(args, batch)
    except (KeyError, ValueError, ConfigError, FileNotFoundError) as err:
        raise CLIError(str(err).strip("'\"")) from None
    start = time.perf_counter()
    try:
        ds = record(agent, task, args.episodes, seed=args.seed, out=args.out,
                    progress=not args.no_progress, preset=preset, config=config)  # fmt: skip
    except RecordingError as err:
        raise CLIError(str(err)) from None
    seconds = time.perf_counter() - start
    steps = ds.sizes["episode"] * ds.sizes["step"]
    figures = {
        "out": str(args.out), "agent": ds.attrs["agent"], "preset": preset,
        "episodes": ds.sizes["episode"], "steps_per_episode": ds.sizes["step"],
        "units": ds.sizes.get("unit", 0), "seconds": round(seconds, 3),
        "steps_per_second": round(steps / seconds, 1), "bytes": _size(args.out),
    }  # fmt: skip
    ds.close()
    if args.json:
        emit_json(figures)
    else:
        mib, rate = figures["bytes"] / 2**20, figures["steps_per_second"]
        print(f"recorded {figures['episodes']} episodes x {figures['steps_per_episode']} steps "
              f"of {figures['agent']} on {preset} to {args.out} ({mib:.1f} MiB, {rate:.0f} "
              "steps/s)")  # fmt: skip
    return 0
