"""A small open gridworld for comparing episodic and parametric value learning.

The agent walks on a ``size x size`` grid from a fixed start cell (top-left) to a fixed goal
cell (bottom-right) with four actions (up, down, left, right; a move into the border leaves
it in place). Reaching the goal pays ``+1`` and puts the agent back on the start cell, so an
episode of fixed length ``num_steps`` collects one reward per completed path: with the
defaults (5 x 5, 40 steps) the shortest path is 8 moves and the best possible return is 5.
The observation is the one-hot code of the current cell. Layout and dynamics are
deterministic and fixed across episodes — the setting in which episodic control (Blundell
et al. 2016) learns from few episodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from neurometa.config import Config, check_range
from neurometa.tasks.base import BatchedTask

__all__ = ["GridworldConfig", "GridworldTask", "MOVES"]

#: Row and column change of each action: up, down, left, right.
MOVES: tuple[tuple[int, int], ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))


@dataclass(frozen=True)
class GridworldConfig(Config):
    """Parameters of the gridworld."""

    size: int = 5
    """Side length of the square grid (cells)."""
    num_steps: int = 40
    """Steps per episode (``num_trials``; one step per trial)."""

    def __post_init__(self) -> None:
        check_range(self, "size", low=2, high=64)
        check_range(self, "num_steps", low=1)

    @property
    def best_return(self) -> int:
        """Largest possible episode return: completed shortest paths in ``num_steps``."""
        return self.num_steps // (2 * (self.size - 1))


class GridworldTask(BatchedTask):
    """Batched deterministic gridworld (see the module docstring).

    Info: ``position`` (int64 ``[B]``, cell index ``row * size + col`` *before* the step's
    move) and ``reached_goal`` (bool ``[B]``), plus ``trial`` and ``stage``.

    Parameters
    ----------
    config : GridworldConfig
        Task parameters.
    num_envs : int
        Batch size B.
    device : str or torch.device
        Device of all tensors.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "gridworld",
        "description": "open gridworld, fixed start and goal: a small task for episodic control",
        "paper": "Blundell et al. 2016, Model-Free Episodic Control",
        "paper_url": "https://arxiv.org/abs/1606.04460",
    }
    hidden_variables = ("position", "reached_goal")
    stochastic: ClassVar[bool] = False
    stage_names = ("move",)

    def __init__(
        self, config: GridworldConfig, num_envs: int, device: str | torch.device = "cpu"
    ) -> None:
        super().__init__(num_envs, device)
        self.config = config
        self.num_trials = config.num_steps
        cells = config.size * config.size
        self.single_observation_space = gym.spaces.Box(0.0, 1.0, (cells,), np.float32)
        self.single_action_space = gym.spaces.Discrete(len(MOVES))
        self._moves = torch.tensor(MOVES, dtype=torch.long, device=self.device)
        self.goal = cells - 1

    def _obs(self) -> Tensor:
        cells = self.config.size * self.config.size
        return torch.nn.functional.one_hot(self._pos, cells).to(torch.float32)

    def _reset(self) -> tuple[Tensor, dict[str, Tensor]]:
        self._pos = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        info = self._trial_info()
        info["position"] = self._pos.clone()
        info["reached_goal"] = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        return self._obs(), info

    def _step(self, action: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        size = self.config.size
        info = self._trial_info()
        info["position"] = self._pos.clone()
        row, col = self._pos // size, self._pos % size
        row = (row + self._moves[action, 0]).clamp(0, size - 1)
        col = (col + self._moves[action, 1]).clamp(0, size - 1)
        moved = row * size + col
        reached = moved == self.goal
        self._pos = torch.where(reached, torch.zeros_like(moved), moved)
        info["reached_goal"] = reached
        return self._obs(), reached.to(torch.float32), info
