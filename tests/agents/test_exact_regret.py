import numpy as np
import pytest
import torch

from neurometa.agents.baselines import make_baseline
from neurometa.agents.baselines.bayes_dp import bayes_optimal_table
from neurometa.agents.baselines.exact_regret import exact_regret_curve
from neurometa.agents.baselines.priors import BanditPrior
from neurometa.record.recorder import play_batch
from neurometa.tasks import make


@pytest.mark.parametrize(
    "preset", ["bandit/independent", "bandit/correlated", "bandit/fixed_0.25_0.75"]
)
def test_bayes_optimal_curve_ends_at_the_dp_regret(preset):
    task = make(preset, 1, num_trials=30)
    curve = exact_regret_curve(make_baseline("bayes_optimal", task), task)
    dp = bayes_optimal_table(BanditPrior.from_task(task), 30).bayes_regret
    assert curve[-1] == pytest.approx(dp, abs=1e-9)
    assert np.all(np.diff(curve) >= -1e-12)  # regret never decreases


@pytest.mark.parametrize(
    ("preset", "first"), [("bandit/independent", 1 / 6), ("bandit/correlated", 1 / 4)]
)
@pytest.mark.parametrize("name", ["gittins", "thompson", "ucb1"])
def test_first_trial_regret_is_the_coin_flip_by_hand(preset, first, name):
    # Before any observation every agent plays each arm with probability 1/2:
    # E[max p] - E[p] = 2/3 - 1/2 (independent), 3/4 - 1/2 (correlated).
    task = make(preset, 1, num_trials=5)
    assert exact_regret_curve(make_baseline(name, task), task)[0] == pytest.approx(first)


def test_thompson_exact_curve_agrees_with_simulation():
    task = make("bandit/independent", 20000, num_trials=8)
    agent = make_baseline("thompson", task)
    steps, _, _ = play_batch(agent, task, torch.Generator().manual_seed(1), 1)
    probs = steps["arm_probs"]  # (B, T, 2)
    chosen = np.take_along_axis(probs, steps["action"][..., None].astype(np.int64), 2)[..., 0]
    simulated = np.cumsum(probs.max(-1) - chosen, axis=1)
    exact = exact_regret_curve(
        make_baseline("thompson", make("bandit/independent", 1, num_trials=8)), task
    )
    sem = simulated.std(axis=0) / np.sqrt(len(simulated))
    assert np.all(np.abs(simulated.mean(axis=0) - exact) < 4 * sem)


def test_more_than_two_arms_is_refused():
    task = make("bandit/independent_10arm", 1)
    with pytest.raises(ValueError, match="two arms"):
        exact_regret_curve(make_baseline("ucb1", task), task)
