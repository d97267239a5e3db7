"""Bandit (and Harlow) behaviour pipeline (Wang et al. 2016; Harlow 1949; Wang et al. 2018).

For every input recording: win-stay / lose-shift probabilities; where the arms'
probabilities are recorded (agents and baselines from ``neurometa record``), P(better arm)
by difficulty and the cumulative expected regret curves of all inputs on one figure (pass
the agent and the baselines together to compare them); for Harlow recordings, accuracy by
trial. Lab bandit tables (``neurometa import bandit-csv``) get the analyses that need no
arm probabilities.

Example::

    neurometa record --agent thompson --task bandit/independent --episodes 1000 --out ts.nc
    neurometa record --agent ucb1 --task bandit/independent --episodes 1000 --out ucb.nc
    python analyses/bandit_behaviour.py ts.nc ucb.nc --out results/bandits
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neurometa.analysis.report import open_inputs, summary_json
from neurometa.analysis.runners import run_bandit, run_harlow
from neurometa.commands.analyze import ANALYSES, add_options, chosen_options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="bandit or Harlow recordings")
    parser.add_argument("--out", type=Path, required=True, help="results folder")
    add_options(parser, ANALYSES["bandit"])
    args = parser.parse_args(argv)
    datasets = open_inputs(args.inputs)
    harlow = [p for p, ds in zip(args.inputs, datasets, strict=True) if "correct" in ds]
    bandit = [p for p in args.inputs if p not in harlow]
    summary = {}
    if bandit:
        options = chosen_options(args, ANALYSES["bandit"])
        summary["bandit"] = run_bandit(bandit, args.out, **options)
    if harlow:
        summary["harlow"] = run_harlow(harlow, args.out)
    print(summary_json(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
