"""The README's main job: train a small meta-RL agent, record it, analyse it, write figures.

``run_demo(out_dir)``:

1. trains the default bandit preset (independent two-armed bandits, 100 trials; Wang et al.
   2016) with the A2C outer loop for a short budget (resumable: re-running continues);
2. records the frozen agent on fresh test episodes (``agent.nc``) and, on the same episodes
   (same task seed), the Bayes-optimal, Gittins, Thompson and UCB1 baselines;
3. computes cumulative expected regret curves (``max p − p_chosen`` summed over trials) and
   writes ``regret.csv``, ``regret_curves.png``, ``example_episodes.png`` and ``report.md``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurometa.atomic import write_text_atomic

__all__ = ["DemoResult", "run_demo", "BASELINES", "DEMO_UPDATES"]

#: Training updates of the demo (256 episodes each over two workers; half the bandit preset's
#: 5,400, with the learning-rate and entropy schedules compressed to them): sized so that
#: ``make demo`` finishes in under 10 minutes on 2 cores including set-up. (1,500 updates
#: finished in 291 s on a fresh clone but reached only 2.12x the Bayes-optimal regret.)
DEMO_UPDATES = 2700

#: Baselines drawn beside the agent (Botvinick et al. 2019, Box 3 and Fig. 1B).
BASELINES: tuple[str, ...] = ("bayes_optimal", "gittins", "thompson", "ucb1")


@dataclass(frozen=True)
class DemoResult:
    """Where the demo wrote its outputs and its headline figures."""

    out_dir: Path
    """Folder holding everything below."""
    report: Path
    """The Markdown report."""
    regret: dict[str, dict[str, float]]
    """Final cumulative regret ``{"mean", "sem"}`` per agent label."""
    train_seconds: float
    """Wall-clock training time of this invocation (0 when the run was already finished)."""


def _train(out_dir: Path, seed: int, updates: int | None, progress: bool) -> tuple[Path, float]:
    from neurometa.learn import DEFAULT_PRESET, get_preset, train

    config = get_preset(DEFAULT_PRESET)
    if updates is not None:
        config = config.replace(optim=config.optim.replace(num_updates=updates))
    start = time.perf_counter()
    run_dir = train(config, out_dir / "run", seed=seed, resume=True, progress=progress)
    return run_dir, time.perf_counter() - start


def _record_all(
    run_dir: Path, out_dir: Path, episodes: int, seed: int, progress: bool
) -> dict[str, xr.Dataset]:
    from neurometa.agents.baselines import make_baseline
    from neurometa.learn import load_agent
    from neurometa.record import record
    from neurometa.tasks import make

    agent = load_agent(run_dir)
    batch = min(episodes, 1000)
    preset = json.loads((run_dir / "config.json").read_text())["task"]["preset"]
    recordings = {
        "meta-RL agent": record(
            agent, agent.make_task(batch), episodes, seed=seed, out=out_dir / "agent.nc",
            progress=progress, preset=preset,
        )
    }  # fmt: skip
    for name in BASELINES:
        task = make(preset, batch)
        recordings[name] = record(
            make_baseline(name, task), task, episodes, seed=seed,
            out=out_dir / f"{name}.nc", progress=progress,
        )  # fmt: skip
    return recordings


def _example_episodes_figure(ds: xr.Dataset, num: int = 4) -> Any:
    """Choices of ``num`` example episodes with the arms' reward probabilities."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(num, 1, figsize=(6, 1.1 * num + 0.6), sharex=True)
    for i, ax in enumerate(np.atleast_1d(axes)):
        ep = ds.isel(episode=i)
        action = ep["action"].values
        reward = ep["reward"].values
        probs = ep["arm_probs"].values[0]
        trials = np.arange(1, action.size + 1)
        ax.scatter(trials[reward > 0], action[reward > 0], s=9, c="tab:green", label="rewarded")
        ax.scatter(trials[reward <= 0], action[reward <= 0], s=9, c="tab:gray", label="no reward")
        ax.set_yticks([0, 1], [f"arm 0 (p={probs[0]:.2f})", f"arm 1 (p={probs[1]:.2f})"])
        ax.set_ylim(-0.5, 1.5)
    np.atleast_1d(axes)[0].legend(loc="upper right", fontsize="x-small", ncol=2, frameon=False)
    np.atleast_1d(axes)[-1].set_xlabel("trial")
    fig.suptitle("Meta-RL agent, weights frozen: example test episodes", fontsize="small")
    fig.tight_layout()
    return fig


def _report(
    out_dir: Path, summary: dict[str, xr.Dataset], train_seconds: float, run_dir: Path
) -> Path:
    final = {label: s.sel(trial=s.attrs["num_trials"]) for label, s in summary.items()}
    best = float(final["bayes_optimal"]["mean"])
    lines = [
        "# neurometa demo: meta-RL agent on independent two-armed bandits",
        "",
        f"Run folder: `{run_dir}` (training time this invocation: {train_seconds:.0f} s).",
        "",
        "Mean cumulative expected regret over 100 trials (± SEM), same test episodes:",
        "",
        "| agent | regret at t=100 | ratio to Bayes-optimal | at t=10 | at t=50 |",
        "|---|---|---|---|---|",
    ]
    for label, s in summary.items():
        end, mean = final[label], s["mean"]
        lines.append(
            f"| {label} | {float(end['mean']):.3f} ± {float(end['sem']):.3f} "
            f"| {float(end['mean']) / best:.2f} "
            f"| {float(mean.sel(trial=10)):.3f} | {float(mean.sel(trial=50)):.3f} |"
        )
    lines += ["", "![regret curves](regret_curves.png)", "", "![examples](example_episodes.png)"]
    path = out_dir / "report.md"
    write_text_atomic(path, "\n".join(lines) + "\n")
    return path


def run_demo(
    out_dir: str | Path,
    *,
    seed: int = 0,
    updates: int | None = DEMO_UPDATES,
    episodes: int = 2000,
    progress: bool = True,
) -> DemoResult:
    """Train, record, analyse and plot; return where everything is.

    Parameters
    ----------
    out_dir : path-like
        Output folder (created).
    seed : int
        Seed of training and of the test episodes (test episodes use a different stream).
    updates : int, optional
        Training updates (default :data:`DEMO_UPDATES`; None: the preset's).
    episodes : int
        Test episodes recorded for the agent and each baseline.
    progress : bool
        Progress bars on stderr.
    """
    from neurometa.analysis.bandits import regret_curve, regret_summary
    from neurometa.analysis.plotting import plot_regret_curves, save_figure

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    run_dir, seconds = _train(out_dir, seed, updates, progress)
    recordings = _record_all(run_dir, out_dir, episodes, seed + 1, progress)
    curves = {label: regret_curve(ds) for label, ds in recordings.items()}
    summary = {label: regret_summary(ds) for label, ds in recordings.items()}
    table = xr.concat(
        [c.expand_dims(agent=[label]) for label, c in curves.items()], dim="agent"
    ).to_dataframe()
    write_text_atomic(out_dir / "regret.csv", table.to_csv())
    save_figure(plot_regret_curves(curves), out_dir / "regret_curves.png")
    save_figure(
        _example_episodes_figure(recordings["meta-RL agent"]), out_dir / "example_episodes.png"
    )
    report = _report(out_dir, summary, seconds, run_dir)
    regret = {
        label: {k: float(s[k].sel(trial=s.attrs["num_trials"])) for k in ("mean", "sem")}
        for label, s in summary.items()
    }
    return DemoResult(out_dir, report, regret, seconds)
