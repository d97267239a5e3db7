"""Dynamic foraging with baiting: the two-option task behind the matching law.

At the start of every trial each option that holds no bait becomes baited with its own
probability ``bait_probs[i]``; a bait stays until the option is chosen (baiting, as in
concurrent variable-interval schedules, Herrnstein 1961; Sugrue et al. 2004; Lau & Glimcher
2005; Tsutsui et al. 2016; Bari et al. 2019). Choosing a baited option pays 1 and removes the
bait; choosing an empty option pays 0. The probabilities stay fixed within a block and change
between blocks: block lengths are drawn uniformly from ``block_length_range``; each block
draws a rich:lean ratio ``r`` from ``ratios`` and sets ``p_rich = reward_sum * r / (1 + r)``,
``p_lean = reward_sum / (1 + r)``; an even (1:1) block never follows another one, so every
block boundary changes the probabilities; the rich side alternates from block to block
(random in the first block and after an even block).

The preset ``coupled_baiting`` uses the parameters of the Allen Institute dynamic-foraging
task code (after Bari et al. 2019 and Grossman et al. 2022): reward sum 0.45, ratios
8:1, 6:1, 3:1, 1:1, blocks of 20-60 trials (there the length is a truncated exponential; here
uniform). All random draws of an episode are made at reset; the bait state depends on the
choices and is updated each step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from neurometa.config import Config, ConfigError, check_range
from neurometa.tasks.base import BatchedTask

__all__ = ["FORAGING_PRESETS", "ForagingConfig", "ForagingTask"]


@dataclass(frozen=True)
class ForagingConfig(Config):
    """Parameters of the baited two-option foraging task."""

    num_trials: int = 500
    """Trials per episode (one session)."""
    reward_sum: float = 0.45
    """Sum of the two baiting probabilities in every block."""
    ratios: tuple[float, ...] = (8.0, 6.0, 3.0, 1.0)
    """Rich:lean ratios a block draws from (uniformly)."""
    block_length_range: tuple[int, ...] = (20, 60)
    """Inclusive range of block lengths in trials (uniform)."""
    baiting: bool = True
    """Keep uncollected baits until chosen (False: a plain two-armed bandit with blocks)."""

    def __post_init__(self) -> None:
        check_range(self, "num_trials", low=1)
        check_range(self, "reward_sum", low=0.0, high=1.0)
        if not self.ratios or any(r < 1.0 for r in self.ratios):
            raise ConfigError(
                f"ForagingConfig.ratios must be non-empty and >= 1, got {self.ratios}"
            )
        if len(self.block_length_range) != 2:
            raise ConfigError(
                "ForagingConfig.block_length_range needs two values (low, high), "
                f"got {self.block_length_range}"
            )
        low, high = self.block_length_range
        if not 1 <= low <= high:
            raise ConfigError(
                f"ForagingConfig.block_length_range must satisfy 1 <= low <= high, "
                f"got {self.block_length_range}"
            )


#: Named settings: id suffix -> (config, one-line description).
FORAGING_PRESETS: dict[str, tuple[ForagingConfig, str]] = {
    "coupled_baiting": (
        ForagingConfig(),
        "baited 2-option foraging, sum 0.45, ratios 8:1/6:1/3:1/1:1, blocks of 20-60 trials",
    ),
}


class ForagingTask(BatchedTask):
    """Batched dynamic foraging task with baiting and block changes.

    Observation: a constant ``[1.0]``. Actions: 0 or 1 (the two options). Info: ``bait_probs``
    (float32 ``[B, 2]``, dim ``option``), ``baited`` (bool ``[B, 2]``, bait state at the time
    of the choice, after this trial's baiting), ``block`` (int64 ``[B]``, block index), plus
    ``trial`` and ``stage``.

    Parameters
    ----------
    config : ForagingConfig
        Task parameters.
    num_envs : int
        Batch size B.
    device : str or torch.device
        Device of all tensors.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "foraging",
        "description": "dynamic foraging: two baited options whose probabilities change in blocks",
        "paper": "Sugrue et al. 2004, Science 304:1782 (baited matching task)",
        "paper_url": "https://doi.org/10.1126/science.1094765",
    }
    hidden_variables = ("bait_probs", "baited", "block")
    variable_dims: ClassVar[dict[str, tuple[str, ...]]] = {
        "bait_probs": ("option",),
        "baited": ("option",),
    }

    def __init__(
        self, config: ForagingConfig, num_envs: int, device: str | torch.device = "cpu"
    ) -> None:
        super().__init__(num_envs, device)
        self.config = config
        self.num_trials = config.num_trials
        self.single_observation_space = gym.spaces.Box(1.0, 1.0, shape=(1,), dtype=np.float32)
        self.single_action_space = gym.spaces.Discrete(2)
        self._obs = torch.ones((num_envs, 1), device=self.device)
        self._eye = torch.eye(2, dtype=torch.bool, device=self.device)

    def _draw_blocks(self) -> tuple[Tensor, Tensor]:
        """Block index ``[T, B]`` (int64) and baiting probabilities ``[T, B, 2]`` per trial."""
        cfg, gen, dev, num_envs = self.config, self.generator, self.device, self.num_envs
        low, high = cfg.block_length_range
        num_blocks = math.ceil(cfg.num_trials / low) + 1
        lengths = torch.randint(low, high + 1, (num_envs, num_blocks), generator=gen, device=dev)
        ends = torch.cumsum(lengths, dim=1)
        trials = torch.arange(cfg.num_trials, device=dev).expand(num_envs, -1).contiguous()
        block = torch.searchsorted(ends, trials, right=True)  # [B, T]
        ratio, rich = self._block_ratios(num_blocks)
        p_rich = cfg.reward_sum * ratio / (1.0 + ratio)
        p_lean = cfg.reward_sum / (1.0 + ratio)
        probs = torch.stack(
            [torch.where(rich == 0, p_rich, p_lean), torch.where(rich == 0, p_lean, p_rich)], 2
        )  # [B, M, 2]
        per_trial = probs.gather(1, block.unsqueeze(2).expand(-1, -1, 2))  # [B, T, 2]
        return block.T.contiguous(), per_trial.transpose(0, 1).contiguous()

    def _block_ratios(self, num_blocks: int) -> tuple[Tensor, Tensor]:
        """Rich:lean ratio and rich side (0/1) of every block, ``[B, M]`` each.

        Every block change is a change: an even (1:1) block never follows an even block
        (its ratio is redrawn among the others). The rich side alternates, except after an
        even block, where it is drawn at random (an even block has no rich side to alternate
        from), as in the Allen Institute task code.
        """
        cfg, gen, dev, num_envs = self.config, self.generator, self.device, self.num_envs
        ratios = torch.tensor(cfg.ratios, dtype=torch.float32, device=dev)
        uneven = ratios[ratios != 1.0]
        shape = (num_envs, num_blocks)
        ratio = ratios[torch.randint(0, len(ratios), shape, generator=gen, device=dev)]
        redraw = uneven[torch.randint(0, max(len(uneven), 1), shape, generator=gen, device=dev)]
        coin = torch.randint(0, 2, shape, generator=gen, device=dev)
        rich = coin.clone()
        for m in range(1, num_blocks):  # ~num_trials / 20 blocks: a short loop
            after_even = ratio[:, m - 1] == 1.0
            if len(uneven):
                ratio[:, m] = torch.where(
                    after_even & (ratio[:, m] == 1.0), redraw[:, m], ratio[:, m]
                )
            rich[:, m] = torch.where(after_even, coin[:, m], 1 - rich[:, m - 1])
        return ratio, rich

    def _reset(self) -> tuple[Tensor, dict[str, Tensor]]:
        cfg, gen = self.config, self.generator
        self._block, self._bait_probs = self._draw_blocks()
        draws = torch.rand((cfg.num_trials, self.num_envs, 2), generator=gen, device=self.device)
        self._arrivals = draws < self._bait_probs
        self._baited = self._arrivals[0]
        return self._obs, self._info(0)

    def _info(self, trial: int) -> dict[str, Tensor]:
        info = self._trial_info()
        info["bait_probs"] = self._bait_probs[trial]
        info["baited"] = self._baited
        info["block"] = self._block[trial]
        return info

    def _step(self, action: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        trial = self._t
        info = self._info(trial)
        chosen = self._eye[action]  # [B, 2] one-hot of the choice
        reward = (self._baited & chosen).any(dim=1).float()
        if trial + 1 < self.num_trials:
            arrivals = self._arrivals[trial + 1]
            kept = self._baited & ~chosen if self.config.baiting else torch.zeros_like(arrivals)
            self._baited = kept | arrivals
        return self._obs, reward, info
