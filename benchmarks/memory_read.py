"""Read latency and recall of EpisodicMemory: exact k-NN vs the inverted-file index.

Issue 6 target: a read of k = 50 from one store of 100,000 keys of width 64 for a batch of 64
queries in under 5 ms on 2 cores. Keys are drawn either unstructured (i.i.d. Gaussian, the
worst case for an inverted file) or clustered (1,000 Gaussian clusters, like embeddings of
recurring states); queries are perturbed stored keys. Recall@k = fraction of the exact k
nearest neighbours that the approximate search returns.

Usage: ``python benchmarks/memory_read.py [--quick] [--threads 2]``
"""

from __future__ import annotations

import argparse
import time

import torch

from neurometa.agents.memory import EpisodicMemory
from neurometa.seeding import RunSeeds


def make_keys(kind: str, n: int, dim: int, gen: torch.Generator) -> torch.Tensor:
    if kind == "gaussian":
        return torch.randn(1, n, dim, generator=gen)
    centres = torch.randn(1000, dim, generator=gen)
    labels = torch.randint(0, 1000, (n,), generator=gen)
    return (centres[labels] + 0.5 * torch.randn(n, dim, generator=gen))[None]


def time_ms(fn, repeats: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    # the minimum estimates the unloaded latency on a shared machine (as timeit does)
    return 1e3 * min(times)


def recall(exact: torch.Tensor, approx: torch.Tensor) -> float:
    return float((exact[..., :, None] == approx[..., None, :]).any(-1).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 keys, few repeats")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument(
        "--kernel", default="inverse_distance", choices=["inverse_distance", "cosine"]
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    n, repeats = (10_000, 5) if args.quick else (100_000, 20)
    dim, num_queries, k = 64, 64, 50
    gen = RunSeeds(0).torch("extra")
    print(
        f"store {n} x {dim}, {num_queries} queries, k={k}, kernel={args.kernel}, "
        f"threads={args.threads} (best of {repeats} timings)"
    )
    for kind in ("gaussian", "clustered"):
        keys = make_keys(kind, n, dim, gen)
        mem = EpisodicMemory(1, n, dim, 1, kernel=args.kernel, eviction="oldest")
        mem.write(keys, torch.zeros(1, n, 1))
        pick = torch.randint(0, n, (num_queries,), generator=gen)
        q = keys[:, pick] + 0.1 * torch.randn(1, num_queries, dim, generator=gen)
        exact_ms = time_ms(lambda mem=mem, q=q: mem.read(q, k), repeats)
        exact_idx, _ = mem.search(q, k)
        flat_keys = keys[0]
        matmul_ms = time_ms(lambda q=q, flat_keys=flat_keys: q[0] @ flat_keys.T, repeats)
        print(
            f"[{kind}] exact: {exact_ms:.2f} ms (load check: the bare {num_queries} x {dim} "
            f"x {n} matmul alone takes {matmul_ms:.2f} ms)"
        )
        num_lists = int(round(n**0.5 * 3))
        for probes in (1, 2, 4, 8):
            start = time.perf_counter()
            mem.build_index(num_lists, num_probes=probes, generator=gen)
            build_s = time.perf_counter() - start
            ms = time_ms(lambda mem=mem, q=q: mem.read(q, k, approximate=True), repeats)
            rec = recall(exact_idx, mem.search(q, k, approximate=True)[0])
            print(
                f"[{kind}] IVF lists={num_lists} probes={probes}: {ms:.2f} ms, "
                f"recall@{k}={rec:.3f}, build {build_s:.1f} s"
            )


if __name__ == "__main__":
    main()
