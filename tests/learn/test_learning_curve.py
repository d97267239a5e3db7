"""Learning curves of the episodic-control agents and episodes to criterion."""

from __future__ import annotations

import pytest

from neurometa.agents.episodic import EPISODIC_CONTROL_PRESETS
from neurometa.learn.learning_curve import episodes_to_criterion, episodic_learning_curve
from neurometa.tasks.gridworld import GridworldConfig, GridworldTask


def _train(method: str, batches: int, seed: int) -> list[float]:
    task = GridworldTask(GridworldConfig(), 8)
    return episodic_learning_curve(EPISODIC_CONTROL_PRESETS[method], task, batches, seed=seed)


def test_mfec_learns_gridworld_in_few_episodes() -> None:
    # best return 5 (40 steps, 8-step paths); a uniformly random walk averages well below 1
    returns = _train("mfec", 8, seed=0)
    assert returns[0] < 1.0
    assert sum(returns[4:]) / 4 > 3.0


def test_same_seed_same_learning_curve() -> None:
    assert _train("box2", 3, seed=5) == _train("box2", 3, seed=5)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["nec", "box2"], ids=["nec", "box2"])
def test_slow_learners_beat_random(method: str) -> None:
    returns = _train(method, 10, seed=1)
    assert sum(returns[5:]) / 5 > 1.0


@pytest.mark.parametrize(
    ("returns", "expected"),
    [
        ([0.0, 1.0, 5.0, 5.0, 5.0], 32),  # first window of 3 with mean >= 3 ends at batch 4
        ([0.0, 0.0, 9.0], 24),  # mean exactly 3.0 counts
        ([3.0, 3.0], None),  # fewer batches than the window
        ([0.0, 1.0, 2.0, 2.0], None),  # never reached
    ],
    ids=["reached", "boundary", "short", "never"],
)
def test_episodes_to_criterion_matches_hand_count(returns, expected):
    assert episodes_to_criterion(returns, 3.0, window=3, batch_size=8) == expected


def test_episodes_to_criterion_rejects_empty_window():
    with pytest.raises(ValueError, match="window and batch_size must be >= 1"):
        episodes_to_criterion([1.0], 0.5, window=0, batch_size=8)
