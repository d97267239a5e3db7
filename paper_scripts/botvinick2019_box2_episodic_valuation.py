"""Botvinick et al. 2019, Box 2: episodic valuation learns from far fewer episodes.

Box 2 of the review argues that an agent valuing states by recalling the returns that
followed similar past states (episodic memory, a nonparametric estimate) learns from a
handful of experiences, where a parametric learner that adjusts network weights by small
gradient steps needs many. Blundell et al. 2016 (model-free episodic control, MFEC) and
Pritzel et al. 2017 (neural episodic control, NEC) showed this on Atari. Here the three
episodic learners of :mod:`neurometa.agents.episodic.control` (the review's Box 2 kernel
estimate, MFEC and NEC) and the parametric learner (the PFC LSTM trained by A2C through
:func:`neurometa.learn.train`) learn the same task, the registered 5 x 5 gridworld
(``gridworld/5x5``: fixed start and goal, 40 steps per episode, best return 5), each running
8 episodes in parallel per batch. Sample efficiency is the number of episodes consumed until
the mean return of the last 3 batches (24 episodes) reaches a criterion (3.0 = 60 % of the
best return); a learner that does not reach it within its budget is reported as censored at
the budget (a lower bound). The figure shows the learning curves (return per episode against
episodes consumed) and the episodes to criterion per learner.

Run ``python paper_scripts/botvinick2019_box2_episodic_valuation.py --quick`` (minutes) or
without ``--quick`` for more seeds and longer budgets.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from _common import cache_dir, cached_dataset, run_script, trained_run
from matplotlib.figure import Figure

from neurometa.agents.episodic import EPISODIC_CONTROL_PRESETS
from neurometa.config import Config, ConfigError, check_range
from neurometa.learn import EvalConfig, NetworkConfig, OptimConfig, TaskConfig, TrainConfig
from neurometa.learn.learning_curve import episodes_to_criterion, episodic_learning_curve
from neurometa.tasks import list_presets, make

NAME = "botvinick2019_box2_episodic_valuation"
#: The episodic learners (presets of :data:`EPISODIC_CONTROL_PRESETS`) and the A2C learner.
METHODS = ("mfec", "nec", "box2", "a2c")


@dataclass(frozen=True)
class ValuationConfig(Config):
    """Settings of the episodic-valuation sample-efficiency comparison."""

    task_preset: str = "gridworld/5x5"
    """Registered task every learner runs (see :func:`neurometa.tasks.list_presets`)."""
    batch_size: int = 8
    """Episodes run in parallel per batch (per update, for A2C)."""
    threshold: float = 3.0
    """Criterion: mean return per episode over the last ``window`` batches."""
    window: int = 3
    """Batches averaged by the criterion."""
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
    """Run seeds; every learner runs once per seed."""
    episodic_batches: int = 100
    """Batch budget of each episodic learner."""
    a2c_updates: int = 1000
    """Batch (update) budget of the A2C learner."""
    a2c_units: int = 48
    """LSTM units of the A2C learner."""
    a2c_learning_rate: float = 3e-3
    """Adam step size of the A2C learner (constant)."""

    def __post_init__(self) -> None:
        names = [p[0] for p in list_presets()]
        if self.task_preset not in names:
            raise ConfigError(
                f"ValuationConfig.task_preset {self.task_preset!r} is not registered; "
                f"choose one of {names}"
            )
        for name in ("batch_size", "window", "episodic_batches", "a2c_updates", "a2c_units"):
            check_range(self, name, low=1)
        check_range(self, "a2c_learning_rate", low=0.0, low_inclusive=False)
        if (
            not self.seeds
            or any(s < 0 for s in self.seeds)
            or len(set(self.seeds)) < len(self.seeds)
        ):
            raise ConfigError(
                f"ValuationConfig.seeds must be distinct non-negative ints, got {self.seeds}"
            )


#: Ten seeds, long budgets.
FULL = ValuationConfig()
#: Minutes on 2 cores: five seeds, an A2C budget past its criterion in our runs.
QUICK = ValuationConfig(seeds=(0, 1, 2, 3, 4), episodic_batches=40, a2c_updates=250)


def a2c_train_config(config: ValuationConfig) -> TrainConfig:
    """The A2C learner's training config: PFC LSTM on meta-RL inputs, γ = λ = 0.95.

    Logged every update (``metrics.csv`` ``train_return`` is the learning curve); no
    periodic evaluation.
    """
    optim = OptimConfig(
        num_updates=config.a2c_updates,
        batch_size=config.batch_size,
        learning_rate=config.a2c_learning_rate,
        discount=0.95,
        gae_lambda=0.95,
        value_cost=0.5,
        entropy_cost=0.01,
        entropy_final=0.01,
    )
    return TrainConfig(
        task=TaskConfig(preset=config.task_preset),
        network=NetworkConfig(kind="pfc", num_units=config.a2c_units),
        optim=optim,
        eval=EvalConfig(interval=0),
        checkpoint_interval=max(1, config.a2c_updates // 4),
        log_interval=1,
    )


def a2c_curve(config: ValuationConfig, out_dir: Path, seed: int) -> list[float]:
    """Train (or load) the A2C learner and return its mean training return per update."""
    run = trained_run(a2c_train_config(config), out_dir, seed=seed)
    metrics = pd.read_csv(run / "metrics.csv")
    return metrics.sort_values("update")["train_return"].astype(float).tolist()


def compute(config: ValuationConfig, out_dir: Path) -> xr.Dataset:
    """Run every learner on every seed and measure its episodes to criterion.

    Returns
    -------
    xarray.Dataset
        ``returns (learner, seed, batch)`` (mean return per episode of each batch, NaN past
        the method's budget), ``episodes_to_criterion (learner, seed)`` (NaN when not
        reached) and ``budget_episodes (learner)``; coords ``episodes (batch)`` (episodes
        consumed by the end of each batch).
    """
    cache = cache_dir(out_dir, config)

    def build() -> xr.Dataset:
        width = max(config.episodic_batches, config.a2c_updates)
        returns = np.full((len(METHODS), len(config.seeds), width), np.nan)
        reached = np.full((len(METHODS), len(config.seeds)), np.nan)
        budgets = []
        for m, method in enumerate(METHODS):
            budget = config.a2c_updates if method == "a2c" else config.episodic_batches
            budgets.append(budget * config.batch_size)
            for s, seed in enumerate(config.seeds):
                if method == "a2c":
                    curve = a2c_curve(config, out_dir, seed)
                else:
                    task = make(config.task_preset, config.batch_size)
                    preset = EPISODIC_CONTROL_PRESETS[method]
                    curve = episodic_learning_curve(preset, task, budget, seed=seed)
                returns[m, s, : len(curve)] = curve
                found = episodes_to_criterion(
                    curve, config.threshold, window=config.window, batch_size=config.batch_size
                )
                reached[m, s] = np.nan if found is None else found
        batch = np.arange(1, width + 1)
        out = xr.Dataset(
            {
                "returns": (("learner", "seed", "batch"), returns),
                "episodes_to_criterion": (("learner", "seed"), reached),
                "budget_episodes": (("learner",), np.array(budgets)),
            },
            coords={
                "learner": list(METHODS),
                "seed": list(config.seeds),
                "batch": batch,
                "episodes": ("batch", batch * config.batch_size),
            },
        )
        out.attrs.update(
            threshold=config.threshold, window=config.window, config_json=config.to_json()
        )
        return out

    return cached_dataset(cache / "results.nc", build)


def tables(ds: xr.Dataset) -> dict[str, pd.DataFrame]:
    """Episodes to criterion per method and seed, and their summary per method.

    ``episodes_censored`` counts a learner that did not reach the criterion as its budget
    (a lower bound on its episodes to criterion).
    """
    rows = []
    for method in ds["learner"].values:
        budget = int(ds["budget_episodes"].sel(learner=method))
        for seed in ds["seed"].values:
            value = float(ds["episodes_to_criterion"].sel(learner=method, seed=seed))
            reached = not np.isnan(value)
            rows.append(
                {
                    "method": str(method),
                    "seed": int(seed),
                    "reached": reached,
                    "episodes": int(value) if reached else None,
                    "episodes_censored": int(value) if reached else budget,
                    "budget_episodes": budget,
                }
            )
    per_seed = pd.DataFrame(rows).astype({"episodes": "Int64"})
    summary = per_seed.groupby("method", sort=False).agg(
        seeds_reached=("reached", "sum"),
        seeds=("reached", "size"),
        mean_episodes_censored=("episodes_censored", "mean"),
        median_episodes_censored=("episodes_censored", "median"),
        budget_episodes=("budget_episodes", "first"),
    )
    return {"episodes_to_criterion": per_seed, "summary": summary}


def plot(ds: xr.Dataset) -> Figure:
    """Learning curves (mean ± 1 SEM over seeds) and episodes to criterion per method."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator, ScalarFormatter

    from neurometa.analysis.plotting import OUTSIDE

    fig, (curves, points) = plt.subplots(
        1, 2, figsize=(11, 4.2), width_ratios=[2, 1], layout="constrained"
    )
    colours = {"mfec": "C0", "nec": "C1", "box2": "C2", "a2c": "C3"}
    per_seed = tables(ds)["episodes_to_criterion"]
    num_seeds = ds.sizes["seed"]
    for method in ds["learner"].values:
        r = ds["returns"].sel(learner=method)
        n = r.notnull().sum("seed").values  # seeds still learning at each point
        keep = n >= 2
        mean = r.mean("seed", skipna=True).values
        sem = r.std("seed", ddof=1, skipna=True).values / np.sqrt(np.maximum(n, 1))
        x = ds["episodes"].values
        colour = colours[str(method)]
        curves.plot(x[keep], mean[keep], color=colour, label=str(method))
        curves.fill_between(x[keep], (mean - sem)[keep], (mean + sem)[keep], color=colour,
                            alpha=0.2, lw=0)  # fmt: skip
    curves.axhline(ds.attrs["threshold"], color="k", ls="--", lw=0.8, label="criterion")
    curves.set_xscale("log")
    curves.xaxis.set_major_formatter(ScalarFormatter())
    curves.set(xlabel="episodes consumed (log scale)", ylabel="return per episode")
    curves.set_title(
        f"A   learning on gridworld/5x5\nn = {num_seeds} seeds; bands: ± 1 SEM over seeds",
        loc="left", fontsize="small",
    )  # fmt: skip
    curves.legend(**OUTSIDE, fontsize="small")
    for i, method in enumerate(ds["learner"].values):
        rows = per_seed[per_seed["method"] == str(method)]
        values = rows["episodes_censored"].to_numpy(dtype=float)
        reached = rows["reached"].to_numpy(dtype=bool)
        jitter = np.linspace(-0.15, 0.15, len(values))
        colour = colours[str(method)]
        points.plot(i + jitter[reached], values[reached], "o", color=colour, ms=4)
        points.plot(i + jitter[~reached], values[~reached], "^", color=colour, ms=5, mfc="none")
        points.plot([i - 0.3, i + 0.3], [np.median(values)] * 2, color="k", lw=1.5)
    points.set_xticks(range(ds.sizes["learner"]), [str(m) for m in ds["learner"].values])
    points.set_yscale("log")
    points.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    points.yaxis.set_major_formatter(ScalarFormatter())
    points.set_ylabel("episodes to criterion (log scale)")
    points.set_title(
        f"B   sample efficiency, n = {num_seeds} seeds\none point per seed; line: median;"
        " open triangle: not reached (budget shown)",
        loc="left", fontsize="small",
    )  # fmt: skip
    return fig


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--quick`` for the small budget, ``--out DIR`` for the output folder."""
    return run_script(__name__, argv)


if __name__ == "__main__":
    sys.exit(main())
