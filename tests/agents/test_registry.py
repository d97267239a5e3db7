"""make_agent: baselines, episodic control and trained runs by one name."""

from __future__ import annotations

import pytest
import torch

from neurometa.agents import make_agent
from neurometa.agents.base import FrozenAgent
from neurometa.agents.episodic import EPISODIC_CONTROL_PRESETS, EpisodicControlAgent
from neurometa.learn import EvalConfig, NetworkConfig, OptimConfig, TaskConfig, TrainConfig, train
from neurometa.tasks import make


def test_a_baseline_is_built_for_its_task():
    agent = make_agent("thompson", make("bandit/independent", 3))
    assert agent.name == "thompson"
    with pytest.raises(ValueError, match="plays bandit tasks"):
        make_agent("thompson", make("two_step/daw2011", 3))


def test_episodic_control_gets_an_empty_memory_seeded_by_seed():
    task = make("gridworld/5x5", 2)
    agent = make_agent("nec", task, seed=4, n_step=3)
    assert isinstance(agent, EpisodicControlAgent)
    assert agent.config == EPISODIC_CONTROL_PRESETS["nec"].replace(n_step=3)
    assert int(agent.memory.size.sum()) == 0
    again = make_agent("nec", task, seed=4, n_step=3)
    other = make_agent("nec", task, seed=5, n_step=3)
    first = [p.clone() for p in agent.embedding.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(first, again.embedding.parameters(), strict=True))
    assert not torch.equal(first[0], next(other.embedding.parameters()))


def test_a_run_folder_loads_the_frozen_agent(tmp_path):
    config = TrainConfig(
        task=TaskConfig(overrides={"num_trials": 4}),
        network=NetworkConfig(num_units=4),
        optim=OptimConfig(num_updates=1, batch_size=2),
        eval=EvalConfig(episodes=2),
    )
    run = train(config, tmp_path / "run", seed=0, progress=False)
    agent = make_agent(run, greedy=False)
    assert isinstance(agent, FrozenAgent)
    assert not agent.greedy
    assert agent.make_task(3).num_envs == 3
    with pytest.raises(ValueError, match="no config fields"):
        make_agent(run, epsilon=0.1)


@pytest.mark.parametrize(
    ("name", "kwargs", "error", "match"),
    [
        ("thompsen", {}, KeyError, "did you mean 'thompson'"),
        ("ucb1", {}, ValueError, "pass task="),
        ("mfec", {"greedy": True}, ValueError, "greedy applies to trained runs"),
    ],
    ids=["misspelt", "no_task", "greedy_for_a_baseline"],
)
def test_bad_requests_are_named(name, kwargs, error, match):
    task = make("bandit/independent", 2) if name != "ucb1" else None
    with pytest.raises(error, match=match):
        make_agent(name, task, **kwargs)
