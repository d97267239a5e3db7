"""Sweep engine figures: overhead per run, and the speed-up of 2 local workers over 1.

Prints (all measured here, on whatever else the machine is doing at the time):

- cluster start-up time of a LocalCluster with 1 and 2 worker processes;
- overhead per run: wall time of a sweep of no-op runs (each returns at once) divided by
  the number of runs, on a warm 1-worker cluster (Dask scheduling, pickling, the run
  folder's ``run.json``/``result.json``, gathering ``results.nc`` and ``summary.json``);
- the cost of re-invoking a finished sweep (every run skipped, no cluster contacted);
- the speed-up of 2 workers over 1 on CPU-bound runs: either a short real training run
  (``--work train``: the A2C trainer on ``bandit/independent``, when ``neurometa.learn`` is
  available) or a torch compute loop (``--work torch``: single-threaded matrix products of
  fixed size and count). Workers are warmed up (modules imported) before timing.

Usage::

    python benchmarks/sweep.py            # full run
    python benchmarks/sweep.py --quick    # about a minute
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from neurometa.config import Config
from neurometa.sweep import SweepAction, SweepSpec, register_action, run_sweep
from neurometa.sweep.cluster import usable_cores


@dataclass(frozen=True)
class WorkConfig(Config):
    """Config of the benchmark's synthetic runs."""

    size: int = 256
    """Side of the square matrices multiplied (torch work)."""
    repeats: int = 0
    """Matrix products per run (0: a no-op run)."""


def work_resolve(name: str) -> WorkConfig:
    return WorkConfig()


def work_run(config: WorkConfig, run_dir: Path, *, seed: int, resume: bool) -> dict[str, float]:
    """``repeats`` products of seeded ``size x size`` matrices (torch, threads as limited)."""
    if config.repeats == 0:
        return {"value": float(seed)}
    import torch

    from neurometa.seeding import RunSeeds

    gen = RunSeeds(seed).torch("extra")
    a = torch.randn(config.size, config.size, generator=gen) / config.size**0.5
    x = torch.randn(config.size, config.size, generator=gen)
    for _ in range(config.repeats):
        x = torch.tanh(a @ x)
    return {"value": float(x.abs().mean()), "torch_threads": float(torch.get_num_threads())}


register_action(SweepAction("bench_work", work_resolve, work_run, "value"), replace=True)
register_action(
    SweepAction("bench_noop", work_resolve, work_run, "value", uses_torch=False), replace=True
)


def _cluster(n_workers: int):  # noqa: ANN202
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.CRITICAL,
    )
    client = Client(cluster)
    return cluster, client, time.perf_counter() - start


def _timed_sweep(spec: SweepSpec, out: Path, client) -> float:  # noqa: ANN001
    start = time.perf_counter()
    report = run_sweep(spec, out, client=client, progress=False)
    if report.failed:
        raise RuntimeError(f"benchmark runs failed: {report.failed}")
    return time.perf_counter() - start


def _cpu_spec(work: str, num_runs: int, quick: bool) -> SweepSpec:
    seeds = tuple(range(num_runs))
    if work == "train":
        updates = 30 if quick else 60
        return SweepSpec(
            action="train",
            base="bandit/independent",
            grid={
                "optim.num_updates": (updates,),
                "optim.batch_size": (32,),
                "eval.interval": (0,),
                "eval.episodes": (32,),
            },  # fmt: skip
            seeds=seeds,
            metric="final_score",
            goal="max",
        )
    repeats = 400 if quick else 1200
    return SweepSpec(action="bench_work", base="w", grid={"repeats": (repeats,)}, seeds=seeds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter runs")
    parser.add_argument("--work", choices=("train", "torch"), default="train")
    parser.add_argument("--noop-runs", type=int, default=None, help="no-op runs (overhead)")
    parser.add_argument("--cpu-runs", type=int, default=None, help="CPU-bound runs (speed-up)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    noop_runs = args.noop_runs or (40 if args.quick else 200)
    cpu_runs = args.cpu_runs or (4 if args.quick else 8)
    work = args.work
    if work == "train":
        try:
            from neurometa.learn import PRESETS, train  # noqa: F401
        except ImportError:
            print("neurometa.learn.train is not available; using --work torch")
            work = "torch"
    root = Path(tempfile.mkdtemp(prefix="neurometa-bench-sweep-"))
    print(f"cores usable: {usable_cores()}; load average at start: {os.getloadavg()[0]:.1f}")
    cluster, client, start_1 = _cluster(1)
    print(f"LocalCluster start-up, 1 worker:  {start_1:.2f} s")
    with cluster, client:
        _timed_sweep(SweepSpec(action="bench_noop", base="w", seeds=(0,)), root / "warm1", client)
        noop = SweepSpec(action="bench_noop", base="w", seeds=tuple(range(noop_runs)))
        t_noop = _timed_sweep(noop, root / "noop", client)
        per_run_ms = 1e3 * t_noop / noop_runs
        print(f"overhead per run ({noop_runs} no-op runs, 1 worker): {per_run_ms:.1f} ms")
        start = time.perf_counter()
        report = run_sweep(noop, root / "noop", scheduler="tcp://127.0.0.1:9", progress=False)
        t_skip = time.perf_counter() - start
        print(f"re-invocation with all {report.num_skipped} runs done: {t_skip:.2f} s")
        spec = _cpu_spec(work, cpu_runs, args.quick)
        _timed_sweep(spec.replace(seeds=(10_000,)), root / "warm1-cpu", client)
        t1 = _timed_sweep(spec, root / "cpu1", client)
    cluster, client, start_2 = _cluster(2)
    print(f"LocalCluster start-up, 2 workers: {start_2:.2f} s")
    with cluster, client:
        _timed_sweep(spec.replace(seeds=(10_000, 10_001)), root / "warm2-cpu", client)
        t2 = _timed_sweep(spec, root / "cpu2", client)
    what = "short A2C training runs" if work == "train" else "torch matmul loops"
    print(f"{cpu_runs} CPU-bound runs ({what}, 1 thread each):")
    print(f"  1 worker:  {t1:.2f} s ({t1 / cpu_runs:.2f} s per run)")
    print(f"  2 workers: {t2:.2f} s")
    print(f"  speed-up of 2 workers over 1: {t1 / t2:.2f}x")
    print(f"load average at end: {os.getloadavg()[0]:.1f} (figures include other load)")
    print(f"(run folders under {root})")


if __name__ == "__main__":
    main()
