"""Bandit Q-learning family: fit time, parameter recovery and model recovery.

Simulated subjects (``neurometa.behaviour.simulate``) on the two-armed reversal bandit
(``bandit/reversal``: 0.8 / 0.2, reversing every 40 trials), parameters drawn uniformly
from :data:`RANGES`. Prints

1. the time to fit all four models (ML, 5 restarts) to 100 subjects × 500 trials, beside a
   reference measured in the same run: the textbook fit — ``scipy.optimize.minimize``
   (L-BFGS-B, finite-difference gradients) per subject on a plain Python loop likelihood of
   ``q_learning``, one restart;
2. parameter recovery of every model (r between true and fitted values per parameter);
3. model recovery: each model simulates, all four are fitted, and the model with the best
   cross-validated held-out likelihood (folds by block) — and, separately, the lowest BIC —
   is counted; the confusion matrix (rows: generating model; columns: fraction of subjects
   best fitted by each model).

Usage (timed figures under the bench lock)::

    flock /work/wt/bench.lock python benchmarks/behaviour_bandit.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from neurometa import behaviour

MODELS = ("q_learning", "q_forgetting", "q_asymmetric", "q_choice_kernel")
#: Generating distribution (uniform) of each parameter.
RANGES = {
    "alpha": (0.1, 0.9), "beta": (1.0, 10.0), "forgetting": (0.05, 0.5),
    "alpha_pos": (0.1, 0.9), "alpha_neg": (0.1, 0.9), "alpha_c": (0.1, 0.9),
    "beta_c": (0.0, 3.0),
}  # fmt: skip
TASK = "bandit/reversal"


def draw(model: str, num: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    names = behaviour.get_model(model).parameters
    return {n: rng.uniform(*RANGES[n], num) for n in names}


def textbook_fit(table: pd.DataFrame) -> float:
    """Reference: per-subject scipy L-BFGS-B on a Python-loop Q-learning likelihood."""

    def nll(x: np.ndarray, choices: np.ndarray, rewards: np.ndarray) -> float:
        q, total = np.full(2, 0.5), 0.0
        for c, r in zip(choices, rewards, strict=True):
            logits = x[1] * q
            total -= logits[c] - np.logaddexp(logits[0], logits[1])
            q[c] += x[0] * (r - q[c])
        return total

    t0 = time.perf_counter()
    for _, rows in table.groupby("subject"):
        args = (rows["choice"].to_numpy(), rows["reward"].to_numpy())
        minimize(nll, np.array([0.5, 4.0]), args=args, method="L-BFGS-B", bounds=[(0, 1), (0, 20)])
    return time.perf_counter() - t0


def timing(num: int, trials: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = behaviour.simulate("q_learning", draw("q_learning", num, rng), TASK, trials, seed=seed)
    data = behaviour.behaviour_data(table, "bandit")
    t0 = time.perf_counter()
    for model in MODELS:
        t1 = time.perf_counter()
        behaviour.fit(model, data, progress=False)
        print(f"  {model:16s} {time.perf_counter() - t1:6.1f} s", flush=True)
    total = time.perf_counter() - t0
    reference = textbook_fit(table)
    print(
        f"all four models, {num} subjects x {trials} trials, 5 restarts: {total:.1f} s "
        f"(reference, scipy per subject on q_learning alone, 1 restart: {reference:.1f} s)",
        flush=True,
    )


def parameter_recovery(num: int, trials: int, seed: int) -> None:
    rng = np.random.default_rng(seed + 1)
    for model in MODELS:
        true = draw(model, num, rng)
        table = behaviour.simulate(model, true, TASK, trials, seed=seed)
        fits = behaviour.fit(model, table, family="bandit", progress=False)
        fits = fits.set_index("subject").loc[[str(i) for i in range(num)]]
        rs = {n: np.corrcoef(true[n], fits[n])[0, 1] for n in true}
        print(f"  {model:16s} " + "  ".join(f"r({n})={r:.3f}" for n, r in rs.items()), flush=True)


def model_recovery(num: int, trials: int, folds: int, restarts: int, seed: int) -> None:
    rng = np.random.default_rng(seed + 2)
    held, bic = {}, {}
    for gen in MODELS:
        table = behaviour.simulate(gen, draw(gen, num, rng), TASK, trials, seed=seed)
        per, _ = behaviour.compare_models(
            MODELS,
            table,
            family="bandit",
            num_folds=folds,
            num_restarts=restarts,
            seed=seed,
            progress=False,
        )
        for key, store, best in (("heldout_loglik", held, "idxmax"), ("bic", bic, "idxmin")):
            wide = per.pivot_table(index="subject", columns="model", values=key)
            winners = getattr(wide, best)(axis=1).value_counts(normalize=True)
            store[gen] = winners.reindex(MODELS).fillna(0.0)
        print(f"  simulated {gen} done", flush=True)
    for label, store in (("held-out likelihood", held), ("BIC", bic)):
        matrix = pd.DataFrame(store).T.loc[list(MODELS), list(MODELS)]
        print(f"model recovery by {label} (rows: generating model; fraction of subjects):")
        print(matrix.round(2).to_string())
        print(f"  diagonal: {np.round(np.diag(matrix.to_numpy()), 2).tolist()}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=100)
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--recovery-subjects", type=int, default=50)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--restarts", type=int, default=2, help="restarts in model recovery")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=("timing", "parameters", "models")
    )
    parser.add_argument("--quick", action="store_true", help="20 subjects x 200 trials")
    args = parser.parse_args(argv)
    if args.quick:
        args.subjects, args.trials, args.recovery_subjects, args.folds = 20, 200, 10, 2
    if "timing" not in args.skip:
        timing(args.subjects, args.trials, args.seed)
    if "parameters" not in args.skip:
        print(f"parameter recovery, {args.subjects} subjects x {args.trials} trials, ML:")
        parameter_recovery(args.subjects, args.trials, args.seed)
    if "models" not in args.skip:
        print(
            f"model recovery, {args.recovery_subjects} subjects x {args.trials} trials per "
            f"model, {args.folds} folds by block, {args.restarts} restarts:"
        )
        model_recovery(args.recovery_subjects, args.trials, args.folds, args.restarts, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
