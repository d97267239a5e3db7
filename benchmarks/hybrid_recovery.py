"""Parameter recovery of the Daw 2011 hybrid-model fit (issue 5 target: r(w) >= 0.9).

Simulates subjects with known parameters on the Daw 2011 two-step task
(:func:`neurometa.analysis.hybrid_model.simulate_hybrid`; the baselines' torch agent is not
needed), fits each by maximum likelihood and by MAP with weak priors
(:func:`neurometa.analysis.hybrid_fit.fit_hybrid`, ``prior=None`` / ``"weak"``) and prints,
per seed and fit, the correlation of true and fitted values of every parameter, w's mean
absolute error, how many subjects' fits reach at least the objective of the true parameters
(a check that the optimiser is not trapped), and the fit time; then r(w) over the seeds.

Generating distribution (uniform, independent; :data:`RANGES`). It is centred on the
medians of the per-subject hybrid-model fits of Daw, Gershman, Seymour, Dayan & Dolan
(2011, Neuron 69:1204, Table 1: β1 5.19, β2 3.69, α1 0.54, α2 0.42, λ 0.57, p 0.11,
w 0.39) and spans roughly the spread of those fits: α1, α2, λ in (0.2, 0.8); β1 in (3, 8);
β2 in (2, 6); p in (0, 0.3). w is drawn over its whole range (0, 1), as is usual in recovery
studies, so that r(w) measures recovery across the range rather than within Daw's narrower
inter-quartile band. No near-zero β is drawn: with β1 → 0 choices are random and w has no
effect on the likelihood, so no estimator can recover it; human fits rarely sit there.
``--vary w`` holds the other six at Daw's medians.

Usage::

    python benchmarks/hybrid_recovery.py            # 100 subjects x 200 trials, seeds 0 1 2
    python benchmarks/hybrid_recovery.py --quick    # 20 subjects x 200 trials, 1 restart, 1 seed
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from neurometa.analysis.hybrid_fit import _objective, fit_hybrid, trial_arrays
from neurometa.analysis.hybrid_model import PARAM_NAMES, simulate_hybrid
from neurometa.seeding import RunSeeds

#: Generating distribution (uniform ranges) of the simulated subjects (see module docstring).
RANGES = {
    "alpha1": (0.2, 0.8), "alpha2": (0.2, 0.8), "lam": (0.2, 0.8), "beta1": (3.0, 8.0),
    "beta2": (2.0, 6.0), "pers": (0.0, 0.3), "w": (0.0, 1.0),
}  # fmt: skip

#: Medians of the hybrid fits of Daw et al. 2011 (Table 1), used by ``--vary w``.
DAW_MEDIANS = {
    "alpha1": 0.54, "alpha2": 0.42, "lam": 0.57, "beta1": 5.19, "beta2": 3.69, "pers": 0.11,
}  # fmt: skip


def simulate_table(
    num_subjects: int, num_trials: int, seed: int, vary: str
) -> tuple[np.ndarray, pd.DataFrame]:
    """Draw true parameters (S, 7) and simulate their trial table."""
    rng = RunSeeds(seed).numpy("task")
    true = np.column_stack([rng.uniform(*RANGES[n], num_subjects) for n in PARAM_NAMES])
    if vary == "w":
        true[:, :6] = [DAW_MEDIANS[n] for n in PARAM_NAMES[:6]]
    sim = simulate_hybrid(true, num_trials, rng)
    table = pd.DataFrame({k: sim[k].ravel() for k in ("choice1", "state2", "choice2", "reward")})
    table["common"] = sim["common"].ravel()
    table["subject"] = np.repeat(np.arange(num_subjects), num_trials)
    table["episode"] = 0
    table["trial"] = np.tile(np.arange(num_trials), num_subjects)
    return true, table


def recover(
    true: np.ndarray, table: pd.DataFrame, prior: str | None, restarts: int, seed: int
) -> dict[str, float]:
    """Fit one simulated set; return r per parameter, w's MAE, the optimiser check, time."""
    t0 = time.perf_counter()
    fit = fit_hybrid(table, num_restarts=restarts, seed=seed, prior=prior)
    seconds = time.perf_counter() - t0
    fitted = fit.set_index("subject").loc[np.arange(len(true)), list(PARAM_NAMES)].to_numpy()
    data = trial_arrays(table)
    obj_true = _objective(data, "hybrid", true[:, None], data.common_prob, prior)[:, 0]
    obj_fit = _objective(data, "hybrid", fitted[:, None], data.common_prob, prior)[:, 0]
    out = {"seconds": seconds, "w_mae": float(np.abs(true[:, 6] - fitted[:, 6]).mean())}
    out["reached_true"] = float(np.mean(obj_fit <= obj_true + 1e-6))
    out["worst_gap"] = float(np.max(obj_fit - obj_true))
    for j, name in enumerate(PARAM_NAMES):
        varies = np.ptp(true[:, j]) > 0
        out[name] = np.corrcoef(true[:, j], fitted[:, j])[0, 1] if varies else np.nan
    return out


def main() -> None:
    """Run the recovery study and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--priors", nargs="+", choices=("none", "weak"), default=["none", "weak"])
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    parser.add_argument(
        "--vary",
        choices=("all", "w"),
        default="all",
        help="draw every parameter from RANGES (all) or only w (others at Daw's medians)",
    )
    parser.add_argument("--quick", action="store_true", help="20 subjects, 1 restart, 1 seed")
    args = parser.parse_args()
    if args.quick:
        args.subjects, args.restarts, args.seeds = 20, 1, args.seeds[:1]
    print(
        f"subjects={args.subjects} trials={args.trials} restarts={args.restarts} "
        f"vary={args.vary} seeds={args.seeds}"
    )
    r_w: dict[str, list[float]] = {p: [] for p in args.priors}
    for seed in args.seeds:
        true, table = simulate_table(args.subjects, args.trials, seed, args.vary)
        for prior in args.priors:
            with threadpool_limits(args.threads):
                res = recover(true, table, None if prior == "none" else prior, args.restarts, seed)
            r_w[prior].append(res["w"])
            corr = " ".join(f"{n}={res[n]:.3f}" for n in PARAM_NAMES if not np.isnan(res[n]))
            print(
                f"seed={seed} prior={prior:4s} fit time={res['seconds']:.1f} s  r: {corr}  "
                f"w MAE={res['w_mae']:.3f}  objective <= true for "
                f"{100 * res['reached_true']:.0f}% (worst gap {res['worst_gap']:+.3f})",
                flush=True,
            )
    for prior, values in r_w.items():
        spread = np.std(values, ddof=1) if len(values) > 1 else 0.0
        print(
            f"r(w) prior={prior}: mean {np.mean(values):.3f}, SD {spread:.3f}, "
            f"min {np.min(values):.3f}, max {np.max(values):.3f} over seeds {args.seeds} "
            "(target >= 0.9)"
        )


if __name__ == "__main__":
    main()
