"""``neurometa record ... --behaviour LAB.nc``: an agent on an animal's own trials.

The agent (``--run`` a trained network, ``--agent`` a baseline or an episodic-control agent
with ``--task``) lives through the sessions of the behaviour file with the animal's choices,
outcomes and stimuli (:func:`neurometa.record.replay.replay`); the recording lines up with the
lab's neural recording trial for trial and carries ``choice_loglik``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from neurometa.cli import CLIError, emit_json

__all__ = ["run_replay"]


def _agent_factory(
    args: argparse.Namespace, pairs: Any
) -> tuple[Any, str, dict, bool | None, dict]:
    """``(make_agent, preset, overrides, trial_index, config)`` from the command line."""
    from neurometa.agents import make_agent

    if args.run is not None:
        from neurometa.learn import TrainConfig

        if args.task or args.param or args.task_set:
            raise CLIError("--run replays the run's own task; drop --task/--param/--task-set")
        config = TrainConfig.load(args.run / "config.json")
        agent = make_agent(args.run, device=args.device, greedy=not args.sample)
        recorded = {"train": config.to_dict(), "run": str(args.run)}
        task = config.task
        return lambda _: agent, task.preset, dict(task.overrides), task.trial_index, recorded
    if not args.task:
        raise CLIError("--agent with --behaviour needs --task PRESET of the behaviour's family")
    overrides, params = pairs(args.task_set, "--task-set"), pairs(args.param, "--param")

    def build(task: Any) -> Any:
        return make_agent(args.agent, task, seed=args.seed, device=args.device, **params)

    config = {"agent": {"name": args.agent, "params": params}, "task_overrides": overrides}
    return build, args.task, overrides, None, config


def run_replay(args: argparse.Namespace, pairs: Any) -> int:
    """Replay the agent on ``args.behaviour`` and write ``args.out``."""
    from neurometa.config import ConfigError
    from neurometa.record import RecordingError, open_recording, recording_format, save_recording
    from neurometa.record.replay import ReplayError, replay

    if args.episodes is not None:
        raise CLIError("--behaviour replays every session of the file; drop --episodes")
    try:
        recording_format(args.out)
        behaviour = open_recording(args.behaviour).load()
        make_agent, preset, overrides, trial_index, config = _agent_factory(args, pairs)
        config["behaviour"] = str(args.behaviour)
        start = time.perf_counter()
        ds = replay(
            make_agent, behaviour, preset=preset, task_overrides=overrides,
            trial_index=trial_index, seed=args.seed, batch_size=args.batch_size,
            progress=not args.no_progress, config=config,
        )  # fmt: skip
        save_recording(ds, args.out)
    except (KeyError, ValueError, ConfigError, FileNotFoundError, RecordingError) as err:
        if isinstance(err, ReplayError | RecordingError):
            raise CLIError(str(err)) from None
        raise CLIError(str(err).strip("'\"")) from None
    choices = np.isfinite(ds["choice_loglik"].values)
    agree = ds["agent_action"].values[choices] == ds["action"].values[choices]
    figures = {
        "out": str(args.out), "agent": ds.attrs["agent"], "preset": preset,
        "behaviour": str(args.behaviour), "episodes": ds.sizes["episode"],
        "choices": int(choices.sum()),
        "mean_choice_loglik": float(np.nanmean(ds["choice_loglik"].values)),
        "agreement": float(agree.mean()) if agree.size else float("nan"),
        "seconds": round(time.perf_counter() - start, 3),
    }  # fmt: skip
    if args.json:
        emit_json(figures)
    else:
        print(f"replayed {figures['agent']} on {figures['episodes']} sessions of "
              f"{args.behaviour}: {figures['choices']} choices, mean log-likelihood "
              f"{figures['mean_choice_loglik']:.3f}, agreement {figures['agreement']:.3f} "
              f"-> {args.out}")  # fmt: skip
    return 0
