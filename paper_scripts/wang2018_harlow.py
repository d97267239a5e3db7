"""Botvinick et al. 2019, Fig. 1C (Wang et al. 2018, Fig. 7): learning to learn in Harlow's task.

Harlow (1949) showed monkeys pairs of novel objects for six trials, always rewarding the same
one; after hundreds of such problems they were at chance on trial 1 and near perfect from
trial 2 on. Wang et al. 2018 (Nat Neurosci 21:860) trained the meta-RL agent (prefrontal LSTM,
256 units, trained by the actor-critic TD error) on the same problem and saw the same
learning-to-learn curve. Here the agent is trained for increasing numbers of A2C updates
(one run per budget, each with the full learning-rate schedule) and each trained agent is
tested with frozen weights on fresh object pairs; the figure shows the accuracy (fraction
choosing the rewarded object) on each trial of the episode, per training budget, beside the
ideal one-shot observer (chance on trial 1, perfect after).

Objects are random feature vectors, not images, and a trial is one step (see
:mod:`neurometa.tasks.harlow`). Run ``python paper_scripts/wang2018_harlow.py --quick``
(minutes) or without ``--quick`` for the full budgets.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from _common import cache_dir, cached_dataset, recorded, run_script, trained_run
from matplotlib.figure import Figure

from neurometa.agents.baselines import make_baseline
from neurometa.config import Config, ConfigError, check_range, replace_path
from neurometa.learn import get_preset, load_agent
from neurometa.tasks import make

NAME = "wang2018_harlow"


@dataclass(frozen=True)
class HarlowConfig(Config):
    """Settings of the Harlow learning-to-learn reproduction."""

    train_preset: str = "harlow/wang2018"
    """Training preset of :mod:`neurometa.learn` (task preset included)."""
    train_overrides: dict[str, Any] = field(default_factory=dict)
    """Dotted overrides of the training preset (e.g. ``{"network.num_units": 48}``)."""
    budgets: tuple[int, ...] = (1000, 3000, 10000)
    """A2C updates of each trained agent (one run per budget), increasing."""
    seed: int = 0
    """Training seed of every run."""
    test_episodes: int = 1000
    """Test episodes (fresh object pairs) per agent, frozen weights, greedy actions."""
    test_seed: int = 1_000_000
    """Seed of the test episodes (the same episodes for every agent)."""

    def __post_init__(self) -> None:
        if not self.budgets or any(b < 1 for b in self.budgets):
            raise ConfigError(f"HarlowConfig.budgets must be positive, got {self.budgets}")
        if list(self.budgets) != sorted(set(self.budgets)):
            raise ConfigError(f"HarlowConfig.budgets must increase, got {self.budgets}")
        check_range(self, "seed", low=0)
        base = get_preset(self.train_preset)  # unknown preset: KeyError naming the valid ones
        for key, value in self.train_overrides.items():
            base = replace_path(base, key, value)  # bad key or value: ConfigError naming it
        check_range(self, "test_episodes", low=2)
        check_range(self, "test_seed", low=0)


#: Settings that learned the task in our runs: the ``harlow/wang2018`` preset (256 units, a
#: decaying learning rate, entropy 0.05 -> 0) stayed at chance for the 400 updates we ran,
#: while 48 units, a constant learning rate of 2e-3 and a constant entropy cost of 0.01 took
#: the training return from chance (3.0 of 6) to 5.2 between updates 2,600 and 3,000 (seed 0).
LEARNING_SETTINGS: dict[str, Any] = {
    "network.num_units": 48,
    "optim.learning_rate": 2e-3,
    "optim.lr_schedule": "constant",
    "optim.entropy_cost": 0.01,
    "optim.entropy_final": 0.01,
}
#: Three stages of training, up to 10,000 updates of 128 episodes.
FULL = HarlowConfig(train_overrides=LEARNING_SETTINGS)
#: Minutes on 2 cores: before and just after the jump.
QUICK = HarlowConfig(train_overrides=LEARNING_SETTINGS, budgets=(300, 3000), test_episodes=500)


def accuracy_by_trial(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Mean and s.e.m. over episodes of the recorded ``correct`` flag, per trial."""
    correct = ds["correct"].astype(np.float64).groupby("trial").mean("step")
    mean = correct.mean("episode").values
    sem = correct.std("episode", ddof=1).values / np.sqrt(ds.sizes["episode"])
    return mean, sem


def compute(config: HarlowConfig, out_dir: Path) -> xr.Dataset:
    """Train (or load) one agent per budget, test each, and measure accuracy per trial.

    Returns
    -------
    xarray.Dataset
        ``accuracy`` and ``accuracy_sem`` (agent, trial), trial counted from 1; agents
        ``meta_rl:<updates>`` and ``harlow_ideal``; ``updates`` (agent), 0 for the observer.
    """
    cache = cache_dir(out_dir, config)
    base = get_preset(config.train_preset)
    for key, value in config.train_overrides.items():
        base = replace_path(base, key, value)

    def build() -> xr.Dataset:
        names, updates, curves = [], [], []
        batch = min(config.test_episodes, 500)
        for budget in config.budgets:
            run = trained_run(
                replace_path(base, "optim.num_updates", budget), out_dir, seed=config.seed
            )
            agent = load_agent(run)
            ds = recorded(
                cache / f"meta_rl_{budget}.nc",
                agent,
                agent.make_task(batch),
                config.test_episodes,
                seed=config.test_seed,
                config=config,
            )
            names.append(f"meta_rl:{budget}")
            updates.append(budget)
            curves.append(accuracy_by_trial(ds))
        task = make(base.task.preset, batch, **base.task.overrides)
        ds = recorded(
            cache / "harlow_ideal.nc",
            make_baseline("harlow_ideal", task),
            task,
            config.test_episodes,
            seed=config.test_seed,
            config=config,
        )
        names.append("harlow_ideal")
        updates.append(0)
        curves.append(accuracy_by_trial(ds))
        trial = np.arange(1, len(curves[0][0]) + 1)
        out = xr.Dataset(
            {
                "accuracy": (("agent", "trial"), np.stack([c[0] for c in curves])),
                "accuracy_sem": (("agent", "trial"), np.stack([c[1] for c in curves])),
            },
            coords={"agent": names, "trial": trial, "updates": ("agent", updates)},
        )
        out.attrs.update(recordings=str(cache), config_json=config.to_json())
        return out

    return cached_dataset(cache / "results.nc", build)


def tables(ds: xr.Dataset) -> dict[str, pd.DataFrame]:
    """Accuracy per agent and trial."""
    return {"accuracy_by_trial": ds[["accuracy", "accuracy_sem"]].to_dataframe()}


def plot(ds: xr.Dataset) -> Figure:
    """Accuracy by trial within the episode, one line per training budget."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    trial = ds["trial"].values
    agents = [a for a in ds["agent"].values if a != "harlow_ideal"]
    colours = plt.cm.viridis(np.linspace(0.15, 0.85, len(agents)))
    for agent, colour in zip(agents, colours, strict=True):
        sub = ds.sel(agent=agent)
        ax.errorbar(
            trial,
            sub["accuracy"],
            sub["accuracy_sem"],
            color=colour,
            marker="o",
            label=f"{int(sub['updates'])} updates",
        )
    ideal = ds.sel(agent="harlow_ideal")
    ax.plot(trial, ideal["accuracy"], "k--", label="ideal observer")
    ax.axhline(0.5, color="0.6", lw=0.8)
    ax.set_ylim(0.3, 1.02)
    ax.set_xlabel("trial within episode")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--quick`` for a minutes-long run, ``--out DIR`` for the output folder."""
    return run_script(__name__, argv)


if __name__ == "__main__":
    sys.exit(main())
