"""Harlow ideal observer and the foragers: contract, ground-truth behaviour, hand-derived steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurometa.agents.base import Agent
from neurometa.agents.baselines import list_baselines, make_baseline
from neurometa.tasks import MetaRLInputs, make


def rollout(agent, task, seed: int = 0) -> dict[str, torch.Tensor]:
    obs, info = task.reset(seed=seed)
    agent.begin(task, torch.Generator().manual_seed(seed + 1))
    rows: dict[str, list[torch.Tensor]] = {}
    for _ in range(task.episode_length):
        action, out = agent.act(obs, info)
        obs, reward, terminated, _, info = task.step(action)
        out = {**out, **agent.observe(action, reward, terminated, info)}
        out.update(action=action, reward=reward, **info)
        for key, value in out.items():
            rows.setdefault(key, []).append(value)
    return {key: torch.stack(values) for key, values in rows.items()}


def test_list_baselines_covers_every_family() -> None:
    families = {fam for _, fams, _ in list_baselines() for fam in fams}
    assert families == {"bandit", "two_step", "harlow", "foraging"}
    assert [n for n, _, _ in list_baselines("harlow")] == ["harlow_ideal"]


@pytest.mark.parametrize("wrapped", [False, True], ids=["plain", "meta-rl-inputs"])
def test_harlow_observer_is_at_chance_then_perfect(wrapped: bool) -> None:
    task = make("harlow/wang2018", 4000)
    task = MetaRLInputs(task) if wrapped else task
    agent = make_baseline("harlow_ideal", task)
    assert isinstance(agent, Agent)
    out = rollout(agent, task, seed=4)
    accuracy = out["correct"].float().mean(dim=1)
    # Trial 1 is a fair coin: 0.5 +- 4 SE (SE = 0.5 / sqrt(4000) = 0.008).
    assert accuracy[0].item() == pytest.approx(0.5, abs=0.032)
    torch.testing.assert_close(accuracy[1:], torch.ones(5))
    torch.testing.assert_close(out["value"][0], torch.full((4000,), 0.5))
    torch.testing.assert_close(out["rpe"], out["reward"] - out["value"])


def test_harlow_observer_ties_on_identical_objects() -> None:
    # One binary feature: the two objects are identical with probability 1/2, and then no
    # observer can tell them apart -> expected accuracy after trial 1 is 1/2 + 1/2 * 1/2.
    task = make("harlow/wang2018", 8000, feature_dim=1, feature_distribution="binary")
    out = rollout(make_baseline("harlow_ideal", task), task, seed=2)
    later = out["correct"][1:].float().mean().item()
    assert later == pytest.approx(0.75, abs=0.015)  # SE about 0.003 (5 correlated trials)


def test_matching_forager_update_and_policy() -> None:
    # tau = 4, lapse = 0: incomes (0, 0) -> choose 0, reward 1 -> I = (1, 0);
    # choose 1, reward 1 -> I = (0.75, 1) -> P(0) = 0.75 / 1.75 = 3/7.
    task = make("foraging/coupled_baiting", 1)
    agent = make_baseline("matching", task, tau=4.0, lapse=0.0)
    task.reset(seed=0)
    agent.begin(task, torch.Generator().manual_seed(0))
    _, out = agent.act(torch.ones(1, 1), {})
    torch.testing.assert_close(out["policy"], torch.tensor([[0.5, 0.5]]))
    agent.observe(torch.tensor([0]), torch.tensor([1.0]), torch.zeros(1), {})
    agent.observe(torch.tensor([1]), torch.tensor([1.0]), torch.zeros(1), {})
    torch.testing.assert_close(agent.income, torch.tensor([[0.75, 1.0]]))
    _, out = agent.act(torch.ones(1, 1), {})
    torch.testing.assert_close(out["policy"], torch.tensor([[3 / 7, 4 / 7]]))


def _matching_deviation(out: dict[str, torch.Tensor]) -> float:
    """Mean over sessions of |fraction of choices of option 0 - fraction of its income|."""
    choices = torch.nn.functional.one_hot(out["action"], 2).float()  # [T, B, 2]
    income = choices * out["reward"][..., None]
    income_frac = income[..., 0].sum(0) / income.sum((0, 2))
    return (choices[..., 0].mean(0) - income_frac).abs().mean().item()


def test_matching_forager_matches_income() -> None:
    # One 500-trial block at 3:1: the matching law says choice fraction = income fraction.
    # Measured (seed 1): matching forager 0.029, a coin (lapse = 1) 0.212.
    task = make("foraging/coupled_baiting", 400, num_trials=500, ratios=(3.0,),
                block_length_range=(500, 500))  # fmt: skip
    matching = _matching_deviation(rollout(make_baseline("matching", task), task, seed=1))
    coin = _matching_deviation(rollout(make_baseline("matching", task, lapse=1.0), task, seed=1))
    assert matching < 0.05
    assert coin > 0.15


def test_q_forager_update_and_it_beats_chance() -> None:
    # alpha = 0.5, forgetting = 0.2 from Q = (0, 0.5): choose 0, reward 1 ->
    # Q0 = 0 + 0.5 * (1 - 0) = 0.5; Q1 = 0.5 * (1 - 0.2) = 0.4; rpe = 1.
    task = make("foraging/coupled_baiting", 2)
    agent = make_baseline("q_forager", task, alpha=0.5, forgetting=0.2)
    task.reset(seed=0)
    agent.begin(task, torch.Generator().manual_seed(0))
    agent.state["q"][:] = [0.0, 0.5]
    out = agent.observe(torch.tensor([0, 0]), torch.tensor([1.0, 1.0]), torch.zeros(2), {})
    np.testing.assert_allclose(agent.state["q"], [[0.5, 0.4], [0.5, 0.4]])
    torch.testing.assert_close(out["rpe"], torch.ones(2))
    task = make("foraging/coupled_baiting", 400, num_trials=500)
    learned = rollout(make_baseline("q_forager", task), task, seed=3)["reward"].mean().item()
    coin = (
        rollout(make_baseline("matching", task, lapse=1.0), task, seed=3)["reward"].mean().item()
    )
    assert learned > coin + 0.005  # measured (seed 3): 0.361 vs 0.350 reward per trial


@pytest.mark.parametrize(
    ("name", "preset"),
    [("harlow_ideal", "bandit/independent"), ("matching", "harlow/wang2018"),
     ("q_forager", "two_step/daw2011"), ("hybrid", "foraging/coupled_baiting")],
    ids=["harlow-on-bandit", "matching-on-harlow", "forager-on-two-step", "hybrid-on-foraging"],
)  # fmt: skip
def test_wrong_task_is_rejected(name: str, preset: str) -> None:
    with pytest.raises(ValueError, match="plays"):
        make_baseline(name, make(preset, 2))
