"""Botvinick et al. 2019, Box 3 / Fig. 1A: the meta-RL agent explores more on harder bandits.

After Wang et al. 2016 ("Learning to reinforcement learn", Fig. 2) and Wang et al. 2018: a
meta-RL agent (prefrontal LSTM trained by the actor-critic TD error) trained on independent
two-armed bandits (p1, p2 ~ U(0, 1)) is tested with frozen weights on an easy bandit
(probabilities {0.25, 0.75}) and a hard one ({0.4, 0.6}). The figure shows example episodes
(choices and rewards trial by trial) and the probability of choosing the better arm on each
trial: on the hard bandit the agent keeps sampling the worse arm for longer (more
exploration), as a Bayesian learner should when the arms are harder to tell apart.

Run ``python paper_scripts/botvinick2019_fig1a_bandit_difficulty.py --quick`` (minutes;
shorter episodes) or without ``--quick`` for the paper's 100-trial episodes.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from _common import cache_dir, cached_dataset, recorded, run_script, trained_run, with_updates
from matplotlib.figure import Figure

from neurometa.config import Config, ConfigError, check_range, replace_path
from neurometa.learn import TaskConfig, get_preset, load_agent
from neurometa.learn.rollout import make_task

NAME = "botvinick2019_fig1a_bandit_difficulty"


@dataclass(frozen=True)
class Fig1AConfig(Config):
    """Settings of the bandit-difficulty reproduction."""

    train_preset: str = "bandit/independent"
    """Training preset of the meta-RL agent."""
    test_presets: tuple[str, ...] = ("bandit/fixed_0.25_0.75", "bandit/fixed_0.4_0.6")
    """Test bandits, easy to hard."""
    num_trials: int = 100
    """Trials per episode in training and test (100 in Wang et al. 2016)."""
    num_updates: int = 3000
    """A2C updates."""
    seed: int = 0
    """Training seed."""
    test_episodes: int = 1000
    """Test episodes per bandit (frozen weights, greedy actions)."""
    test_seed: int = 1_000_000
    """Seed of the test episodes."""
    num_examples: int = 3
    """Example episodes drawn per bandit in the figure."""

    def __post_init__(self) -> None:
        if len(self.test_presets) < 2:
            raise ConfigError("Fig1AConfig.test_presets needs at least two bandits to compare")
        check_range(self, "num_trials", low=2)
        check_range(self, "num_updates", low=1)
        check_range(self, "seed", low=0)
        check_range(self, "test_episodes", low=2)
        check_range(self, "test_seed", low=0)
        check_range(self, "num_examples", low=1)


#: Paper scale.
FULL = Fig1AConfig()
#: Minutes on 2 cores: 20-trial episodes.
QUICK = Fig1AConfig(num_trials=20, num_updates=300, test_episodes=500)


def _choice_stats(ds: xr.Dataset, num_examples: int) -> xr.Dataset:
    """Better-arm choices per trial, switches, and example episodes of one recording."""
    better = (ds["action"] == ds["best_arm"]).astype(np.float64)
    switched = (ds["action"].diff("step") != 0).astype(np.float64)
    examples = ds.isel(episode=slice(0, num_examples))
    return xr.Dataset(
        {
            "p_better": ("trial", better.mean("episode").values),
            "p_better_sem": (
                "trial",
                better.std("episode", ddof=1).values / np.sqrt(ds.sizes["episode"]),
            ),
            "worse_fraction": ((), 1.0 - float(better.mean())),
            "switch_rate": ((), float(switched.mean())),
            "example_action": (("example", "trial"), examples["action"].values),
            "example_reward": (("example", "trial"), examples["reward"].values),
            "example_best_arm": (("example", "trial"), examples["best_arm"].values),
        }
    )


def compute(config: Fig1AConfig, out_dir: Path) -> xr.Dataset:
    """Train (or load) the agent and record it on each test bandit.

    Returns
    -------
    xarray.Dataset
        Per ``bandit``: ``p_better``, ``p_better_sem`` (bandit, trial) — probability of
        choosing the better arm on each trial (from 1); ``worse_fraction`` and
        ``switch_rate`` (bandit); ``example_action``, ``example_reward``,
        ``example_best_arm`` (bandit, example, trial).
    """
    cache = cache_dir(out_dir, config)

    def build() -> xr.Dataset:
        train_config = with_updates(get_preset(config.train_preset), config.num_updates)
        overrides = {**train_config.task.overrides, "num_trials": config.num_trials}
        train_config = replace_path(train_config, "task.overrides", overrides)
        agent = load_agent(trained_run(train_config, out_dir, seed=config.seed))
        batch = min(config.test_episodes, 500)
        parts = []
        for preset in config.test_presets:
            task = make_task(TaskConfig(preset, overrides, train_config.task.trial_index), batch)
            ds = recorded(
                cache / f"{preset.split('/')[-1]}.nc",
                agent,
                task,
                config.test_episodes,
                seed=config.test_seed,
                config=config,
            )
            parts.append(_choice_stats(ds, config.num_examples))
        names = [p.split("/")[-1] for p in config.test_presets]
        out = xr.concat(parts, dim=pd.Index(names, name="bandit"))
        out = out.assign_coords(trial=np.arange(1, config.num_trials + 1))
        out.attrs.update(recordings=str(cache), config_json=config.to_json())
        return out

    return cached_dataset(cache / "results.nc", build)


def tables(ds: xr.Dataset) -> dict[str, pd.DataFrame]:
    """Exploration summary per bandit and the better-arm probability per trial."""
    return {
        "exploration": ds[["worse_fraction", "switch_rate"]].to_dataframe(),
        "p_better_by_trial": ds[["p_better", "p_better_sem"]].to_dataframe(),
    }


def _bandit_label(name: str) -> str:
    """``fixed_0.25_0.75`` -> ``{0.25, 0.75}``."""
    probs = name.removeprefix("fixed_").split("_")
    return "{" + ", ".join(probs) + "}" if name.startswith("fixed_") else name


def plot(ds: xr.Dataset) -> Figure:
    """Example episodes per bandit (panels A, B, ...) and P(better arm) over trials (last)."""
    import json

    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from neurometa.analysis.plotting import OUTSIDE

    bandits = [str(b) for b in ds["bandit"].values]
    num_examples = ds.sizes["example"]
    episodes = json.loads(ds.attrs.get("config_json", "{}")).get("test_episodes", "?")
    fig, axes = plt.subplots(
        len(bandits) + 1, 1, figsize=(6.8, 1.4 + 1.5 * (len(bandits) + 1)), layout="constrained"
    )
    trial = ds["trial"].values
    for i, (ax, bandit) in enumerate(zip(axes, bandits, strict=False)):
        sub = ds.sel(bandit=bandit)
        for k in range(num_examples):
            better = sub["example_action"][k] == sub["example_best_arm"][k]
            y = np.where(better, k + 0.15, k - 0.15)
            rewarded = sub["example_reward"][k].values > 0
            ax.scatter(trial[rewarded], y[rewarded], s=10, c="k", marker="o")
            ax.scatter(trial[~rewarded], y[~rewarded], s=10, facecolors="none", edgecolors="k")
        ax.set_yticks(range(num_examples), [f"episode {k + 1}" for k in range(num_examples)])
        ax.set_ylim(-0.6, num_examples - 0.4)
        ax.set_xlabel("trial")
        ax.set_title(
            f"{chr(65 + i)}   arms {_bandit_label(bandit)}: {num_examples} example episodes "
            f"(weights frozen)", loc="left", fontsize="small",
        )  # fmt: skip
    marks = [
        Line2D([], [], ls="none", marker="o", color="k", ms=4, label="rewarded"),
        Line2D([], [], ls="none", marker="o", mfc="none", color="k", ms=4, label="unrewarded"),
    ]
    axes[0].legend(
        handles=marks, title="upper dot: better arm\nlower dot: worse arm", **OUTSIDE,
        fontsize="x-small", title_fontsize="x-small",
    )  # fmt: skip
    ax = axes[-1]
    for bandit in bandits:
        sub = ds.sel(bandit=bandit)
        ax.plot(trial, sub["p_better"], label=_bandit_label(bandit), lw=1.2)
        ax.fill_between(
            trial, sub["p_better"] - sub["p_better_sem"], sub["p_better"] + sub["p_better_sem"],
            alpha=0.3, lw=0,
        )  # fmt: skip
    ax.set_xlabel("trial")
    ax.set_ylabel("P(better arm)")
    ax.set_ylim(0.3, 1.02)
    ax.legend(title="arms", **OUTSIDE, fontsize="x-small", title_fontsize="x-small")
    ax.set_title(
        f"{chr(65 + len(bandits))}   choices of the better arm\n"
        f"n = {episodes} test episodes per bandit; bands: ± 1 SEM over episodes",
        loc="left", fontsize="small",
    )  # fmt: skip
    return fig


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--quick`` for a minutes-long run, ``--out DIR`` for the output folder."""
    return run_script(__name__, argv)


if __name__ == "__main__":
    sys.exit(main())
