"""Sample efficiency of the episodic-valuation agents: learning curves and episodes to criterion.

Used by ``benchmarks/episodic_valuation.py`` and the Box 2 paper script to compare MFEC, NEC
and Box 2 with the parametric A2C learner : :func:`episodic_learning_curve` runs one
:class:`~neurometa.agents.episodic_control.EpisodicControlAgent` for a number of batches of
parallel episodes; :func:`episodes_to_criterion` turns a curve into the number of episodes
consumed until a moving average reaches a stated return.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from neurometa.seeding import RunSeeds

if TYPE_CHECKING:
    from neurometa.agents.episodic_control import EpisodicControlConfig

__all__ = ["episodic_learning_curve", "episodes_to_criterion"]


def episodic_learning_curve(
    config: EpisodicControlConfig,
    task,
    num_batches: int,
    *,
    seed: int,  # noqa: ANN001
) -> list[float]:
    """Mean return of each batch of episodes while an episodic agent learns on ``task``.

    One :class:`EpisodicControlAgent` runs ``num_batches`` batches of ``task.num_envs``
    parallel episodes, writing to its stores after each; the task is seeded once (stream
    ``task`` of ``RunSeeds(seed)``), the agent's projection / embedding from stream
    ``memory`` and its action sampling from stream ``sampling``.

    Parameters
    ----------
    config : EpisodicControlConfig
    task : BatchedTask
        A task of :mod:`neurometa.tasks` (e.g. ``make("gridworld/5x5", 8)``).
    num_batches : int
        Batches of ``task.num_envs`` episodes, at least 1.
    seed : int
        Run seed.

    Returns
    -------
    list of float
        ``num_batches`` values: the return summed over each episode, averaged over the batch.
    """
    if num_batches < 1:
        raise ValueError(f"episodic_learning_curve: num_batches must be >= 1, got {num_batches}")
    from neurometa.agents.episodic_control import EpisodicControlAgent

    seeds = RunSeeds(seed)
    agent = EpisodicControlAgent(
        config, task.obs_dim, task.num_actions, generator=seeds.torch("memory")
    )
    sampler, curve = seeds.torch("sampling"), []
    for batch in range(num_batches):
        obs, info = task.reset(seed=seeds.int("task") if batch == 0 else None)
        agent.begin(task, sampler)
        total = torch.zeros(task.num_envs)
        for _ in range(task.episode_length):
            action, _ = agent.act(obs, info)
            obs, reward, terminated, _, info = task.step(action)
            agent.observe(action, reward, terminated, info)
            total += reward.float().cpu()
        curve.append(float(total.mean()))
    return curve


def episodes_to_criterion(
    returns: list[float], threshold: float, *, window: int, batch_size: int
) -> int | None:
    """Episodes consumed until the mean return of the last ``window`` batches reaches a level.

    The criterion is met after batch ``b`` (counted from 1) when
    ``mean(returns[b - window : b]) >= threshold``; the answer is ``b * batch_size``.

    Parameters
    ----------
    returns : list of float
        Mean return per batch, in training order (e.g. :func:`episodic_learning_curve`).
    threshold : float
        Required mean return.
    window, batch_size : int
        Batches averaged, episodes per batch (both at least 1).

    Returns
    -------
    int or None
        Episodes to criterion, or ``None`` when it is not met within ``returns``.
    """
    if window < 1 or batch_size < 1:
        raise ValueError(
            f"episodes_to_criterion: window and batch_size must be >= 1, got {window}, "
            f"{batch_size}"
        )
    for end in range(window, len(returns) + 1):
        if sum(returns[end - window : end]) / window >= threshold:
            return end * batch_size
    return None
