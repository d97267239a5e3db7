"""Fits recover the parameters they were simulated with; bad input gets clear errors."""

import numpy as np
import pandas as pd
import pytest

from neurometa import behaviour
from neurometa.behaviour.data import BehaviourDataError


def test_q_learning_fit_recovers_parameters():
    rng = np.random.default_rng(0)
    true = {"alpha": rng.uniform(0.1, 0.8, 30), "beta": rng.uniform(2, 10, 30)}
    table = behaviour.simulate("q_learning", true, "bandit/reversal", 400, seed=1)
    fits = behaviour.fit("q_learning", table, family="bandit", num_restarts=2, progress=False)
    order = np.argsort(fits["subject"].astype(int).to_numpy())
    for name in ("alpha", "beta"):
        r = np.corrcoef(fits[name].to_numpy()[order], true[name])[0, 1]
        assert r > 0.85, (name, r)
    assert fits["converged"].all()
    assert np.isfinite(fits["se_alpha"]).mean() > 0.9


def test_hybrid_fit_reaches_the_truths_likelihood():
    p = {
        "alpha1": [0.5, 0.3],
        "alpha2": [0.5, 0.6],
        "lam": [0.6, 0.4],
        "beta1": [5.0, 3.0],
        "beta2": [4.0, 5.0],
        "perseveration": [0.1, 0.0],
        "w": [0.8, 0.2],
    }
    table = behaviour.simulate("hybrid", p, "two_step/daw2011", 150, seed=2)
    fits = behaviour.fit("hybrid", table, family="two_step", num_restarts=2, progress=False)
    data = behaviour.behaviour_data(table, "two_step")
    from neurometa.behaviour.objective import Objective

    obj = Objective(behaviour.get_model("hybrid"), data)
    x = np.array([[p[n][i] for n in obj.names] for i in range(2)])[:, None]
    true_nll = -obj.loglik(x, np.arange(2))[:, 0]
    assert (fits["nll"].to_numpy() <= true_nll + 1e-6).all()


def test_map_fit_differs_from_ml_and_stays_inside_bounds():
    table = behaviour.simulate(
        "q_learning", {"alpha": [0.9], "beta": [15.0]}, "bandit/reversal", 60, seed=3
    )
    ml = behaviour.fit("q_learning", table, family="bandit", progress=False)
    post = behaviour.fit("q_learning", table, family="bandit", prior="weak", progress=False)
    assert post["prior"].iloc[0] == "weak"
    assert ml["prior"].iloc[0] == "none"
    assert 0 < post["alpha"].iloc[0] < 1
    assert 0 < post["beta"].iloc[0] < 20
    assert post["nll"].iloc[0] >= ml["nll"].iloc[0] - 1e-6


def _table(**columns):
    base = {
        "subject": ["a"] * 4 + ["b"] * 4,
        "choice": [0, 1, 1, 0] * 2,
        "reward": [1.0, 0.0, 1.0, 0.0] * 2,
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_wrong_family_is_named():
    with pytest.raises(BehaviourDataError, match="model 'hybrid' fits two_step.*'bandit'"):
        behaviour.fit("hybrid", _table(), family="bandit", progress=False)


def test_all_missed_subject_is_named():
    table = _table(choice=[0, 1, 1, 0, -1, -1, -1, -1])
    with pytest.raises(BehaviourDataError, match="subject 'b': every trial is missed"):
        behaviour.behaviour_data(table, "bandit")


def test_subject_with_one_trial_is_named():
    table = _table(choice=[0, 1, 1, 0, 1, -1, -1, -1])
    with pytest.raises(BehaviourDataError, match="subject 'b' has 1 completed trial"):
        behaviour.behaviour_data(table, "bandit")


def test_choice_outside_the_options_is_named():
    table = _table(choice=[0, 1, 1, 0, 1, 3, 0, 0])
    with pytest.raises(BehaviourDataError, match="subject 'b'.*choice = 3 is outside.*0..1"):
        behaviour.behaviour_data(table, "bandit", num_options=2)


def test_non_integer_choice_is_named():
    table = _table(choice=[0, 1, 1, 0, 1, 0.5, 0, 0])
    with pytest.raises(BehaviourDataError, match="subject 'b': choice must hold option"):
        behaviour.behaviour_data(table, "bandit")


def test_two_option_model_refuses_three_options():
    table = _table(choice=[0, 1, 2, 0, 1, 2, 0, 0])
    with pytest.raises(BehaviourDataError, match="written for two options"):
        behaviour.fit("matching", table, family="bandit", progress=False)


def test_unknown_model_and_prior():
    with pytest.raises(KeyError, match="did you mean 'q_learning'"):
        behaviour.fit("q_learnin", _table(), family="bandit")
    with pytest.raises(ValueError, match="unknown prior"):
        behaviour.fit("q_learning", _table(), family="bandit", prior="flat")
