"""Running a network on a batched task for whole episodes (the inner loop).

:func:`run_episodes` is the one rollout used by training (with gradients) and evaluation
(under ``torch.no_grad``). It works with any network that follows the contract of
:mod:`neurometa.agents.pfc`; all batch members of a neurometa task end on the same step, so
a rollout is one whole episode per batch member and needs no state resets inside it.

Networks that offer a taped rollout (:class:`~neurometa.agents.base.TapedNetwork`, e.g.
:class:`~neurometa.agents.pfc.PFCNetwork`) are run without autograd while acting and then
replayed as one autograd node with a hand-written backward pass through time
(:mod:`neurometa.agents.lstm_kernel`); the numbers are those of stepping ``forward`` with
autograd, and an update is several times faster on a CPU. A seeded reset starts a new
life-time: an :class:`~neurometa.agents.base.EpisodicNetwork` empties its store.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from neurometa.agents.base import EpisodicNetwork, Network, TapedNetwork, choose_actions
from neurometa.learn.config import TaskConfig
from neurometa.returns import expected_regret
from neurometa.tasks import BatchedTask, MetaRLInputs, make

__all__ = ["Rollout", "make_task", "run_episodes"]


@dataclass
class Rollout:
    """Time-major record of one batch of whole episodes."""

    logits: Tensor
    """Policy logits, shape (T, B, A) (differentiable when collected with gradients)."""
    values: Tensor
    """State values V_t, shape (T, B)."""
    actions: Tensor
    """Actions a_t, shape (T, B), int64."""
    rewards: Tensor
    """Rewards r_t, shape (T, B), float32."""
    terminals: Tensor
    """True where the episode ended with step t, shape (T, B), bool."""
    regrets: Tensor | None
    """Expected regret max(p) − p[a_t] per step, shape (T, B), where the task has ``arm_probs``."""
    bootstrap_value: Tensor
    """V_T after the last step, shape (B,) (zero where the episode terminated)."""


def make_task(
    config: TaskConfig, num_envs: int, device: str | torch.device = "cpu"
) -> BatchedTask:
    """Build the training task: the preset with its overrides, wrapped in ``MetaRLInputs``."""
    task = make(config.preset, num_envs, device, **config.overrides)
    return MetaRLInputs(task, trial_index=config.trial_index)


def run_episodes(
    network: Network,
    task: BatchedTask,
    generator: torch.Generator,
    *,
    greedy: bool = False,
    seed: int | None = None,
) -> Rollout:
    """Reset ``task`` and run ``network`` until every episode has terminated.

    Parameters
    ----------
    network : Network
        ``initial_state(B)`` and ``forward(obs, state) -> (logits, value, state, activity)``;
        taped and episodic networks are recognised (module docstring).
    task : BatchedTask
        Reset here (see ``seed``).
    generator : torch.Generator
        Source of the action samples (unused when ``greedy``).
    greedy : bool
        Take ``argmax`` actions instead of sampling ``π(·|s_t)``.
    seed : int, optional
        Reseed the task at this reset (else its generator continues): a new life-time, so
        an episodic network's store is emptied.

    Returns
    -------
    Rollout
    """
    obs, info = task.reset(seed=seed)
    if seed is not None and isinstance(network, EpisodicNetwork):
        network.reset_memory()
    taped = isinstance(network, TapedNetwork)
    if taped:
        tape, _ = network.start_tape(task.episode_length, task.num_envs)

        def policy(obs: Tensor) -> tuple[Tensor, Tensor]:
            return network.tape_step(tape, obs)

    else:
        state = network.initial_state(task.num_envs)

        def policy(obs: Tensor) -> tuple[Tensor, Tensor]:
            nonlocal state
            logits, value, state, _ = network(obs, state)
            return logits, value

    steps = _play(task, obs, info, policy, generator, greedy)
    if taped and torch.is_grad_enabled():
        logits, values, _ = network.replay(tape)
    else:
        logits, values = torch.stack(steps["logits"]), torch.stack(steps["values"])
    return _finish(task, logits, values, steps)


def _play(
    task: BatchedTask,
    obs: Tensor,
    info: dict[str, Tensor],
    policy,  # noqa: ANN001 - obs -> (logits [B, A], value [B])
    generator: torch.Generator,
    greedy: bool,
) -> dict[str, list[Tensor]]:
    """Step ``task`` to the end of its episodes; per-step lists of what a Rollout holds."""
    keys = ("logits", "values", "actions", "rewards", "terminals", "probs")
    steps: dict[str, list[Tensor]] = {k: [] for k in keys}
    track_regret = "arm_probs" in info
    for _ in range(task.episode_length):
        logits, value = policy(obs)
        action = choose_actions(logits.detach(), generator, greedy=greedy)
        obs, reward, terminated, _, info = task.step(action)
        for key, item in zip(keys[:5], (logits, value, action, reward, terminated), strict=True):
            steps[key].append(item)
        if track_regret:
            steps["probs"].append(info["arm_probs"])
    return steps


def _finish(
    task: BatchedTask, logits: Tensor, values: Tensor, steps: dict[str, list[Tensor]]
) -> Rollout:
    """Stack the per-step lists into a :class:`Rollout`; check that every episode ended."""
    actions = torch.stack(steps["actions"])
    if not bool(steps["terminals"][-1].all()):
        raise RuntimeError(
            f"{type(task).__name__} did not terminate after episode_length={task.episode_length}"
        )
    regrets = expected_regret(torch.stack(steps["probs"]), actions) if steps["probs"] else None
    return Rollout(
        logits=logits,
        values=values,
        actions=actions,
        rewards=torch.stack(steps["rewards"]).to(torch.float32),
        terminals=torch.stack(steps["terminals"]),
        regrets=regrets,
        bootstrap_value=torch.zeros(task.num_envs, device=actions.device),
    )
