"""Wang et al. 2016 ("Learning to reinforcement learn"), bandit table: train on one, test on all.

Meta-RL agents (prefrontal LSTM trained by the actor-critic TD error) are trained on each
two-armed bandit distribution of the paper — independent (p1, p2 ~ U(0, 1)), correlated
uniform (p2 = 1 − p1), and the fixed pairs {0.1, 0.9}, {0.25, 0.75}, {0.4, 0.6} — and each
is tested with frozen weights on every distribution. The table (and heat map) gives the mean
cumulative expected regret per episode, Σ_t [max_k p_k − p_{a_t}], for every
(training, test) pair, beside the Bayes-optimal policy, Gittins indices, Thompson sampling
and UCB1 on the same test episodes. An agent does best on the distribution it was trained
on: it has learned that distribution's structure as its prior.

Run ``python paper_scripts/wang2016_bandit_table.py --quick`` (minutes; short episodes) or
without ``--quick`` for the paper's 100-trial episodes.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from _common import cache_dir, cached_dataset, recorded, run_script, trained_run, with_updates
from botvinick2019_fig1b_correlated_vs_independent import per_episode_regret
from matplotlib.figure import Figure

from neurometa.agents.baselines import make_baseline
from neurometa.config import Config, ConfigError, check_range, replace_path
from neurometa.learn import TaskConfig, get_preset, load_agent
from neurometa.learn.rollout import make_task
from neurometa.tasks import make

NAME = "wang2016_bandit_table"

#: The five distributions of the paper's table.
DISTRIBUTIONS = (
    "bandit/independent",
    "bandit/correlated",
    "bandit/fixed_0.1_0.9",
    "bandit/fixed_0.25_0.75",
    "bandit/fixed_0.4_0.6",
)


@dataclass(frozen=True)
class BanditTableConfig(Config):
    """Settings of the train-on-one, test-on-all bandit table."""

    distributions: tuple[str, ...] = DISTRIBUTIONS
    """Bandit presets used both for training and for testing."""
    num_trials: int = 100
    """Trials per episode in training and test (100 in Wang et al. 2016)."""
    num_updates: int = 3000
    """A2C updates per meta-RL agent."""
    eval_interval: int = 200
    """Every agent's ``best.pt`` is chosen on the preset's selection episodes every this many
    updates (the bandit presets select none at their own budget: their learning rate has
    decayed to zero at the end; here it has not). 200 is the interval of the agents of the
    first full run, which the second reused (paper_scripts/README.md)."""
    seeds: tuple[int, ...] = (0, 1, 2)
    """Training seeds per distribution."""
    test_episodes: int = 1000
    """Test episodes per (agent, test distribution), frozen weights, greedy actions."""
    test_seed: int = 1_000_000
    """Seed of the test episodes (the same episodes for every agent)."""
    baselines: tuple[str, ...] = ("bayes_optimal", "gittins", "thompson", "ucb1")
    """Classic bandit algorithms recorded on the same test episodes."""

    def __post_init__(self) -> None:
        if len(self.distributions) < 2 or not self.seeds:
            raise ConfigError("BanditTableConfig needs >= 2 distributions and >= 1 seed")
        check_range(self, "num_trials", low=2)
        check_range(self, "num_updates", low=1)
        check_range(self, "eval_interval", low=1)
        check_range(self, "test_episodes", low=2)
        check_range(self, "test_seed", low=0)


#: Paper scale.
FULL = BanditTableConfig()
#: Minutes on 2 cores: 20-trial episodes, one seed.
QUICK = BanditTableConfig(
    num_trials=20, num_updates=300, eval_interval=30, seeds=(0,), test_episodes=500
)


def _short(preset: str) -> str:
    return preset.split("/")[-1]


def _test_agent(
    config: BanditTableConfig, agent: Any, trial_index: bool | None, tag: str, cache: Path
) -> np.ndarray:
    """Final cumulative regret of ``agent`` on every test task: array (test, [mean, sem]).

    ``agent`` is a trained meta-RL agent (whose inputs include the trial index when
    ``trial_index``) or, with ``trial_index=None``, the name of a baseline.
    """
    overrides = {"num_trials": config.num_trials}
    batch = min(config.test_episodes, 500)
    stats = []
    for test in config.distributions:
        if trial_index is None:
            task = make(test, batch, **overrides)
            player = make_baseline(agent, task)
        else:
            task, player = make_task(TaskConfig(test, overrides, trial_index), batch), agent
        ds = recorded(
            cache / f"{tag}_on_{_short(test)}.nc",
            player,
            task,
            config.test_episodes,
            seed=config.test_seed,
            config=config,
        )
        final = per_episode_regret(ds)[:, -1]
        stats.append((final.mean(), final.std(ddof=1) / np.sqrt(len(final))))
    return np.array(stats)


def compute(config: BanditTableConfig, out_dir: Path) -> xr.Dataset:
    """Train (or load) one agent per distribution and seed; test every agent on every task.

    Returns
    -------
    xarray.Dataset
        ``regret`` and ``regret_sem`` (train, test, seed) of the meta-RL agents;
        ``baseline_regret`` and ``baseline_regret_sem`` (baseline, test).
    """
    cache = cache_dir(out_dir, config)
    names = [_short(d) for d in config.distributions]

    def build() -> xr.Dataset:
        grid = np.empty((len(names), len(names), len(config.seeds), 2))
        for i, preset in enumerate(config.distributions):
            train_config = with_updates(get_preset(preset), config.num_updates)
            train_config = replace_path(train_config, "eval.interval", config.eval_interval)
            overrides = {**train_config.task.overrides, "num_trials": config.num_trials}
            train_config = replace_path(train_config, "task.overrides", overrides)
            for k, seed in enumerate(config.seeds):
                agent = load_agent(trained_run(train_config, out_dir, seed=seed))
                grid[i, :, k] = _test_agent(
                    config, agent, train_config.task.trial_index, f"{names[i]}_seed{seed}", cache
                )
        base = np.stack([_test_agent(config, b, None, b, cache) for b in config.baselines])
        out = xr.Dataset(
            {
                "regret": (("train", "test", "seed"), grid[..., 0]),
                "regret_sem": (("train", "test", "seed"), grid[..., 1]),
                "baseline_regret": (("baseline", "test"), base[..., 0]),
                "baseline_regret_sem": (("baseline", "test"), base[..., 1]),
            },
            coords={
                "train": names,
                "test": names,
                "seed": list(config.seeds),
                "baseline": list(config.baselines),
            },
        )
        out.attrs.update(
            num_trials=config.num_trials, recordings=str(cache), config_json=config.to_json()
        )
        return out

    return cached_dataset(cache / "results.nc", build)


def tables(ds: xr.Dataset) -> dict[str, pd.DataFrame]:
    """The cross-matrix (mean over seeds; rows: trained on, columns: tested on) and baselines."""
    matrix = ds["regret"].mean("seed").to_pandas()
    baselines = ds["baseline_regret"].to_pandas()
    baselines.index = [f"baseline:{b}" for b in baselines.index]
    table = pd.concat([matrix, baselines])
    table.index.name = "agent"
    return {
        "regret_table": table,
        "regret_by_seed": ds[["regret", "regret_sem"]].to_dataframe(),
    }


def plot(ds: xr.Dataset) -> Figure:
    """Heat map of the cross-matrix, with the baselines as extra rows."""
    import matplotlib.pyplot as plt

    table = tables(ds)["regret_table"]
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    image = ax.imshow(table.to_numpy(), cmap="viridis_r", aspect="auto")
    middle = np.nanmean(table.to_numpy())
    for (r, c), value in np.ndenumerate(table.to_numpy()):
        colour = "k" if value < middle else "w"
        ax.text(c, r, f"{value:.2f}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=30, fontsize=7)
    ax.set_yticks(range(table.shape[0]), table.index, fontsize=7)
    ax.axhline(ds.sizes["train"] - 0.5, color="w", lw=2)
    ax.set_xlabel("tested on")
    ax.set_ylabel("trained on / baseline")
    ax.set_title(f"cumulative regret over {int(ds.attrs['num_trials'])} trials", fontsize=9)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--quick`` for a minutes-long run, ``--out DIR`` for the output folder."""
    return run_script(__name__, argv)


if __name__ == "__main__":
    sys.exit(main())
