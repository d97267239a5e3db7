r"""Seed-to-seed spread of trained bandit agents, and what selection on held-out episodes buys.

Reads run folders written by ``benchmarks/train_bandit.py`` (one per seed, same config) and
tests each on the same 10,000 fresh episodes as that script (``TEST_SEED_BASE + seed``,
greedy), with the last weights and with ``best.pt``; prints every seed, the distribution
(median, worst, fraction within 5 % and 10 % of the Bayes-optimal regret) and, for runs that
logged a selection-set evaluation every few updates (``eval.interval > 0``):

- how well the selection regret at a fraction of the run predicts the final test regret
  (Spearman rank correlation over seeds);
- population selection, replayed from the runs: ``K`` members trained to update ``U`` of
  the same schedule, the one with the lowest selection regret at ``U`` trained on. A member
  continued alone ends exactly where its own run ended (training is deterministic per seed
  and evaluation draws from its own generators), so every group of ``K`` runs is one
  outcome of that recipe: the winner's final test regret. The members' selection sets
  differ here (each run's own ``eval`` stream), so the replay is noisier than a population
  sharing one selection set.

    python benchmarks/seed_spread.py /work/runs/bandit_independent_sel_seed*
    python benchmarks/seed_spread.py RUNS... --population 2 3 --at 0.2 0.35 0.5
"""

from __future__ import annotations

import argparse
import csv
import itertools
import statistics
from pathlib import Path

import torch
from train_bandit import TEST_SEED_BASE, bayes_regret, spread_summary

from neurometa.learn import evaluate, load_network


def test_ratio(run_dir: Path, which: str, episodes: int) -> tuple[float, int]:
    """Test regret of ``which`` weights / Bayes-optimal, and the update they come from."""
    network, config, payload = load_network(run_dir, which=which)
    result = evaluate(
        network,
        config.task,
        episodes=episodes,
        seed=TEST_SEED_BASE + int(payload["seed"]),
        greedy=config.eval.greedy,
    )
    return result["regret"] / bayes_regret(config.task), int(payload["update"])


def selection_curve(run_dir: Path) -> dict[int, float]:
    """Selection-set regret by update (the rows of ``metrics.csv`` with an evaluation)."""
    with (run_dir / "metrics.csv").open() as fh:
        return {
            int(r["update"]): float(r["eval_regret"])
            for r in csv.DictReader(fh)
            if r["eval_regret"]
        }


def spearman(x: list[float], y: list[float]) -> float:
    """Spearman's rank correlation (no ties expected)."""
    rank = lambda v: [sorted(v).index(a) for a in v]  # noqa: E731
    rx, ry = rank(x), rank(y)
    return statistics.correlation([float(a) for a in rx], [float(b) for b in ry])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="run folders, one per seed")
    parser.add_argument("--test-episodes", type=int, default=10_000)
    parser.add_argument("--population", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--at", type=float, nargs="+", default=[0.1, 0.2, 0.35, 0.5, 0.7])
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for run in sorted(args.runs):
        seed = int(load_network(run, which="last")[2]["seed"])
        last, last_update = test_ratio(run, "last", args.test_episodes)
        best, best_update = test_ratio(run, "best", args.test_episodes)
        rows.append((seed, run, last, best, best_update, last_update))
    print(f"# {len(rows)} runs; test: {args.test_episodes} fresh episodes each, greedy")
    print("seed  last_weights  best.pt  best_update  folder")
    for seed, run, last, best, best_update, _ in rows:
        print(f"{seed:4d}  {last:12.3f}  {best:7.3f}  {best_update:11d}  {run}")
    print("last weights: " + spread_summary([r[2] for r in rows]))
    print("best.pt:      " + spread_summary([r[3] for r in rows]))
    curves = {r[0]: selection_curve(r[1]) for r in rows}
    final = {r[0]: r[2] for r in rows}
    total = rows[0][5]
    if not all(len(c) > 1 for c in curves.values()):
        return
    print("\n# population selection replayed from the runs (winner: lowest selection regret)")
    print("at_update  spearman(selection, final)  K  groups  mean   median  worst  within_10%")
    for frac in args.at:
        update = min(curves[rows[0][0]], key=lambda u: abs(u - frac * total))
        seeds = [s for s in curves if update in curves[s]]
        rho = spearman([curves[s][update] for s in seeds], [final[s] for s in seeds])
        for k in (k for k in args.population if k <= len(seeds)):
            outcomes = [
                final[min(group, key=lambda s: curves[s][update])]
                for group in itertools.combinations(seeds, k)
            ]
            within = sum(o <= 1.10 for o in outcomes) / len(outcomes)
            print(
                f"{update:9d}  {rho:26.2f}  {k}  {len(outcomes):6d}  "
                f"{statistics.mean(outcomes):.3f}  {statistics.median(outcomes):.3f}  "
                f"{max(outcomes):.3f}  {within:10.2f}"
            )


if __name__ == "__main__":
    main()
