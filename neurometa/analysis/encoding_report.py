"""Encoding models over recording files: ``neurometa analyze encoding NEURAL [OTHER...]``.

Predictor sets are named on the command line as ``--set NAME=INPUT:VARIABLES``: ``INPUT``
is the position of a recording among the inputs (0 = the neural recording itself, 1 = the
next file, e.g. an agent run on the animal's trials with ``neurometa record --behaviour``),
``VARIABLES`` a comma-separated list of its per-step variables; ``prev_X`` takes ``X`` from
the previous trial. ``--union A+B`` adds the union of two sets. Without ``--set``: the
task variables of the neural recording (choice, previous choice and outcome) and, when a
second recording is given, its units ``h`` and the union of both.

Writes ``encoding.nc`` (the labelled result of
:func:`neurometa.analysis.encoding.encoding_models`), ``encoding_neurons.csv`` (one row per
neuron: R², p-value and explained per set, the best set, the noise ceiling) and
``encoding.png`` (fractions explained, and R² of the first two sets neuron by neuron).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import xarray as xr

from neurometa.analysis.report import open_inputs, write_figure

__all__ = ["run_encoding", "parse_set", "build_predictor_sets"]


def parse_set(text: str, num_inputs: int) -> tuple[str, int, list[str]]:
    """Parse ``NAME=INPUT:VAR,VAR`` into its parts.

    Examples
    --------
    >>> parse_set("agent=1:h", 2)
    ('agent', 1, ['h'])
    """
    name, eq, rest = text.partition("=")
    index, colon, variables = rest.partition(":")
    if not (eq and colon and name and variables and index.strip().isdigit()):
        raise ValueError(f"--set {text!r}: expected NAME=INPUT:VAR[,VAR...], e.g. agent=1:h")
    if int(index) >= num_inputs:
        raise ValueError(f"--set {text!r}: input {index} does not exist ({num_inputs} given)")
    return name.strip(), int(index), [v.strip() for v in variables.split(",") if v.strip()]


def build_predictor_sets(
    recordings: list[xr.Dataset],
    sets: list[str],
    unions: list[str],
    *,
    stage: str | int = 0,
    categorical: list[str] | None = None,
) -> dict[str, xr.DataArray]:
    """Predictor sets from ``--set`` / ``--union`` specifications (defaults when empty)."""
    from neurometa.analysis.trials import choice_variable, trial_predictors, union_predictors

    if not sets:
        choice = choice_variable(recordings[0])
        sets = [f"task=0:{choice},prev_{choice},prev_reward"]
        if len(recordings) > 1:
            sets.append("agent=1:h")
            unions = unions or ["agent+task"]
    out: dict[str, xr.DataArray] = {}
    for text in sets:
        name, index, variables = parse_set(text, len(recordings))
        ds = recordings[index]
        now = [v for v in variables if not (v.startswith("prev_") and v not in ds)]
        prev = [v.removeprefix("prev_") for v in variables if v not in now]
        cats = [c for c in categorical or [] if c in now or c in prev]
        out[name] = trial_predictors(ds, now, stage=stage, previous=prev, categorical=cats)
    for text in unions:
        parts = text.split("+")
        unknown = [p for p in parts if p not in out]
        if len(parts) < 2 or unknown:
            raise ValueError(f"--union {text!r}: name two or more sets among {sorted(out)}")
        out[text] = union_predictors(*(out[p] for p in parts))
    return out


def _write(res: xr.Dataset, out: Path) -> None:
    """``encoding.nc`` and the per-neuron table ``encoding_neurons.csv``, atomically."""
    from neurometa.analysis.result_attrs import describe_result
    from neurometa.atomic import atomic_open
    from neurometa.netcdf import write_netcdf

    described = describe_result(res.copy(deep=False))
    write_netcdf(described, out / "encoding.nc", title="neurometa encoding models per neuron")
    neurons = res[["r2", "p_value", "explained"]].to_dataframe().unstack("predictor_set")
    neurons.columns = [f"{var}_{name}" for var, name in neurons.columns]
    neurons["best_set"] = res["best_set"].values
    neurons["noise_ceiling"] = res["noise_ceiling"].values
    with atomic_open(out / "encoding_neurons.csv") as fh:
        neurons.to_csv(fh)


def run_encoding(
    inputs: list[str | os.PathLike[str]],
    out: str | os.PathLike[str] | None = None,
    *,
    sets: list[str] | tuple[str, ...] | None = None,
    unions: list[str] | tuple[str, ...] | None = None,
    categorical: str = "",
    activity: str = "activity",
    stage: str | int = 0,
    predictor_stage: str | int = 0,
    num_folds: int = 5,
    group_by: str = "episode",
    block_length: int | None = None,
    null: str = "circular",
    num_null: int = 100,
    skip_first: int = 0,
    standardize: str = "all",
    alpha: float = 0.05,
    seed: int = 0,
) -> dict[str, Any]:
    """Encoding models of the neurons of ``inputs[0]`` from predictor sets of the inputs.

    Parameters
    ----------
    inputs : list of path-like
        The neural recording first, then e.g. an agent run on its trials.
    out : path-like, optional
        Writes ``encoding.nc``, ``encoding_neurons.csv`` and ``encoding.png`` there.
    sets, unions : list of str, optional
        ``NAME=INPUT:VAR,...`` and ``A+B`` (module docstring); defaults as described there.
    categorical : str
        Comma-separated variables coded one-hot.
    activity, stage, predictor_stage, num_folds, group_by, block_length, null, num_null,
    skip_first, standardize, alpha, seed
        As :func:`neurometa.analysis.encoding.encoding_models`.

    Returns
    -------
    dict
        ``num_neurons``, ``num_trials`` and per set the fraction explained (Wilson interval),
        the fraction best explained, the median R².
    """
    from neurometa.analysis.encoding import encoding_models
    from neurometa.analysis.encoding_plots import plot_encoding_fractions, plot_encoding_scatter

    recordings = open_inputs([Path(p) for p in inputs])
    predictors = build_predictor_sets(
        recordings,
        list(sets or []),
        list(unions or []),
        stage=predictor_stage,
        categorical=[c for c in categorical.split(",") if c],
    )
    res = encoding_models(
        recordings[0],
        predictors,
        activity=activity,
        stage=stage,
        num_folds=num_folds,
        group_by=group_by,
        block_length=block_length,
        null=null,
        num_null=num_null,
        skip_first=skip_first,
        standardize=standardize,
        alpha=alpha,
        seed=seed,
        progress=True,
    )
    if out is not None:
        _write(res, Path(out))

    def figure() -> Any:
        import matplotlib.pyplot as plt

        two = res.sizes["predictor_set"] >= 2
        fig, axes = plt.subplots(
            1, 2 if two else 1, figsize=(8 if two else 4, 3.4), layout="constrained", squeeze=False
        )
        plot_encoding_fractions(res, ax=axes[0, 0])
        if two:
            plot_encoding_scatter(res, ax=axes[0, 1])
        return fig

    write_figure(out, "encoding", figure)
    return {
        "num_neurons": res.attrs["num_neurons"],
        "num_trials": res.attrs["num_trials"],
        "sets": {
            str(n): {
                "num_features": int(res["num_features"].sel(predictor_set=n)),
                "fraction_explained": float(res["fraction_explained"].sel(predictor_set=n)),
                "fraction_low": float(res["fraction_low"].sel(predictor_set=n)),
                "fraction_high": float(res["fraction_high"].sel(predictor_set=n)),
                "fraction_best": float(res["fraction_best"].sel(predictor_set=n)),
                "median_r2": float(res["r2"].sel(predictor_set=n).median()),
            }
            for n in res["predictor_set"].values
        },
    }
