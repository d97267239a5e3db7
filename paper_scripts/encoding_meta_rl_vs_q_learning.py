"""Neuron by neuron: a meta-RL agent run on an animal's trials against Q-learning latents.

The test labs apply to a model of their neurons (e.g. the comparison of meta-RL units with
primate OFC neurons in Wang et al. 2018, Nat Neurosci 21:860, Fig. 2, after Tsutsui et al.
2016), done trial by trial: a meta-RL agent trained on the baited two-option foraging task
is run, with frozen weights, through the exact choices and outcomes of a lab session
(``neurometa record --behaviour``); its LSTM units on each trial, the latents of a
Q-learning model run through the same trials (state value V(t) before the choice and the
previous trial's RPE), and the task variables (previous choice and outcome) are each used to
predict every neuron's activity in the cue window by cross-validated ridge regression
(:func:`neurometa.analysis.encoding.encoding_models`: folds of contiguous blocks, penalty
chosen per neuron, circular-shift null; the first 5 trials, the agent's transient from its
initial state, are left out).

The lab session is the simulated foraging session of ``datasets/make_example_nwb.py``: a
Q-learning subject (learning rate 0.3, inverse temperature 5) with Poisson neurons whose
cue-window rate codes one of a(t-1), r(t-1), a(t-1)·r(t-1) or V(t) (planted classes in
the units table) or nothing. The Q-learning latents come from the forgetting Q-learner
baseline at the generating parameters (no forgetting), i.e. the generating model itself.

Run ``python paper_scripts/encoding_meta_rl_vs_q_learning.py --quick`` (minutes) or without
``--quick``; outputs go to ``results/<script>/``.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from _common import cache_dir, cached_dataset, run_script, trained_run

from neurometa.config import Config, check_range, replace_path

NAME = "encoding_meta_rl_vs_q_learning"
ROOT = Path(__file__).resolve().parents[1]
SETS = ("meta-RL units", "Q-learning latents", "task variables", "units + latents")


@dataclass(frozen=True)
class EncodingConfig(Config):
    """Settings of the neuron-level comparison."""

    train_preset: str = "foraging/coupled_baiting"
    """Training preset of the meta-RL agent (:mod:`neurometa.learn`)."""
    train_trials: int | None = None
    """Trials per training episode (None: the preset's)."""
    num_updates: int = 2000
    """A2C updates of the meta-RL agent."""
    seed: int = 0
    """Training seed."""
    lab_trials: int = 600
    """Trials of the simulated lab session."""
    lab_units: int = 200
    """Neurons of the simulated lab session."""
    lab_seed: int = 1
    """Seed of the simulated session (never used in training)."""
    block_length: int = 50
    """Trials per cross-validation block (contiguous)."""
    num_folds: int = 5
    """Outer folds."""
    num_null: int = 100
    """Circular-shift null draws."""
    skip_first: int = 5
    """Trials left out at the session start (the agent's initial transient)."""

    def __post_init__(self) -> None:
        check_range(self, "num_updates", low=1)
        check_range(self, "lab_trials", low=50)
        check_range(self, "lab_units", low=1)
        check_range(self, "block_length", low=5)
        check_range(self, "num_folds", low=3)
        check_range(self, "num_null", low=19)
        check_range(self, "skip_first", low=0)


#: The preset's training budget and a 600-trial session.
FULL = EncodingConfig()
#: Minutes on 2 cores.
QUICK = EncodingConfig(
    train_trials=100, num_updates=150, lab_trials=300, lab_units=100, block_length=30,
    num_null=49,
)  # fmt: skip


def _example_module():  # noqa: ANN202 - the dataset generator script, imported by path
    spec = importlib.util.spec_from_file_location(
        "make_example_nwb", ROOT / "datasets" / "make_example_nwb.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_example_nwb", module)
    spec.loader.exec_module(module)
    return module


def lab_session(config: EncodingConfig, cache: Path) -> xr.Dataset:
    """The simulated lab session, written as NWB and imported as a lab would."""
    from neurometa.data import read_nwb

    example = _example_module()
    path = cache / "lab.nwb"
    if not path.is_file():
        cfg = example.ExampleConfig(num_trials=config.lab_trials, num_units=config.lab_units)
        example.write_example(path, cfg, seed=config.lab_seed)
    return read_nwb(path, event="cue_time", window=(0.0, 0.5), task="foraging/coupled_baiting")


def _replays(config: EncodingConfig, lab: xr.Dataset, out_dir: Path) -> dict[str, xr.Dataset]:
    """The meta-RL agent and the Q-learner, each run on the lab session's trials."""
    from neurometa.agents import make_agent
    from neurometa.learn import get_preset, load_agent
    from neurometa.record.replay import replay

    train = replace_path(get_preset(config.train_preset), "optim.num_updates", config.num_updates)
    if config.train_trials is not None:
        overrides = {**train.task.overrides, "num_trials": config.train_trials}
        train = replace_path(train, "task.overrides", overrides)
    agent = load_agent(trained_run(train, out_dir, seed=config.seed))
    meta_rl = replay(
        lambda _: agent, lab, preset=train.task.preset, task_overrides=dict(train.task.overrides),
        trial_index=train.task.trial_index, progress=False,
    )  # fmt: skip
    params = {"learning_rate": 0.3, "forgetting": 0.0, "inverse_temperature": 5.0}
    q_learner = replay(
        lambda task: make_agent("q_forager", task, **params), lab,
        preset="foraging/coupled_baiting", progress=False,
    )  # fmt: skip
    return {"meta_rl": meta_rl, "q_learning": q_learner}


def compute(config: EncodingConfig, out_dir: Path) -> xr.Dataset:
    """Train (or load) the agent, run it and the Q-learner on the lab trials, fit encodings.

    Returns
    -------
    xarray.Dataset
        :func:`neurometa.analysis.encoding.encoding_models` over the four predictor sets,
        plus ``planted`` (each neuron's planted coding class) and attrs with the mean choice
        log-likelihood of each replayed model.
    """
    from neurometa.analysis.encoding import encoding_models
    from neurometa.analysis.trials import trial_predictors, union_predictors

    cache = cache_dir(out_dir, config)

    def build() -> xr.Dataset:
        cache.mkdir(parents=True, exist_ok=True)
        lab = lab_session(config, cache)
        runs = _replays(config, lab, out_dir)
        units = trial_predictors(runs["meta_rl"], ["h"])
        latents = trial_predictors(runs["q_learning"], ["value"], previous=["rpe"])
        sets = {
            SETS[0]: units,
            SETS[1]: latents,
            SETS[2]: trial_predictors(lab, [], previous=["action", "reward"]),
            SETS[3]: union_predictors(units, latents),
        }
        res = encoding_models(
            lab, sets, block_length=config.block_length, num_folds=config.num_folds,
            num_null=config.num_null, seed=config.seed, skip_first=config.skip_first,
        )  # fmt: skip
        res["planted"] = ("unit", lab["unit_planted_coding"].values.astype(str))
        res["planted"].attrs.update(long_name="planted coding class of the neuron", units="")
        for key, run in runs.items():
            res.attrs[f"choice_loglik_{key}"] = float(np.nanmean(run["choice_loglik"].values))
        res.attrs["q_value_matches_subject"] = float(
            np.nanmax(np.abs(runs["q_learning"]["value"].values - lab["value"].values))
        )
        res.attrs["config_json"] = config.to_json()
        return res

    return cached_dataset(cache / "results.nc", build)


def tables(ds: xr.Dataset) -> dict[str, pd.DataFrame]:
    """Per set: fraction explained and best; per planted class: median R² and best set."""
    per_set = ds[
        ["num_features", "fraction_explained", "fraction_low", "fraction_high", "fraction_best"]
    ].to_dataframe()
    r2 = ds["r2"].to_pandas().T
    r2["planted"] = ds["planted"].values
    r2["best_set"] = ds["best_set"].values
    by_class = r2.groupby("planted")[list(ds["predictor_set"].values)].median()
    by_class["neurons"] = r2.groupby("planted").size()
    for name in ds["predictor_set"].values:
        by_class[f"best: {name}"] = r2.groupby("planted")["best_set"].apply(
            lambda s, n=name: float(np.mean(s == n))
        )
    return {"encoding_sets": per_set, "encoding_by_planted_class": by_class}


def plot(ds: xr.Dataset) -> object:
    """Left: fraction of neurons explained per set; right: R² of units vs latents per neuron."""
    import matplotlib.pyplot as plt

    from neurometa.analysis.encoding_plots import plot_encoding_fractions, plot_encoding_scatter

    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8), layout="constrained")
    plot_encoding_fractions(ds, ax=axes[0])
    plot_encoding_scatter(ds, SETS[1], SETS[0], ax=axes[1])
    return fig


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--quick`` for a minutes-long run, ``--out DIR`` for the output folder."""
    return run_script(__name__, argv)


if __name__ == "__main__":
    sys.exit(main())
