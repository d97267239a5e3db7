"""The Bayes-optimal DP against brute force in exact rational arithmetic.

The brute force never uses sufficient statistics: the predictive probability of a reward is
the ratio of two marginal likelihoods of the *whole* history of (arm, reward) pairs,
integrated over the prior exactly with ``fractions.Fraction``.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from functools import cache

import numpy as np
import pytest

from neurometa.agents.baselines.bayes_dp import (
    bayes_optimal_table,
    clear_cache,
    state_index,
)
from neurometa.agents.baselines.priors import BanditPrior

PRIORS = [
    BanditPrior("independent"),
    BanditPrior("correlated"),
    BanditPrior("fixed", 2, (0.1, 0.9)),
    BanditPrior("fixed", 2, (0.25, 0.75)),
    BanditPrior("fixed", 2, (0.4, 0.6)),
]
IDS = [p.key for p in PRIORS]
History = tuple[tuple[int, int], ...]


def _counts(history: History) -> np.ndarray:
    counts = np.zeros((2, 2), dtype=np.int64)
    for arm, reward in history:
        counts[arm, 1 - reward] += 1
    return counts


def marginal_likelihood(prior: BanditPrior, history: History) -> Fraction:
    """P(rewards of ``history`` | its arms), integrated over the prior exactly."""
    (s0, f0), (s1, f1) = _counts(history).tolist()
    if prior.kind == "independent":  # int_0^1 p^s (1-p)^f dp = s! f! / (s+f+1)!
        beta = [Fraction(math.factorial(s) * math.factorial(f), math.factorial(s + f + 1))
                for s, f in ((s0, f0), (s1, f1))]  # fmt: skip
        return beta[0] * beta[1]
    if prior.kind == "correlated":  # p1 = 1 - p0: a failure of arm 1 is a success of p0
        e, n = s0 + f1, s0 + f0 + s1 + f1
        return Fraction(math.factorial(e) * math.factorial(n - e), math.factorial(n + 1))
    qa, qb = (Fraction(p).limit_denominator(1000) for p in prior.fixed_probs)
    total = Fraction(0)
    for p0, p1 in ((qa, qb), (qb, qa)):
        like = Fraction(1)
        for arm, reward in history:
            p = p0 if arm == 0 else p1
            like *= p if reward else 1 - p
        total += like / 2
    return total


def predictive(prior: BanditPrior, history: History, arm: int) -> Fraction:
    base = marginal_likelihood(prior, history)
    return marginal_likelihood(prior, (*history, (arm, 1))) / base


def expectimax(prior: BanditPrior, horizon: int) -> dict[History, Fraction]:
    """Optimal expected future reward after every history, by search over the history tree."""
    values: dict[History, Fraction] = {}

    @cache
    def value(history: History) -> Fraction:
        if len(history) == horizon:
            return Fraction(0)
        best = max(
            sum(
                (predictive(prior, history, arm) if r else 1 - predictive(prior, history, arm))
                * (r + value((*history, (arm, r))))
                for r in (0, 1)
            )
            for arm in (0, 1)
        )
        values[history] = best
        return best

    value(())
    return values


def policy_value(prior: BanditPrior, bits: tuple[int, ...], horizon: int) -> Fraction:
    """Expected total reward of the deterministic policy that plays ``bits[2**d - 1 + k]``
    after the reward sequence with binary code ``k`` of length ``d``."""

    def go(history: History, code: int) -> Fraction:
        d = len(history)
        if d == horizon:
            return Fraction(0)
        arm = bits[2**d - 1 + code]
        p = predictive(prior, history, arm)
        return sum(
            (p if r else 1 - p) * (r + go((*history, (arm, r)), 2 * code + r)) for r in (0, 1)
        )

    return go((), 0)


@pytest.mark.parametrize("prior", PRIORS, ids=IDS)
def test_dp_value_equals_expectimax_at_every_history(prior: BanditPrior) -> None:
    horizon = 4
    table = bayes_optimal_table(prior, horizon)
    truth = expectimax(prior, horizon)
    assert len(truth) == 1 + 4 + 16 + 64  # every history of length < 4
    for history, exact in truth.items():
        got = table.value[state_index(prior, horizon, _counts(history))]
        assert got == pytest.approx(float(exact), abs=1e-12), history


@pytest.mark.parametrize("prior", PRIORS, ids=IDS)
def test_dp_value_equals_best_of_all_deterministic_policies(prior: BanditPrior) -> None:
    horizon = 3
    num_nodes = 2**horizon - 1  # decision points of a policy tree: 1 + 2 + 4
    best = max(
        policy_value(prior, bits, horizon) for bits in itertools.product((0, 1), repeat=num_nodes)
    )
    assert bayes_optimal_table(prior, horizon).optimal_value == pytest.approx(
        float(best), abs=1e-12
    )


@pytest.mark.parametrize("prior", PRIORS, ids=IDS)
def test_dp_actions_are_optimal_and_ties_are_exact(prior: BanditPrior) -> None:
    horizon = 4
    table = bayes_optimal_table(prior, horizon)
    truth = expectimax(prior, horizon)
    for history in truth:
        q = []
        for arm in (0, 1):
            p = predictive(prior, history, arm)
            future = [truth.get((*history, (arm, r)), Fraction(0)) for r in (0, 1)]
            q.append((1 - p) * future[0] + p * (1 + future[1]))
        action = table.action[state_index(prior, horizon, _counts(history))]
        expected = -1 if q[0] == q[1] else int(q[1] > q[0])
        assert action == expected, history


def test_first_trial_is_a_tie_and_regret_matches_prior() -> None:
    # By symmetry of every prior here the first choice is a tie; the regret identity
    # T * E[max p] - V_0 with E[max p] = 2/3 for two uniform arms, checked at T = 1:
    # V_0 = 1/2 so the regret is 2/3 - 1/2 = 1/6.
    table = bayes_optimal_table(BanditPrior("independent"), 1)
    assert table.action.tolist() == [-1]
    assert table.bayes_regret == pytest.approx(1 / 6, abs=1e-15)


def test_table_is_cached_in_memory_and_on_disk(tmp_path) -> None:
    prior = BanditPrior("correlated")
    first = bayes_optimal_table(prior, 20, cache_dir=tmp_path)
    assert bayes_optimal_table(prior, 20) is first
    (path,) = tmp_path.glob("*.npz")
    clear_cache()
    reloaded = bayes_optimal_table(prior, 20, cache_dir=tmp_path)
    assert reloaded is not first
    np.testing.assert_array_equal(reloaded.value, first.value)
    np.testing.assert_array_equal(reloaded.action, first.action)
    assert not reloaded.value.flags.writeable


@pytest.mark.parametrize(
    ("prior", "horizon", "message"),
    [
        (BanditPrior("independent", 3), 5, "two-armed"),
        (BanditPrior("independent"), 0, "horizon"),
        (BanditPrior("fixed", 2, (0.0, 1.0)), 5, r"\(0, 1\)"),
    ],
    ids=["three-arms", "zero-horizon", "degenerate-pair"],
)
def test_bad_input_is_rejected(prior: BanditPrior, horizon: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bayes_optimal_table(prior, horizon)
