"""The run functions of the built-in sweep actions (:data:`neurometa.sweep.actions.ACTIONS`).

- ``train``: ``neurometa.learn.train(config, run_dir, seed=..., resume=True)`` on a preset
  of ``neurometa.learn.PRESETS``. Results: the final evaluation on the selection episodes
  (``final_return``, ``final_regret`` where the task has arm probabilities, with ``_sem``),
  ``final_score`` (higher is better: −regret, else the return; the default ranking),
  ``best_score``, ``best_update``, ``train_seconds``, ``env_steps`` and the last logged
  training means (``train_return``, ``train_regret``).
- ``record``: ``train``, then record :data:`RECORD_EPISODES` episodes of the trained agent
  (best weights, actions sampled from its policy, episodes seeded by the run's ``extra``
  stream so they differ from training) to ``recording.nc`` in the run folder; adds
  ``record_return`` (mean episode return) and, with arm probabilities, ``record_regret``
  (mean cumulative expected regret per episode, Σ_t max(p) − p[a_t]).
- ``analyse``: ``record``, then the single-unit coding regression (Tsutsui et al. 2016;
  Wang et al. 2018) of ``h`` at the first stage; adds ``coding_<term>`` (fraction of units
  with p < 0.05 for each regressor) and ``coding_<term>_chance`` (shuffle chance level).

Each step is skipped when its output exists (``done.json``, ``recording.nc``), so an
interrupted run resumes where it stopped. Heavy modules are imported inside the functions,
so importing :mod:`neurometa.sweep` stays cheap and torch-free.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from pathlib import Path

from neurometa.config import Config, ConfigError
from neurometa.seeding import RunSeeds

__all__ = [
    "RECORD_EPISODES",
    "train_preset",
    "train_run",
    "record_run",
    "analyse_run",
    "last_metrics",
]

#: Episodes the ``record`` and ``analyse`` actions record per run.
RECORD_EPISODES = 200
RECORDING = "recording.nc"


def train_preset(name: str) -> Config:
    """The trainer preset ``name`` from ``neurometa.learn.PRESETS``, as one process per run.

    A sweep runs several runs at once (one per worker slot), so each run trains in a single
    process: ``workers`` is set to 1 (the bandit presets use 2 when trained alone). Dask's
    worker processes are daemonic and may not start processes of their own; an override
    ``workers=N`` is therefore refused there by the trainer with a clear error.
    """
    from neurometa.learn import get_preset

    try:
        preset = get_preset(name)
    except KeyError as err:
        raise ConfigError(str(err).strip("'\"")) from None
    return dataclasses.replace(preset, workers=1)


def last_metrics(path: Path, columns: tuple[str, ...]) -> dict[str, float]:
    """``columns`` of the last row of a ``metrics.csv`` that holds them as numbers."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = {}
    for name in columns:
        for row in reversed(rows):
            if row.get(name) not in (None, ""):
                out[name] = float(row[name])
                break
    return out


def train_run(config: Config, run_dir: Path, *, seed: int, resume: bool) -> dict[str, float]:
    """Train (or finish training) one run and return its final figures."""
    from neurometa.learn import train
    from neurometa.learn.evaluate import selection_score

    train(config, run_dir, seed=seed, resume=True, progress=False)
    done = json.loads((run_dir / "done.json").read_text(encoding="utf-8"))
    final = done["final_eval"] or {}
    out = {f"final_{k}": float(v) for k, v in final.items() if k != "episodes"}
    out["final_score"] = float(selection_score(final)) if final else math.nan
    for key in ("best_score", "best_update", "train_seconds", "env_steps"):
        out[key] = float(done[key])
    out.update(last_metrics(run_dir / "metrics.csv", ("train_return", "train_regret")))
    return out


def _recording(config: Config, run_dir: Path, seed: int):  # noqa: ANN202 - xarray lazily
    """Record the trained agent once (atomically) and open the recording."""
    from neurometa.learn import load_agent
    from neurometa.record import open_recording, record

    path = run_dir / RECORDING
    if not path.is_file():
        agent = load_agent(run_dir, greedy=False)  # sampled actions: behaviour varies
        task = agent.make_task(min(RECORD_EPISODES, config.optim.batch_size), "cpu")
        record_seed = RunSeeds(seed).int("extra") % 2**31  # episodes unseen in training
        record(
            agent, task, RECORD_EPISODES, seed=record_seed, out=path, progress=False,
            preset=config.task.preset, config=config,
        )  # fmt: skip
    return open_recording(path)


def record_run(config: Config, run_dir: Path, *, seed: int, resume: bool) -> dict[str, float]:
    """Train, then record the trained agent; return the training and recording figures."""
    out = train_run(config, run_dir, seed=seed, resume=resume)
    with _recording(config, run_dir, seed) as ds:
        out["record_return"] = float(ds["reward"].sum("step").mean("episode"))
        if "arm_probs" in ds and "arm" in ds["arm_probs"].dims:
            from neurometa.returns import expected_regret

            probs = ds["arm_probs"].transpose("episode", "step", "arm").values
            actions = ds["action"].transpose("episode", "step").values
            out["record_regret"] = float(expected_regret(probs, actions).sum(-1).mean())
    return out


def analyse_run(config: Config, run_dir: Path, *, seed: int, resume: bool) -> dict[str, float]:
    """Train, record, then fit the single-unit coding regression of the recording."""
    from neurometa.analysis.coding import coding_fractions

    out = record_run(config, run_dir, seed=seed, resume=resume)
    with _recording(config, run_dir, seed) as ds:
        fractions = coding_fractions(ds.load(), seed=RunSeeds(seed).int("extra") % 2**31)
    for term in fractions["term"].values.tolist():
        if term == "intercept":
            continue
        out[f"coding_{term}"] = float(fractions["fraction"].sel(term=term))
        out[f"coding_{term}_chance"] = float(fractions["chance"].sel(term=term))
    return out
