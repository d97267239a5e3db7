"""Single-unit coding pipeline (Tsutsui et al. 2016; Wang et al. 2018).

For every input recording with unit activity: one OLS per unit of activity ~ 1 + a(t−1) +
r(t−1) + a(t−1)·r(t−1) + V(t) (±1 coding) at a chosen stage, the fraction of units coding
each regressor with a shuffle chance level, results as NetCDF + CSV and a PNG per input.
The value regressor is the recording's own (``--value value``, agents) or, for recordings
without one (lab data), the chosen value of a behavioural model fitted to the same
behaviour (the family's default model, or ``--value hybrid``, ``--value q_learning``, ...;
docs/behaviour_models.md).

Example::

    neurometa record --run runs/two_step --episodes 200 --out agent.nc
    python analyses/single_unit_coding.py agent.nc --out results/coding --stage first
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neurometa.analysis.report import summary_json
from neurometa.analysis.runners import run_coding
from neurometa.commands.analyze import ANALYSES, add_options, chosen_options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="recordings with unit activity")
    parser.add_argument("--out", type=Path, required=True, help="results folder")
    add_options(parser, ANALYSES["coding"])
    args = parser.parse_args(argv)
    options = chosen_options(args, ANALYSES["coding"])
    print(summary_json(run_coding(args.inputs, args.out, **options)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
