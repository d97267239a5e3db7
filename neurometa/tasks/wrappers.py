"""The meta-RL input convention as a task wrapper (Wang et al. 2016/2018; Duan et al. 2016).

A meta-RL agent sees, each step, the task's observation together with its own previous
action (one-hot) and previous reward, and optionally the normalised trial index:

    x_t = [obs_t, one_hot(a_{t-1}), r_{t-1}, trial_t / num_trials]

At the first step of an episode ``a_{-1}`` is "no action" (an all-zero one-hot) and
``r_{-1} = 0``. ``trial_t`` is the trial of the step about to be taken (``num_trials`` on the
terminal observation).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from neurometa.tasks.base import BatchedTask, StepResult

__all__ = ["MetaRLInputs"]


class MetaRLInputs(BatchedTask):
    """Append previous action (one-hot), previous reward and the trial index to observations.

    The wrapper is itself a :class:`BatchedTask`: it has the inner task's batch size, actions,
    episode length, stages, hidden variables and ``info``; only the observation grows to
    ``obs_dim + num_actions + 1 (+ 1 with trial_index)``. ``.task`` is the wrapped task,
    ``.unwrapped`` the innermost one and ``.generator`` the inner task's generator.

    Parameters
    ----------
    task : BatchedTask
        The task to wrap.
    trial_index : bool
        Append ``trial / num_trials`` as the last input.

    Examples
    --------
    >>> from neurometa.tasks import make
    >>> env = MetaRLInputs(make("bandit/independent", 3))
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, obs[0].tolist()
    (torch.Size([3, 5]), [1.0, 0.0, 0.0, 0.0, 0.0])
    """

    def __init__(self, task: BatchedTask, trial_index: bool = True) -> None:
        if not isinstance(task, BatchedTask):
            raise TypeError(f"MetaRLInputs wraps a BatchedTask, got {type(task).__name__}")
        # BatchedTask.__init__ is not called: the state (generator, step count) is the task's.
        self.task = task
        self.trial_index = bool(trial_index)
        self.num_envs = task.num_envs
        self.device = task.device
        self.num_trials = task.num_trials
        self.steps_per_trial = task.steps_per_trial
        self.hidden_variables = task.hidden_variables
        self.stage_names = task.stage_names
        self.variable_dims = dict(task.variable_dims)
        self.metadata = dict(task.metadata)
        self.single_action_space = task.single_action_space
        inner = task.single_observation_space
        extra = task.num_actions + 1 + int(self.trial_index)
        low = np.concatenate([inner.low.reshape(-1), np.zeros(extra, np.float32)])
        high = np.concatenate([inner.high.reshape(-1), np.ones(extra, np.float32)])
        high[task.obs_dim + task.num_actions] = np.inf  # rewards need not lie in [0, 1]
        low[task.obs_dim + task.num_actions] = -np.inf
        self.single_observation_space = gym.spaces.Box(low, high, dtype=np.float32)
        self._eye = torch.eye(task.num_actions, device=self.device)

    @property
    def generator(self) -> torch.Generator:  # type: ignore[override]
        """The inner task's generator."""
        return self.task.generator

    @property
    def unwrapped(self) -> BatchedTask:
        """The innermost task (under every wrapper)."""
        return self.task.unwrapped

    @property
    def t(self) -> int:
        """Steps taken in the current episode."""
        return self.task.t

    @property
    def config(self) -> Any:
        """The inner task's config (where it has one)."""
        return getattr(self.task, "config", None)

    def _extra(self, one_hot: Tensor, reward: Tensor) -> list[Tensor]:
        parts = [one_hot, reward.to(torch.float32).unsqueeze(1)]
        if self.trial_index:
            parts.append(self._trial_columns[self.task.t])
        return parts

    def _build_trial_columns(self) -> None:
        """``trial / num_trials`` as a ``[B, 1]`` column for every step count 0..L."""
        length = self.episode_length
        if len(getattr(self, "_trial_columns", ())) == length + 1:
            return
        trials = torch.arange(length + 1, device=self.device) // self.steps_per_trial
        column = (trials.to(torch.float32) / self.num_trials).view(-1, 1, 1)
        self._trial_columns = column.expand(-1, self.num_envs, 1).contiguous().unbind(0)

    def reset(self, *, seed: int | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        """Reset the inner task; the previous action/reward inputs start at zero.

        Returns
        -------
        obs : Tensor, shape (B, obs_dim + num_actions + 1 [+ 1]), float32
        info : dict of str to Tensor
        """
        obs, info = self.task.reset(seed=seed)
        self._build_trial_columns()
        zeros = torch.zeros(self.num_envs, self.num_actions, device=self.device)
        reward = torch.zeros(self.num_envs, device=self.device)
        return torch.cat([obs, *self._extra(zeros, reward)], dim=1), info

    def step(self, action: Tensor) -> StepResult:
        """Step the inner task and append ``one_hot(action)``, ``reward`` (and trial index).

        Returns
        -------
        obs : Tensor, shape (B, obs_dim + num_actions + 1 [+ 1]), float32
        reward, terminated, truncated : Tensor, shape (B,)
        info : dict of str to Tensor
        """
        obs, reward, terminated, truncated, info = self.task.step(action)
        one_hot = self._eye[action.to(self.device, torch.long)]
        obs = torch.cat([obs, *self._extra(one_hot, reward)], dim=1)
        return obs, reward, terminated, truncated, info

    def state_dict(self) -> dict[str, Tensor]:
        """The inner task's :meth:`~BatchedTask.state_dict`."""
        return self.task.state_dict()

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Restore the inner task's state."""
        self.task.load_state_dict(state)

    def _reset(self) -> tuple[Tensor, dict[str, Tensor]]:
        raise NotImplementedError("MetaRLInputs overrides reset()")

    def _step(self, action: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        raise NotImplementedError("MetaRLInputs overrides step()")
