"""Generate the example lab dataset: a simulated population with PLANTED coding, as NWB.

A simulated subject performs a two-armed dynamic foraging task (Sugrue et al. 2004;
Tsutsui et al. 2016 used the same two-option structure): each trial both options are
baited independently with their block's probabilities, a bait stays until collected, and the
probabilities switch between blocks of 40-80 trials. The subject is a Q-learner with
softmax choice (learning rate ``alpha``, inverse temperature ``beta``); its state value
``V(t) = sum_a pi_t(a) Q_t(a)`` before the choice is stored as the trial column ``value``.

A population of ``num_units`` neurons is simulated as Poisson spike trains. Each unit belongs
to exactly one coding class, drawn with the planted fractions (``fractions``): it codes the
previous action ``a(t-1)``, the previous reward ``r(t-1)``, their product, or ``V(t)``, or
nothing. During the cue window ``[cue_time, cue_time + 0.5 s)`` of trial ``t`` the rate of
unit ``u`` coding ``x`` is

    lambda_u(t) = b_u (1 + g_u x_t),

with ``a``, ``r`` coded ±1, ``V`` z-scored and clipped to ±2.5, baseline ``b_u ~ U(5, 15)``
Hz and gain ``|g_u| = gain`` with a random sign; outside the cue windows units fire at
``b_u / 4``. The class of each unit is stored in the units table (``planted_coding``) so
that an analysis can be checked against the truth. With enough trials the coding regression
(:func:`neurometa.analysis.coding.coding_fractions`) detects nearly every planted unit, so
the expected detected fraction of a term is ``p + alpha_test * (1 - p)`` (false positives of
the other units at the test level).

Usage::

    python datasets/make_example_nwb.py --out example_foraging.nwb [--seed 0]
    neurometa import nwb example_foraging.nwb --out lab.nc --event cue_time --window 0 0.5

Every random draw comes from ``numpy.random.default_rng`` streams seeded by ``--seed``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from neurometa.atomic import atomic_path
from neurometa.config import Config, ConfigError, check_range
from neurometa.seeding import RunSeeds

#: Coding classes, in the order of ``ExampleConfig.fractions``.
CLASSES: tuple[str, ...] = ("prev_action", "prev_reward", "interaction", "value")
#: Block reward-probability pairs (left, right), total 0.45 as in matching-law studies.
BLOCK_PROBS: tuple[tuple[float, float], ...] = (
    (0.36, 0.09),
    (0.09, 0.36),
    (0.3, 0.15),
    (0.15, 0.3),
)
#: Length of the cue window (s) in which coding is planted.
CUE_WINDOW = 0.5


@dataclass(frozen=True)
class ExampleConfig(Config):
    """Parameters of the simulated session."""

    num_trials: int = 300
    """Trials in the session."""
    num_units: int = 200
    """Simulated neurons."""
    fractions: tuple[float, ...] = (0.25, 0.2, 0.1, 0.2)
    """Planted fraction of units coding prev_action, prev_reward, interaction, value."""
    gain: float = 0.35
    """Modulation depth |g| of coding units (rate = b (1 + g x))."""
    alpha: float = 0.3
    """Learning rate of the simulated subject's Q-learning."""
    beta: float = 5.0
    """Softmax inverse temperature of the simulated subject."""

    def __post_init__(self) -> None:
        check_range(self, "num_trials", low=20)
        check_range(self, "num_units", low=1)
        check_range(self, "gain", low=0.0, high=0.39)
        check_range(self, "alpha", low=0.0, high=1.0)
        check_range(self, "beta", low=0.0)
        if len(self.fractions) != len(CLASSES) or min(self.fractions) < 0:
            raise ConfigError(f"fractions must be {len(CLASSES)} non-negative numbers")
        if sum(self.fractions) > 1 + 1e-9:
            raise ConfigError(f"fractions sum to {sum(self.fractions)} > 1")


def simulate_behaviour(cfg: ExampleConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Simulate the foraging task and the Q-learning subject.

    Returns
    -------
    dict of numpy.ndarray, each shape (num_trials,) (``bait_probs``: (num_trials, 2))
        ``choice`` (0 left / 1 right), ``reward`` (0/1), ``value`` (V(t) before the choice),
        ``block``, ``bait_probs``.
    """
    n = cfg.num_trials
    q = np.zeros(2)
    baited = np.zeros(2, dtype=bool)
    out = {k: np.zeros(n) for k in ("choice", "reward", "value", "block")}
    out["bait_probs"] = np.zeros((n, 2))
    block, left_in_block = -1, 0
    order = rng.permutation(len(BLOCK_PROBS))
    for t in range(n):
        if left_in_block == 0:
            block += 1
            left_in_block = int(rng.integers(40, 81))
        probs = np.asarray(BLOCK_PROBS[order[block % len(order)]])
        left_in_block -= 1
        baited |= rng.random(2) < probs
        logits = cfg.beta * (q - q.max())
        pi = np.exp(logits) / np.exp(logits).sum()
        choice = int(rng.random() < pi[1])
        reward = float(baited[choice])
        baited[choice] = False
        out["value"][t] = pi @ q
        q[choice] += cfg.alpha * (reward - q[choice])
        out["choice"][t], out["reward"][t], out["block"][t] = choice, reward, block
        out["bait_probs"][t] = probs
    return out


def trial_times(num_trials: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Event times (s) of each trial: start, cue (+0.5 s), choice, outcome, stop."""
    start_to_cue, outcome_to_stop = 0.5, 1.0
    rt = rng.uniform(0.6, 0.9, num_trials)  # cue window (0.5 s) ends before the choice
    iti = rng.uniform(0.5, 1.0, num_trials)
    duration = start_to_cue + rt + 0.5 + outcome_to_stop
    start = np.concatenate([[1.0], 1.0 + np.cumsum(duration + iti)[:-1]])
    cue = start + start_to_cue
    choice = cue + rt
    outcome = choice + 0.5
    return {
        "start_time": start,
        "cue_time": cue,
        "choice_time": choice,
        "outcome_time": outcome,
        "stop_time": outcome + outcome_to_stop,
    }


def coding_regressors(beh: dict[str, np.ndarray]) -> np.ndarray:
    """The coded variable of each class per trial, shape (num_classes, num_trials).

    Trial 0 has no previous trial; its previous action/reward are taken as −1.
    """
    a = np.concatenate([[-1.0], 2 * beh["choice"][:-1] - 1])
    r = np.concatenate([[-1.0], 2 * beh["reward"][:-1] - 1])
    v = beh["value"]
    z = np.clip((v - v.mean()) / (v.std() + 1e-12), -2.5, 2.5)
    return np.stack([a, r, a * r, z])


def simulate_spikes(
    cfg: ExampleConfig,
    beh: dict[str, np.ndarray],
    times: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Poisson spike trains with planted coding in the cue window.

    Returns
    -------
    spikes : list of numpy.ndarray
        Sorted spike times (s) of each unit.
    classes : numpy.ndarray of str, shape (num_units,)
        Planted class of each unit (one of :data:`CLASSES` or ``"none"``).
    """
    probs = np.append(cfg.fractions, 1.0 - sum(cfg.fractions))
    labels = np.asarray([*CLASSES, "none"])
    counts = np.floor(np.asarray(probs) * cfg.num_units + 1e-9).astype(int)
    counts[-1] = cfg.num_units - counts[:-1].sum()
    classes = rng.permutation(np.repeat(labels, counts))
    x = coding_regressors(beh)
    session_end = float(times["stop_time"][-1] + 1.0)
    cue = times["cue_time"]
    spikes = []
    for cls in classes:
        base = rng.uniform(5.0, 15.0)
        rate = np.full(cfg.num_trials, base)
        if cls != "none":
            gain = cfg.gain * rng.choice([-1.0, 1.0])
            rate = base * (1.0 + gain * x[list(CLASSES).index(cls)])
        background = rng.uniform(0.0, session_end, rng.poisson(base / 4 * session_end))
        inside = np.searchsorted(cue, background, side="right") - 1
        in_window = (inside >= 0) & (background < cue[np.maximum(inside, 0)] + CUE_WINDOW)
        n_cue = rng.poisson(rate * CUE_WINDOW)
        cue_spikes = np.repeat(cue, n_cue) + rng.uniform(0.0, CUE_WINDOW, n_cue.sum())
        spikes.append(np.sort(np.concatenate([background[~in_window], cue_spikes])))
    return spikes, classes


def trials_table(beh: dict[str, np.ndarray], times: dict[str, np.ndarray]) -> Any:
    """The NWB trials table (``TimeIntervals``) of the simulated session."""
    from hdmf.common import VectorData
    from pynwb.epoch import TimeIntervals

    columns = {
        "start_time": (times["start_time"], "trial start (s)"),
        "stop_time": (times["stop_time"], "trial stop (s)"),
        "cue_time": (times["cue_time"], "cue onset (s); coding is planted in the 0.5 s after it"),
        "choice_time": (times["choice_time"], "time of the choice (s)"),
        "outcome_time": (times["outcome_time"], "time of the outcome (s)"),
        "choice": (beh["choice"].astype(np.int64), "chosen option (0 left, 1 right)"),
        "reward": (beh["reward"], "1 if the choice was rewarded (bait collected), else 0"),
        "value": (beh["value"], "subject's state value V(t) = sum_a pi(a) Q(a) before choice"),
        "block": (beh["block"].astype(np.int64), "block index"),
        "bait_probs": (beh["bait_probs"], "baiting probability (left, right) [dim: arm]"),
    }
    return TimeIntervals(
        name="trials",
        description="trials of the simulated foraging session",
        columns=[VectorData(name=k, description=d, data=v) for k, (v, d) in columns.items()],
    )


def units_table(spikes: list[np.ndarray], classes: np.ndarray) -> Any:
    """The NWB units table: spike times at 30 kHz resolution and the planted class."""
    from hdmf.common import VectorData, VectorIndex
    from pynwb.misc import Units

    flat = np.round(np.concatenate(spikes) * 30000) / 30000
    spike_times = VectorData(name="spike_times", description="spike times (s)", data=flat)
    ends = np.cumsum([len(train) for train in spikes])
    planted = "variable the unit was simulated to code (ground truth; 'none': no coding)"
    return Units(
        name="units",
        description="simulated single units",
        resolution=1 / 30000,
        columns=[
            spike_times,
            VectorIndex(name="spike_times_index", data=ends, target=spike_times),
            VectorData(name="planted_coding", description=planted, data=classes),
            VectorData(
                name="location",
                description="simulated recording area",
                data=np.full(len(classes), "OFC"),
            ),
        ],
    )


def build_nwb(cfg: ExampleConfig, seed: int) -> Any:
    """The simulated session as a ``pynwb.NWBFile`` (trials + units + subject)."""
    from pynwb import NWBFile
    from pynwb.file import Subject

    seeds = RunSeeds(seed)
    beh = simulate_behaviour(cfg, seeds.numpy("task"))
    times = trial_times(cfg.num_trials, seeds.numpy("sampling"))
    spikes, classes = simulate_spikes(cfg, beh, times, seeds.numpy("extra"))
    nwb = NWBFile(
        session_description="simulated dynamic foraging session with planted single-unit coding",
        identifier=f"neurometa-example-foraging-seed{seed}",
        session_start_time=datetime(2024, 1, 1, 9, 0, tzinfo=UTC),
        experiment_description="neurometa example dataset (datasets/make_example_nwb.py)",
        keywords=["dynamic foraging", "simulated", "single-unit coding"],
        notes=f"planted fractions {dict(zip(CLASSES, cfg.fractions, strict=True))}; "
        f"config {cfg.to_json()}",
    )
    nwb.subject = Subject(
        subject_id="sim01",
        species="Macaca mulatta",
        sex="M",
        age="P6Y",
        description="simulated Q-learning subject (not a real animal)",
    )
    nwb.trials = trials_table(beh, times)
    nwb.units = units_table(spikes, classes)
    return nwb


def write_example(path: str | Path, cfg: ExampleConfig | None = None, seed: int = 0) -> Path:
    """Simulate the session and write it to ``path`` (atomically); return the path."""
    from pynwb import NWBHDF5IO

    nwb = build_nwb(cfg or ExampleConfig(), seed)
    with atomic_path(path) as tmp, NWBHDF5IO(str(tmp), "w") as io:
        io.write(nwb)
    return Path(path)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: write the example file and report its size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="destination .nwb file")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--num-trials", type=int, default=ExampleConfig.num_trials)
    parser.add_argument("--num-units", type=int, default=ExampleConfig.num_units)
    args = parser.parse_args(argv)
    cfg = ExampleConfig(num_trials=args.num_trials, num_units=args.num_units)
    path = write_example(args.out, cfg, args.seed)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
