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
from neurometa.analysis.runners import RPE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="two-step recordings")
    parser.add_argument("--out", type=Path, required=True, help="results folder")
    parser.add_argument("--signal", default="rpe", help="regressed variable (default rpe)")
    parser.add_argument("--onset-stage", default="0", help="stage of the onset signal")
    parser.add_argument("--outcome-stage", default="1", help="stage of the outcome signal")
    parser.add_argument("--restarts", type=int, default=5, help="hybrid-fit restarts")
    parser.add_argument("--seed", type=int, default=0, help="seed of the restarts")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print(summary_json(RPE.run(args.inputs, args.out, args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
