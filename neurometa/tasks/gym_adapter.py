"""Run any registered ``gymnasium.Env`` (e.g. a neurogym task) as a batched task.

``make("gym:<env-id>", B, max_steps=..., env_kwargs={...})`` builds ``B`` copies of the
environment and steps them in lock-step for exactly ``max_steps`` steps per episode (one
step per "trial": ``trial`` is the step index). A copy whose own episode ends earlier
(terminated or truncated) is reset at once and continues; its ``episode_restart`` info is
True on that step. At every :meth:`reset` each copy is reseeded from the task's generator
(``env.reset(seed=s)``, plus the legacy ``env.unwrapped.seed(s)`` that neurogym's own random
state needs).

Supported spaces: ``Discrete`` actions and ``Box`` observations (flattened). Hidden
variables are the numeric scalar entries of the environment's ``info`` (e.g. neurogym's
``gt``, ``new_trial``, ``performance``), found by probing a separate copy for a few steps;
on a step where a key is missing it reads -1 (integers), False (booleans) or NaN (floats).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from neurometa.config import Config, ConfigError, check_range
from neurometa.tasks.base import BatchedTask

__all__ = ["GymConfig", "GymTask", "GymTaskError", "make_gym_task"]

#: Packages imported (when installed) so that their environments are registered.
ENV_PACKAGES: tuple[str, ...] = ("neurogym",)
_RESERVED = ("trial", "stage", "episode_restart")
_MISSING = {torch.bool: False, torch.long: -1, torch.float32: float("nan")}


class GymTaskError(ValueError):
    """An environment id that is not registered, or spaces the agents cannot handle."""


@dataclass(frozen=True)
class GymConfig(Config):
    """How to run a Gymnasium environment as a batched task."""

    env_id: str
    """Registered Gymnasium id, e.g. ``PerceptualDecisionMaking-v0``."""
    max_steps: int = 100
    """Steps per (lock-step) episode."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments for ``gymnasium.make``."""
    probe_steps: int = 200
    """Steps of a separate copy used to discover the numeric ``info`` keys."""

    def __post_init__(self) -> None:
        check_range(self, "max_steps", low=1)
        check_range(self, "probe_steps", low=0)


def _register_env_packages() -> None:
    for name in ENV_PACKAGES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def _make_env(config: GymConfig) -> gym.Env:
    _register_env_packages()
    if config.env_id not in gym.registry:
        close = difflib.get_close_matches(config.env_id, list(gym.registry), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise GymTaskError(f"no Gymnasium environment registered as {config.env_id!r}{hint}")
    with warnings.catch_warnings():
        # neurogym's env metadata lacks `render_modes`; gymnasium warns on every make()
        warnings.filterwarnings("ignore", message=".*render_modes", category=UserWarning)
        env = gym.make(config.env_id, **config.env_kwargs)
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise GymTaskError(
            f"{config.env_id}: action space {env.action_space} is not supported "
            "(neurometa agents need a Discrete action space)"
        )
    if not isinstance(env.observation_space, gym.spaces.Box):
        raise GymTaskError(
            f"{config.env_id}: observation space {env.observation_space} is not supported "
            "(neurometa agents need a Box observation space)"
        )
    return env


def _info_dtype(value: Any) -> torch.dtype | None:
    """The tensor dtype of a numeric scalar ``info`` value, None for anything else."""
    value = np.asarray(value) if np.isscalar(value) or isinstance(value, np.ndarray) else None
    if value is None or value.ndim != 0:
        return None
    if value.dtype == np.bool_:
        return torch.bool
    if np.issubdtype(value.dtype, np.integer):
        return torch.long
    if np.issubdtype(value.dtype, np.floating):
        return torch.float32
    return None


def _seed_env(env: gym.Env, seed: int) -> tuple[np.ndarray, dict[str, Any]]:
    legacy_seed = getattr(env.unwrapped, "seed", None)
    if callable(legacy_seed):
        legacy_seed(seed)  # neurogym keeps its own RandomState, not reseeded by reset()
    env.action_space.seed(seed)
    return env.reset(seed=seed)


def _probe_info_keys(config: GymConfig) -> dict[str, torch.dtype]:
    """Numeric scalar ``info`` keys (and dtypes) seen while a separate copy acts at random."""
    env = _make_env(config)
    _, info = _seed_env(env, 0)
    rng = np.random.default_rng(0)
    found: dict[str, torch.dtype] = {}
    for step in range(config.probe_steps + 1):
        for key, value in info.items():
            dtype = _info_dtype(value)
            if dtype is not None and key not in found:
                found[key] = dtype
        if step == config.probe_steps:
            break
        _, _, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))
        if terminated or truncated:
            _, info = env.reset()
    env.close()
    return {(f"env_{k}" if k in _RESERVED else k): v for k, v in sorted(found.items())}


class GymTask(BatchedTask):
    """A vector of Gymnasium environments stepped in lock-step as one batched task.

    Parameters
    ----------
    config : GymConfig
        Environment id, episode length and ``gymnasium.make`` arguments.
    num_envs : int
        Number of copies B.
    device : str or torch.device
        Device of the returned tensors.
    """

    metadata: ClassVar[dict[str, Any]] = {}
    stage_names = ("step",)

    def __init__(
        self, config: GymConfig, num_envs: int, device: str | torch.device = "cpu"
    ) -> None:
        super().__init__(num_envs, device)
        self.config = config
        self.num_trials = config.max_steps
        self.envs = [_make_env(config) for _ in range(num_envs)]
        first = self.envs[0]
        inner = first.observation_space
        self.single_observation_space = gym.spaces.Box(
            inner.low.reshape(-1).astype(np.float32),
            inner.high.reshape(-1).astype(np.float32),
            dtype=np.float32,
        )
        self.single_action_space = gym.spaces.Discrete(int(first.action_space.n))
        self._action_start = int(first.action_space.start)
        self._info_keys = _probe_info_keys(config)
        self.hidden_variables = (*self._info_keys, "episode_restart")
        env_meta = getattr(first.unwrapped, "metadata", {}) or {}
        self.metadata = {
            "name": f"gym:{config.env_id}",
            "description": f"Gymnasium environment {config.env_id} run as a batched task",
            "paper": str(env_meta.get("paper_name", "")),
            "paper_url": str(env_meta.get("paper_link", "")),
        }

    def _obs(self, observations: list[Any]) -> Tensor:
        array = np.stack([np.asarray(o, dtype=np.float32).reshape(-1) for o in observations])
        return torch.from_numpy(array).to(self.device)

    def _infos(self, infos: list[dict[str, Any]], restarted: list[bool]) -> dict[str, Tensor]:
        out = self._trial_info()
        for key, dtype in self._info_keys.items():
            raw = key[4:] if key.startswith("env_") and key[4:] in _RESERVED else key
            values = [info.get(raw, _MISSING[dtype]) for info in infos]
            out[key] = torch.tensor(np.asarray(values), dtype=dtype, device=self.device)
        out["episode_restart"] = torch.tensor(restarted, dtype=torch.bool, device=self.device)
        return out

    def _reset(self) -> tuple[Tensor, dict[str, Tensor]]:
        seeds = torch.randint(
            0, 2**31 - 1, (self.num_envs,), generator=self.generator, device=self.device
        )
        results = [
            _seed_env(env, int(s)) for env, s in zip(self.envs, seeds.tolist(), strict=True)
        ]
        observations, infos = zip(*results, strict=True)
        return self._obs(list(observations)), self._infos(list(infos), [False] * self.num_envs)

    def _step(self, action: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        observations, rewards, infos, restarted = [], [], [], []
        for env, a in zip(self.envs, action.tolist(), strict=True):
            obs, reward, terminated, truncated, info = env.step(a + self._action_start)
            ended = bool(terminated or truncated)
            if ended:
                obs, _ = env.reset()
            observations.append(obs)
            rewards.append(float(reward))
            infos.append(info)
            restarted.append(ended)
        reward = torch.tensor(rewards, dtype=torch.float32, device=self.device)
        return self._obs(observations), reward, self._infos(infos, restarted)

    def close(self) -> None:
        """Close every environment copy."""
        for env in self.envs:
            env.close()


def make_gym_task(
    env_id: str, num_envs: int, device: str | torch.device = "cpu", /, **overrides: Any
) -> GymTask:
    """Build a :class:`GymTask` for ``env_id``.

    Parameters
    ----------
    env_id : str
        A registered Gymnasium id (without the ``gym:`` prefix).
    num_envs : int
        Number of copies B.
    device : str or torch.device
        Device of the returned tensors.
    **overrides
        Other :class:`GymConfig` fields (``max_steps``, ``env_kwargs``, ``probe_steps``).

    Returns
    -------
    GymTask
        The batched task, not yet reset.

    Raises
    ------
    GymTaskError
        If ``env_id`` is not registered or its spaces are not Discrete actions / Box obs.
    neurometa.config.ConfigError
        For an unknown or invalid override.
    """
    if "env_id" in overrides:
        raise ConfigError(
            "GymConfig: env_id comes from the preset id ('gym:<env-id>'), not an override"
        )
    config = GymConfig.from_dict({**overrides, "env_id": env_id})
    return GymTask(config, num_envs, device)
