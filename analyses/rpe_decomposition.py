"""RPE decomposition pipeline (Daw et al. 2011; Wang et al. 2018 Box 4).

Fits the hybrid model to the behaviour of each two-step recording, computes the model-free
RPE and the (model-based − model-free) RPE difference per trial, and regresses a signal on
them at second-stage onset and at outcome: the agent's ``rpe`` by default, or any recorded
variable (``--signal h`` fits every unit). Results (NetCDF + CSV) and a coefficient figure
(PNG) go to ``--out``.

Example::

    neurometa record --agent hybrid --task two_step/daw2011 --episodes 20 --out hyb.nc
    python analyses/rpe_decomposition.py hyb.nc --out results/rpe
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neurometa.analysis.report import summary_json
from neurometa.analysis.runners import run_rpe
from neurometa.commands.analyze import ANALYSES, add_options, chosen_options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="two-step recordings")
    parser.add_argument("--out", type=Path, required=True, help="results folder")
    add_options(parser, ANALYSES["rpe"])
    args = parser.parse_args(argv)
    print(summary_json(run_rpe(args.inputs, args.out, **chosen_options(args, ANALYSES["rpe"]))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
