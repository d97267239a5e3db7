"""Speed of the encoding models: nested cross-validated ridge of every neuron at once.

The problem of a lab comparing an agent with its neurons: 1,000 neurons x 5,000 trials (50
sessions of 100) x 48 agent units, 5 outer folds grouped by session, 10 ridge penalties
chosen per neuron on the training folds (:mod:`neurometa.analysis.encoding_ridge`). Printed:

- the cross-validated fit of all neurons (:func:`encoding_models` with one null draw, and the
  engine alone), the target being <= 30 s on 2 cores;
- the whole analysis with the default 100 circular-shift null draws;
- the reference, measured in the same run: scikit-learn's per-neuron
  ``GridSearchCV(StandardScaler + Ridge)`` with the same folds, on ``--sample`` neurons and
  extrapolated to all (its R² must equal ours to 1e-8), and a 2,000 x 2,000 matrix product
  (the host's speed varies with load).

Usage::

    flock /work/wt/bench.lock python benchmarks/encoding_models.py     # the target size
    python benchmarks/encoding_models.py --quick                        # 200 neurons, 1,000 trials
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from neurometa.analysis.encoding import DEFAULT_PENALTIES, encoding_models
from neurometa.analysis.encoding_ridge import fold_ids, fold_stats, ridge_cv, sklearn_ridge_cv
from neurometa.seeding import RunSeeds


def synthetic(
    num_neurons: int, num_sessions: int, trials: int, units: int, seed: int
) -> tuple[xr.Dataset, xr.DataArray]:
    """Agent units (AR(1) over trials) and neurons, half of them reading out the units."""
    rng = RunSeeds(seed).numpy("extra")
    h = np.zeros((num_sessions, trials, units))
    h[:, 0] = rng.normal(size=(num_sessions, units))
    for t in range(1, trials):
        h[:, t] = 0.9 * h[:, t - 1] + np.sqrt(1 - 0.81) * rng.normal(size=(num_sessions, units))
    weights = rng.normal(size=(units, num_neurons)) / np.sqrt(units)
    weights[:, num_neurons // 2 :] = 0.0
    y = h @ weights + rng.normal(size=(num_sessions, trials, num_neurons))
    coords = {
        "episode": np.arange(num_sessions),
        "step": np.arange(trials),
        "trial": ("step", np.arange(trials)),
        "stage": ("step", np.full(trials, "cue")),
        "unit": np.arange(num_neurons),
        "subject": ("episode", np.full(num_sessions, "m1")),
    }
    attrs = {
        "schema_version": 1,
        "source": "lab",
        "task": "bandit",
        "preset": "bandit/lab",
        "config_json": "{}",
        "neurometa_version": "bench",
    }
    reward = rng.integers(0, 2, (num_sessions, trials)).astype(float)
    action = rng.integers(0, 2, (num_sessions, trials))
    neural = xr.Dataset(
        {
            "activity": (("episode", "step", "unit"), y),
            "reward": (("episode", "step"), reward),
            "action": (("episode", "step"), action),
        },
        coords=coords,
        attrs=attrs,
    )
    agent = xr.DataArray(
        h,
        dims=("episode", "trial", "feature"),
        coords={"feature": [f"h[{i}]" for i in range(units)]},
    )
    return neural, agent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--trials", type=int, default=100, help="trials per session")
    parser.add_argument("--units", type=int, default=48, help="agent units (predictors)")
    parser.add_argument("--null", type=int, default=100, help="null draws of the full run")
    parser.add_argument("--sample", type=int, default=5, help="neurons fitted by scikit-learn")
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="200 neurons x 1,000 trials")
    args = parser.parse_args()
    if args.quick:
        args.neurons, args.sessions, args.null = 200, 10, 20
    neural, agent = synthetic(args.neurons, args.sessions, args.trials, args.units, args.seed)
    penalties = DEFAULT_PENALTIES
    with threadpool_limits(args.threads):
        a = np.random.default_rng(0).normal(size=(2000, 2000))
        t0 = time.perf_counter()
        a @ a
        matmul_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        res = encoding_models(neural, {"agent": agent}, num_null=1, conditions=None)
        fit_s = time.perf_counter() - t0

        X = agent.values.reshape(-1, args.units)
        Y = neural["activity"].values.reshape(-1, args.neurons)
        folds = fold_ids(np.repeat(np.arange(args.sessions), args.trials), 5)
        t0 = time.perf_counter()
        ridge_cv(fold_stats(X - X.mean(0), Y - Y.mean(0), folds, 5), penalties)
        engine_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        full = encoding_models(neural, {"agent": agent}, num_null=args.null, conditions=None)
        full_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        # encoding_models z-scores each predictor over all trials (standardize="all"), then
        # fits Ridge per fold: the same estimator in scikit-learn
        Z = (X - X.mean(0)) / X.std(0)
        ref, _ = sklearn_ridge_cv(Z, Y[:, : args.sample], folds, penalties, standardize=False)
        ref_s = (time.perf_counter() - t0) / args.sample * args.neurons
    diff = float(np.max(np.abs(ref - res["r2"].values[0, : args.sample])))
    half = args.neurons // 2
    explained = full["explained"].values[0]
    print(
        f"{args.neurons} neurons x {args.sessions * args.trials} trials x {args.units} units, "
        f"5 folds by session, {len(penalties)} penalties, {args.threads} threads"
    )
    print(f"  cross-validated fit (encoding_models, 1 null draw): {fit_s:8.2f} s")
    print(f"  cross-validated fit (engine alone):                 {engine_s:8.2f} s")
    print(f"  with {args.null} circular-shift null draws:         {full_s:8.2f} s")
    print(
        f"  reference: scikit-learn GridSearchCV per neuron:    {ref_s:8.1f} s "
        f"(from {args.sample} neurons; max |R² difference| {diff:.1e})"
    )
    print(f"  reference: 2000x2000 matrix product:               {matmul_s:8.3f} s")
    print(
        f"  explained beyond the null: {explained[:half].mean():.3f} of the read-out "
        f"neurons, {explained[half:].mean():.3f} of the others (test level 0.05)"
    )


if __name__ == "__main__":
    main()
