"""Single-unit coding pipeline (Tsutsui et al. 2016; Wang et al. 2018).

For every input recording with unit activity: one OLS per unit of activity ~ 1 + a(t−1) +
r(t−1) + a(t−1)·r(t−1) + V(t) (±1 coding) at a chosen stage, the fraction of units coding
each regressor with a shuffle chance level, results as NetCDF + CSV and a PNG per input.
The value regressor is the recording's own (``--value value``, agents) or, for recordings
without one (lab data), the chosen value of a behavioural model fitted to the same
behaviour (``--value hybrid``, ``--value q_learning``, ... or ``--value default`` for the
family's default model; :func:`neurometa.behaviour.add_latents`).

Example::

    neurometa record --run runs/two_step --episodes 200 --out agent.nc
    python analyses/single_unit_coding.py agent.nc --out results/coding --stage first
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neurometa.analysis.coding import coding_fractions, coding_regression
from neurometa.analysis.plotting import plot_coding_fractions
from neurometa.analysis.report import open_inputs, stem, summary_json, write_figure, write_result
from neurometa.behaviour import add_latents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="recordings with unit activity")
    parser.add_argument("--out", type=Path, required=True, help="results folder")
    parser.add_argument("--activity", default="h", help="unit-activity variable (h, activity)")
    parser.add_argument("--stage", default="0", help="stage name or index within the trial")
    parser.add_argument("--value", default="value", help="value variable, or a model name")
    parser.add_argument("--shuffles", type=int, default=20, help="shuffles for chance")
    parser.add_argument("--seed", type=int, default=0, help="seed of shuffles and fits")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    stage = int(args.stage) if args.stage.isdigit() else args.stage
    summary = {}
    for path, ds in zip(args.inputs, open_inputs(args.inputs), strict=True):
        if args.value in ds:
            value = ds[args.value]
        else:  # a behavioural model's chosen value ("default": the family's default model)
            model = None if args.value == "default" else args.value
            ds, _ = add_latents(ds, model, seed=args.seed, progress=False)
            value = ds["model_chosen_value"]
        kw = {"activity": args.activity, "stage": stage, "value": value}
        fit = coding_regression(ds, **kw)
        frac = coding_fractions(ds, **kw, num_shuffles=args.shuffles, seed=args.seed)
        name = stem(path)
        write_result(args.out, f"coding_units_{name}", fit)
        write_result(args.out, f"coding_fractions_{name}", frac)
        write_figure(args.out, f"coding_fractions_{name}", lambda f=frac: plot_coding_fractions(f))
        summary[name] = frac[["fraction", "chance"]].to_dataframe().to_dict(orient="index")
    print(summary_json(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
