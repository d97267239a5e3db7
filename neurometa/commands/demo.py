"""``neurometa demo``: the README's main job (train, record, analyse, plot)."""

from __future__ import annotations

import argparse
import sys

from neurometa.cli import CLIError, add_json_flag, emit_json, seed_arg

NAME = "demo"
HELP = "train a small meta-RL bandit agent, record it, compare its regret with baselines, plot"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``neurometa demo``."""
    parser.add_argument("--out", default="results/demo", help="output folder (results/demo)")
    parser.add_argument("--seed", type=seed_arg, default=0, help="run seed (0)")
    parser.add_argument(
        "--updates", type=int, default=None, help="training updates (default: demo budget)"
    )
    parser.add_argument("--episodes", type=int, default=2000, help="test episodes (2000)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    """Run the demo and print where its results are."""
    import torch

    from neurometa.demo import DEMO_UPDATES, run_demo

    for name in ("updates", "episodes"):  # before any training, not after it
        value = getattr(args, name)
        if value is not None and value < 1:
            raise CLIError(f"--{name} must be positive, got {value}")
    torch.set_num_threads(1)
    result = run_demo(
        args.out,
        seed=args.seed,
        updates=args.updates if args.updates is not None else DEMO_UPDATES,
        episodes=args.episodes,
        progress=not args.no_progress,
    )
    if args.json:
        emit_json({"out_dir": str(result.out_dir), "report": str(result.report),
                   "regret": result.regret, "train_seconds": result.train_seconds})  # fmt: skip
        return 0
    print(f"\nneurometa demo: results in {result.out_dir}/", file=sys.stderr)
    best = result.regret["bayes_optimal"]["mean"]
    for label, r in result.regret.items():
        print(f"  {label:>14s}: regret {r['mean']:.3f} ± {r['sem']:.3f}  "
              f"({r['mean'] / best:.2f} x Bayes-optimal)")  # fmt: skip
    print(f"  report: {result.report}")
    return 0
