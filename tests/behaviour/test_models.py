"""Each model's likelihood equals a slow, obviously correct loop; gradients are exact."""

import numpy as np
import pandas as pd
import pytest

from neurometa import behaviour
from neurometa.behaviour.objective import Objective
from neurometa.behaviour.optimise import complex_step
from neurometa.behaviour.params import to_unbounded


def _softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def _slow_bandit(model, p, choices, rewards, num_options=2):
    """Per-trial loop over one session, written out for each model."""
    q = np.full(num_options, 0.5 if model != "matching" else 0.0)
    kernel = np.zeros(num_options)
    ll = 0.0
    for c, r in zip(choices, rewards, strict=True):
        if model == "q_choice_kernel":
            logits = p["beta"] * q + p["beta_c"] * kernel
        else:
            logits = p["beta"] * q
        ll += np.log(_softmax(logits)[c])
        delta = r - q[c]
        if model == "q_asymmetric":
            q[c] += (p["alpha_pos"] if delta > 0 else p["alpha_neg"]) * delta
        else:
            q[c] += p["alpha"] * delta
        if model == "q_forgetting":
            for u in range(num_options):
                if u != c:
                    q[u] *= 1 - p["forgetting"]
        if model == "q_choice_kernel":
            kernel += p["alpha_c"] * ((np.arange(num_options) == c) - kernel)
    return ll


def _slow_hybrid(p, c1s, s2s, c2s, rs, common=0.7):
    mf, q2, prev, ll = np.zeros(2), np.zeros((2, 2)), None, 0.0
    for c1, s2, c2, r in zip(c1s, s2s, c2s, rs, strict=True):
        mb = np.array([common * q2[a].max() + (1 - common) * q2[1 - a].max() for a in (0, 1)])
        net = p["w"] * mb + (1 - p["w"]) * mf
        rep = np.array([prev == 0, prev == 1], dtype=float)
        ll += np.log(_softmax(p["beta1"] * (net + p["perseveration"] * rep))[c1])
        ll += np.log(_softmax(p["beta2"] * q2[s2])[c2])
        d1 = q2[s2, c2] - mf[c1]
        d2 = r - q2[s2, c2]
        mf[c1] += p["alpha1"] * (d1 + p["lam"] * d2)
        q2[s2, c2] += p["alpha2"] * d2
        prev = c1
    return ll


BANDIT_PARAMS = {
    "q_learning": {"alpha": 0.3, "beta": 4.0},
    "q_forgetting": {"alpha": 0.4, "beta": 3.0, "forgetting": 0.2},
    "q_asymmetric": {"alpha_pos": 0.5, "alpha_neg": 0.1, "beta": 5.0},
    "q_choice_kernel": {"alpha": 0.3, "beta": 4.0, "alpha_c": 0.4, "beta_c": 1.5},
}


@pytest.mark.parametrize("name", sorted(BANDIT_PARAMS), ids=sorted(BANDIT_PARAMS))
def test_bandit_likelihood_equals_slow_loop(name):
    params = BANDIT_PARAMS[name]
    table = behaviour.simulate(
        name, {k: [v, v] for k, v in params.items()}, "bandit/reversal", 150, seed=3
    )
    data = behaviour.behaviour_data(table, "bandit")
    obj = Objective(behaviour.get_model(name), data)
    x = np.array([[params[n] for n in obj.names]] * 2)[:, None]
    fast = obj.loglik(x, np.arange(2))[:, 0]
    for i, subject in enumerate(data.subjects):
        rows = table[table["subject"] == subject]
        slow = _slow_bandit(name, params, rows["choice"].to_numpy(), rows["reward"].to_numpy())
        assert fast[i] == pytest.approx(slow, abs=1e-9)


def test_hybrid_likelihood_equals_slow_loop():
    p = {
        "alpha1": 0.4,
        "alpha2": 0.6,
        "lam": 0.5,
        "beta1": 4.0,
        "beta2": 3.0,
        "perseveration": 0.2,
        "w": 0.6,
    }
    table = behaviour.simulate(
        "hybrid", {k: [v] for k, v in p.items()}, "two_step/daw2011", 120, seed=4
    )
    data = behaviour.behaviour_data(table, "two_step", common_prob=0.7)
    obj = Objective(behaviour.get_model("hybrid"), data)
    fast = obj.loglik(np.array([[[p[n] for n in obj.names]]]), np.arange(1))[0, 0]
    slow = _slow_hybrid(
        p, *(table[c].to_numpy() for c in ("choice1", "state2", "choice2", "reward"))
    )
    assert fast == pytest.approx(slow, abs=1e-9)


@pytest.mark.parametrize("name", ["q_choice_kernel", "hybrid", "baiting_q", "matching"])
def test_complex_step_gradient_matches_central_differences(name):
    model = behaviour.get_model(name)
    task = {
        "hybrid": "two_step/daw2011",
        "baiting_q": "foraging/coupled_baiting",
        "matching": "foraging/coupled_baiting",
    }.get(name, "bandit/reversal")
    x = np.array([[np.mean(behaviour.PARAMETERS[n].start) for n in model.parameters]])
    table = behaviour.simulate(name, x, task, 80, seed=5)
    data = behaviour.behaviour_data(
        table, __import__("neurometa.behaviour.tasks", fromlist=["x"]).make_task(task).family
    )
    obj = Objective(model, data)
    h = to_unbounded(x, obj.names, "box")
    _, grad = complex_step(obj, h, np.arange(1))
    step = 1e-6
    fd = [
        (obj(h[:, None] + step * e, np.arange(1)) - obj(h[:, None] - step * e, np.arange(1)))[0, 0]
        / (2 * step)
        for e in np.eye(len(obj.names))
    ]
    np.testing.assert_allclose(grad[0], fd, rtol=1e-5, atol=1e-6)


def test_given_policy_equals_softmax_of_given_logits():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(1, 30, 2))
    choices = rng.integers(2, size=30)
    table = pd.DataFrame({"subject": "a", "choice": choices, "reward": 1.0})
    data = behaviour.behaviour_data(table, "bandit")
    model = behaviour.GivenPolicy(logits)
    obj = Objective(model, data)
    ll = obj.loglik(np.array([[[2.0, 0.5]]]), np.arange(1))[0, 0]
    z = 2.0 * logits[0] + np.array([0.0, 0.5])
    expected = sum(np.log(_softmax(z[t])[choices[t]]) for t in range(30))
    assert ll == pytest.approx(expected, abs=1e-10)
