"""Two-step behaviour + model pipeline (Daw et al. 2011; Miller et al. 2017; Akam et al. 2015).

For every input recording (an agent's from ``neurometa record`` or lab behaviour imported
with ``neurometa import two-step-csv``): stay probabilities with bootstrap CIs, the
``stay ~ reward × transition`` logistic regression, the Miller 2017 lagged regression and
its model-based / model-free indices, the Akam 2015 regression (when reward probabilities
are recorded), and hybrid-model fits with the nested model-free and model-based fits.
Results go to ``--out`` as NetCDF + CSV, figures as PNG; a summary is printed as JSON.

Example::

    neurometa record --agent hybrid --task two_step/daw2011 --episodes 20 --out hyb.nc
    python analyses/two_step_behaviour.py hyb.nc --out results/two_step
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neurometa.analysis.report import summary_json
from neurometa.analysis.runners import HYBRID, TWO_STEP


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="two-step recordings (.nc/.zarr)")
    parser.add_argument("--out", type=Path, required=True, help="results folder")
    parser.add_argument("--boot", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--lags", type=int, default=5, help="lags of the Miller regression")
    parser.add_argument("--restarts", type=int, default=5, help="hybrid-fit restarts")
    parser.add_argument(
        "--prior",
        choices=("none", "weak", "empirical"),
        default="none",
        help="hybrid fit: ML (none), weak-prior MAP or empirical Bayes (EM group prior)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of bootstraps and restarts")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {
        "behaviour": TWO_STEP.run(args.inputs, args.out, args),
        "hybrid_fits": HYBRID.run(args.inputs, args.out, args),
    }
    print(summary_json(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
