"""Environment steps per second of the batched tasks (bandit and two-step, batch 1/64/1024).

A "step" is one batch member advancing one step, so steps/s = B x task steps / seconds.
Episodes run back to back (every reset is timed too); actions are drawn beforehand from a
seeded generator so that only the task is timed. The best of ``--repeats`` runs is reported.

Usage::

    python benchmarks/tasks.py            # full run
    python benchmarks/tasks.py --quick    # a few seconds
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from neurometa.tasks import MetaRLInputs, make

PRESETS = ("bandit/independent", "two_step/daw2011", "two_step/wang2018")


def time_task(preset: str, num_envs: int, episodes: int, wrapped: bool) -> float:
    """Steps per second (batch members x steps / s) over ``episodes`` back-to-back episodes."""
    task = make(preset, num_envs)
    if wrapped:
        task = MetaRLInputs(task)
    gen = torch.Generator().manual_seed(0)
    actions = torch.randint(0, task.num_actions, (task.episode_length, num_envs), generator=gen)
    task.reset(seed=0)
    for t in range(task.episode_length):  # warm-up episode
        task.step(actions[t])
    start = time.perf_counter()
    for _ in range(episodes):
        task.reset()
        for t in range(task.episode_length):
            task.step(actions[t])
    seconds = time.perf_counter() - start
    return episodes * task.episode_length * num_envs / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (fewer episodes)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 64, 1024])
    parser.add_argument("--repeats", type=int, default=3, help="runs per setting (best kept)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    episodes = 3 if args.quick else 20
    repeats = 1 if args.quick else args.repeats
    rows = []
    for preset in PRESETS:
        for wrapped in (False, True):
            for num_envs in args.batch_sizes:
                rate = max(time_task(preset, num_envs, episodes, wrapped) for _ in range(repeats))
                rows.append(
                    {
                        "task": preset,
                        "meta_rl_inputs": wrapped,
                        "batch": num_envs,
                        "steps_per_s": rate,
                    }
                )
    if args.json:
        print(json.dumps({"threads": args.threads, "episodes": episodes, "rows": rows}))
        return
    print(f"torch {torch.__version__}, {args.threads} thread(s), {episodes} episodes per timing")
    print(f"{'task':<22}{'wrapper':<10}{'batch':>7}{'steps/s':>16}")
    for row in rows:
        wrapper = "MetaRL" if row["meta_rl_inputs"] else "-"
        print(f"{row['task']:<22}{wrapper:<10}{row['batch']:>7}{row['steps_per_s']:>16,.0f}")


if __name__ == "__main__":
    main()
