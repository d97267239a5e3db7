r"""Exact expected regret of count-based two-armed bandit agents, by forward propagation.

A baseline whose policy depends only on the success/failure counts of the two arms
(Bayes-optimal, Gittins, Thompson sampling, UCB1, greedy) visits a finite lattice of count
states ``(s_0, f_0, s_1, f_1)`` with ``s_0 + f_0 + s_1 + f_1 = n`` before trial ``n + 1``.
Starting from ``P_0(0, 0, 0, 0) = 1`` the state distribution is pushed forward trial by trial:

.. math::

    P_{n+1}(x + e_{a,r}) \mathrel{+}= P_n(x)\, \pi_a(x)\, m_a(x)^r (1 - m_a(x))^{1-r},

where :math:`\pi_a(x)` is the agent's reported policy (the probability it plays arm ``a``,
ties included) and :math:`m_a(x) = E[p_a \mid x]` the predictive success probability under the
*task's* prior (whatever the agent believes). The expected reward of trial ``n + 1`` is
:math:`\sum_x P_n(x) \sum_a \pi_a(x) m_a(x)`, and the expected cumulative regret after ``t``
trials is :math:`t\,E[\max_a p_a] - \sum_{n<t} E[r_{n+1}]`. No sampling: the figures are the
expectations over the prior, against which simulated means (e.g. ``benchmarks/baselines.py``)
can be checked. Layer ``n`` has ``O(n^3)`` states (176,851 at ``n = 99``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from neurometa.agents.baselines.posterior import posterior_mean
from neurometa.agents.baselines.priors import BanditPrior

__all__ = ["exact_regret_curve"]


def _layer(n: int) -> np.ndarray:
    """All count states with ``n`` observations: int64 ``(M, 4)`` rows ``s0, f0, s1, f1``."""
    idx = np.arange(n + 1)
    s0, f0, s1 = (a.ravel() for a in np.meshgrid(idx, idx, idx, indexing="ij"))
    f1 = n - s0 - f0 - s1
    keep = f1 >= 0
    return np.stack([s0[keep], f0[keep], s1[keep], f1[keep]], axis=1)


def _flat(states: np.ndarray, n: int) -> np.ndarray:
    """Index of each state of layer ``n`` in a dense ``(n + 1)^3`` array over s0, f0, s1."""
    return (states[:, 0] * (n + 1) + states[:, 1]) * (n + 1) + states[:, 2]


def exact_regret_curve(agent: Any, task: Any, *, seed: int = 0) -> np.ndarray:
    """Expected cumulative regret after each trial of a count-based bandit ``agent``.

    Parameters
    ----------
    agent : BanditBaseline
        A two-armed baseline whose ``act`` reads only its ``counts`` (Bayes-optimal, Gittins,
        Thompson, UCB1, greedy; not learners with other state such as Rescorla-Wagner).
    task : BatchedTask
        The bandit task (any batch size): its prior and number of trials are used.
    seed : int
        Seed of the generator handed to ``agent.begin`` (used by agents only to break ties,
        which the reported policy already averages).

    Returns
    -------
    numpy.ndarray, shape (T,), float64
        ``regret[t - 1]`` = expected cumulative regret after ``t`` trials.
    """
    prior = BanditPrior.from_task(task)
    if prior.num_arms != 2:
        raise ValueError(f"exact regret is implemented for two arms, got {prior.num_arms}")
    agent.begin(task, torch.Generator().manual_seed(seed))
    if getattr(agent, "counts", None) is None:
        raise ValueError(f"{type(agent).__name__} is not a count-based bandit baseline")
    num_trials = int(task.num_trials)
    prob = np.ones(1)  # P_0 over the single empty state
    expected_reward = np.zeros(num_trials)
    for n in range(num_trials):
        states = _layer(n)
        counts = torch.tensor(states.reshape(-1, 2, 2), dtype=torch.float32)
        agent.counts = counts
        _, out = agent.act(torch.zeros(len(states), 1), {})
        policy = out["policy"].double().numpy()  # (M, 2)
        mean = posterior_mean(prior, counts.double()).numpy()  # the task's predictive
        p = prob[_flat(states, n)] if n else prob
        expected_reward[n] = np.sum(p * (policy * mean).sum(axis=1))
        nxt = np.zeros((n + 2) ** 3)
        for arm in (0, 1):
            for outcome, like in ((0, mean[:, arm]), (1, 1.0 - mean[:, arm])):
                child = states.copy()
                child[:, 2 * arm + outcome] += 1
                np.add.at(nxt, _flat(child, n + 1), p * policy[:, arm] * like)
        prob = nxt
    trials = np.arange(1, num_trials + 1)
    return trials * prior.expected_best() - np.cumsum(expected_reward)
