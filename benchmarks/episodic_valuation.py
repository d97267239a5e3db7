"""Sample efficiency of episodic valuation (Box 2, MFEC, NEC) vs the parametric A2C agent.

Task: the 5 x 5 gridworld (``neurometa.tasks.gridworld``; 40 steps per episode, best
possible return 5). Every learner runs 8 episodes in parallel per batch. Performance
criterion: the mean return over the last 3 batches (24 episodes) reaches ``--threshold``
(default 3.0, i.e. 60 % of the best return). Printed per method and seed: episodes consumed
until the criterion is met (or "not reached" within the budget) and the wall time.

- Box 2 / MFEC / NEC: ``neurometa.agents.episodic.control`` presets (ε = 0.1).
- A2C: the PFC LSTM (48 units) on meta-RL inputs, trained by ``neurometa.learn.Trainer``
  (Adam 3e-3, γ = 0.95, λ = 0.95, entropy 0.01, value cost 0.5), sampling its policy.

Usage: ``python benchmarks/episodic_valuation.py [--quick] [--seeds 0 1 2]``
"""

from __future__ import annotations

import argparse
import time

import torch

from neurometa.agents.episodic import EPISODIC_CONTROL_PRESETS
from neurometa.learn import NetworkConfig, OptimConfig, TaskConfig, TrainConfig, Trainer
from neurometa.learn.learning_curve import episodes_to_criterion, episodic_learning_curve
from neurometa.tasks.gridworld import GridworldConfig, GridworldTask

BATCH = 8
WINDOW = 3


def run_episodic(method: str, seed: int, max_batches: int, threshold: float) -> int | None:
    task = GridworldTask(GridworldConfig(), BATCH)
    curve = episodic_learning_curve(EPISODIC_CONTROL_PRESETS[method], task, max_batches,
                                    seed=seed)  # fmt: skip
    return episodes_to_criterion(curve, threshold, window=WINDOW, batch_size=BATCH)


def run_a2c(seed: int, max_batches: int, threshold: float) -> int | None:
    config = TrainConfig(
        task=TaskConfig(preset="gridworld/5x5", trial_index=True),
        network=NetworkConfig(kind="pfc", num_units=48),
        optim=OptimConfig(batch_size=BATCH, learning_rate=3e-3, discount=0.95, gae_lambda=0.95,
                          value_cost=0.5, entropy_cost=0.01, entropy_final=0.01),
    )  # fmt: skip
    trainer, returns = Trainer(config, seed=seed), []
    for batch in range(max_batches):
        returns.append(trainer.step()["train_return"])
        if episodes_to_criterion(returns[-WINDOW:], threshold, window=WINDOW, batch_size=1):
            return (batch + 1) * BATCH
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, small budgets")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threshold", type=float, default=3.0)
    parser.add_argument("--episodic-batches", type=int, default=40)
    parser.add_argument("--a2c-batches", type=int, default=1000)
    parser.add_argument("--methods", default="mfec,nec,box2,a2c")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.episodic_batches, args.a2c_batches = [0], 10, 50
    torch.set_num_threads(1)
    print(
        f"gridworld 5x5, 40 steps (best return 5); criterion: mean return of the last "
        f"{WINDOW * BATCH} episodes >= {args.threshold}; {BATCH} episodes per batch"
    )
    for method in args.methods.split(","):
        found = []
        for seed in args.seeds:
            start = time.perf_counter()
            if method == "a2c":
                episodes, budget = (
                    run_a2c(seed, args.a2c_batches, args.threshold),
                    args.a2c_batches,
                )
            else:
                episodes = run_episodic(method, seed, args.episodic_batches, args.threshold)
                budget = args.episodic_batches
            seconds = time.perf_counter() - start
            shown = f"{episodes} episodes" if episodes else f"not reached in {budget * BATCH}"
            print(f"  {method:5s} seed {seed}: {shown} ({seconds:.0f} s)", flush=True)
            found.append(episodes)
        done = [e for e in found if e is not None]
        if done:
            print(
                f"  {method:5s} median over seeds that reached it: "
                f"{sorted(done)[len(done) // 2]} episodes ({len(done)}/{len(found)} seeds)"
            )


if __name__ == "__main__":
    main()
