"""The Daw 2011 hybrid model-based / model-free agent acting on the batched two-step task.

The equations are those of :mod:`neurometa.agents.baselines.hybrid` (NumPy, shared with the
likelihood fitting in the analyses); this class only runs them step by step on a batch and
samples choices with the episode's torch generator. Outputs:

- first-stage step: ``policy`` = softmax of ``beta1 (Q_net + p rep)``, ``value`` =
  policy-weighted ``Q_net``; ``rpe`` (from ``observe``) = ``V2(s2) - Q1[c1]``, the model-free
  error at second-stage onset with ``V2(s2) = sum_b P(b | s2) Q2[s2, b]``;
- second-stage step: ``policy`` = softmax of ``beta2 Q2[s2]``, ``value`` = ``V2(s2)``;
  ``rpe`` = ``delta2 = r - Q2[s2, c2]``.

The learning step applies Daw's SARSA(lambda) update (with the chosen ``c2``) at the end of
each trial. For the Wang 2018 / Miller 2017 variant the second-stage choice has no effect
on reward; the agent still makes it, which leaves the model unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from neurometa.agents.baselines.hybrid import (
    HybridParams,
    hybrid_update,
    model_based_values,
    stage1_logits,
)

__all__ = ["HybridAgent"]


class HybridAgent:
    """Batched Daw 2011 hybrid agent (``w = 0`` model-free, ``w = 1`` model-based).

    Parameters
    ----------
    params : HybridParams
        alpha1, alpha2, lam, beta1, beta2, perseveration, w.
    """

    name = "hybrid"
    discount = 1.0

    def __init__(self, params: HybridParams | None = None) -> None:
        self.params = params or HybridParams()

    def begin(self, task: Any, generator: torch.Generator) -> None:
        """Reset all values to zero; read the common-transition probability from the task."""
        inner = getattr(task, "task", task)
        if inner.steps_per_trial != 2 or "state2" not in getattr(inner, "hidden_variables", ()):
            raise TypeError(
                f"HybridAgent needs a two-step task (2 steps per trial, info 'state2'); "
                f"got {type(inner).__name__}"
            )
        self.common_prob = float(inner.config.common_prob)
        self.generator = generator
        self.device = task.device
        n = task.num_envs
        self.q1, self.q2 = np.zeros((n, 2)), np.zeros((n, 2, 2))
        self.prev_choice1 = np.full(n, -1)
        self.choice1 = np.zeros(n, dtype=np.int64)
        self.state2 = np.zeros(n, dtype=np.int64)
        self.stage = 0

    def _sample(self, logits: np.ndarray) -> tuple[Tensor, Tensor]:
        policy = torch.softmax(torch.from_numpy(logits), dim=1).float().to(self.device)
        u = torch.rand(policy.shape[0], generator=self.generator, device=self.device)
        return (u >= policy[:, 0]).long(), policy

    def _second_stage_policy(self) -> np.ndarray:
        logits = self.params.beta2 * self.q2[np.arange(len(self.state2)), self.state2]
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def act(self, obs: Tensor, info: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """First stage: hybrid softmax with perseveration; second stage: softmax of Q2."""
        rows = np.arange(len(self.state2))
        if self.stage == 0:
            logits = stage1_logits(self.q1, self.q2, self.prev_choice1, self.params,
                                   self.common_prob)  # fmt: skip
            w = self.params.w
            values = w * model_based_values(self.q2, self.common_prob) + (1 - w) * self.q1
        else:
            values = self.q2[rows, self.state2]
            logits = self.params.beta2 * values
        action, policy = self._sample(logits)
        value = (policy.double().cpu().numpy() * values).sum(axis=1)
        return action, {"policy": policy, "value": torch.from_numpy(value).float().to(self.device)}

    def observe(
        self, action: Tensor, reward: Tensor, terminated: Tensor, info: dict[str, Tensor]
    ) -> dict[str, Tensor]:
        """Stage 0: note choice and state; stage 1: SARSA(lambda) update, ``rpe = delta2``."""
        chosen = action.detach().cpu().numpy().astype(np.int64)
        rows = np.arange(len(chosen))
        if self.stage == 0:
            self.choice1 = chosen
            self.state2 = info["state2"].detach().cpu().numpy().astype(np.int64)
            v2 = (self._second_stage_policy() * self.q2[rows, self.state2]).sum(axis=1)
            rpe = v2 - self.q1[rows, chosen]
        else:
            r = reward.detach().cpu().numpy().astype(float)
            _, rpe = hybrid_update(self.q1, self.q2, self.choice1, self.state2, chosen, r,
                                   self.params)  # fmt: skip
            self.prev_choice1 = self.choice1
        self.stage = 1 - self.stage
        return {"rpe": torch.from_numpy(rpe).float().to(self.device)}
