"""Episodic contextual bandits with recurring contexts (Ritter et al. 2018, ICML).

Each batch member owns a pool of ``num_contexts`` contexts; a context is a random ±1
"barcode" (distinct within the pool) tied to its own bandit (arm reward probabilities). Every
episode draws one context from the member's pool uniformly at random and runs a
``num_trials``-trial Bernoulli bandit with that context's arm probabilities, showing the
barcode as the observation at every step. Because contexts recur across episodes, a second
encounter can be solved by recalling the first instead of exploring again.

The pool is the agent's life-time: it is drawn at the first reset and at every seeded reset
(``reset(seed=...)``), and kept across unseeded resets. ``encounter`` counts how many times a
member has seen the current context since its pool was drawn (1 = first encounter).

Defaults (2 arms with independent U(0, 1) probabilities, 10 trials, 10 contexts, 10-bit
barcodes) give the structure of Ritter et al. 2018's bandit experiments; they are not copied
from the paper and can all be overridden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from neurometa.config import Config, ConfigError, check_range
from neurometa.tasks.bandit import BanditConfig, draw_arm_probs
from neurometa.tasks.base import BatchedTask

__all__ = ["ContextualBanditConfig", "ContextualBanditTask"]


@dataclass(frozen=True)
class ContextualBanditConfig(Config):
    """Parameters of the episodic contextual bandit task."""

    num_arms: int = 2
    """Arms per bandit (actions)."""
    num_trials: int = 10
    """Trials per episode (one context per episode)."""
    num_contexts: int = 10
    """Contexts in each batch member's pool."""
    barcode_dim: int = 10
    """Length of the ±1 barcode of a context (the observation)."""

    def __post_init__(self) -> None:
        check_range(self, "num_arms", low=2)
        check_range(self, "num_trials", low=1)
        check_range(self, "num_contexts", low=1)
        check_range(self, "barcode_dim", low=1, high=62)
        if self.num_contexts > 2**self.barcode_dim:
            raise ConfigError(
                f"ContextualBanditConfig: {self.num_contexts} distinct barcodes do not exist "
                f"with barcode_dim={self.barcode_dim}"
            )


def draw_barcodes(
    num_envs: int, num_contexts: int, dim: int, generator: torch.Generator, device: torch.device
) -> Tensor:
    """Draw ``num_contexts`` distinct ±1 barcodes per batch member.

    Duplicates within a member's pool are redrawn until none remain.

    Parameters
    ----------
    num_envs : int
        Batch size B.
    num_contexts : int
        Barcodes per member (at most ``2 ** dim``).
    dim : int
        Barcode length.
    generator : torch.Generator
        Source of randomness.
    device : torch.device
        Device of the result.

    Returns
    -------
    Tensor, shape (B, num_contexts, dim), float32
        Entries in {-1, +1}; rows of one member are pairwise different.
    """
    shape = (num_envs, num_contexts, dim)
    codes = torch.randint(0, 2, shape, generator=generator, device=device)
    while True:
        same = (codes.unsqueeze(1) == codes.unsqueeze(2)).all(dim=3)  # [B, N, N]
        dup = same.triu(diagonal=1).any(dim=1)  # [B, N]: equals an earlier row
        if not bool(dup.any()):
            return codes.float() * 2.0 - 1.0
        fresh = torch.randint(0, 2, shape, generator=generator, device=device)
        codes = torch.where(dup.unsqueeze(2), fresh, codes)


class ContextualBanditTask(BatchedTask):
    """Batched episodic contextual bandit (see the module docstring).

    Info: ``context_id`` (int64 ``[B]``, index in the member's pool), ``encounter`` (int64
    ``[B]``, 1 on the first encounter), ``arm_probs`` (float32 ``[B, K]``, dim ``arm``),
    ``best_arm`` (int64 ``[B]``), plus ``trial`` and ``stage``.

    Parameters
    ----------
    config : ContextualBanditConfig
        Task parameters.
    num_envs : int
        Batch size B.
    device : str or torch.device
        Device of all tensors.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "contextual_bandit",
        "description": "episodic contextual bandits: barcoded bandits that recur across episodes",
        "paper": "Ritter et al. 2018, Been There, Done That: Meta-Learning with Episodic Recall",
        "paper_url": "https://arxiv.org/abs/1805.09692",
    }
    hidden_variables = ("context_id", "encounter", "arm_probs", "best_arm")
    variable_dims: ClassVar[dict[str, tuple[str, ...]]] = {"arm_probs": ("arm",)}

    def __init__(
        self, config: ContextualBanditConfig, num_envs: int, device: str | torch.device = "cpu"
    ) -> None:
        super().__init__(num_envs, device)
        self.config = config
        self.num_trials = config.num_trials
        dim = config.barcode_dim
        self.single_observation_space = gym.spaces.Box(-1.0, 1.0, (dim,), np.float32)
        self.single_action_space = gym.spaces.Discrete(config.num_arms)
        self._pool_probs: Tensor | None = None

    def reset(self, *, seed: int | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        """Start new episodes; a seed (or the first reset) also draws a new context pool.

        Returns
        -------
        obs : Tensor, shape (B, barcode_dim), float32
        info : dict of str to Tensor
        """
        if seed is not None:
            self._pool_probs = None
        return super().reset(seed=seed)

    def state_dict(self) -> dict[str, Tensor]:
        """The context pool and the encounter counts (empty before the first reset)."""
        if self._pool_probs is None:
            return {}
        return {"barcodes": self._barcodes, "pool_probs": self._pool_probs, "counts": self._counts}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Restore the pool of :meth:`state_dict` (an empty dict: draw a new one at reset)."""
        if not state:
            self._pool_probs = None
            return
        dev = self.device
        self._barcodes = state["barcodes"].to(dev)
        self._pool_probs = state["pool_probs"].to(dev)
        self._counts = state["counts"].to(dev)

    def _draw_pool(self) -> None:
        cfg, gen, dev, num_envs = self.config, self.generator, self.device, self.num_envs
        self._barcodes = draw_barcodes(num_envs, cfg.num_contexts, cfg.barcode_dim, gen, dev)
        bandit = BanditConfig(num_arms=cfg.num_arms, num_trials=cfg.num_trials)
        flat = draw_arm_probs(bandit, num_envs * cfg.num_contexts, gen, dev)
        self._pool_probs = flat.reshape(num_envs, cfg.num_contexts, cfg.num_arms)
        self._counts = torch.zeros((num_envs, cfg.num_contexts), dtype=torch.long, device=dev)

    def _reset(self) -> tuple[Tensor, dict[str, Tensor]]:
        if self._pool_probs is None:
            self._draw_pool()
        cfg, gen, dev = self.config, self.generator, self.device
        batch = torch.arange(self.num_envs, device=dev)
        context = torch.randint(0, cfg.num_contexts, (self.num_envs,), generator=gen, device=dev)
        self._counts[batch, context] += 1
        self._context = context
        self._encounter = self._counts[batch, context]
        self._arm_probs = self._pool_probs[batch, context]
        self._best_arm = self._arm_probs.argmax(dim=1)
        self._obs = self._barcodes[batch, context]
        draws = torch.rand(
            (cfg.num_trials, self.num_envs, cfg.num_arms), generator=gen, device=dev
        )
        self._outcomes = (draws < self._arm_probs).float()
        return self._obs, self._info()

    def _info(self) -> dict[str, Tensor]:
        info = self._trial_info()
        info["context_id"] = self._context
        info["encounter"] = self._encounter
        info["arm_probs"] = self._arm_probs
        info["best_arm"] = self._best_arm
        return info

    def _step(self, action: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        reward = self._outcomes[self._t].gather(1, action.unsqueeze(1)).squeeze(1)
        return self._obs, reward, self._info()
