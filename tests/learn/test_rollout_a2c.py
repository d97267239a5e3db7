"""Rollouts, the A2C objective and its schedules."""

from __future__ import annotations

import math

import pytest
import torch

from neurometa.agents.base import EpisodicNetwork, TapedNetwork
from neurometa.agents.pfc import PFCNetwork
from neurometa.config import ConfigError, replace_path
from neurometa.learn import losses
from neurometa.learn.a2c import a2c_loss, entropy_cost_at, learning_rate_at
from neurometa.learn.config import OptimConfig, TaskConfig
from neurometa.learn.rollout import Rollout, make_task, run_episodes
from neurometa.returns import gae_advantages


def _setup(num_envs: int = 6, trials: int = 5, bias: tuple[float, float] = (0.0, 0.0)):
    task = make_task(TaskConfig(overrides={"num_trials": trials}), num_envs)
    net = PFCNetwork(task.obs_dim, task.num_actions, 4)
    net.reset_parameters(torch.Generator().manual_seed(0))
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.copy_(torch.tensor([*bias, 0.0]))
    return task, net


def test_greedy_rollout_matches_task_ground_truth():
    task, net = _setup(bias=(0.0, 3.0))  # always prefers arm 1
    r = run_episodes(net, task, torch.Generator(), greedy=True, seed=11)
    assert r.logits.shape == (5, 6, 2)
    assert r.values.shape == (5, 6)
    assert (r.actions == 1).all()
    assert r.terminals[-1].all()
    assert not r.terminals[:-1].any()
    inner = task.task  # the bandit draws every outcome at reset
    torch.testing.assert_close(r.rewards, inner._outcomes[:, :, 1])
    p = inner._arm_probs
    torch.testing.assert_close(r.regrets, (p.max(1).values - p[:, 1]).expand(5, 6))
    assert torch.equal(r.bootstrap_value, torch.zeros(6))


def test_sampled_rollout_is_seeded_and_follows_the_policy():
    task, net = _setup(num_envs=4000, trials=1, bias=(0.0, math.log(3.0)))  # π(1) = 3/4
    a = run_episodes(net, task, torch.Generator().manual_seed(1), seed=0).actions
    b = run_episodes(net, task, torch.Generator().manual_seed(1), seed=0).actions
    assert torch.equal(a, b)
    assert a.float().mean().item() == pytest.approx(0.75, abs=0.03)  # SE .007


def test_rollout_is_differentiable():
    task, net = _setup()
    r = run_episodes(net, task, torch.Generator().manual_seed(0))
    (r.logits.sum() + r.values.sum()).backward()
    assert net.core.weight_hh.grad is not None


def test_a2c_loss_is_the_weighted_sum_of_its_parts():
    task, net = _setup()
    r = run_episodes(net, task, torch.Generator().manual_seed(0))
    cfg = OptimConfig(
        discount=0.9, gae_lambda=0.8, value_cost=0.3, reward_shift=0.5, reward_scale=2.0
    )
    loss, parts = a2c_loss(r, cfg, entropy_cost=0.1)
    rewards = (r.rewards - 0.5) * 2.0
    disc = 0.9 * (~r.terminals).float()
    v = r.values.detach()
    adv = gae_advantages(rewards, disc, v, r.bootstrap_value, 0.8)
    want = (
        losses.policy_gradient_loss(r.logits, r.actions, adv)
        + 0.3 * losses.value_loss(r.values, adv + v)
        + 0.1 * losses.entropy_loss(r.logits)
    )
    torch.testing.assert_close(loss, want)
    assert parts["entropy"].item() == pytest.approx(math.log(2), abs=1e-6)  # zero head


@pytest.mark.parametrize(
    ("schedule", "update", "want"),
    [
        ("constant", 50, 1e-3),
        ("linear", 0, 1e-3),
        ("linear", 50, 0.5e-3 + 0.5 * 1e-4),
        ("cosine", 0, 1e-3),
        ("cosine", 50, 1e-4 + 0.9e-3 * 0.5),
        ("cosine", 100, 1e-4),
    ],
    ids=["constant", "linear_start", "linear_mid", "cosine_start", "cosine_mid", "cosine_end"],
)
def test_learning_rate_schedules(schedule, update, want):
    cfg = OptimConfig(num_updates=100, learning_rate=1e-3, lr_final=1e-4, lr_schedule=schedule)
    assert learning_rate_at(cfg, update) == pytest.approx(want)


def test_entropy_anneal():
    cfg = OptimConfig(
        num_updates=100, entropy_cost=0.05, entropy_final=0.0, entropy_anneal_fraction=0.5
    )
    assert entropy_cost_at(cfg, 0) == pytest.approx(0.05)
    assert entropy_cost_at(cfg, 25) == pytest.approx(0.025)
    assert entropy_cost_at(cfg, 50) == 0.0
    assert entropy_cost_at(cfg, 99) == 0.0


def test_a2c_loss_gives_the_true_policy_gradient():
    # one-trial bandits with p0 ~ U(0, .5), p1 ~ U(0, 1) and π(1) = σ(θ): the gradient of the
    # expected reward is dE/dθ = π0 π1 (E p1 − E p0) = π0 π1 / 4
    gen = torch.Generator().manual_seed(0)
    batch, theta = 400_000, torch.tensor(0.3, requires_grad=True)
    probs = torch.rand(batch, 2, generator=gen) * torch.tensor([0.5, 1.0])
    pi1 = torch.sigmoid(theta)
    actions = (torch.rand(batch, generator=gen) < pi1.detach()).long()
    chosen = probs.gather(1, actions[:, None]).squeeze(1)
    rollout = Rollout(
        logits=torch.stack([torch.zeros(()), theta]).expand(1, batch, 2),
        values=torch.zeros(1, batch),
        actions=actions[None],
        rewards=(torch.rand(batch, generator=gen) < chosen).float()[None],
        terminals=torch.ones(1, batch, dtype=torch.bool),
        regrets=(probs.max(1).values - chosen)[None],
        bootstrap_value=torch.zeros(batch),
    )
    loss, _ = a2c_loss(rollout, OptimConfig(value_cost=0.0), 0.0)
    (grad,) = torch.autograd.grad(-loss, theta)
    p1 = pi1.item()
    assert grad.item() == pytest.approx(p1 * (1 - p1) / 4, abs=0.006)  # SE <= .0015


class _TapedEpisodic(PFCNetwork):
    """A taped network that also keeps a (pretend) episodic store."""

    resets = 0

    def reset_memory(self) -> None:
        self.resets += 1


class _SteppedEpisodic(torch.nn.Module):
    """The same, stepped with ``forward`` (no tape)."""

    resets = 0

    def __init__(self, inner: PFCNetwork) -> None:
        super().__init__()
        self.inner = inner

    def initial_state(self, batch_size: int):  # noqa: ANN201
        return self.inner.initial_state(batch_size)

    def forward(self, obs, state):  # noqa: ANN001, ANN201
        return self.inner(obs, state)

    def reset_memory(self) -> None:
        self.resets += 1


@pytest.mark.parametrize("taped", [True, False], ids=["taped", "stepped"])
def test_a_seeded_reset_empties_the_store_of_an_episodic_network(taped):
    task, _ = _setup()
    net = _TapedEpisodic(task.obs_dim, task.num_actions, 4)
    if not taped:
        net = _SteppedEpisodic(net)
    assert isinstance(net, EpisodicNetwork)
    assert isinstance(net, TapedNetwork) == taped
    run_episodes(net, task, torch.Generator().manual_seed(0), seed=3)
    assert net.resets == 1
    run_episodes(net, task, torch.Generator().manual_seed(0))  # the life-time continues
    assert net.resets == 1


@pytest.mark.parametrize(
    ("key", "value"),
    [("reward_signal", "relative"), ("signal_blend_start", 0.2), ("signal_blend_gate", 0.5)],
)
def test_the_removed_reward_signal_options_are_named_errors(key, value):
    with pytest.raises(ConfigError, match=f"OptimConfig.{key} = .*removed.*docs/training.md"):
        OptimConfig.from_dict({key: value})
    with pytest.raises(ConfigError, match=f"OptimConfig.{key}: this option was removed"):
        replace_path(OptimConfig(), key, value)


def test_saved_configs_with_the_removed_options_off_still_load():
    saved = OptimConfig().to_dict() | {
        "reward_signal": "sampled",
        "signal_blend_start": 0.0,
        "signal_blend_end": 0.0,
        "signal_blend_gate": None,
    }
    assert OptimConfig.from_dict(saved) == OptimConfig()
