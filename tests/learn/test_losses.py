"""The A2C loss terms against slow, obviously correct loops and hand-derived values."""

from __future__ import annotations

import math

import pytest
import torch

from neurometa.learn import losses

T, B, A = 7, 3, 4


def test_policy_gradient_loss_matches_loop_and_gradient():
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(T, B, A, generator=g, dtype=torch.float64, requires_grad=True)
    actions = torch.randint(0, A, (T, B), generator=g)
    adv = torch.randn(T, B, generator=g, dtype=torch.float64, requires_grad=True)
    loss = losses.policy_gradient_loss(logits, actions, adv)
    want = 0.0
    for t in range(T):
        for b in range(B):
            z = logits[t, b].detach()
            logp = float(z[actions[t, b]] - torch.logsumexp(z, 0))
            want -= logp * float(adv[t, b].detach()) / (T * B)
    assert loss.item() == pytest.approx(want, abs=1e-12)
    loss.backward()
    assert adv.grad is None  # the advantage is a fixed weight
    # d/dz of −log π(a)·A/(TB) = −A (onehot(a) − π)/(TB)
    probs = torch.softmax(logits.detach(), -1)
    onehot = torch.nn.functional.one_hot(actions, A).double()
    torch.testing.assert_close(logits.grad, -adv.detach()[..., None] * (onehot - probs) / (T * B))


def test_policy_gradient_loss_hand_value():
    # uniform policy over 2 actions, advantage 2: L = −log(½)·2 = 2 log 2
    loss = losses.policy_gradient_loss(
        torch.zeros(1, 1, 2), torch.zeros(1, 1, dtype=torch.long), torch.full((1, 1), 2.0)
    )
    assert loss.item() == pytest.approx(2 * math.log(2), rel=1e-6)


def test_value_loss_hand_value_and_stop_gradient():
    values = torch.tensor([[1.0, 2.0]], requires_grad=True)
    returns = torch.tensor([[3.0, 2.0]], requires_grad=True)
    loss = losses.value_loss(values, returns)
    assert loss.item() == pytest.approx(0.5 * (4.0 + 0.0) / 2)  # ½ mean((G−V)²)
    loss.backward()
    assert returns.grad is None
    torch.testing.assert_close(values.grad, torch.tensor([[-1.0, 0.0]]))


@pytest.mark.parametrize("num_actions", [2, 3, 5], ids=["A2", "A3", "A5"])
def test_entropy_uniform_and_loop(num_actions):
    assert losses.entropy(torch.zeros(num_actions)).item() == pytest.approx(math.log(num_actions))
    g = torch.Generator().manual_seed(5)
    logits = torch.randn(T, B, num_actions, generator=g, dtype=torch.float64)
    p = torch.softmax(logits, -1)
    want = -sum(
        float(p[t, b, a] * torch.log(p[t, b, a]))
        for t in range(T)
        for b in range(B)
        for a in range(num_actions)
    ) / (T * B)
    assert losses.entropy_loss(logits).item() == pytest.approx(-want, abs=1e-12)


def test_entropy_is_finite_for_extreme_logits():
    logits = torch.tensor([[[1e4, -1e4]]], dtype=torch.float32)
    assert torch.isfinite(losses.entropy_loss(logits))
