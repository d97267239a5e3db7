"""Compare an agent with recorded neurons: coding fractions, RSA and behaviour, side by side.

After Wang et al. 2018 (Nat Neurosci 21:860, Fig. 2), who set the fractions of meta-RL LSTM
units coding a(t-1), r(t-1), a(t-1)·r(t-1) and V(t) beside those of primate OFC neurons
(Tsutsui et al. 2016). Inputs are an agent recording (``neurometa record``) and a lab
recording (``neurometa import nwb``); outputs (in ``--out``):

- ``coding_comparison.csv`` / ``.nc``: fraction of coding units per term for agent and
  neurons, Clopper-Pearson intervals, shuffle chance levels, false-positive-corrected
  fractions, the difference with Newcombe's interval, two-proportion z and Fisher p;
- ``behaviour_comparison.csv`` / ``.nc``: P(stay) after rewarded / unrewarded trials;
- ``geometry.nc``, ``geometry_summary.csv``: RDMs on matched conditions (a(t-1), r(t-1),
  a(t)); RSA (Spearman rho, via rsatoolbox), debiased linear CKA and the Procrustes shape
  distance, each with a permutation p; the RSA split-half noise ceiling;
- ``compare.png``: the figure.

Example::

    python datasets/make_example_nwb.py --out example.nwb
    neurometa import nwb example.nwb --out neurons.nc --event cue_time --window 0 0.5
    python analyses/compare_agent_neurons.py agent.nc neurons.nc --out results/compare
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from neurometa.analysis.compare_report import CompareConfig, run_comparison
from neurometa.analysis.report import open_inputs
from neurometa.commands.analyze import ANALYSES, add_options, chosen_options


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("agent", type=Path, help="agent recording (.nc/.zarr)")
    parser.add_argument("neural", type=Path, help="lab recording (.nc/.zarr)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    add_options(parser, ANALYSES["compare"])
    parser.add_argument("--quick", action="store_true", help="few shuffles/permutations")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quick = {"num_shuffles": 3, "num_permutations": 200, "num_splits": 5} if args.quick else {}
    cfg = CompareConfig(**{**quick, **chosen_options(args, ANALYSES["compare"])})
    agent, neural = open_inputs([args.agent, args.neural])
    summary = run_comparison(agent, neural, args.out, cfg)
    if args.json:
        print(json.dumps(summary, sort_keys=True, default=float))
        return 0
    print("fraction of coding units (agent vs neurons):")
    for term, row in summary["coding"].items():
        print(
            f"  {term:12s} agent {row['agent_fraction']:.3f}  neurons {row['neural_fraction']:.3f}"
            f"  difference {row['difference']:+.3f}  Fisher p {row['p_fisher']:.3g}"
        )
    print("P(stay) (agent vs subjects):")
    for outcome, row in summary["behaviour"].items():
        print(
            f"  {outcome:12s} agent {row['agent_fraction']:.3f}  subjects "
            f"{row['subjects_fraction']:.3f}  Fisher p {row['p_fisher']:.3g}"
        )
    for measure, row in summary["geometry"].items():
        print(
            f"{measure:11s} {row['statistic']:.3f}  permutation p {row['p_value']:.3g}  "
            f"null mean {row['null_mean']:.3f}"
        )
    print(f"RSA noise ceiling {summary['rsa']['noise_ceiling']:.3f}")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
