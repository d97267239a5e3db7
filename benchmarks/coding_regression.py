"""Speed of the single-unit coding regression: all units in one least-squares solve.

Fits ``activity ~ 1 + a(t-1) + r(t-1) + a·r + V(t)`` for U units × N trials with
:class:`neurometa.analysis.coding.OLSDesign` (``(X'X)^-1 X'`` computed once, units in
chunks), and compares with a per-unit ``statsmodels.OLS`` loop timed on a sample of units
and extrapolated to all units. Activity is generated chunk by chunk (its generation is timed
separately and not counted as analysis time), so memory stays bounded.

Usage::

    python benchmarks/coding_regression.py            # 10,000 units x 100,000 trials
    python benchmarks/coding_regression.py --quick    # 1,000 units x 10,000 trials
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import statsmodels.api as sm
from threadpoolctl import threadpool_limits

from neurometa.analysis.coding import OLSDesign, coding_design
from neurometa.seeding import RunSeeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=250, help="units per solve")
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads")
    parser.add_argument("--sample", type=int, default=20, help="units timed with statsmodels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="1,000 units x 10,000 trials")
    args = parser.parse_args()
    if args.quick:
        args.units, args.trials = 1_000, 10_000
    rng = RunSeeds(args.seed).numpy("extra")
    n = args.trials
    X = coding_design(rng.integers(0, 2, n), rng.integers(0, 2, n), rng.normal(size=n))
    beta = rng.normal(size=5).astype(np.float32)
    solve_s = gen_s = solve_cpu = 0.0
    with threadpool_limits(args.threads):
        t0, c0 = time.perf_counter(), time.process_time()
        design = OLSDesign(X)
        solve_s += time.perf_counter() - t0
        solve_cpu += time.process_time() - c0
        sample_y = None
        for start in range(0, args.units, args.chunk):
            m = min(args.chunk, args.units - start)
            t0 = time.perf_counter()
            Y = rng.standard_normal((n, m), dtype=np.float32)
            Y += (X.astype(np.float32) @ beta)[:, None]
            gen_s += time.perf_counter() - t0
            t0, c0 = time.perf_counter(), time.process_time()
            res = design.fit(Y)
            solve_s += time.perf_counter() - t0
            solve_cpu += time.process_time() - c0
            if sample_y is None:
                sample_y, sample_t = (
                    Y[:, : args.sample].astype(np.float64),
                    res["t"][:, : args.sample],
                )
        t0 = time.perf_counter()
        ref_t = np.column_stack(
            [sm.OLS(sample_y[:, u], X).fit().tvalues for u in range(args.sample)]
        )
        sm_per_unit = (time.perf_counter() - t0) / args.sample
    sm_total = sm_per_unit * args.units
    print(f"units={args.units} trials={n} chunk={args.chunk} threads={args.threads}")
    print(
        f"one-solve OLS (all units): {solve_s:.2f} s wall, {solve_cpu:.2f} s CPU (all threads)"
        "   (target < 10 s wall on 2 idle cores)"
    )
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"data generation (not counted): {gen_s:.2f} s")
    print(
        f"statsmodels loop: {sm_per_unit * 1e3:.2f} ms/unit over {args.sample} units, "
        f"extrapolated to {args.units} units: {sm_total:.1f} s"
    )
    print(f"speed-up over the statsmodels loop: {sm_total / solve_s:.0f}x")
    print(f"max |t - t_statsmodels| on the sample: {np.abs(sample_t - ref_t).max():.2e}")


if __name__ == "__main__":
    main()
