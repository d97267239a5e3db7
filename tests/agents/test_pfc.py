"""PFCNetwork: shapes, equality with torch's LSTM, seeded construction."""

from __future__ import annotations

import pytest
import torch

from neurometa.agents.pfc import PFCNetwork


def _net(seed: int = 0, d: int = 5, a: int = 3, u: int = 8) -> PFCNetwork:
    net = PFCNetwork(d, a, u)
    net.reset_parameters(torch.Generator().manual_seed(seed))
    return net


def test_forward_shapes_and_activity():
    net = _net()
    state = net.initial_state(4)
    logits, value, (h, c), activity = net(torch.randn(4, 5), state)
    assert logits.shape == (4, 3)
    assert value.shape == (4,)
    assert h.shape == c.shape == (4, 8)
    assert activity["h"] is h
    assert activity["c"] is c


def test_unrolled_cell_equals_torch_lstm_and_linear_heads():
    # ground truth: nn.LSTM over the whole sequence with the same weights, then the head
    net = _net(1)
    lstm = torch.nn.LSTM(5, 8)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(lstm, f"{name}_l0").data.copy_(getattr(net.core, name).data)
    with torch.no_grad():
        net.h0.normal_(generator=torch.Generator().manual_seed(2))
        net.c0.normal_(generator=torch.Generator().manual_seed(3))
    xs = torch.randn(6, 2, 5, generator=torch.Generator().manual_seed(4))
    state = net.initial_state(2)
    outs = []
    for x in xs:
        logits, value, state, _ = net(x, state)
        outs.append(torch.cat([logits, value[:, None]], 1))
    h0 = net.h0.expand(1, 2, 8).contiguous()
    c0 = net.c0.expand(1, 2, 8).contiguous()
    hs, _ = lstm(xs, (h0, c0))
    want = hs @ net.head.weight.T + net.head.bias
    torch.testing.assert_close(torch.stack(outs), want, rtol=1e-5, atol=1e-6)


def test_learned_initial_state_receives_gradients():
    net = _net()
    logits, value, _, _ = net(torch.randn(3, 5), net.initial_state(3))
    (logits.sum() + value.sum()).backward()
    assert net.h0.grad is not None
    assert net.h0.grad.abs().sum() > 0
    assert net.c0.grad is not None
    assert net.c0.grad.abs().sum() > 0


def test_reset_parameters_is_seeded_and_sets_forget_bias():
    a, b, c = _net(0), _net(0), _net(1)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=False):
        assert torch.equal(pa, pb), name
    assert not torch.equal(a.core.weight_hh, c.core.weight_hh)
    u = a.num_units
    torch.testing.assert_close(a.core.bias_hh[u : 2 * u], torch.ones(u))
    assert a.head.weight.abs().max() <= u**-0.5
    assert torch.equal(a.head.bias, torch.zeros(a.num_actions + 1))


@pytest.mark.parametrize("bad", [0, -1, 2.5], ids=["zero", "negative", "float"])
def test_bad_sizes_are_errors(bad):
    with pytest.raises(ValueError, match="num_units"):
        PFCNetwork(3, 2, bad)


def test_construction_never_touches_the_global_rng():
    before = torch.random.get_rng_state()
    a = PFCNetwork(5, 3, 8, generator=torch.Generator().manual_seed(9))
    assert torch.equal(torch.random.get_rng_state(), before)
    b = PFCNetwork(5, 3, 8, generator=torch.Generator().manual_seed(9))
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))
