"""Episodic LSTM (Ritter et al. 2018): reinstatement equation, memory writes, trainer hooks."""

from __future__ import annotations

import json

import pytest
import torch

from neurometa.agents.episodic_lstm import EpisodicLSTMAgent, EpisodicLSTMNetwork
from neurometa.config import ConfigError
from neurometa.learn import NetworkConfig, build_network, get_preset, load_agent, train
from neurometa.learn.rollout import make_task, run_episodes
from neurometa.record import record, validate_recording
from neurometa.seeding import torch_generator


def _net(units: int = 6, context_dim: int = 3, input_dim: int = 5) -> EpisodicLSTMNetwork:
    net = EpisodicLSTMNetwork(input_dim, 2, units, context_dim=context_dim, capacity=8,
                              num_neighbours=4)  # fmt: skip
    net.reset_parameters(torch_generator(0))
    return net


def test_first_episode_reads_nothing_and_matches_plain_lstm_equation() -> None:
    net = _net()
    gen = torch_generator(1)
    obs = torch.randn(2, 5, generator=gen)
    h, c = net.initial_state(2)
    logits, value, (h1, c1), act = net(obs, (h, c))
    assert bool((act["retrieval_weights"] == 0).all())  # empty store
    z = net.gates(torch.cat([obs, h], 1))
    i, f, o, r, g = z.chunk(5, 1)
    want_c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # tanh(0) = 0 reinstated
    torch.testing.assert_close(c1, want_c)
    torch.testing.assert_close(h1, torch.sigmoid(o) * torch.tanh(want_c))
    torch.testing.assert_close(act["gate"], torch.sigmoid(r))
    assert logits.shape == (2, 2)
    assert value.shape == (2,)


def test_last_cell_state_is_reinstated_when_context_recurs() -> None:
    net = _net()
    gen = torch_generator(2)
    ctx = torch.tensor([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]])
    state = net.initial_state(2)
    for _ in range(3):  # episode 1
        obs = torch.cat([ctx, torch.randn(2, 2, generator=gen)], 1)
        _, _, state, _ = net(obs, state)
    stored = state[1].detach().clone()
    state = net.initial_state(2)  # episode 2 starts: episode 1's last c is written
    assert net.memory.size.tolist() == [1, 1]
    torch.testing.assert_close(net.memory.keys[:, 0], ctx)
    obs = torch.cat([ctx, torch.randn(2, 2, generator=gen)], 1)
    h, c = state
    _, _, (_, c1), act = net(obs, state)
    assert act["retrieval_weights"][:, 0].tolist() == [1.0, 1.0]
    i, f, _, r, g = net.gates(torch.cat([obs, h], 1)).chunk(5, 1)
    want = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    want = want + torch.sigmoid(r) * torch.tanh(stored)
    torch.testing.assert_close(c1, want)


def test_gradient_reaches_gate_weights_not_memory() -> None:
    net = _net()
    ctx = torch.ones(2, 3)
    state = net.initial_state(2)
    _, _, state, _ = net(torch.cat([ctx, torch.zeros(2, 2)], 1), state)
    state = net.initial_state(2)
    logits, value, _, _ = net(torch.cat([ctx, torch.zeros(2, 2)], 1), state)
    (logits.sum() + value.sum()).backward()
    u = net.num_units
    assert float(net.gates.weight.grad[3 * u : 4 * u].abs().sum()) > 0  # reinstatement gate rows
    assert not net.memory.values.requires_grad


def test_seeded_rollout_resets_memory_but_unseeded_keeps_it() -> None:
    config = get_preset("ritter2018/episodic")
    task = make_task(config.task, 3)
    net = build_network(config.network, task.obs_dim, task.num_actions, torch_generator(0))
    gen = torch_generator(1)
    run_episodes(net, task, gen, seed=4)
    run_episodes(net, task, gen)
    run_episodes(net, task, gen)
    net.initial_state(3)  # flush the last episode
    assert net.memory.size.tolist() == [3, 3, 3]
    run_episodes(net, task, gen, seed=5)
    assert net.memory.size.tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    ("options", "match"),
    [({}, "context_dim"), ({"context_dim": 10, "size": 3}, "unknown option"),
     ({"context_dim": 99}, "context_dim"), ({"context_dim": 10, "capacity": 2.5}, "capacity")],
    ids=["missing_context", "unknown", "too_wide", "float_capacity"],
)  # fmt: skip
def test_builder_rejects_bad_options(options: dict, match: str) -> None:
    config = NetworkConfig(kind="episodic_lstm", options=options)
    with pytest.raises(ConfigError, match=match):
        build_network(config, 14, 2, torch_generator(0))


def test_trainer_trains_and_loads_episodic_agent(tmp_path) -> None:
    config = get_preset("ritter2018/episodic")
    config = config.replace(
        optim=config.optim.replace(num_updates=3, batch_size=4),
        eval=config.eval.replace(interval=2, episodes=8),
        checkpoint_interval=2,
        log_interval=1,
    )
    run = train(config, tmp_path / "run", seed=0, progress=False)
    assert json.loads((run / "config.json").read_text())["network"]["kind"] == "episodic_lstm"
    agent = load_agent(run)
    assert isinstance(agent.network, EpisodicLSTMNetwork)
    wrapped = EpisodicLSTMAgent(agent.network, discount=0.9)
    task = agent.make_task(2)
    obs, info = task.reset(seed=0)
    wrapped.begin(task, torch_generator(0))
    _, out = wrapped.act(obs, info)
    assert set(out) >= {"policy", "value", "h", "c", "gate", "retrieval_weights"}
    assert out["gate"].shape == (2, 48)
    assert out["retrieval_weights"].shape == (2, 10)


def test_recording_carries_memory_readouts() -> None:
    config = get_preset("ritter2018/episodic")
    task = make_task(config.task, 4)
    net = build_network(config.network, task.obs_dim, task.num_actions, torch_generator(0))
    ds = record(EpisodicLSTMAgent(net, discount=0.9), task, 24, seed=0, progress=False)
    validate_recording(ds)
    assert ds["gate"].dims == ("episode", "step", "unit")
    assert ds["retrieval_weights"].dims == ("episode", "step", "neighbour")
    encounter = ds["encounter"].values
    weights = ds["retrieval_weights"].sum("neighbour").values
    # the memory starts empty: nothing is retrieved in the first batch of 4 episodes
    assert (encounter[:4] == 1).all()
    assert (weights[:4] == 0).all()
    # afterwards (preset: null neighbour at cosine 0.9, τ = 0.05) a recurring context reads
    # its stored states with weight >= e^20 / (e^20 + e^18) = 0.88; a novel one reads little
    seen = encounter[4:] > 1
    assert seen.any()
    assert (weights[4:][seen] > 0.85).all()
    assert (weights[4:][~seen] < 0.5).all()
