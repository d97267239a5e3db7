r"""Regret of trained meta-RL agents against the Bayes-optimal policy.

For each seed: train the preset (or resume its run folder), then evaluate the frozen
``best.pt`` weights (chosen on the selection episodes during training) on fresh test
episodes never used for training or selection, with greedy actions, and compare the mean
cumulative expected regret with the Bayes-optimal regret computed by dynamic programming
(:mod:`neurometa.agents.baselines.bayes_dp`) for the same prior and horizon. Also prints
the selection-set regret against environment steps and training time (the learning curve).

    python benchmarks/train_bandit.py --preset bandit/independent --seeds 0 1 2
    python benchmarks/train_bandit.py --preset bandit/correlated --eval-task bandit/correlated \\
        --runs-of bandit/independent          # the inductive-bias comparison
    python benchmarks/train_bandit.py --quick # 100 updates, 1 seed, 1000 test episodes
    python benchmarks/train_bandit.py --set optim.gae_lambda=0.9 --tag lam0.9  # a variant
    python benchmarks/train_bandit.py --no-train --diagnose   # where the regret comes from

``--set KEY=VALUE`` changes a field of the preset, as ``neurometa train --set`` does; give
such a variant a ``--tag`` so its run folders (``<preset>_<tag>_seed<S>``) do not resume the
preset's own runs (resuming with a different config is an error).

``--diagnose`` also records each agent and the Bayes-optimal policy on the same 5,000 test
episodes and prints where their regret comes from (:func:`neurometa.analysis.bandits.
regret_split`: episodes stuck on the worse arm against the others) and how often each
switches arms after a loss and after a win.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import time
from pathlib import Path

import torch

from neurometa.agents.baselines.bayes_dp import bayes_optimal_table
from neurometa.agents.baselines.priors import BanditPrior
from neurometa.commands.train import add_set_flag, build_config
from neurometa.learn import TaskConfig, evaluate, get_preset, load_network, train
from neurometa.learn.rollout import make_task

#: Test episodes are seeded far from every training/selection stream of a run.
TEST_SEED_BASE = 10**9


def bayes_regret(task_config: TaskConfig) -> float:
    """Bayes-optimal expected cumulative regret of the task's prior and horizon."""
    task = make_task(task_config, 1)
    return bayes_optimal_table(BanditPrior.from_task(task), task.num_trials).bayes_regret


def train_seed(preset: str, seed: int, args: argparse.Namespace) -> tuple[Path, float]:
    """Train (or resume) ``preset`` with the command line's changes; its folder and seconds."""
    config = build_config(preset, args.updates, args.overrides)
    tag = f"_{args.tag}" if args.tag else ""
    run_dir = args.out / f"{preset.replace('/', '_')}{tag}_seed{seed}"
    start = time.perf_counter()
    if not args.no_train:
        train(config, run_dir, seed=seed, resume=True, progress=True)
    return run_dir, time.perf_counter() - start


def diagnose(run_dir: Path, task_config: TaskConfig, episodes: int, seed: int) -> None:
    """Print the regret split and switch rates of the agent and the Bayes-optimal policy."""
    from neurometa.agents.baselines import make_baseline
    from neurometa.analysis.bandits import regret_split, win_stay_lose_shift
    from neurometa.learn import load_agent
    from neurometa.record import record
    from neurometa.tasks import make

    task = make(task_config.preset, episodes, **task_config.overrides)
    recordings = {
        "agent": record(
            load_agent(run_dir), make_task(task_config, episodes), episodes, seed=seed,
            progress=False,
        ),
        "bayes_optimal": record(
            make_baseline("bayes_optimal", task), task, episodes, seed=seed, progress=False
        ),
    }  # fmt: skip
    print("policy          mean  stuck(>10)  share  mean_not_stuck  P(switch|loss)  P(switch|win)")
    for name, ds in recordings.items():
        split = regret_split(ds, threshold=10.0)
        stay = win_stay_lose_shift(ds)["p_stay"]
        print(
            f"{name:14s} {float(split['mean_regret']):6.3f}  "
            f"{float(split['stuck_fraction']):9.4f}  {float(split['stuck_share']):5.3f}  "
            f"{float(split['mean_regret_not_stuck']):14.3f}  "
            f"{1 - stay['unrewarded']:14.3f}  {1 - stay['rewarded']:13.4f}"
        )


def learning_curve(run_dir: Path) -> list[tuple[int, float, float]]:
    """(env steps, cumulative training seconds, selection-set regret) at each evaluation."""
    with (run_dir / "metrics.csv").open() as fh:
        return [
            (int(r["env_steps"]), float(r["train_seconds"]), float(r["eval_regret"]))
            for r in csv.DictReader(fh)
            if r.get("eval_regret")
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="bandit/independent")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--updates", type=int, help="override optim.num_updates")
    parser.add_argument("--test-episodes", type=int, help="default 10000 (1000 with --quick)")
    parser.add_argument("--eval-task", help="task preset to test on (default: the training task)")
    parser.add_argument("--runs-of", help="also test runs of this training preset (same seeds)")
    parser.add_argument("--out", type=Path, default=Path("results/train_bandit"))
    add_set_flag(
        parser,
        help="change a config field of every preset trained (JSON value), e.g. "
        "optim.gae_lambda=0.9; use with --tag",
    )
    parser.add_argument("--tag", default="", help="name part of the variant's run folders")
    parser.add_argument(
        "--diagnose", action="store_true", help="regret split and switch rates vs Bayes-optimal"
    )
    parser.add_argument("--quick", action="store_true", help="100 updates, 1 seed, 1000 episodes")
    parser.add_argument(
        "--no-train", action="store_true", help="test the run folders as they are (best.pt)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.quick:
        args.updates, args.seeds = args.updates or 100, args.seeds[:1]
    if args.test_episodes is None:
        args.test_episodes = 1000 if args.quick else 10_000
    eval_task = TaskConfig(preset=args.eval_task) if args.eval_task else None
    print(f"# load average {os.getloadavg()[0]:.1f} at start ({os.cpu_count()} CPUs)")
    for preset in [args.preset] + ([args.runs_of] if args.runs_of else []):
        report(preset, args, eval_task)
    print(f"# load average {os.getloadavg()[0]:.1f} at end")


def report(preset: str, args: argparse.Namespace, eval_task: TaskConfig | None) -> None:
    rows = []
    for seed in args.seeds:
        run_dir, seconds = train_seed(preset, seed, args)
        network, config, payload = load_network(run_dir, which="best")
        task_config = eval_task or config.task
        result = evaluate(
            network,
            task_config,
            episodes=args.test_episodes,
            seed=TEST_SEED_BASE + seed,
            greedy=config.eval.greedy,
        )
        other = evaluate(
            network,
            task_config,
            episodes=args.test_episodes,
            seed=TEST_SEED_BASE + seed,
            greedy=not config.eval.greedy,
        )
        optimum = bayes_regret(task_config)
        print(
            f"# seed {seed}: {'sampled' if config.eval.greedy else 'greedy'} actions instead: "
            f"regret {other['regret']:.3f} ± {other['regret_sem']:.3f} "
            f"(ratio {other['regret'] / optimum:.3f})"
        )
        last = load_network(run_dir, which="last")
        if last[2]["update"] != payload["update"]:  # best.pt was chosen on selection episodes
            final = evaluate(
                last[0],
                task_config,
                episodes=args.test_episodes,
                seed=TEST_SEED_BASE + seed,
                greedy=config.eval.greedy,
            )
            print(
                f"# seed {seed}: last weights (update {last[2]['update']}) instead of best.pt "
                f"(update {payload['update']}): regret {final['regret']:.3f} ± "
                f"{final['regret_sem']:.3f} (ratio {final['regret'] / optimum:.3f})"
            )
        if args.diagnose:
            diagnose(run_dir, task_config, 5000, TEST_SEED_BASE + seed)
        curve = learning_curve(run_dir)
        rows.append(
            (
                seed,
                result["regret"],
                result["regret_sem"],
                result["regret"] / optimum,
                curve[-1][0],
                curve[-1][1],
                payload["update"],
            )
        )
        print(
            f"\n## {preset} seed {seed} -> tested on {task_config.preset}; best.pt from "
            f"update {payload['update']}; this call took {seconds:.0f} s"
        )
        print("env_steps  train_s  selection_regret")
        for steps, secs, regret in curve:
            print(f"{steps:11,d}  {secs:7.0f}  {regret:8.3f}")
    ratios = [r[3] for r in rows]
    print(
        f"\n# {preset} on {(eval_task or get_preset(preset).task).preset}: Bayes-optimal regret "
        f"{optimum:.3f}; {args.test_episodes} fresh test episodes per seed, greedy"
    )
    print("seed  regret  sem    ratio  env_steps  train_s  best_update")
    for seed, regret, sem, ratio, steps, secs, best in rows:
        print(
            f"{seed:4d}  {regret:6.3f}  {sem:5.3f}  {ratio:5.3f}  {steps:9,d}  {secs:7.0f}  "
            f"{best:11d}"
        )
    print(spread_summary(ratios))


def spread_summary(ratios: list[float]) -> str:
    """Mean, sd, median, best, worst and the fractions within 5 % and 10 % of the optimum."""
    spread = statistics.stdev(ratios) if len(ratios) > 1 else float("nan")
    within = {p: sum(r <= 1 + p / 100 for r in ratios) for p in (5, 10)}
    return (
        f"ratio to Bayes-optimal over {len(ratios)} seeds: mean {statistics.mean(ratios):.3f}, "
        f"sd {spread:.3f}, median {statistics.median(ratios):.3f}, min {min(ratios):.3f}, "
        f"max {max(ratios):.3f}; within 5 %: {within[5]}/{len(ratios)}, within 10 %: "
        f"{within[10]}/{len(ratios)}"
    )


if __name__ == "__main__":
    main()
