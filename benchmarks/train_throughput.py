"""Training throughput of the 48-unit PFC agent on two-armed bandits.

Measures environment steps per second of full A2C updates (rollout with gradients, loss,
backward pass, gradient clipping, Adam step) in one single-threaded process, for several
batch sizes, and optionally with several such processes side by side (how both cores of a
2-core machine are used: one single-thread process per core). Prints wall-clock and CPU-time
rates; on a shared machine the CPU-time rate is the better estimate of an idle core.

    python benchmarks/train_throughput.py            # batch 128, 256, 512; 1 and 2 processes
    python benchmarks/train_throughput.py --quick    # a few updates only
    python benchmarks/train_throughput.py --reference  # also the plain nn.LSTMCell loop

``--reference`` also times the same update written plainly
(:func:`neurometa.learn.reference.reference_update`: ``nn.LSTMCell`` stepped with autograd,
the same network, task and loss), so the taped trainer's speed-up is measured on the day.
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
    from neurometa.learn import Trainer

    trainer = Trainer(_config(batch_size, units), seed=0)
    for _ in range(warmup):
        trainer.step()
    wall0, cpu0, steps0 = time.perf_counter(), time.process_time(), trainer.env_steps
    for _ in range(updates):
        trainer.step()
    steps = trainer.env_steps - steps0
    return steps / (time.perf_counter() - wall0), steps / (time.process_time() - cpu0)


def measure_reference(batch_size: int, updates: int, units: int, warmup: int) -> float:
    """Steps per wall second of :func:`neurometa.learn.reference.reference_update`."""
    import torch

    torch.set_num_threads(1)
    from neurometa.learn import Trainer
    from neurometa.learn.reference import reference_update

    trainer = Trainer(_config(batch_size, units), seed=0)  # the same network and task
    opt = trainer.config.optim

    def update() -> None:
        reference_update(
            trainer.network, trainer.optimizer, trainer.task, trainer.sampler, opt,
            entropy_cost=opt.entropy_cost,
        )  # fmt: skip

    for _ in range(warmup):
        update()
    start = time.perf_counter()
    for _ in range(updates):
        update()
    return updates * batch_size * trainer.task.episode_length / (time.perf_counter() - start)


def _config(batch_size: int, units: int):  # noqa: ANN202 - TrainConfig, imported lazily
    from neurometa.learn.config import NetworkConfig, OptimConfig, TrainConfig

    return TrainConfig(
        network=NetworkConfig(num_units=units),
        optim=OptimConfig(batch_size=batch_size, num_updates=10**6),
    )


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
        "--reference", action="store_true", help="also time the plain reference update"
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
        print("# reference: neurometa.learn.reference.reference_update, one process")
        for batch in args.batch_sizes:
            rate = measure_reference(batch, args.updates, args.units, 2)
            print(f"{batch:5d}  {1:9d}  {rate:26,.0f}")
    print(f"# load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
