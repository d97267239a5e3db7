"""Parameter recovery of every behavioural model on its family's task.

Each registered model (``neurometa.behaviour.MODELS``) simulates subjects with parameters
drawn uniformly from :data:`RANGES` on its family's task (bandit: ``bandit/reversal``;
foraging: ``foraging/coupled_baiting``; two-step: ``two_step/daw2011``), is fitted back by
maximum likelihood (5 restarts), and the correlation r between true and fitted values of
every free parameter is printed, with the fit time.

Usage::

    python benchmarks/behaviour_recovery.py [--subjects 100] [--trials 500] [--models ...]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from neurometa import behaviour

#: Generating distribution (uniform) of each parameter.
RANGES = {
    "alpha": (0.1, 0.9), "beta": (1.0, 10.0), "forgetting": (0.05, 0.5),
    "alpha_pos": (0.1, 0.9), "alpha_neg": (0.1, 0.9), "alpha_c": (0.1, 0.9),
    "beta_c": (0.0, 3.0), "tau": (2.0, 30.0), "lapse": (0.02, 0.3),
    "alpha1": (0.2, 0.8), "alpha2": (0.2, 0.8), "lam": (0.2, 0.8), "beta1": (3.0, 8.0),
    "beta2": (2.0, 6.0), "perseveration": (0.0, 0.3), "w": (0.0, 1.0),
}  # fmt: skip
#: The task each model is simulated on.
TASKS = {"bandit": "bandit/reversal", "foraging": "foraging/coupled_baiting",
         "two_step": "two_step/daw2011"}  # fmt: skip


def recover(name: str, num: int, trials: int, seed: int) -> str:
    model = behaviour.get_model(name)
    family = model.families[0]  # the task it was written for
    rng = np.random.default_rng(seed)
    true = {n: rng.uniform(*RANGES[n], num) for n in model.parameters}
    table = behaviour.simulate(name, true, TASKS[family], trials, seed=seed)
    t0 = time.perf_counter()
    fits = behaviour.fit(name, table, family=family, progress=False)
    seconds = time.perf_counter() - t0
    fits = fits.set_index("subject").loc[[str(i) for i in range(num)]]
    rs = "  ".join(f"r({n})={np.corrcoef(true[n], fits[n])[0, 1]:.3f}" for n in true)
    return f"{name:16s} {TASKS[family]:26s} fit {seconds:6.1f} s  {rs}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=100)
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--two-step-trials", type=int, default=200)
    parser.add_argument("--models", nargs="*", default=list(behaviour.MODELS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(f"{args.subjects} subjects; {args.trials} trials ({args.two_step_trials} two-step)")
    for name in args.models:
        two_step = "two_step" in behaviour.get_model(name).families
        trials = args.two_step_trials if two_step else args.trials
        print(recover(name, args.subjects, trials, args.seed), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
