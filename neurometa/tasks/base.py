"""The batched task contract every neurometa task follows.

A task runs ``num_envs`` independent episodes in lock-step on torch tensors, with
Gymnasium's names:

- ``reset(*, seed=None) -> (obs, info)``;
- ``step(action) -> (obs, reward, terminated, truncated, info)``;
- ``single_observation_space`` (a ``gymnasium.spaces.Box``) and ``single_action_space``
  (a ``gymnasium.spaces.Discrete``) describe one batch member.

Conventions shared by all tasks
-------------------------------
- Shapes: ``obs`` is ``float32 [B, obs_dim]``; ``action`` is ``int64 [B]``; ``reward`` is
  ``float32 [B]``; ``terminated``/``truncated`` are ``bool [B]``.
- Episodes have a fixed number of steps, ``episode_length`` (``num_trials *
  steps_per_trial``), and all batch members end on the same step with ``terminated`` True.
  After that the caller must ``reset()`` (no autoreset); stepping a finished task raises.
- ``info`` maps each hidden task variable to a tensor with leading dim ``B`` (``[B]`` or
  ``[B, K]``, e.g. arm probabilities). ``info`` from ``step`` describes the step just taken
  (the hidden state in force when the action was chosen, plus its consequences, e.g.
  ``common_transition``); ``info`` from ``reset`` gives the hidden state before the first
  step. Every ``info`` holds ``trial`` (``int64 [B]``, trial index within the episode) and
  ``stage`` (``int64 [B]``, step index within the trial). ``hidden_variables`` lists the
  task-specific keys; ``variable_dims`` names the extra dims of non-scalar ones. Returned
  tensors (``info`` entries, ``terminated``/``truncated``, constant observations) may be
  shared between steps and episodes: treat them as read-only.
- Randomness comes only from a ``torch.Generator`` owned by the task, seeded by
  ``reset(seed=...)``; ``reset()`` without a seed continues the same stream, so a sequence
  of resets after one seeded reset is reproducible.
- ``metadata`` holds ``name``, ``description`` (one line), ``paper`` and ``paper_url``.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import gymnasium as gym
import torch
from torch import Tensor

from neurometa.seeding import torch_generator

__all__ = ["BatchedTask", "StepResult", "TaskError"]

StepResult = tuple[Tensor, Tensor, Tensor, Tensor, dict[str, Tensor]]


class TaskError(RuntimeError):
    """A task was used out of contract (stepped after termination, bad action, ...)."""


class BatchedTask(abc.ABC):
    """Base class of batched, torch-native tasks.

    Parameters
    ----------
    num_envs : int
        Number of independent episodes ``B`` run in lock-step.
    device : str or torch.device
        Where the tensors live.

    Subclasses set ``metadata``, ``single_observation_space``, ``single_action_space``,
    ``num_trials``, ``steps_per_trial``, ``hidden_variables`` and implement
    :meth:`_reset` and :meth:`_step`.
    """

    metadata: ClassVar[dict[str, Any]] = {}
    single_observation_space: gym.spaces.Box
    single_action_space: gym.spaces.Discrete
    num_trials: int
    steps_per_trial: int = 1
    hidden_variables: tuple[str, ...] = ()
    #: Names of the stages within a trial (length ``steps_per_trial``), e.g. ("choice",).
    stage_names: tuple[str, ...] = ("choice",)
    #: False for tasks whose episodes do not depend on the seed (e.g. a fixed gridworld).
    stochastic: ClassVar[bool] = True
    #: Extra dims of non-scalar hidden variables, e.g. ``{"arm_probs": ("arm",)}``.
    variable_dims: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self, num_envs: int, device: str | torch.device = "cpu") -> None:
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        self.num_envs = num_envs
        self.device = torch.device(device)
        self.generator = torch_generator(0, str(self.device))
        self._t = 0
        self._needs_reset = True

    @property
    def unwrapped(self) -> BatchedTask:
        """The task itself; a wrapper (e.g. ``MetaRLInputs``) returns the task it wraps.

        As Gymnasium's ``Env.unwrapped``: code that needs the task's own attributes
        (``metadata``, ``config``, its prior) reads them from ``task.unwrapped``.
        """
        return self

    @property
    def episode_length(self) -> int:
        """Steps per episode: ``num_trials * steps_per_trial``."""
        return self.num_trials * self.steps_per_trial

    @property
    def num_actions(self) -> int:
        """Number of discrete actions."""
        return int(self.single_action_space.n)

    @property
    def obs_dim(self) -> int:
        """Length of one observation vector."""
        return int(self.single_observation_space.shape[0])

    def state_dict(self) -> dict[str, Tensor]:
        """State that outlives an episode, beyond the generator (for checkpoints).

        Most tasks draw everything from their generator at each reset and return ``{}``;
        tasks with a life-time (e.g. the recurring contexts of ``contextual_bandit``) return
        it, so that a resumed training run sees the same episodes.
        """
        return {}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Restore what :meth:`state_dict` returned."""
        if state:
            raise ValueError(
                f"{type(self).__name__} keeps no state across episodes, got {sorted(state)}"
            )

    def reset(self, *, seed: int | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        """Start ``num_envs`` new episodes.

        Parameters
        ----------
        seed : int, optional
            Reseed the task's generator; without it the generator continues.

        Returns
        -------
        obs : Tensor, shape (B, obs_dim), float32
        info : dict of str to Tensor, each with leading dim B
        """
        if seed is not None:
            self.generator = torch_generator(seed, str(self.device))
        self._build_clock()
        self._t = 0
        self._needs_reset = False
        return self._reset()

    def _build_clock(self) -> None:
        """Precompute the per-step ``trial``/``stage`` and termination tensors (read-only)."""
        key = (self.episode_length, self.steps_per_trial)
        if getattr(self, "_clock_key", None) == key:
            return
        steps = torch.arange(self.episode_length, device=self.device).unsqueeze(1)
        steps = steps.expand(self.episode_length, self.num_envs)
        self._trials = (steps // self.steps_per_trial).contiguous().unbind(0)
        self._stages = (steps % self.steps_per_trial).contiguous().unbind(0)
        self._false = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        self._true = torch.ones(self.num_envs, dtype=torch.bool, device=self.device)
        self._clock_key = key

    def step(self, action: Tensor) -> StepResult:
        """Advance every episode by one step.

        Parameters
        ----------
        action : Tensor, shape (B,), integer
            One action per batch member, in ``[0, num_actions)``.

        Returns
        -------
        obs : Tensor, shape (B, obs_dim)
        reward : Tensor, shape (B,), float32
        terminated : Tensor, shape (B,), bool — True for all on the last step
        truncated : Tensor, shape (B,), bool — always False (episodes have fixed length)
        info : dict of str to Tensor
        """
        if self._needs_reset:
            raise TaskError(f"{type(self).__name__}: call reset() before step() (episode over)")
        if action.shape != (self.num_envs,) or action.is_floating_point():
            raise TaskError(
                f"{type(self).__name__}: action must be an integer tensor of shape "
                f"({self.num_envs},), got {action.dtype} {tuple(action.shape)}"
            )
        action = action.to(self.device, torch.long)
        low, high = torch.aminmax(action)
        if int(low) < 0 or int(high) >= self.num_actions:
            raise TaskError(
                f"{type(self).__name__}: actions must lie in [0, {self.num_actions}), "
                f"got values in [{int(low)}, {int(high)}]"
            )
        obs, reward, info = self._step(action)
        self._t += 1
        done = self._t >= self.episode_length
        self._needs_reset = done
        return obs, reward, self._true if done else self._false, self._false, info

    @property
    def t(self) -> int:
        """Steps taken in the current episode."""
        return self._t

    @abc.abstractmethod
    def _reset(self) -> tuple[Tensor, dict[str, Tensor]]:
        """Draw new episodes from ``self.generator``; return ``(obs, info)``."""

    @abc.abstractmethod
    def _step(self, action: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """Apply ``action`` (``int64 [B]``) at step ``self.t``; return ``(obs, reward, info)``."""

    def _trial_info(self) -> dict[str, Tensor]:
        """``trial`` and ``stage`` of the current step as ``int64 [B]`` tensors."""
        return {"trial": self._trials[self._t], "stage": self._stages[self._t]}
