"""Cumulative expected regret of every bandit baseline on every two-armed bandit preset.

For each preset (independent, correlated, fixed 0.1/0.9, 0.25/0.75, 0.4/0.6) and each
baseline of :func:`neurometa.agents.baselines.list_baselines` ("bandit"), runs ``--episodes``
episodes of ``--num-trials`` trials and prints the mean cumulative expected regret
``sum_t (max p - p[a_t])`` at t = 10, 25, 50 and T with its standard error. All baselines
see the same episodes (common random numbers: the task seeds depend only on ``--seed`` and
the chunk). The Bayes-optimal row also prints the DP's exact prediction ``T E[max p] - V_0``.

Usage::

    python benchmarks/baselines.py            # 100,000 episodes per cell
    python benchmarks/baselines.py --quick    # 5,000 episodes per cell
    python benchmarks/baselines.py --json
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
import torch

from neurometa.agents.baselines import list_baselines, make_baseline
from neurometa.agents.baselines.bayes_dp import bayes_optimal_table
from neurometa.agents.baselines.priors import BanditPrior
from neurometa.cli import emit_json
from neurometa.seeding import RunSeeds
from neurometa.tasks import make

PRESETS = (
    "bandit/independent",
    "bandit/correlated",
    "bandit/fixed_0.1_0.9",
    "bandit/fixed_0.25_0.75",
    "bandit/fixed_0.4_0.6",
)
CHECKPOINTS = (10, 25, 50)
#: Parameters the benchmark sets (Thompson's reported policy is not needed for regret).
PARAMS = {"thompson": {"policy_samples": 0}}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=100_000, help="episodes per cell")
    parser.add_argument("--quick", action="store_true", help="5,000 episodes per cell")
    parser.add_argument("--num-trials", type=int, default=100, help="trials per episode T")
    parser.add_argument("--chunk", type=int, default=25_000, help="episodes run at once")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baselines", nargs="*", default=None, help="subset of baselines")
    parser.add_argument("--presets", nargs="*", default=list(PRESETS), help="bandit presets")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.quick:
        args.episodes = 5_000
    if args.episodes < 2 or args.chunk < 1:
        parser.error("--episodes must be >= 2 and --chunk >= 1")
    return args


def run_cell(preset: str, name: str, args: argparse.Namespace) -> dict[str, float]:
    """Cumulative regret of one baseline on one preset: means and standard errors."""
    seeds = RunSeeds(args.seed)
    regrets = []
    start = time.perf_counter()
    for chunk, first in enumerate(range(0, args.episodes, args.chunk)):
        size = min(args.chunk, args.episodes - first)
        task = make(preset, size, num_trials=args.num_trials)
        agent = make_baseline(name, task, **PARAMS.get(name, {}))
        obs, info = task.reset(seed=seeds.int("task") + chunk)
        agent.begin(task, torch.Generator().manual_seed(seeds.int("sampling") + chunk))
        per_trial = torch.zeros(args.num_trials, size, dtype=torch.float64)
        for t in range(args.num_trials):
            action, _ = agent.act(obs, info)
            obs, reward, terminated, _, info = task.step(action)
            agent.observe(action, reward, terminated, info)
            probs = info["arm_probs"]
            per_trial[t] = probs.max(1).values - probs.gather(1, action[:, None])[:, 0]
        regrets.append(per_trial.cumsum(0).numpy())
    cumulative = np.concatenate(regrets, axis=1)  # [T, episodes]
    result = {"seconds": time.perf_counter() - start}
    for t in (*CHECKPOINTS, args.num_trials):
        if t <= args.num_trials:
            row = cumulative[t - 1]
            result[f"regret_{t}"] = float(row.mean())
            result[f"se_{t}"] = float(row.std(ddof=1) / math.sqrt(row.size))
    return result


def print_table(results: dict[str, dict[str, dict[str, float]]], args: argparse.Namespace) -> None:
    T = args.num_trials
    cols = [t for t in (*CHECKPOINTS, T) if t <= T]
    print(f"mean cumulative expected regret over {args.episodes} episodes (± standard error)")
    header = f"{'preset':24s} {'baseline':16s}" + "".join(f"{'t=' + str(t):>18s}" for t in cols)
    print(header + f"{'DP exact':>10s}{'sec':>7s}")
    for preset, rows in results.items():
        for name, cell in rows.items():
            line = f"{preset:24s} {name:16s}"
            line += "".join(f"{cell[f'regret_{t}']:>10.3f} ± {cell[f'se_{t}']:.3f}" for t in cols)
            exact = cell.get("dp_exact")
            line += f"{exact:>10.3f}" if exact is not None else f"{'':>10s}"
            print(line + f"{cell['seconds']:>7.1f}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)
    names = args.baselines or [name for name, _, _ in list_baselines("bandit")]
    results: dict[str, dict[str, dict[str, float]]] = {}
    for preset in args.presets:
        results[preset] = {}
        for name in names:
            print(f"running {preset} / {name}", file=sys.stderr)
            cell = run_cell(preset, name, args)
            if name == "bayes_optimal":
                prior = BanditPrior.from_task(make(preset, 1, num_trials=args.num_trials))
                cell["dp_exact"] = bayes_optimal_table(prior, args.num_trials).bayes_regret
            results[preset][name] = cell
    if args.json:
        emit_json({"episodes": args.episodes, "num_trials": args.num_trials,
                   "seed": args.seed, "results": results})  # fmt: skip
    else:
        print_table(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
