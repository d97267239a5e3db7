"""Episodic LSTM (Ritter et al. 2018): reinstatement equation, memory writes, trainer hooks."""

from __future__ import annotations

import json

import pytest
import torch

from neurometa.agents.episodic.lstm import EpisodicLSTMAgent, EpisodicLSTMNetwork
from neurometa.cli import main
from neurometa.config import ConfigError
from neurometa.learn import NetworkConfig, build_network, get_preset, load_agent, train
from neurometa.learn.checkpoint import load_checkpoint
from neurometa.learn.evaluate import evaluate
from neurometa.learn.rollout import make_task, run_episodes
from neurometa.record import open_recording, record, validate_recording
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
    saved = load_checkpoint(run / "checkpoint.pt")["network"]["_extra_state"]
    assert saved["memory"] is not None  # the checkpoint keeps the run's current store
    agent = load_agent(run, which="last")
    assert isinstance(agent.network, EpisodicLSTMNetwork)
    assert agent.network.memory is None  # a loaded agent starts a new life-time
    wrapped = EpisodicLSTMAgent(agent.network, discount=0.9)
    task = agent.make_task(2)
    obs, info = task.reset(seed=0)
    wrapped.begin(task, torch_generator(0))
    _, out = wrapped.act(obs, info)
    assert set(out) >= {"policy", "value", "h", "c", "gate", "retrieval_weights"}
    assert out["gate"].shape == (2, 48)
    assert out["retrieval_weights"].shape == (2, 10)
    recording = tmp_path / "ep.nc"
    argv = ["record", "--run", str(run), "--episodes", "4", "--out", str(recording),
            "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    with open_recording(recording) as ds:
        validate_recording(ds)
        # a new life-time: nothing stored yet, so the first batch reads nothing
        assert float(ds["retrieval_weights"].sum()) == 0.0
        assert ds["gate"].sizes["episode"] == 4


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


def _filled_network(seed: int) -> tuple[EpisodicLSTMNetwork, object, torch.Generator]:
    config = get_preset("ritter2018/episodic")
    task = make_task(config.task, 3)
    net = build_network(config.network, task.obs_dim, task.num_actions, torch_generator(0))
    gen = torch_generator(seed)
    run_episodes(net, task, gen, seed=seed)
    run_episodes(net, task, gen)
    return net, task, gen


def test_state_dict_carries_memory_and_resumes_identically(tmp_path) -> None:
    net, task, gen = _filled_network(7)
    path = tmp_path / "net.pt"
    torch.save(net.state_dict(), path)
    twin, _, _ = _filled_network(8)  # other weights' memory, to be overwritten
    twin.load_state_dict(torch.load(path, weights_only=True))
    assert twin.memory.size.tolist() == net.memory.size.tolist() == [1, 1, 1]
    torch.testing.assert_close(twin._pending[1], net._pending[1])
    for name in ("keys", "values", "valid", "written_at", "last_used"):
        torch.testing.assert_close(getattr(twin.memory, name), getattr(net.memory, name))
    state = (task.generator.get_state(), gen.get_state())
    want = run_episodes(net, task, gen)  # the same next episode from both networks
    task.generator.set_state(state[0])
    gen.set_state(state[1])
    got = run_episodes(twin, task, gen)
    torch.testing.assert_close(got.logits, want.logits)
    assert twin.memory.size.tolist() == [2, 2, 2]


def test_evaluation_leaves_the_training_store_as_it_was() -> None:
    # the trainer evaluates the network it trains: the seeded test episodes run in their own
    # life-time and the training store (and the episode after) must be unchanged by them
    net, task, gen = _filled_network(7)
    twin, _, _ = _filled_network(7)
    result = evaluate(net, get_preset("ritter2018/episodic").task, episodes=5, seed=11)
    assert result["episodes"] == 5.0
    assert net.training  # evaluate restores the mode too
    for name in ("keys", "values", "valid", "written_at", "last_used"):
        torch.testing.assert_close(getattr(net.memory, name), getattr(twin.memory, name))
    torch.testing.assert_close(net._pending[1], twin._pending[1])
    state = (task.generator.get_state(), gen.get_state())
    want = run_episodes(twin, task, gen)
    task.generator.set_state(state[0])
    gen.set_state(state[1])
    torch.testing.assert_close(run_episodes(net, task, gen).logits, want.logits)


def test_evaluation_with_lifetime_plays_whole_lifetimes() -> None:
    # eval over life-times of 4 episodes: 8 episodes = 2 members x 4 consecutive episodes, the
    # first of each life-time seeded (empty store), the others recalling from it
    config = get_preset("ritter2018/episodic")
    task_config = config.task.replace(lifetime=4)
    net, _, _ = _filled_network(3)
    got = evaluate(net, task_config, episodes=8, seed=21)
    task = make_task(task_config, 2)
    sampler = torch_generator(22)
    net.reset_memory()
    regrets = [
        run_episodes(net, task, sampler, greedy=True, seed=21 if k == 0 else None).regrets.sum(0)
        for k in range(4)
    ]
    want = torch.cat(regrets).double()
    assert got["episodes"] == 8.0
    assert got["regret"] == pytest.approx(float(want.mean()), abs=1e-9)
    assert net.memory.size.tolist() == [3, 3]  # the manual replay's store: the same 2 members
    # one episode per member from an empty store (lifetime 0) scores only first encounters
    first_only = evaluate(net, config.task.replace(lifetime=0), episodes=8, seed=21)
    assert first_only["regret"] != pytest.approx(got["regret"])


def test_weights_saved_without_memory_still_load() -> None:
    net, _, _ = _filled_network(9)
    weights = {k: v for k, v in net.state_dict().items() if k != "_extra_state"}
    net.load_state_dict(weights)  # an older checkpoint: weights only
    assert net.memory is None


def test_interrupted_episodic_run_resumes_to_identical_weights(tmp_path, monkeypatch) -> None:
    # bandit/independent keeps no task state beyond its generator, so the run resumes
    # exactly only if the checkpoint also restores the store (dropping it breaks this)
    from neurometa.learn import Trainer

    config = get_preset("bandit/independent")
    config = config.replace(
        network=NetworkConfig(kind="episodic_lstm", num_units=8, options={"context_dim": 3}),
        optim=config.optim.replace(num_updates=6, batch_size=4),
        eval=config.eval.replace(interval=0, episodes=8),
        checkpoint_interval=2,
        log_interval=2,
        workers=1,  # in-process, so the interruption below can be injected
    )
    full = train(config, tmp_path / "full", seed=3, progress=False)
    real_step, calls = Trainer.step, {"n": 0}

    def interrupt_at_update_4(trainer):  # noqa: ANN001, ANN202
        calls["n"] += 1
        if calls["n"] == 4:  # the checkpoint holds update 2 and a store of 1 episode each
            raise KeyboardInterrupt
        return real_step(trainer)

    monkeypatch.setattr(Trainer, "step", interrupt_at_update_4)
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "cut", seed=3, progress=False)
    saved = load_checkpoint(tmp_path / "cut" / "checkpoint.pt")["network"]["_extra_state"]
    assert saved["memory"]["valid"].sum(1).tolist() == [1, 1, 1, 1]
    monkeypatch.setattr(Trainer, "step", real_step)
    cut = train(config, tmp_path / "cut", seed=3, resume=True, progress=False)
    want = load_checkpoint(full / "checkpoint.pt")["network"]
    got = load_checkpoint(cut / "checkpoint.pt")["network"]
    for name in want:
        if name != "_extra_state":
            assert torch.equal(want[name], got[name]), name
