"""Parameter recovery of the Daw 2011 hybrid-model fit (issue 5 target: r(w) >= 0.9).

Simulates subjects with known parameters on the Daw 2011 two-step task
(:func:`neurometa.analysis.hybrid_model.simulate_hybrid`; the baselines' torch agent is not
needed), fits each by maximum likelihood (:func:`neurometa.analysis.hybrid_fit.fit_hybrid`)
and prints the correlation of true and fitted values of every parameter, w's mean absolute
error, and the fit time.

Usage::

    python benchmarks/hybrid_recovery.py            # 100 subjects x 200 trials, 5 restarts
    python benchmarks/hybrid_recovery.py --quick    # 20 subjects x 200 trials, 1 restart
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from neurometa.analysis.hybrid_fit import fit_hybrid
from neurometa.analysis.hybrid_model import PARAM_NAMES, simulate_hybrid
from neurometa.seeding import RunSeeds

#: Generating distribution (uniform ranges) of the simulated subjects.
RANGES = {
    "alpha1": (0.2, 0.8), "alpha2": (0.2, 0.8), "lam": (0.2, 0.8), "beta1": (3.0, 8.0),
    "beta2": (3.0, 8.0), "pers": (0.0, 0.3), "w": (0.0, 1.0),
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    parser.add_argument(
        "--vary",
        choices=("all", "w"),
        default="all",
        help="draw every parameter from RANGES (all) or only w, the others at the baseline "
        "hybrid agent's defaults (alpha 0.5, lam 0.6, beta 5, p 0.1)",
    )
    parser.add_argument("--quick", action="store_true", help="20 subjects, 1 restart")
    args = parser.parse_args()
    if args.quick:
        args.subjects, args.restarts = 20, 1
    rng = RunSeeds(args.seed).numpy("task")
    true = np.column_stack([rng.uniform(*RANGES[n], args.subjects) for n in PARAM_NAMES])
    if args.vary == "w":
        true[:, :6] = [0.5, 0.5, 0.6, 5.0, 5.0, 0.1]
    sim = simulate_hybrid(true, args.trials, rng)
    table = pd.DataFrame({k: sim[k].ravel() for k in ("choice1", "state2", "choice2", "reward")})
    table["common"] = sim["common"].ravel()
    table["subject"] = np.repeat(np.arange(args.subjects), args.trials)
    table["episode"] = 0
    table["trial"] = np.tile(np.arange(args.trials), args.subjects)
    with threadpool_limits(args.threads):
        t0 = time.perf_counter()
        fit = fit_hybrid(table, num_restarts=args.restarts, seed=args.seed)
        seconds = time.perf_counter() - t0
    fitted = fit.set_index("subject").loc[np.arange(args.subjects), list(PARAM_NAMES)].to_numpy()
    print(
        f"subjects={args.subjects} trials={args.trials} restarts={args.restarts} "
        f"fit time={seconds:.1f} s"
    )
    for j, name in enumerate(PARAM_NAMES):
        if np.ptp(true[:, j]) == 0:
            print(f"  {name:7s} fixed at {true[0, j]:g}: mean fitted {fitted[:, j].mean():.3f}")
            continue
        r = np.corrcoef(true[:, j], fitted[:, j])[0, 1]
        print(f"  r(true, fitted) {name:7s} = {r:.3f}   generating range {RANGES[name]}")
    err = np.abs(true[:, 6] - fitted[:, 6]).mean()
    print(
        f"w: r = {np.corrcoef(true[:, 6], fitted[:, 6])[0, 1]:.3f} (target >= 0.9), "
        f"mean |error| = {err:.3f}"
    )


if __name__ == "__main__":
    main()
