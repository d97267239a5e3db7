"""Episodic valuation agents (Box 2, MFEC, NEC): targets, store updates and learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurometa.agents.base import Agent
from neurometa.agents.episodic.control import (
    EPISODIC_CONTROL_PRESETS,
    EpisodicControlAgent,
    EpisodicControlConfig,
)
from neurometa.agents.episodic.replay import ReplayBuffer
from neurometa.config import ConfigError
from neurometa.record import record, validate_recording
from neurometa.seeding import RunSeeds, torch_generator
from neurometa.tasks.gridworld import GridworldConfig, GridworldTask


def _loop_returns(rewards, discount, n, bootstrap):
    """G_t = Σ_{j<h} γ^j r_{t+j} + [t + n < T] γ^n V_{t+n}, h = min(n, T − t); n None: T."""
    steps, batch = rewards.shape
    out = torch.zeros(steps, batch)
    for t in range(steps):
        horizon = steps - t if n is None else min(n, steps - t)
        for j in range(horizon):
            out[t] += discount**j * rewards[t + j]
        if bootstrap is not None and n and t + n < steps:
            out[t] += discount**n * bootstrap[t + n]
    return out


def _agent(method: str, **changes) -> tuple[EpisodicControlAgent, GridworldTask]:
    task = GridworldTask(GridworldConfig(size=3, num_steps=8), 2)
    config = EPISODIC_CONTROL_PRESETS[method].replace(**changes)
    agent = EpisodicControlAgent(
        config, task.obs_dim, task.num_actions, generator=RunSeeds(0).torch("memory")
    )
    return agent, task


@pytest.mark.parametrize(
    ("method", "n"),
    [("mfec", None), ("box2", 3), ("nec", 3), ("nec", 20)],
    ids=["mfec_monte_carlo", "box2_n3", "nec_n3_bootstrap", "nec_n_beyond_episode"],
)
def test_targets_match_loop(method: str, n: int | None) -> None:
    agent, _ = _agent(method, n_step=n, discount=0.8)
    gen = torch_generator(0)
    agent._rewards, agent._values = torch.randn(9, 4, generator=gen), torch.randn(9, 4)
    bootstrap = agent._values if method == "nec" else None
    want = _loop_returns(agent._rewards, 0.8, n, bootstrap)
    torch.testing.assert_close(agent.returns(), want)


def test_targets_hand_value() -> None:
    # rewards 1, 0, 2 with γ = 0.5: G_0 = 1 + 0.5·0 + 0.25·2 = 1.5, G_1 = 0 + 0.5·2 = 1, G_2 = 2
    agent, _ = _agent("mfec", discount=0.5)
    agent._rewards = torch.tensor([[1.0], [0.0], [2.0]])
    assert agent.returns()[:, 0].tolist() == [1.5, 1.0, 2.0]
    # 1-step with bootstrap V = 10 everywhere: G_0 = 1 + 0.5·10 = 6, G_1 = 5, G_2 = 2 (last step)
    agent, _ = _agent("nec", discount=0.5, n_step=1)
    agent._rewards, agent._values = torch.tensor([[1.0], [0.0], [2.0]]), torch.full((3, 1), 10.0)
    assert agent.returns()[:, 0].tolist() == [6.0, 5.0, 2.0]


def test_mfec_keeps_the_best_return_of_a_state() -> None:
    agent, task = _agent("mfec")
    state = torch.zeros(1, task.obs_dim)
    state[0, 4] = 1.0
    key = agent.embedding(state)
    for ret in (1.0, 3.0, 2.0):
        agent._write_padded(key, torch.tensor([2]), torch.tensor([ret]), reduce="amax")
    assert int(agent.memory.size[2]) == 1
    other = torch.zeros(1, task.obs_dim)
    other[0, 0] = 1.0
    agent._write_padded(agent.embedding(other), torch.tensor([2]), torch.tensor([-5.0]), "amax")
    q = agent.q_values(torch.cat([state, state]))
    assert float(q[0, 2]) == 3.0  # exact match: the stored maximum, not the k-NN average
    assert float(q[0, 0]) == 0.0  # empty store reads zero


def test_box2_value_is_similarity_weighted_sum() -> None:
    agent, task = _agent("box2", num_neighbours=3)
    gen = torch_generator(1)
    states = torch.rand(5, task.obs_dim, generator=gen)
    returns = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    agent._write_padded(states, torch.zeros(5, dtype=torch.long), returns, reduce=None)
    query = torch.rand(2, task.obs_dim, generator=gen)
    d2 = ((query[:, None] - states[None]) ** 2).sum(-1)
    near = d2.topk(3, largest=False)
    kernel = 1.0 / (near.values + 1e-3)
    expected = (kernel * returns[near.indices]).sum(1) / kernel.sum(1)
    torch.testing.assert_close(agent.q_values(query)[:, 0], expected)


def test_act_outputs_follow_agent_contract() -> None:
    agent, task = _agent("mfec", epsilon=0.2)
    assert isinstance(agent, Agent)
    obs, info = task.reset(seed=0)
    agent.begin(task, torch_generator(2))
    action, out = agent.act(obs, info)
    assert action.shape == (2,)
    assert action.dtype == torch.long
    torch.testing.assert_close(out["policy"].sum(1), torch.ones(2))
    assert float(out["policy"].min()) == pytest.approx(0.05)
    assert out["q_values"].shape == (2, 4)


def test_nec_gradient_step_moves_embedding_and_store() -> None:
    agent, task = _agent("nec", updates_per_episode=1, batch_size=4)
    obs, info = task.reset(seed=0)
    agent.begin(task, torch_generator(3))
    before = [p.detach().clone() for p in agent.embedding.parameters()]
    for _ in range(task.episode_length):
        action, _ = agent.act(obs, info)
        obs, _, terminated, _, info = task.step(action)
        agent.observe(action, torch.ones(2), terminated, info)  # reward 1 every step
    assert int(agent.memory.size.sum()) > 0
    moved = [
        not torch.equal(a, b.detach())
        for a, b in zip(before, agent.embedding.parameters(), strict=True)
    ]
    assert all(moved)
    assert agent.memory.keys.grad is not None
    assert float(agent.memory.keys.grad.abs().sum()) > 0


def test_replay_buffer_ring_and_sampling() -> None:
    buf = ReplayBuffer(4, 2, torch.device("cpu"))
    buf.add(torch.arange(12.0).view(6, 2), torch.arange(6), torch.arange(6.0))
    assert sorted(buf.targets.tolist()) == [2.0, 3.0, 4.0, 5.0]
    _, actions, targets = buf.sample(50, torch_generator(0))
    assert bool((actions.float() == targets).all())
    assert set(targets.tolist()) <= {2.0, 3.0, 4.0, 5.0}


@pytest.mark.parametrize(
    ("changes", "match"),
    [({"method": "dqn"}, "method"), ({"epsilon": 1.5}, "epsilon"),
     ({"num_neighbours": 20, "capacity": 10}, "num_neighbours"),
     ({"n_step": 0}, "None gives Monte-Carlo")],
    ids=["method", "epsilon", "k_over_capacity", "n_step_zero"],
)  # fmt: skip
def test_bad_config_is_named(changes: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        EpisodicControlConfig.from_dict(changes)


def test_task_mismatch_is_named() -> None:
    agent, _ = _agent("mfec")
    with pytest.raises(ValueError, match="obs_dim"):
        agent.begin(GridworldTask(GridworldConfig(size=4), 1), torch_generator(0))


def test_recording_carries_q_values() -> None:
    agent, task = _agent("mfec")
    ds = record(agent, task, 4, seed=0, progress=False)
    validate_recording(ds)
    assert ds["q_values"].dims == ("episode", "step", "action_id")
    np.testing.assert_allclose(ds["value"].values, ds["q_values"].max("action_id").values)
