"""Training throughput of the 48-unit PFC agent on two-armed bandits.

Measures environment steps per second of full A2C updates (rollout with gradients, loss,
backward pass, gradient clipping, Adam step) in one single-threaded process, for several
batch sizes, and optionally with several such processes side by side (how both cores of a
2-core machine are used: one single-thread process per core). Prints wall-clock and CPU-time
rates; on a shared machine the CPU-time rate is the better estimate of an idle core.

    python benchmarks/train_throughput.py            # batch 128, 256, 512; 1 and 2 processes
    python benchmarks/train_throughput.py --quick    # a few updates only
    python benchmarks/train_throughput.py --reference  # also the plain nn.LSTMCell loop

``--reference`` times the design the issue's prototype measured (a plain ``nn.LSTMCell``
loop with autograd, a linear policy/value head, Bernoulli two-armed bandits drawn in torch,
an undiscounted A2C loss and Adam), so the figures of this machine can be set beside the
prototype's and beside the taped trainer's on the same day.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time


def measure(batch_size: int, updates: int, units: int, warmup: int) -> tuple[float, float]:
    """Return (steps per wall second, steps per CPU second) of ``updates`` A2C updates."""
    import torch

    torch.set_num_threads(1)
    from neurometa.learn import trainer
    from neurometa.learn.config import NetworkConfig, OptimConfig, TrainConfig

    config = TrainConfig(
        network=NetworkConfig(num_units=units),
        optim=OptimConfig(batch_size=batch_size, num_updates=10**6),
    )
    state = trainer._fresh_state(config, seed=0, device=torch.device("cpu"))
    for _ in range(warmup):
        trainer._train_step(state, config)
    wall0, cpu0, steps0 = time.perf_counter(), time.process_time(), state.env_steps
    for _ in range(updates):
        trainer._train_step(state, config)
    steps = state.env_steps - steps0
    return steps / (time.perf_counter() - wall0), steps / (time.process_time() - cpu0)


def measure_reference(batch_size: int, updates: int, units: int, warmup: int) -> float:
    """Steps per wall second of the plain ``nn.LSTMCell`` autograd A2C update (see above)."""
    import torch

    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    cell, head = torch.nn.LSTMCell(5, units), torch.nn.Linear(units, 3)
    optimizer = torch.optim.Adam([*cell.parameters(), *head.parameters()], lr=1e-3)
    steps = 100

    def update() -> None:
        h = c = torch.zeros(batch_size, units)
        x = torch.zeros(batch_size, 5)
        probs = torch.rand(batch_size, 2, generator=gen)
        log_probs, values, rewards = [], [], []
        for t in range(steps):
            h, c = cell(x, (h, c))
            out = head(h)
            logp = torch.log_softmax(out[:, :2], -1)
            action = torch.multinomial(logp.detach().exp(), 1, generator=gen)
            won = torch.rand(batch_size, 1, generator=gen) < probs.gather(1, action)
            reward = won.float()
            log_probs.append(logp.gather(1, action).squeeze(1))
            values.append(out[:, 2])
            rewards.append(reward.squeeze(1))
            trial = torch.full((batch_size, 1), t / steps)
            x = torch.cat(
                [
                    torch.nn.functional.one_hot(action.squeeze(1), 2),
                    reward,
                    trial,
                    torch.ones(batch_size, 1),
                ],
                1,
            )
        returns = torch.stack(rewards).flip(0).cumsum(0).flip(0)
        advantage = returns - torch.stack(values)
        loss = (
            -(torch.stack(log_probs) * advantage.detach()).mean() + 0.05 * advantage.pow(2).mean()
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(warmup):
        update()
    start = time.perf_counter()
    for _ in range(updates):
        update()
    return updates * batch_size * steps / (time.perf_counter() - start)


def _worker(args: tuple[int, int, int, int]) -> tuple[float, float]:
    return measure(*args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 256, 512])
    parser.add_argument("--updates", type=int, default=20, help="timed updates per measurement")
    parser.add_argument("--units", type=int, default=48)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="3 timed updates, batch 256 only")
    parser.add_argument(
        "--reference", action="store_true", help="also time the plain nn.LSTMCell loop"
    )
    args = parser.parse_args()
    if args.quick:
        args.batch_sizes, args.updates = [256], 3
    load = os.getloadavg()[0]
    print(f"# {os.cpu_count()} CPUs, load average {load:.1f} at start; torch single-threaded")
    print("batch  processes  steps/s per process (wall)  (CPU)   total steps/s (wall)")
    for batch in args.batch_sizes:
        for procs in args.processes:
            job = (batch, args.updates, args.units, 2)
            if procs == 1:
                results = [measure(*job)]
            else:
                with mp.get_context("spawn").Pool(procs) as pool:
                    results = pool.map(_worker, [job] * procs)
            wall = sum(r[0] for r in results) / procs
            cpu = sum(r[1] for r in results) / procs
            print(f"{batch:5d}  {procs:9d}  {wall:26,.0f}  {cpu:9,.0f}  {wall * procs:20,.0f}")
    if args.reference:
        print("# reference: plain nn.LSTMCell autograd loop, one process")
        for batch in args.batch_sizes:
            rate = measure_reference(batch, args.updates, args.units, 2)
            print(f"{batch:5d}  {1:9d}  {rate:26,.0f}")
    print(f"# load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
