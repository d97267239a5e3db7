"""Losses against slow, obviously correct loops and hand-derived values."""

from __future__ import annotations

import math

import pytest
import torch

from neurometa.learn import losses

T, B, A = 7, 3, 4


def _batch(seed: int = 0, terminal: bool = True) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    discounts = 0.5 + 0.5 * torch.rand(T, B, generator=g, dtype=torch.float64)
    if terminal:
        discounts[3, 1] = 0.0  # an episode boundary inside the rollout
    return {
        "rewards": torch.randn(T, B, generator=g, dtype=torch.float64),
        "discounts": discounts,
        "values": torch.randn(T, B, generator=g, dtype=torch.float64),
        "bootstrap_value": torch.randn(B, generator=g, dtype=torch.float64),
    }


def _slow_values(d: dict[str, torch.Tensor], t: int, b: int) -> float:
    """V_t, with V_T the bootstrap value."""
    return float(d["bootstrap_value"][b] if t == T else d["values"][t, b])


def _slow_n_step(d: dict[str, torch.Tensor], t: int, b: int, n: int) -> float:
    """G_{t:t+n} by the explicit sum r_t + γ_t r_{t+1} + ... + (Π γ) V_{t+n}."""
    end = min(t + n, T)
    total, weight = 0.0, 1.0
    for k in range(t, end):
        total += weight * float(d["rewards"][k, b])
        weight *= float(d["discounts"][k, b])
    return total + weight * _slow_values(d, end, b)


def test_td_errors_match_elementwise_definition():
    d = _batch()
    got = losses.td_errors(**d)
    for t in range(T):
        for b in range(B):
            want = (
                float(d["rewards"][t, b])
                + float(d["discounts"][t, b]) * _slow_values(d, t + 1, b)
                - float(d["values"][t, b])
            )
            assert got[t, b].item() == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3, 10], ids=["n1", "n2", "n3", "n10_beyond_T"])
def test_n_step_returns_match_explicit_sum(n):
    d = _batch(1)
    got = losses.n_step_returns(**d, n=n)
    for t in range(T):
        for b in range(B):
            assert got[t, b].item() == pytest.approx(_slow_n_step(d, t, b, n), abs=1e-12)


@pytest.mark.parametrize("lam", [0.0, 0.3, 0.9, 1.0], ids=["lam0", "lam03", "lam09", "lam1"])
def test_lambda_returns_match_forward_view(lam):
    # Forward view (Sutton & Barto eq. 12.9, truncated at T):
    # G^λ_t = (1-λ) Σ_{n=1}^{T-t-1} λ^{n-1} G_{t:t+n} + λ^{T-t-1} G_{t:T}
    d = _batch(2)
    got = losses.lambda_returns(**d, lambda_=lam)
    for t in range(T):
        for b in range(B):
            horizon = T - t
            want = sum(
                (1 - lam) * lam ** (n - 1) * _slow_n_step(d, t, b, n) for n in range(1, horizon)
            )
            want += lam ** (horizon - 1) * _slow_n_step(d, t, b, horizon)
            assert got[t, b].item() == pytest.approx(want, abs=1e-10)


@pytest.mark.parametrize("lam", [0.0, 0.7, 1.0], ids=["lam0", "lam07", "lam1"])
def test_gae_matches_discounted_sum_of_td_errors(lam):
    d = _batch(3)
    deltas = losses.td_errors(**d)
    got = losses.gae_advantages(**d, lambda_=lam)
    for t in range(T):
        for b in range(B):
            want, weight = 0.0, 1.0
            for k in range(t, T):
                want += weight * float(deltas[k, b])
                weight *= lam * float(d["discounts"][k, b])
            assert got[t, b].item() == pytest.approx(want, abs=1e-10)
    lam_ret = losses.lambda_returns(**d, lambda_=lam)
    torch.testing.assert_close(got, lam_ret - d["values"])


def test_returns_hand_derived_two_steps():
    # r = [1, 2], γ = [.5, .5], V = [.1, .2], V_T = .4, λ = .5
    # δ_0 = 1 + .5·.2 − .1 = 1.0 ; δ_1 = 2 + .5·.4 − .2 = 2.0
    # G^λ_1 = 2 + .5·(.5·.4 + .5·.4) = 2.2 ; G^λ_0 = 1 + .5·(.5·.2 + .5·2.2) = 1.6
    # A_1 = 2.0 ; A_0 = 1.0 + .5·.5·2.0 = 1.5 (= G^λ_0 − V_0)
    # 2-step: G_{0:2} = 1 + .5·(2 + .5·.4) = 2.1
    col = lambda *v: torch.tensor(v, dtype=torch.float64).unsqueeze(1)  # noqa: E731
    args = {
        "rewards": col(1.0, 2.0),
        "discounts": col(0.5, 0.5),
        "values": col(0.1, 0.2),
        "bootstrap_value": torch.tensor([0.4], dtype=torch.float64),
    }
    torch.testing.assert_close(losses.td_errors(**args), col(1.0, 2.0))
    torch.testing.assert_close(losses.lambda_returns(**args, lambda_=0.5), col(1.6, 2.2))
    torch.testing.assert_close(losses.gae_advantages(**args, lambda_=0.5), col(1.5, 2.0))
    torch.testing.assert_close(losses.n_step_returns(**args, n=2), col(2.1, 2.2))


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


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"values": torch.zeros(T, B + 1)}, "values has shape"),
        ({"rewards": torch.zeros(T)}, "time-major"),
        ({"bootstrap_value": torch.zeros(B + 1)}, "bootstrap_value"),
    ],
    ids=["mismatched_batch", "not_time_major", "bad_bootstrap"],
)
def test_shape_errors_name_the_argument(kwargs, match):
    d = {k: v.float() for k, v in _batch().items()} | kwargs
    with pytest.raises(ValueError, match=match):
        losses.td_errors(**d)


def test_lambda_out_of_range_is_an_error():
    with pytest.raises(ValueError, match="lambda_"):
        losses.lambda_returns(**_batch(), lambda_=1.5)
