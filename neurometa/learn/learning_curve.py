"""Learning curves of agents that learn while they act, and episodes to criterion.

The episodic-valuation agents (Box 2, MFEC, NEC) have no training run: they learn online.
:func:`episodic_learning_curve` runs one
:class:`~neurometa.agents.episodic.control.EpisodicControlAgent` for a number of batches of
parallel episodes; :func:`episodes_to_criterion` turns a curve into the number of episodes
consumed until a moving average reaches a stated return. ``benchmarks/episodic_valuation.py``
and the Box 2 paper script compare them with the parametric A2C learner this way.
"""

from __future__ import annotations

from typing import Any

from neurometa.agents.episodic.control import EpisodicControlAgent, EpisodicControlConfig
from neurometa.record.recorder import play_batch
from neurometa.seeding import RunSeeds

__all__ = ["episodic_learning_curve", "episodes_to_criterion"]


def episodic_learning_curve(
    config: EpisodicControlConfig,
    task: Any,
    num_batches: int,
    *,
    seed: int,
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
    seeds = RunSeeds(seed)
    agent = EpisodicControlAgent.for_task(config, task, seed=seed)
    sampler, curve = seeds.torch("sampling"), []
    for batch in range(num_batches):
        arrays, _, _ = play_batch(agent, task, sampler, seeds.int("task") if batch == 0 else None)
        curve.append(float(arrays["reward"].sum(1).mean()))
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
