"""The agent contract's shared parts: action choice and the frozen-network agent."""

from __future__ import annotations

import pytest
import torch

from neurometa.agents.base import Agent, FrozenAgent, choose_actions, sample_actions
from neurometa.agents.pfc import PFCNetwork
from neurometa.tasks import MetaRLInputs, make


def _net(seed: int = 0, d: int = 5, a: int = 3, u: int = 8) -> PFCNetwork:
    return PFCNetwork(d, a, u, generator=torch.Generator().manual_seed(seed))


def test_sample_actions_frequencies_match_probabilities():
    probs = torch.tensor([0.1, 0.6, 0.3]).expand(20000, 3)
    actions = sample_actions(probs, torch.Generator().manual_seed(0))
    freq = torch.bincount(actions, minlength=3).double() / 20000
    # binomial SE <= sqrt(.25/20000) = .0035; 5 SE tolerance
    torch.testing.assert_close(freq, torch.tensor([0.1, 0.6, 0.3]).double(), atol=0.018, rtol=0)
    again = sample_actions(probs, torch.Generator().manual_seed(0))
    assert torch.equal(actions, again)


def test_sample_actions_deterministic_rows():
    probs = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    out = sample_actions(probs, torch.Generator().manual_seed(3))
    assert out.tolist() == [1, 2, 0]


def test_choose_actions_greedy_is_the_argmax_and_sampled_is_sample_actions():
    logits = torch.randn(50, 4, generator=torch.Generator().manual_seed(1))
    assert torch.equal(choose_actions(logits, None, greedy=True), logits.argmax(-1))
    drawn = choose_actions(logits, torch.Generator().manual_seed(2), greedy=False)
    want = sample_actions(torch.softmax(logits, -1), torch.Generator().manual_seed(2))
    assert torch.equal(drawn, want)
    with pytest.raises(ValueError, match="generator"):
        choose_actions(logits, None, greedy=False)


def _agent(greedy: bool = True) -> tuple[FrozenAgent, MetaRLInputs]:
    task = MetaRLInputs(make("bandit/independent", 4, num_trials=5))
    net = _net(0, d=task.obs_dim, a=task.num_actions)
    return FrozenAgent(net, discount=0.9, greedy=greedy), task


def test_frozen_agent_follows_protocol_and_is_greedy():
    agent, task = _agent()
    assert isinstance(agent, Agent)
    assert agent.discount == 0.9
    assert all(not p.requires_grad for p in agent.network.parameters())
    obs, info = task.reset(seed=0)
    agent.begin(task, torch.Generator().manual_seed(0))
    action, out = agent.act(obs, info)
    assert set(out) == {"policy", "value", "h", "c"}
    assert torch.equal(action, out["policy"].argmax(-1))
    torch.testing.assert_close(out["policy"].sum(-1), torch.ones(4))
    assert agent.observe(action, torch.zeros(4), torch.zeros(4, dtype=torch.bool), info) == {}


def test_frozen_agent_state_carries_across_steps():
    agent, task = _agent()
    obs, info = task.reset(seed=0)
    agent.begin(task, torch.Generator().manual_seed(0))
    _, first = agent.act(obs, info)
    _, second = agent.act(obs, info)  # same input, different recurrent state
    assert not torch.equal(first["h"], second["h"])


def test_frozen_agent_sampling_uses_the_generator():
    agent, task = _agent(greedy=False)
    runs = []
    for _ in range(2):
        obs, info = task.reset(seed=0)
        agent.begin(task, torch.Generator().manual_seed(5))
        runs.append(agent.act(obs, info)[0])
    assert torch.equal(runs[0], runs[1])


def test_frozen_agent_errors():
    agent, task = _agent()
    with pytest.raises(RuntimeError, match="begin"):
        agent.act(torch.zeros(4, task.obs_dim), {})
    with pytest.raises(ValueError, match="MetaRLInputs"):
        agent.begin(task.task, torch.Generator())
    with pytest.raises(RuntimeError, match="task factory"):
        agent.make_task(2)
