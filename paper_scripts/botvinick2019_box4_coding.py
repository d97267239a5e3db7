"""Botvinick et al. 2019, Box 4 (panels A-B): single-unit coding in the meta-RL agent.

After Wang et al. 2018 (Nat Neurosci 21:860, Fig. 2) and Tsutsui et al. 2016 (Nat Commun
7:12554): the meta-RL agent is trained on the baited two-option foraging task, recorded with
frozen weights, and every LSTM unit's activity at choice time is regressed on the previous
action, the previous reward, their interaction and the agent's current value estimate,

    h_u(t) = b0 + b1 a(t-1) + b2 r(t-1) + b3 a(t-1) r(t-1) + b4 V(t) + e,

(a, r coded ±1; two-sided t-test at α = 0.05). The figure shows the fraction of units coding
each variable beside the chance level obtained by shuffling trials, as in the review's
Box 4 (where recorded prefrontal neurons and agent units code all four).

Run ``python paper_scripts/botvinick2019_box4_coding.py --quick`` (minutes) or without
``--quick`` for the full training budget; outputs go to ``results/<script>/``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xarray as xr
from _common import cache_dir, cached_dataset, recorded, run_script, trained_run
from matplotlib.figure import Figure

from neurometa.analysis.coding import coding_fractions
from neurometa.analysis.plotting import plot_coding_fractions
from neurometa.config import Config, check_range, replace_path
from neurometa.learn import get_preset, load_agent

NAME = "botvinick2019_box4_coding"


@dataclass(frozen=True)
class CodingConfig(Config):
    """Settings of the single-unit coding reproduction."""

    train_preset: str = "foraging/coupled_baiting"
    """Training preset of :mod:`neurometa.learn` (task preset included)."""
    num_trials: int | None = None
    """Trials per episode in training and test (None: the task preset's, 500)."""
    num_updates: int = 2000
    """A2C updates of the meta-RL agent."""
    seed: int = 0
    """Training seed."""
    record_episodes: int = 200
    """Test episodes recorded with frozen weights."""
    record_seed: int = 1_000_000
    """Seed of the recorded test episodes (never used in training)."""
    alpha: float = 0.05
    """Significance level of each unit's two-sided t-tests."""
    num_shuffles: int = 50
    """Trial shuffles behind the chance level."""

    def __post_init__(self) -> None:
        if self.num_trials is not None:
            check_range(self, "num_trials", low=2)
        check_range(self, "num_updates", low=1)
        check_range(self, "seed", low=0)
        check_range(self, "record_episodes", low=1)
        check_range(self, "record_seed", low=0)
        check_range(self, "alpha", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
        check_range(self, "num_shuffles", low=1)


#: The preset's full training budget.
FULL = CodingConfig()
#: Minutes on 2 cores: 100-trial sessions.
QUICK = CodingConfig(num_trials=100, num_updates=150, record_episodes=100, num_shuffles=20)


def compute(config: CodingConfig, out_dir: Path) -> xr.Dataset:
    """Train (or load) the agent, record it and fit the coding regression to every unit.

    Returns
    -------
    xarray.Dataset, dim term
        The output of :func:`neurometa.analysis.coding.coding_fractions`: ``fraction`` (with
        its Clopper-Pearson interval), ``chance`` (with its shuffle interval), ``num_coding``.
    """
    cache = cache_dir(out_dir, config)

    def build() -> xr.Dataset:
        train_config = get_preset(config.train_preset)
        train_config = replace_path(train_config, "optim.num_updates", config.num_updates)
        if config.num_trials is not None:
            overrides = {**train_config.task.overrides, "num_trials": config.num_trials}
            train_config = replace_path(train_config, "task.overrides", overrides)
        agent = load_agent(trained_run(train_config, out_dir, seed=config.seed))
        batch = min(config.record_episodes, 100)
        ds = recorded(
            cache / "meta_rl.nc",
            agent,
            agent.make_task(batch),
            config.record_episodes,
            seed=config.record_seed,
            config=config,
        )
        out = coding_fractions(
            ds,
            activity="h",
            stage=0,
            alpha=config.alpha,
            num_shuffles=config.num_shuffles,
            seed=config.seed,
        )
        out.attrs.update(recordings=str(cache), config_json=config.to_json())
        return out

    return cached_dataset(cache / "results.nc", build)


def tables(ds: xr.Dataset) -> dict[str, pd.DataFrame]:
    """The fraction of coding units per regressor, with chance level and intervals."""
    return {"coding_fractions": ds.to_dataframe()}


def plot(ds: xr.Dataset) -> Figure:
    """Fraction of units coding each regressor (bars) beside its shuffle chance level."""
    ax = plot_coding_fractions(ds, title="meta-RL units, dynamic foraging (Box 4 A–B)")
    return ax.figure


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--quick`` for a minutes-long run, ``--out DIR`` for the output folder."""
    return run_script(__name__, argv)


if __name__ == "__main__":
    sys.exit(main())
