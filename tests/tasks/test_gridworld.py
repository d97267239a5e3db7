"""The small gridworld used to compare episodic and parametric value learning."""

from __future__ import annotations

import pytest
import torch

from neurometa.config import ConfigError
from neurometa.tasks.base import TaskError
from neurometa.tasks.gridworld import GridworldConfig, GridworldTask

UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3


def test_moves_walls_and_one_hot_obs() -> None:
    task = GridworldTask(GridworldConfig(size=3, num_steps=10), 4)
    obs, info = task.reset(seed=0)
    assert bool((obs.argmax(1) == 0).all())
    assert info["position"].tolist() == [0, 0, 0, 0]
    obs, reward, _, _, info = task.step(torch.tensor([UP, DOWN, LEFT, RIGHT]))
    assert obs.argmax(1).tolist() == [0, 3, 0, 1]  # up/left hit the border and stay
    assert info["position"].tolist() == [0, 0, 0, 0]  # position before the move
    assert reward.tolist() == [0.0, 0.0, 0.0, 0.0]
    torch.testing.assert_close(obs.sum(1), torch.ones(4))


def test_goal_pays_and_respawns() -> None:
    task = GridworldTask(GridworldConfig(size=2, num_steps=4), 1)
    task.reset(seed=0)
    _, r1, _, _, _ = task.step(torch.tensor([RIGHT]))
    obs, r2, _, _, info = task.step(torch.tensor([DOWN]))  # reaches cell 3 = goal
    assert (float(r1), float(r2)) == (0.0, 1.0)
    assert bool(info["reached_goal"][0])
    assert int(obs.argmax()) == 0  # back on the start cell


@pytest.mark.parametrize("size", [3, 5], ids=["3x3", "5x5"])
def test_shortest_path_policy_earns_best_return(size: int) -> None:
    config = GridworldConfig(size=size, num_steps=40)
    task = GridworldTask(config, 2)
    task.reset(seed=0)
    path = [RIGHT] * (size - 1) + [DOWN] * (size - 1)
    total = torch.zeros(2)
    for t in range(task.episode_length):
        _, reward, terminated, _, _ = task.step(torch.full((2,), path[t % len(path)]))
        total += reward
    assert total.tolist() == [float(config.best_return)] * 2
    assert bool(terminated.all())


def test_bad_action_and_config_are_named() -> None:
    task = GridworldTask(GridworldConfig(), 1)
    task.reset(seed=0)
    with pytest.raises(TaskError, match="actions must lie in"):
        task.step(torch.tensor([4]))
    with pytest.raises(ConfigError, match="size"):
        GridworldConfig(size=1)
