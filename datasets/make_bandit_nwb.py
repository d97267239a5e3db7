"""Generate a synthetic NWB bandit session whose neurons code the animal's value or RPE.

The simulated subject is a Q-learner (learning rate ``--alpha``, inverse temperature
``--beta``) on a two-armed reversal bandit (reward probabilities 0.8 / 0.2, reversing every
40 trials); the model and the planted coding are those of
:mod:`neurometa.behaviour.synthetic`: ``chosen_value`` units code ``Q_t(c_t)`` in the 0.5 s
after the choice, ``rpe`` units code ``δ_t = r_t − Q_t(c_t)`` in the 0.5 s after the
outcome, the rest code nothing; outside those windows every unit fires at a quarter of its
baseline. The units table's ``planted_coding`` column holds the truth. The trials table
has no ``value`` column: the value comes from fitting a model to the choices, e.g.::

    python datasets/make_bandit_nwb.py --out bandit.nwb
    neurometa import nwb bandit.nwb --out chosen.nc --event choice_time --window 0 0.5
    neurometa analyze coding chosen.nc --activity activity    # fits q_learning, says so
    neurometa import nwb bandit.nwb --out outcome.nc --event outcome_time --window 0 0.5
    neurometa fit q_learning outcome.nc --out fits
    neurometa analyze coding fits/outcome_latents.nc --activity activity --value model_rpe

Every random draw comes from streams seeded by ``--seed``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from neurometa.atomic import atomic_path
from neurometa.behaviour.synthetic import WINDOW, bandit_session
from neurometa.seeding import RunSeeds


def _example_module() -> Any:
    """``datasets/make_example_nwb.py`` (its NWB units-table writer is reused)."""
    path = Path(__file__).with_name("make_example_nwb.py")
    spec = importlib.util.spec_from_file_location("make_example_nwb", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_example_nwb", module)
    spec.loader.exec_module(module)
    return module


def trial_times(num_trials: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Event times (s): start, choice (0.4-0.8 s later), outcome (+0.5 s), stop (+1 s)."""
    rt = rng.uniform(0.4, 0.8, num_trials)
    iti = rng.uniform(0.5, 1.0, num_trials)
    duration = rt + 2 * WINDOW + 1.0
    start = np.concatenate([[1.0], 1.0 + np.cumsum(duration + iti)[:-1]])
    choice = start + rt
    outcome = choice + WINDOW
    return {
        "start_time": start,
        "choice_time": choice,
        "outcome_time": outcome,
        "stop_time": outcome + WINDOW + 1.0,
    }


def spike_trains(
    session: dict[str, Any], times: dict[str, np.ndarray], rng: np.random.Generator
) -> list[np.ndarray]:
    """Poisson spikes: the window rates after choice and outcome, baseline/4 elsewhere."""
    end = float(times["stop_time"][-1] + 1.0)
    starts = {"choice": times["choice_time"], "outcome": times["outcome_time"]}
    trains = []
    for u, base in enumerate(session["baseline"]):
        background = rng.uniform(0.0, end, rng.poisson(base / 4 * end))
        keep = np.ones(background.size, dtype=bool)
        pieces = []
        for window, onset in starts.items():
            idx = np.searchsorted(onset, background, side="right") - 1
            keep &= ~((idx >= 0) & (background < onset[np.maximum(idx, 0)] + WINDOW))
            n = rng.poisson(session["rates"][window][:, u] * WINDOW)
            pieces.append(np.repeat(onset, n) + rng.uniform(0.0, WINDOW, n.sum()))
        trains.append(np.sort(np.concatenate([background[keep], *pieces])))
    return trains


def build_nwb(num_trials: int, num_units: int, seed: int, **options: Any) -> Any:
    """The session as a ``pynwb.NWBFile``: trials (no value column), units, subject."""
    from hdmf.common import VectorData
    from pynwb import NWBFile
    from pynwb.epoch import TimeIntervals
    from pynwb.file import Subject

    session = bandit_session(num_trials, num_units, seed=seed, **options)
    seeds = RunSeeds(seed)
    times = trial_times(num_trials, seeds.numpy("weights"))
    spikes = spike_trains(session, times, seeds.numpy("memory"))
    table = session["table"]
    columns = {
        **{k: (v, f"{k.replace('_', ' ')} (s)") for k, v in times.items()},
        "choice": (table["choice"].to_numpy(np.int64), "chosen arm (0 or 1)"),
        "reward": (table["reward"].to_numpy(), "1 if rewarded, else 0"),
    }
    nwb = NWBFile(
        session_description="synthetic two-armed reversal bandit session with planted "
        "value and prediction-error coding",
        identifier=f"neurometa-synthetic-bandit-seed{seed}",
        session_start_time=datetime(2024, 1, 1, 9, 0, tzinfo=UTC),
        experiment_description="neurometa synthetic dataset (datasets/make_bandit_nwb.py)",
        keywords=["bandit", "simulated", "reward prediction error", "value coding"],
        notes=f"Q-learning subject alpha={session['alpha']}, beta={session['beta']}",
    )
    nwb.subject = Subject(
        subject_id="sim01",
        species="Mus musculus",
        sex="U",
        age="P90D",
        description="simulated Q-learning subject (not a real animal)",
    )
    nwb.trials = TimeIntervals(
        name="trials",
        description="trials of the synthetic bandit session",
        columns=[VectorData(name=k, description=d, data=v) for k, (v, d) in columns.items()],
    )
    nwb.units = _example_module().units_table(spikes, session["classes"])
    return nwb


def write_bandit_nwb(
    path: str | Path, num_trials: int = 1000, num_units: int = 90, seed: int = 0, **options: Any
) -> Path:
    """Simulate the session and write it to ``path`` (atomically); return the path."""
    from pynwb import NWBHDF5IO

    nwb = build_nwb(num_trials, num_units, seed, **options)
    with atomic_path(path) as tmp, NWBHDF5IO(str(tmp), "w") as io:
        io.write(nwb)
    return Path(path)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="destination .nwb file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-trials", type=int, default=1000)
    parser.add_argument("--num-units", type=int, default=90)
    parser.add_argument("--alpha", type=float, default=0.3, help="learning rate")
    parser.add_argument("--beta", type=float, default=5.0, help="inverse temperature")
    args = parser.parse_args(argv)
    path = write_bandit_nwb(
        args.out, args.num_trials, args.num_units, args.seed, alpha=args.alpha, beta=args.beta
    )
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
