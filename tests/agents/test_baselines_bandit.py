"""Bandit baselines: the Agent contract, regret against the DP's prediction, hand-derived steps."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from neurometa.agents.base import Agent
from neurometa.agents.baselines import list_baselines, make_baseline
from neurometa.agents.baselines.bayes_dp import bayes_optimal_table
from neurometa.agents.baselines.gittins import gittins_index_table
from neurometa.agents.baselines.posterior import probability_best
from neurometa.agents.baselines.priors import BanditPrior
from neurometa.tasks import make

BANDIT_BASELINES = [name for name, _, _ in list_baselines("bandit")]
PRESETS = [
    "bandit/independent",
    "bandit/correlated",
    "bandit/fixed_0.1_0.9",
    "bandit/fixed_0.25_0.75",
    "bandit/fixed_0.4_0.6",
]


def rollout(agent, task, seed: int = 0) -> dict[str, torch.Tensor]:
    """Run one batch of episodes; stack actions, outputs and per-trial expected regret."""
    obs, info = task.reset(seed=seed)
    agent.begin(task, torch.Generator().manual_seed(seed + 1))
    rows: dict[str, list[torch.Tensor]] = {}
    for _ in range(task.episode_length):
        action, out = agent.act(obs, info)
        obs, reward, terminated, _, info = task.step(action)
        out = {**out, **agent.observe(action, reward, terminated, info)}
        probs = info["arm_probs"]
        out["regret"] = probs.max(1).values - probs.gather(1, action[:, None])[:, 0]
        out["action"], out["reward"] = action, reward
        for key, value in out.items():
            rows.setdefault(key, []).append(value)
    return {key: torch.stack(values) for key, values in rows.items()}


@pytest.mark.parametrize("name", BANDIT_BASELINES, ids=BANDIT_BASELINES)
@pytest.mark.parametrize("preset", PRESETS, ids=PRESETS)
def test_agent_contract(name: str, preset: str) -> None:
    task = make(preset, 16, num_trials=12)
    agent = make_baseline(name, task)
    assert isinstance(agent, Agent)
    out = rollout(agent, task)
    assert out["action"].dtype == torch.int64
    assert out["action"].shape == (12, 16)
    assert out["policy"].shape == (12, 16, 2)
    torch.testing.assert_close(out["policy"].sum(-1), torch.ones(12, 16))
    chosen = out["policy"].gather(2, out["action"][..., None])[..., 0]
    assert (chosen > 0).all(), "an action outside the support of the reported policy"
    assert out["value"].shape == out["rpe"].shape == (12, 16)
    assert torch.isfinite(out["value"]).all()
    assert torch.isfinite(out["rpe"]).all()
    again = rollout(make_baseline(name, task), task)
    torch.testing.assert_close(again["action"], out["action"], rtol=0, atol=0)


@pytest.mark.parametrize("preset", PRESETS, ids=PRESETS)
def test_bayes_optimal_regret_matches_dp_prediction(preset: str) -> None:
    # The mean regret of simulated play must equal T * E[max p] - V_0 from the table.
    num_trials, num_envs = 20, 20000
    task = make(preset, num_envs, num_trials=num_trials)
    out = rollout(make_baseline("bayes_optimal", task), task, seed=5)
    total = out["regret"].sum(0).double()
    predicted = bayes_optimal_table(BanditPrior.from_task(task), num_trials).bayes_regret
    standard_error = float(total.std()) / math.sqrt(num_envs)
    assert abs(float(total.mean()) - predicted) < 4 * standard_error
    first_value = out["value"][0].double()
    table = bayes_optimal_table(BanditPrior.from_task(task), num_trials)
    torch.testing.assert_close(first_value, torch.full_like(first_value, table.optimal_value))


def test_bayes_optimal_value_and_td_error_are_consistent() -> None:
    # value_t = r_t + value_{t+1} - rpe_t holds by construction; under the prior the
    # TD errors of the optimal policy average to zero (the value is the true expectation).
    task = make("bandit/independent", 20000, num_trials=10)
    out = rollout(make_baseline("bayes_optimal", task), task, seed=2)
    nxt = torch.cat([out["value"][1:], torch.zeros(1, 20000)]).double()
    torch.testing.assert_close(
        out["rpe"].double(), out["reward"].double() + nxt - out["value"].double(),
        atol=1e-5, rtol=0,
    )  # fmt: skip
    assert abs(float(out["rpe"].sum(0).mean())) < 4 * float(out["rpe"].sum(0).std()) / 141.4


def test_thompson_draws_each_arm_with_its_posterior_probability_of_being_best() -> None:
    # Independent prior; arm 0 seen 3 successes and 1 failure -> Beta(4, 2); arm 1 unseen ->
    # U(0, 1). P(p0 > p1) = E[p0] = 4/6 because P(U < x) = x.
    task = make("bandit/independent", 40000, num_trials=5)
    agent = make_baseline("thompson", task, policy_samples=0)
    task.reset(seed=0)
    agent.begin(task, torch.Generator().manual_seed(0))
    agent.counts[:, 0] = torch.tensor([3.0, 1.0])
    action, _ = agent.act(torch.ones(40000, 1), {})
    assert float((action == 0).float().mean()) == pytest.approx(4 / 6, abs=0.01)


COUNTS = [[[3, 1], [0, 0]], [[0, 0], [0, 0]], [[10, 3], [7, 2]], [[0, 5], [2, 9]]]


@pytest.mark.parametrize("kind", ["independent", "correlated"], ids=["independent", "correlated"])
def test_thompson_policy_is_exact_probability_of_being_best(kind: str) -> None:
    counts = torch.tensor(COUNTS, dtype=torch.float32)
    policy = probability_best(BanditPrior(kind), counts)
    for k, ((s0, f0), (s1, f1)) in enumerate(COUNTS):
        if kind == "independent":  # P(p1 > p0) = int pdf_1(x) cdf_0(x) dx
            pdf1, cdf0 = stats.beta(s1 + 1, f1 + 1).pdf, stats.beta(s0 + 1, f0 + 1).cdf
            p1 = integrate.quad(lambda x: pdf1(x) * cdf0(x), 0, 1)[0]  # noqa: B023
        else:  # p0 ~ Beta(e + 1, n - e + 1) with e = s0 + f1; arm 1 best iff p0 < 1/2
            e, n = s0 + f1, s0 + f0 + s1 + f1
            p1 = stats.beta(e + 1, n - e + 1).cdf(0.5)
        assert policy[k, 1].item() == pytest.approx(p1, abs=1e-10)
    # The reported policy is the frequency with which the agent actually picks each arm.
    task = make("bandit/" + kind, 40000, num_trials=30)
    agent = make_baseline("thompson", task)
    task.reset(seed=0)
    agent.begin(task, torch.Generator().manual_seed(0))
    agent.counts[:] = counts[2]
    action, out = agent.act(torch.ones(40000, 1), {})
    assert (action == 1).float().mean().item() == pytest.approx(
        out["policy"][0, 1].item(), abs=0.01
    )


def test_ucb1_tries_every_arm_then_follows_the_index() -> None:
    task = make("bandit/independent_10arm", 64, num_trials=10)
    out = rollout(make_baseline("ucb1", task), task)
    first = torch.sort(out["action"], dim=0).values
    torch.testing.assert_close(first, torch.arange(10)[:, None].expand(10, 64))
    # Hand-derived: arm 0 has 2 successes in 4 plays, arm 1 one success in 1 play, t = 5:
    # 0.5 + sqrt(2 ln 5 / 4) = 1.397 < 1 + sqrt(2 ln 5 / 1) = 2.794 -> arm 1.
    task = make("bandit/independent", 3, num_trials=10)
    agent = make_baseline("ucb1", task)
    task.reset(seed=0)
    agent.begin(task, torch.Generator().manual_seed(0))
    agent.counts[:] = torch.tensor([[2.0, 2.0], [1.0, 0.0]])
    action, out = agent.act(torch.ones(3, 1), {})
    assert action.tolist() == [1, 1, 1]
    torch.testing.assert_close(out["value"], torch.ones(3))


def test_rescorla_wagner_update_and_softmax() -> None:
    # alpha = 0.5 from Q = 0.5: reward 1 -> Q = 0.75; P(arm 0) = 1 / (1 + exp(-2 * 0.25)).
    task = make("bandit/independent", 2, num_trials=3)
    agent = make_baseline("rescorla_wagner", task, alpha=0.5, beta=2.0)
    task.reset(seed=0)
    agent.begin(task, torch.Generator().manual_seed(0))
    agent.act(torch.ones(2, 1), {})
    out = agent.observe(torch.tensor([0, 1]), torch.tensor([1.0, 0.0]), torch.zeros(2), {})
    torch.testing.assert_close(out["rpe"], torch.tensor([0.5, -0.5]))
    np.testing.assert_allclose(agent.state["q"], [[0.75, 0.5], [0.5, 0.25]])
    _, act_out = agent.act(torch.ones(2, 1), {})
    p0 = 1 / (1 + math.exp(-2 * 0.25))
    torch.testing.assert_close(act_out["policy"], torch.tensor([[p0, 1 - p0], [p0, 1 - p0]]))


def test_epsilon_greedy_policy_mixes_uniform() -> None:
    task = make("bandit/independent", 4, num_trials=3)
    agent = make_baseline("greedy", task, epsilon=0.2)
    task.reset(seed=0)
    agent.begin(task, torch.Generator().manual_seed(0))
    agent.counts[:, 1, 0] = 1.0  # arm 1 has a success: posterior means 1/2 and 2/3
    _, out = agent.act(torch.ones(4, 1), {})
    torch.testing.assert_close(out["policy"], torch.tensor([[0.1, 0.9]]).expand(4, 2))


@pytest.mark.parametrize(
    ("discount", "successes", "failures", "published"),
    [(0.9, 0, 0, 0.7029), (0.9, 1, 1, 0.6346), (0.9, 2, 2, 0.6010), (0.9, 9, 1, 0.8695),
     (0.9, 1, 0, 0.8001), (0.9, 0, 1, 0.5001), (0.9, 2, 0, 0.8452), (0.9, 0, 2, 0.3796),
     (0.9, 9, 6, 0.6300), (0.99, 0, 0, 0.8699)],
    ids=["g0.9-0-0", "g0.9-1-1", "g0.9-2-2", "g0.9-9-1", "g0.9-1-0", "g0.9-0-1", "g0.9-2-0",
         "g0.9-0-2", "g0.9-9-6", "g0.99-0-0"],
)  # fmt: skip
def test_gittins_index_matches_published_table(
    discount: float, successes: int, failures: int, published: float
) -> None:
    # Gittins' tables (Gittins, Glazebrook & Weber 2011), to four decimals.
    table = gittins_index_table(discount, successes + failures + 1)
    assert table[successes, failures] == pytest.approx(published, abs=1e-4)


def _bisection_index(successes: int, failures: int, discount: float) -> float:
    """Obviously correct reference: bisection on lambda for one state, deep truncation."""
    depth = math.ceil(math.log(1e-7) / math.log(discount))
    low, high = 0.0, 1.0
    for _ in range(40):
        lam = (low + high) / 2
        retire = lam / (1 - discount)
        k = np.arange(depth + 1)
        w = np.maximum(
            retire, (successes + k + 1) / (successes + failures + depth + 2) / (1 - discount)
        )
        for d in range(depth - 1, -1, -1):
            k = np.arange(d + 1)
            mu = (successes + k + 1) / (successes + failures + d + 2)
            cont = mu + discount * (mu * w[1 : d + 2] + (1 - mu) * w[: d + 1])
            w = np.maximum(retire, cont)
        low, high = (lam, high) if cont[0] > retire else (low, lam)
    return low


@pytest.mark.parametrize("state", [(0, 0), (3, 7), (12, 4)], ids=["0-0", "3-7", "12-4"])
def test_gittins_index_matches_bisection(state: tuple[int, int]) -> None:
    table = gittins_index_table(0.95, 20)
    assert table[state] == pytest.approx(_bisection_index(*state, 0.95), abs=5e-5)
    assert np.isnan(table[10, 10])


def test_gittins_index_is_accurate_where_the_grid_was_worst() -> None:
    # Index near 1 at gamma = 0.99 (the agent's table for T = 100): a 512-point grid with
    # linear interpolation was 1.2e-3 off here; the end-point tangents bring it to ~1e-6.
    table = gittins_index_table(0.99, 100)
    assert table[86, 0] == pytest.approx(_bisection_index(86, 0, 0.99), abs=1e-5)


def test_registry_errors_name_the_problem() -> None:
    bandit = make("bandit/independent", 2)
    with pytest.raises(KeyError, match="did you mean 'thompson'"):
        make_baseline("thomson", bandit)
    with pytest.raises(ValueError, match="plays two_step tasks, not 'bandit'"):
        make_baseline("hybrid", bandit)
    with pytest.raises(Exception, match="unknown key 'epsilonn'"):
        make_baseline("greedy", bandit, epsilonn=0.1)
    with pytest.raises(Exception, match=r"epsilon = 2.0 is outside"):
        make_baseline("greedy", bandit, epsilon=2.0)
    with pytest.raises(ValueError, match="fixes w"):
        make_baseline("model_free", make("two_step/daw2011", 2), w=0.5)
    ten_arms = make("bandit/independent_10arm", 2)
    with pytest.raises(ValueError, match="two-armed bandits only"):
        make_baseline("bayes_optimal", ten_arms).begin(ten_arms, torch.Generator())
    assert make_baseline("model_free", make("two_step/daw2011", 2)).name == "model_free"
    with pytest.raises(TypeError, match="needs a bandit task"):
        make_baseline("ucb1", bandit).begin(make("two_step/daw2011", 2), torch.Generator())


@pytest.mark.slow
def test_benchmark_script_reports_dp_regret() -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parents[2] / "benchmarks" / "baselines.py"
    result = subprocess.run(
        [sys.executable, str(script), "--episodes", "4000", "--presets", "bandit/independent",
         "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = json.loads(result.stdout)["results"]["bandit/independent"]
    optimal = rows["bayes_optimal"]
    assert abs(optimal["regret_100"] - optimal["dp_exact"]) < 4 * optimal["se_100"]
    assert set(rows) == set(BANDIT_BASELINES)
    assert rows["ucb1"]["regret_100"] > optimal["regret_100"] + 5 * rows["ucb1"]["se_100"]
