"""Exact expected cumulative regret of the count-based bandit baselines (no sampling).

For each two-armed bandit preset and each of Bayes-optimal, Gittins (discount 1 - 1/T),
Thompson sampling and UCB1, prints the expected cumulative regret after 10, 25, 50 and T
trials, computed by forward propagation of the count-state distribution
(:func:`neurometa.agents.baselines.exact_regret.exact_regret_curve`): the references that
simulated means (``benchmarks/baselines.py``, the README's demo) estimate.

Usage::

    python benchmarks/exact_regret.py                 # all presets, T = 100 (about 3 minutes)
    python benchmarks/exact_regret.py --presets bandit/independent --agents ucb1
"""

from __future__ import annotations

import argparse
import time

import torch
from baselines import PRESETS  # benchmarks/baselines.py: the two-armed bandit presets

from neurometa.agents.baselines import make_baseline
from neurometa.agents.baselines.exact_regret import exact_regret_curve
from neurometa.tasks import make

AGENTS = ("bayes_optimal", "gittins", "thompson", "ucb1")
AT = (10, 25, 50)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--agents", nargs="+", default=list(AGENTS))
    parser.add_argument("--num-trials", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"exact expected cumulative regret, T = {args.num_trials}")
    at = [t for t in AT if t < args.num_trials]
    print(f"{'preset':24s} {'agent':14s} " + " ".join(f"t={t:<7d}" for t in at) + " t=T      time")
    for preset in args.presets:
        task = make(preset, 1, num_trials=args.num_trials)
        for name in args.agents:
            start = time.perf_counter()
            curve = exact_regret_curve(make_baseline(name, task), task)
            cells = " ".join(f"{curve[t - 1]:<9.4f}" for t in at)
            seconds = time.perf_counter() - start
            print(f"{preset:24s} {name:14s} {cells} {curve[-1]:<8.4f} {seconds:5.1f} s")


if __name__ == "__main__":
    main()
