"""Posterior means and samples of Bernoulli arm probabilities from counts (batched torch).

The counts tensor ``counts`` has shape ``(B, K, 2)``: ``counts[b, k, 0]`` successes and
``counts[b, k, 1]`` failures of arm ``k`` in episode ``b``. The posterior follows the task's
prior (:class:`~neurometa.agents.baselines.priors.BanditPrior`):

- independent: ``p_k | counts ~ Beta(s_k + 1, f_k + 1)``;
- correlated: ``p_0 ~ Beta(e + 1, n - e + 1)`` with ``e = s_0 + f_1``, ``p_1 = 1 - p_0``;
- fixed ``(q_a, q_b)``: ``P(p = (q_a, q_b)) = sigmoid(r log(q_a/q_b) + u log((1-q_b)/(1-q_a)))``
  with ``r = s_0 - s_1`` and ``u = f_1 - f_0``, else ``p = (q_b, q_a)``.

Helpers shared by the bandit baselines (tie breaking, sampling from a policy) live here too.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.distributions import Binomial

from neurometa.agents.baselines.priors import BanditPrior

__all__ = [
    "posterior_mean",
    "posterior_sample",
    "probability_best",
    "argmax_random_ties",
    "sample_from_policy",
    "update_counts",
]


def _fixed_high_first(prior: BanditPrior, counts: Tensor) -> Tensor:
    """``P(arm 0 has fixed_probs[0] | counts)``, shape (B,)."""
    if prior.num_arms != 2:
        raise ValueError(f"a fixed prior is supported for two arms only, got {prior.num_arms}")
    qa, qb = prior.fixed_probs
    if not (0.0 < qa < 1.0 and 0.0 < qb < 1.0):
        raise ValueError(f"fixed_probs must lie strictly in (0, 1), got {prior.fixed_probs}")
    r = counts[:, 0, 0] - counts[:, 1, 0]
    u = counts[:, 1, 1] - counts[:, 0, 1]
    return torch.sigmoid(r * math.log(qa / qb) + u * math.log((1 - qb) / (1 - qa)))


def posterior_mean(prior: BanditPrior, counts: Tensor) -> Tensor:
    """``E[p_k | counts]`` under ``prior``.

    Parameters
    ----------
    prior : BanditPrior
    counts : Tensor, shape (B, K, 2), float

    Returns
    -------
    Tensor, shape (B, K), float
    """
    if prior.kind == "independent":
        return (counts[..., 0] + 1) / (counts.sum(-1) + 2)
    if prior.kind == "correlated":
        e = counts[:, 0, 0] + counts[:, 1, 1]
        p0 = (e + 1) / (counts.sum((1, 2)) + 2)
        return torch.stack([p0, 1 - p0], dim=1)
    h0 = _fixed_high_first(prior, counts)
    qa, qb = prior.fixed_probs
    return torch.stack([h0 * qa + (1 - h0) * qb, h0 * qb + (1 - h0) * qa], dim=1)


def _beta(a: Tensor, b: Tensor, generator: torch.Generator) -> Tensor:
    """Beta(a, b) draws as ``X / (X + Y)`` with ``X ~ Gamma(a)``, ``Y ~ Gamma(b)``."""
    x = torch._standard_gamma(a, generator=generator)  # same sampler as torch.distributions
    y = torch._standard_gamma(b, generator=generator)
    return x / (x + y)


def posterior_sample(
    prior: BanditPrior, counts: Tensor, generator: torch.Generator, num_samples: int = 1
) -> Tensor:
    """Draws of the arm probabilities from the posterior.

    Parameters
    ----------
    prior : BanditPrior
    counts : Tensor, shape (B, K, 2), float
    generator : torch.Generator
        Source of randomness (on the device of ``counts``).
    num_samples : int
        Draws per episode ``S``.

    Returns
    -------
    Tensor, shape (S, B, K), float
    """
    shape = (num_samples, *counts.shape[:-1])
    if prior.kind == "independent":
        a = (counts[..., 0] + 1).expand(shape).contiguous()
        b = (counts[..., 1] + 1).expand(shape).contiguous()
        return _beta(a, b, generator)
    if prior.kind == "correlated":
        e = counts[:, 0, 0] + counts[:, 1, 1]
        n = counts.sum((1, 2))
        p0 = _beta(
            (e + 1).expand(shape[:2]).contiguous(),
            (n - e + 1).expand(shape[:2]).contiguous(),
            generator,
        )
        return torch.stack([p0, 1 - p0], dim=-1)
    h0 = _fixed_high_first(prior, counts)
    first = torch.rand(shape[:2], generator=generator, device=counts.device) < h0
    qa, qb = prior.fixed_probs
    p0 = torch.where(first, qa, qb)
    return torch.stack([p0, qa + qb - p0], dim=-1)


def _log_beta(a: Tensor, b: Tensor) -> Tensor:
    return torch.lgamma(a) + torch.lgamma(b) - torch.lgamma(a + b)


def _prob_second_beats_first(a0: Tensor, b0: Tensor, a1: Tensor, b1: Tensor) -> Tensor:
    """``P(x1 > x0)`` for ``x_k ~ Beta(a_k, b_k)`` with integer ``a1`` (shape (B,)).

    ``sum_{i<a1} B(a0+i, b0+b1) / ((b1+i) B(1+i, b1) B(a0, b0))`` (Cook 2005, "Exact
    calculation of beta inequalities"), summed in log space over ``i`` as a ``(B, max a1)``
    tensor.
    """
    i = torch.arange(int(a1.max()), dtype=a0.dtype, device=a0.device)
    a0, b0, a1, b1 = (x.unsqueeze(1) for x in (a0, b0, a1, b1))
    log_terms = (_log_beta(a0 + i, b0 + b1) - torch.log(b1 + i) - _log_beta(1 + i, b1)
                 - _log_beta(a0, b0))  # fmt: skip
    return torch.where(i < a1, log_terms.exp(), 0.0).sum(dim=1).clamp(0.0, 1.0)


def probability_best(prior: BanditPrior, counts: Tensor) -> Tensor:
    """Exact ``P(arm k has the larger p | counts)`` for two arms: Thompson's policy.

    Parameters
    ----------
    prior : BanditPrior
        A two-armed prior.
    counts : Tensor, shape (B, 2, 2), float (integer-valued)

    Returns
    -------
    Tensor, shape (B, 2), float64
        Independent: Cook's sum for two Beta variables; correlated: ``P(p_0 > 1/2)``, the
        tail ``P(Binomial(n+1, 1/2) <= e)``; fixed: the posterior of the hypothesis that
        puts the larger probability on each arm (1/2 each when the two are equal).
    """
    if prior.num_arms != 2:
        raise ValueError(f"probability_best is exact for two arms only, got {prior.num_arms}")
    c = counts.double()
    if prior.kind == "independent":
        p1 = _prob_second_beats_first(
            c[:, 0, 0] + 1, c[:, 0, 1] + 1, c[:, 1, 0] + 1, c[:, 1, 1] + 1
        )
        return torch.stack([1 - p1, p1], dim=1)
    if prior.kind == "correlated":  # p0 ~ Beta(e+1, n-e+1); P(p0 > 1/2) = P(Bin(n+1, 1/2) <= e)
        e, n = c[:, 0, 0] + c[:, 1, 1], c.sum((1, 2))
        j = torch.arange(int(n.max()) + 2, dtype=c.dtype, device=c.device)
        half = torch.tensor(0.5, dtype=c.dtype, device=c.device)
        log_pmf = Binomial((n + 1).unsqueeze(1), probs=half, validate_args=False).log_prob(j)
        p0 = torch.where(j <= e.unsqueeze(1), log_pmf.exp(), 0.0).sum(dim=1).clamp(0.0, 1.0)
        return torch.stack([p0, 1 - p0], dim=1)
    qa, qb = prior.fixed_probs
    if qa == qb:
        return torch.full(c.shape[:2], 0.5, dtype=c.dtype, device=c.device)
    h0 = _fixed_high_first(prior, c)
    p0 = h0 if qa > qb else 1 - h0
    return torch.stack([p0, 1 - p0], dim=1)


def argmax_random_ties(
    scores: Tensor, generator: torch.Generator, tolerance: float = 1e-9
) -> tuple[Tensor, Tensor]:
    """Greedy action with ties broken uniformly at random.

    Parameters
    ----------
    scores : Tensor, shape (B, K)
    generator : torch.Generator
    tolerance : float
        Scores within this distance of the maximum count as tied.

    Returns
    -------
    action : Tensor, shape (B,), int64
    policy : Tensor, shape (B, K), float32 — uniform over the tied best actions
    """
    best = scores >= scores.max(dim=1, keepdim=True).values - tolerance
    keys = torch.rand(scores.shape, generator=generator, device=scores.device)
    action = torch.where(best, keys, -1.0).argmax(dim=1)
    policy = best.float() / best.sum(dim=1, keepdim=True)
    return action, policy


def sample_from_policy(policy: Tensor, generator: torch.Generator) -> Tensor:
    """One action per row of ``policy`` (shape (B, K)) by inverse-CDF sampling; int64 (B,)."""
    u = torch.rand((policy.shape[0], 1), generator=generator, device=policy.device)
    below = (policy.cumsum(dim=1) < u * policy.sum(dim=1, keepdim=True)).sum(dim=1)
    return below.clamp(max=policy.shape[1] - 1)


def update_counts(counts: Tensor, action: Tensor, reward: Tensor) -> None:
    """Add one success (``reward > 0``) or failure of ``action`` to ``counts`` in place."""
    column = action * 2 + (reward <= 0).long()
    counts.view(counts.shape[0], -1).scatter_add_(
        1, column.unsqueeze(1), torch.ones_like(column, dtype=counts.dtype).unsqueeze(1)
    )
