"""Botvinick et al. 2019, Box 4 (panels C-D): model-based information in the dopamine signal.

After Wang et al. 2018 (Nat Neurosci 21:860, Fig. 5): the meta-RL agent (prefrontal LSTM
trained by the actor-critic TD error) is trained on the two-step task of Miller et al. 2017
(common transition 0.8, second-stage rewards 0.9/0.1 reversing with probability 0.025),
recorded with frozen weights, and analysed as Daw et al. 2011 (Neuron 69:1204) analysed
people:

- panel C: stay probability of the first-stage choice after common/rare × rewarded/
  unrewarded trials, beside the model-free (w = 0) and model-based (w = 1) hybrid agents
  of Daw 2011 on the same task; logistic regression ``stay ~ reward × transition`` (a
  positive interaction is the model-based signature);
- panel D: regression of the agent's ``rpe`` (δ_t = r_t + γ V_{t+1} − V_t) at second-stage
  onset on the model-free RPE and on (model-based RPE − model-free RPE) from the hybrid
  model fitted to the agent's own choices.

Run ``python paper_scripts/botvinick2019_box4_two_step_rpe.py --quick`` (minutes) or without
``--quick`` for the published training scale; outputs go to ``results/<script>/``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr
from _common import cache_dir, cached_dataset, recorded, run_script, trained_run
from matplotlib.figure import Figure

from neurometa.agents.baselines import make_baseline
from neurometa.analysis.plotting import plot_rpe_decomposition, plot_stay_probabilities
from neurometa.analysis.rpe import rpe_decomposition
from neurometa.analysis.two_step import stay_probabilities, stay_regression, two_step_trials
from neurometa.config import Config, check_range, replace_path
from neurometa.learn import get_preset, load_agent
from neurometa.tasks import make

NAME = "botvinick2019_box4_two_step_rpe"
META_RL = "meta_rl"


@dataclass(frozen=True)
class TwoStepRPEConfig(Config):
    """Settings of the two-step / dopamine-RPE reproduction."""

    train_preset: str = "two_step/wang2018"
    """Training preset of :mod:`neurometa.learn` (task preset included)."""
    train_overrides: dict[str, Any] = field(default_factory=dict)
    """Dotted overrides of the training preset (e.g. ``{"optim.batch_size": 32}``)."""
    num_trials: int | None = None
    """Trials per episode in training and test (None: the task preset's, 100)."""
    num_updates: int = 2000
    """A2C updates of the meta-RL agent."""
    seed: int = 0
    """Training seed."""
    record_episodes: int = 300
    """Test episodes recorded per agent (frozen weights)."""
    sample_actions: bool = True
    """Record the meta-RL agent sampling from its policy (as Wang et al. 2018's agents act),
    not greedily: a greedy recording can stay on every trial of a kind, which separates the
    stay logistic regression and leaves its coefficients meaningless."""
    record_seed: int = 1_000_000
    """Seed of the recorded test episodes (never used in training)."""
    baselines: tuple[str, ...] = ("model_free", "model_based")
    """Daw 2011 hybrid agents recorded on the same task for comparison."""
    num_restarts: int = 5
    """Random restarts of the hybrid-model fit behind the RPE regressors."""

    def __post_init__(self) -> None:
        if self.num_trials is not None:
            check_range(self, "num_trials", low=2)
        check_range(self, "num_updates", low=1)
        check_range(self, "seed", low=0)
        base = get_preset(self.train_preset)  # unknown preset: KeyError naming the valid ones
        for key, value in self.train_overrides.items():
            base = replace_path(base, key, value)  # bad key or value: ConfigError naming it
        check_range(self, "record_episodes", low=2)
        check_range(self, "record_seed", low=0)
        check_range(self, "num_restarts", low=1)


#: Settings that learned the task in our runs. The ``two_step/wang2018`` preset (Adam 3e-3
#: decaying, entropy 0.05 -> 0, 64 episodes of 100 trials) stayed at chance for 200 updates;
#: with 20-trial episodes, 32 episodes per update, a constant learning rate of 2e-3 and a
#: constant entropy cost of 0.01 the return rose above chance after about 1,000 updates.
LEARNING_SETTINGS: dict[str, Any] = {
    "optim.batch_size": 32,
    "optim.learning_rate": 2e-3,
    "optim.lr_schedule": "constant",
    "optim.entropy_cost": 0.01,
    "optim.entropy_final": 0.01,
}
#: The task's 100-trial episodes (Wang et al. 2018) and a long run.
FULL = TwoStepRPEConfig(train_overrides=LEARNING_SETTINGS, num_updates=5000)
#: Minutes on 2 cores: 20-trial episodes.
QUICK = TwoStepRPEConfig(
    train_overrides=LEARNING_SETTINGS,
    num_trials=20,
    num_updates=1500,
    record_episodes=200,
    num_restarts=2,
)


def _recordings(config: TwoStepRPEConfig, out_dir: Path, cache: Path) -> dict[str, xr.Dataset]:
    train_config = get_preset(config.train_preset)
    for key, value in config.train_overrides.items():
        train_config = replace_path(train_config, key, value)
    train_config = replace_path(train_config, "optim.num_updates", config.num_updates)
    if config.num_trials is not None:
        overrides = {**train_config.task.overrides, "num_trials": config.num_trials}
        train_config = replace_path(train_config, "task.overrides", overrides)
    run_dir = trained_run(train_config, out_dir, seed=config.seed)
    agent = load_agent(run_dir, greedy=not config.sample_actions)
    batch = min(config.record_episodes, 100)
    recordings = {
        META_RL: recorded(
            cache / f"{META_RL}.nc",
            agent,
            agent.make_task(batch),
            config.record_episodes,
            seed=config.record_seed,
            config=config,
        )
    }
    for name in config.baselines:
        task = make(train_config.task.preset, batch, **train_config.task.overrides)
        recordings[name] = recorded(
            cache / f"{name}.nc",
            make_baseline(name, task),
            task,
            config.record_episodes,
            seed=config.record_seed,
        )
    return recordings


def _agent_results(ds: xr.Dataset) -> xr.Dataset:
    """Stay probabilities and the stay regression of one recording, as a Dataset."""
    trials = two_step_trials(ds)
    table = stay_probabilities(trials)
    stays = table.set_index(["transition", "outcome"])
    logit = stay_regression(trials)
    out = stays[["p_stay", "ci_low", "ci_high", "num_trials"]].to_xarray()
    out.attrs.update(stay_resampled=table.attrs["resampled"], stay_ci=table.attrs["ci"])
    for col in ("coef", "se", "p"):
        out[f"stay_{col}"] = xr.DataArray(
            logit[col].to_numpy(), dims="term", coords={"term": logit.index.to_numpy()}
        )
    return out


def compute(config: TwoStepRPEConfig, out_dir: Path) -> xr.Dataset:
    """Train (or load) the agent, record every agent, and run the Daw 2011 analyses.

    Returns
    -------
    xarray.Dataset
        ``p_stay``, ``ci_low``, ``ci_high``, ``num_trials`` (agent, transition, outcome);
        ``stay_coef``, ``stay_se``, ``stay_p`` (agent, term); ``rpe_coef``, ``rpe_se``,
        ``rpe_p`` (event, rpe_term) of the meta-RL agent's ``rpe``; ``rpe_num_obs`` (event):
        the trials in each RPE regression.
    """
    cache = cache_dir(out_dir, config)

    def build() -> xr.Dataset:
        recs = _recordings(config, out_dir, cache)
        per_agent = [_agent_results(ds) for ds in recs.values()]
        out = xr.concat(per_agent, dim=pd.Index(list(recs), name="agent"))
        rpe = rpe_decomposition(recs[META_RL], num_restarts=config.num_restarts, seed=config.seed)
        rpe = rpe[["coef", "se", "p", "num_obs"]].rename(term="rpe_term")
        out = out.assign({f"rpe_{k}": rpe[k] for k in ("coef", "se", "p", "num_obs")})
        out.attrs.update(rpe.attrs, recordings=str(cache), config_json=config.to_json())
        return out

    return cached_dataset(cache / "results.nc", build)


def tables(ds: xr.Dataset) -> dict[str, pd.DataFrame]:
    """The numbers behind the figure: stay probabilities, stay regression, RPE regression."""
    stays = ds[["p_stay", "ci_low", "ci_high", "num_trials"]].to_dataframe()
    logit = ds[["stay_coef", "stay_se", "stay_p"]].to_dataframe()
    rpe = ds[["rpe_coef", "rpe_se", "rpe_p"]].to_dataframe()
    return {"stay_probabilities": stays, "stay_regression": logit, "rpe_regression": rpe}


def _stay_table(ds: xr.Dataset, agent: str) -> pd.DataFrame:
    """One agent's stay probabilities as :func:`stay_probabilities` returns them."""
    sub = ds[["p_stay", "ci_low", "ci_high", "num_trials"]].sel(agent=agent)
    table = sub.to_dataframe().reset_index()[
        ["transition", "outcome", "p_stay", "ci_low", "ci_high", "num_trials"]
    ]
    table.attrs.update(
        resampled=ds.attrs.get("stay_resampled", "session"), ci=ds.attrs.get("stay_ci", 0.95)
    )
    return table


def plot(ds: xr.Dataset) -> Figure:
    """Panel C (stay probabilities per agent) and panel D (RPE regression weights)."""
    import matplotlib.pyplot as plt

    agents = [str(a) for a in ds["agent"].values]
    fig, axes = plt.subplots(
        1, len(agents) + 1, figsize=(4.4 * (len(agents) + 1), 3.6), layout="constrained"
    )
    for ax, agent in zip(axes, agents, strict=False):
        inter = float(ds["stay_coef"].sel(agent=agent, term="reward:transition"))
        plot_stay_probabilities(
            _stay_table(ds, agent), ax=ax, title=f"{agent}: reward×transition {inter:+.2f}"
        )
    rpe = xr.Dataset(
        {"coef": ds["rpe_coef"], "se": ds["rpe_se"]}, attrs={**ds.attrs, "signal": "rpe"}
    ).rename(rpe_term="term")
    plot_rpe_decomposition(rpe, ax=axes[-1], title=f"{META_RL} rpe (Box 4 D)")
    return fig


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--quick`` for a minutes-long run, ``--out DIR`` for the output folder."""
    return run_script(__name__, argv)


if __name__ == "__main__":
    sys.exit(main())
