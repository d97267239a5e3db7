"""Botvinick et al. 2019, Fig. 1B: meta-RL adapts its exploration to the task distribution.

After Wang et al. 2016 ("Learning to reinforcement learn", Fig. 2) and Wang et al. 2018: two
meta-RL agents (prefrontal LSTM trained by the actor-critic TD error) are trained, one on
independent bandits (p1, p2 ~ U(0, 1)) and one on correlated bandits (p1 ~ U(0, 1),
p2 = 1 − p1), and both are tested with frozen weights on correlated bandits. The figure shows
the mean cumulative expected regret over trials,

    R(t) = Σ_{s ≤ t} [max_k p_k − p_{a_s}],

beside the Bayes-optimal policy for the test prior, Gittins indices, Thompson sampling and
UCB1 on the same episodes. The agent trained on the correlated distribution has learned its
structure (one pull informs about both arms) and so has the lower regret.

Run ``python paper_scripts/botvinick2019_fig1b_correlated_vs_independent.py --quick``
(about 5 minutes on 2 cores: 50-trial episodes, 2,000 updates per agent, one seed) or without
``--quick`` for the paper's 100-trial episodes and three seeds. Over 20-trial episodes the
advantage of knowing the correlation is small (the Bayes-optimal policy and Gittins indices,
which treat the arms as independent, were within 0.1 of each other), and after 1,000 updates
on 50-trial episodes both agents were still near Thompson sampling; after 2,000 the
correlated-trained agent was ahead by 0.17 and 0.15 (seeds 0 and 1, 1,000 test episodes:
1.88 vs 2.05 and 1.75 vs 1.90; Bayes-optimal 1.07).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr
from _common import cache_dir, cached_dataset, recorded, run_script, trained_run, with_updates
from matplotlib.figure import Figure

from neurometa.agents.baselines import make_baseline
from neurometa.config import Config, ConfigError, check_range, replace_path
from neurometa.learn import TaskConfig, get_preset, load_agent
from neurometa.learn.rollout import make_task
from neurometa.returns import expected_regret
from neurometa.tasks import make

NAME = "botvinick2019_fig1b_correlated_vs_independent"


@dataclass(frozen=True)
class Fig1BConfig(Config):
    """Settings of the correlated-vs-independent bandit reproduction."""

    train_presets: tuple[str, ...] = ("bandit/correlated", "bandit/independent")
    """Training presets of the meta-RL agents (one agent per preset and seed)."""
    test_preset: str = "bandit/correlated"
    """Task preset every agent is tested on."""
    num_trials: int | None = None
    """Trials per episode, in training and test (None: the presets' 100, as in Wang et al.
    2016)."""
    num_updates: int | None = None
    """A2C updates per meta-RL agent (None: the training preset's own budget)."""
    seeds: tuple[int, ...] = (0, 1, 2)
    """Training seeds per preset."""
    test_episodes: int = 1000
    """Test episodes per agent (frozen weights, greedy actions)."""
    test_seed: int = 1_000_000
    """Seed of the test episodes (the same episodes for every agent)."""
    baselines: tuple[str, ...] = ("bayes_optimal", "gittins", "thompson", "ucb1")
    """Classic bandit algorithms recorded on the same test episodes."""

    def __post_init__(self) -> None:
        if not self.train_presets or not self.seeds:
            raise ConfigError("Fig1BConfig: train_presets and seeds must not be empty")
        if self.num_trials is not None:
            check_range(self, "num_trials", low=2)
        if self.num_updates is not None:
            check_range(self, "num_updates", low=1)
        check_range(self, "test_episodes", low=2)
        check_range(self, "test_seed", low=0)


#: Paper scale: the training presets as they are (100-trial episodes), three seeds each.
FULL = Fig1BConfig()
#: Minutes on 2 cores: 50-trial episodes, one seed, 5,000 test episodes (a paired standard
#: error of about 0.05 for the difference of the two agents).
QUICK = Fig1BConfig(num_trials=50, num_updates=2000, seeds=(0,), test_episodes=5000)


def per_episode_regret(ds: xr.Dataset) -> np.ndarray:
    """Cumulative expected regret of every recorded episode, shape (episode, trial)."""
    probs = torch.from_numpy(np.asarray(ds["arm_probs"].values))
    actions = torch.from_numpy(np.asarray(ds["action"].values))
    return expected_regret(probs, actions).cumsum(-1).numpy()


def _meta_rl(
    config: Fig1BConfig, preset: str, seed: int, out_dir: Path, cache: Path
) -> xr.Dataset:
    train_config = get_preset(preset)
    if config.num_updates is not None:
        train_config = with_updates(train_config, config.num_updates)
    overrides = dict(train_config.task.overrides)
    if config.num_trials is not None:
        overrides["num_trials"] = config.num_trials
        train_config = replace_path(train_config, "task.overrides", overrides)
    agent = load_agent(trained_run(train_config, out_dir, seed=seed))
    test = TaskConfig(config.test_preset, overrides, train_config.task.trial_index)
    batch = min(config.test_episodes, 500)
    path = cache / f"meta_rl_{preset.split('/')[-1]}_seed{seed}.nc"
    return recorded(
        path,
        agent,
        make_task(test, batch),
        config.test_episodes,
        seed=config.test_seed,
        config=config,
    )


def _baseline(config: Fig1BConfig, name: str, cache: Path) -> xr.Dataset:
    trials = {} if config.num_trials is None else {"num_trials": config.num_trials}
    task = make(config.test_preset, min(config.test_episodes, 500), **trials)
    return recorded(
        cache / f"{name}.nc",
        make_baseline(name, task),
        task,
        config.test_episodes,
        seed=config.test_seed,
        config=config,
    )


def _curves(regrets: dict[str, list[np.ndarray]], seeds: tuple[int, ...]) -> xr.Dataset:
    """Mean and s.e.m. of the cumulative regret per agent; final regret per agent and seed."""
    names = list(regrets)
    pooled = [np.concatenate(regrets[n]) for n in names]
    mean = np.stack([r.mean(0) for r in pooled])
    sem = np.stack([r.std(0, ddof=1) / np.sqrt(len(r)) for r in pooled])
    by_seed = np.full((len(names), len(seeds)), np.nan)
    for i, name in enumerate(names):
        if name.startswith("meta_rl:"):  # the baselines have no training seed
            by_seed[i] = [r[:, -1].mean() for r in regrets[name]]
    trial = np.arange(1, mean.shape[1] + 1)
    return xr.Dataset(
        {
            "cumulative_regret": (("agent", "trial"), mean),
            "cumulative_regret_sem": (("agent", "trial"), sem),
            "final_regret_by_seed": (("agent", "seed"), by_seed),
        },
        coords={"agent": names, "trial": trial, "seed": list(seeds)},
    )


def compute(config: Fig1BConfig, out_dir: Path) -> xr.Dataset:
    """Train (or load) the meta-RL agents, record every agent on the test task, get regrets.

    Returns
    -------
    xarray.Dataset
        ``cumulative_regret`` and ``cumulative_regret_sem`` (agent, trial): mean over test
        episodes (and training seeds) of R(t); ``final_regret_by_seed`` (agent, seed), NaN
        for the baselines. Agents ``meta_rl:<training distribution>`` and the baselines.
    """
    cache = cache_dir(out_dir, config)

    def build() -> xr.Dataset:
        regrets: dict[str, list[np.ndarray]] = {}
        for preset in config.train_presets:
            regrets[f"meta_rl:{preset.split('/')[-1]}"] = [
                per_episode_regret(_meta_rl(config, preset, seed, out_dir, cache))
                for seed in config.seeds
            ]
        for name in config.baselines:
            regrets[name] = [per_episode_regret(_baseline(config, name, cache))]
        out = _curves(regrets, config.seeds)
        out.attrs.update(
            test_preset=config.test_preset, recordings=str(cache), config_json=config.to_json()
        )
        return out

    return cached_dataset(cache / "results.nc", build)


def tables(ds: xr.Dataset) -> dict[str, pd.DataFrame]:
    """Regret curves per agent and trial, and the final regret per agent (and seed)."""
    final = ds.isel(trial=-1)[["cumulative_regret", "cumulative_regret_sem"]].to_dataframe()
    final = final.drop(columns="trial").rename(
        columns={"cumulative_regret": "final_regret", "cumulative_regret_sem": "final_regret_sem"}
    )
    return {
        "regret_curves": ds[["cumulative_regret", "cumulative_regret_sem"]].to_dataframe(),
        "final_regret": final,
        "final_regret_by_seed": ds["final_regret_by_seed"].to_dataframe().dropna(),
    }


def plot(ds: xr.Dataset) -> Figure:
    """Cumulative regret over trials: meta-RL agents (solid) and baselines (dashed)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.8, 3.4))
    trial = ds["trial"].values
    for agent in ds["agent"].values:
        mean = ds["cumulative_regret"].sel(agent=agent).values
        sem = ds["cumulative_regret_sem"].sel(agent=agent).values
        style = "-" if str(agent).startswith("meta_rl") else "--"
        (line,) = ax.plot(trial, mean, style, label=str(agent), lw=1.6)
        ax.fill_between(trial, mean - sem, mean + sem, color=line.get_color(), alpha=0.2)
    ax.set_xlabel("trial")
    ax.set_ylabel("cumulative expected regret")
    ax.set_title(f"tested on {ds.attrs['test_preset']}", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--quick`` for a minutes-long run, ``--out DIR`` for the output folder."""
    return run_script(__name__, argv)


if __name__ == "__main__":
    sys.exit(main())
