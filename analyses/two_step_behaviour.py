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
from neurometa.analysis.runners import run_hybrid, run_two_step
from neurometa.commands.analyze import ANALYSES, add_options, chosen_options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="two-step recordings (.nc/.zarr)")
    parser.add_argument("--out", type=Path, required=True, help="results folder")
    two_step, hybrid = ANALYSES["two-step"], ANALYSES["hybrid"]
    add_options(parser, two_step)
    add_options(parser, hybrid, [o for o in hybrid.options if o not in two_step.options])
    args = parser.parse_args(argv)
    summary = {
        "behaviour": run_two_step(args.inputs, args.out, **chosen_options(args, two_step)),
        "hybrid_fits": run_hybrid(args.inputs, args.out, **chosen_options(args, hybrid)),
    }
    print(summary_json(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
