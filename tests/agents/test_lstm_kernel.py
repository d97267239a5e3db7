"""The fast LSTM step and the hand-written BPTT equal nn.LSTMCell and autograd."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from neurometa.agents.lstm_kernel import LSTMTape, gate_scale, lstm_sequence, lstm_step
from neurometa.agents.pfc import PFCNetwork
from neurometa.learn.a2c import a2c_loss
from neurometa.learn.config import OptimConfig, TaskConfig
from neurometa.learn.rollout import make_task, run_episodes

T, B, D, U = 7, 5, 4, 6


Inputs = tuple[nn.LSTMCell, torch.Tensor, torch.Tensor, torch.Tensor]


def _cell_and_inputs(seed: int = 0) -> Inputs:
    gen = torch.Generator().manual_seed(seed)
    cell = nn.LSTMCell(D, U).double()
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.double))
    x = torch.randn(T, B, D, generator=gen, dtype=torch.double)
    h0 = torch.randn(U, generator=gen, dtype=torch.double).requires_grad_()
    c0 = torch.randn(U, generator=gen, dtype=torch.double).requires_grad_()
    return cell, x, h0, c0


def _taped(cell: nn.LSTMCell, x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor):
    tape = LSTMTape(T, B, D, U)
    params = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    tape.start(*params, h0, c0)
    for t in range(T):
        tape.step(x[t])
    return tape, lstm_sequence(tape, *params, h0.expand(B, U), c0.expand(B, U))


def test_step_equals_lstm_cell() -> None:
    cell, x, h0, c0 = _cell_and_inputs()
    h, c = h0.expand(B, U), c0.expand(B, U)
    want_h, want_c = cell(x[0], (h, c))
    bias = cell.bias_ih + cell.bias_hh
    got_h, got_c = lstm_step(
        x[0], h, c, cell.weight_ih, cell.weight_hh, bias, gate_scale(U).double()
    )
    torch.testing.assert_close(got_h, want_h, rtol=0, atol=1e-12)
    torch.testing.assert_close(got_c, want_c, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2], ids=["seed0", "seed1", "seed2"])
def test_bptt_equals_autograd_through_lstm_cell(seed: int) -> None:
    cell, x, h0, c0 = _cell_and_inputs(seed)
    weights = torch.randn(T, B, U, generator=torch.Generator().manual_seed(99), dtype=x.dtype)
    h, c, hs = h0.expand(B, U), c0.expand(B, U), []
    for t in range(T):
        h, c = cell(x[t], (h, c))
        hs.append(h)
    inputs = [*cell.parameters(), h0, c0]
    want = torch.autograd.grad((torch.stack(hs) * weights).sum(), inputs)
    _, h_seq = _taped(cell, x, h0, c0)
    torch.testing.assert_close(h_seq, torch.stack(hs), rtol=0, atol=1e-12)
    got = torch.autograd.grad((h_seq * weights).sum(), inputs)
    for name, g, w in zip(["w_ih", "w_hh", "b_ih", "b_hh", "h0", "c0"], got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-10, msg=name)


def test_hand_derived_single_step_gradient() -> None:
    """T = 1, U = 1, D = 1, zero weights: dh/db_o = tanh(c)·σ'(0) with c = σ(0)·tanh(b_g)."""
    tape = LSTMTape(1, 1, 1, 1)
    w_ih, w_hh = torch.zeros(4, 1, requires_grad=True), torch.zeros(4, 1, requires_grad=True)
    b_ih = torch.tensor([0.0, 0.0, 0.5, 0.0], requires_grad=True)
    b_hh = torch.zeros(4, requires_grad=True)
    zero = torch.zeros(1)
    tape.start(w_ih, w_hh, b_ih, b_hh, zero, zero)
    tape.step(torch.ones(1, 1))
    h = lstm_sequence(tape, w_ih, w_hh, b_ih, b_hh, zero.expand(1, 1), zero.expand(1, 1))
    h.sum().backward()
    c = 0.5 * torch.tanh(torch.tensor(0.5))
    assert float(h.detach()) == pytest.approx(0.5 * float(torch.tanh(c)), abs=1e-6)
    assert float(b_ih.grad[3]) == pytest.approx(float(torch.tanh(c)) * 0.25, abs=1e-6)


def test_reusing_a_tape_before_backward_is_an_error() -> None:
    cell, x, h0, c0 = _cell_and_inputs()
    tape, h_seq = _taped(cell, x, h0, c0)
    tape.start(cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh, h0, c0)
    with pytest.raises(RuntimeError, match="reused by a new rollout"):
        h_seq.sum().backward()


def test_unfinished_tape_is_an_error() -> None:
    cell, x, h0, c0 = _cell_and_inputs()
    tape = LSTMTape(T, B, D, U)
    params = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    tape.start(*params, h0, c0)
    tape.step(x[0])
    with pytest.raises(RuntimeError, match="ran 1 of its 7 steps"):
        lstm_sequence(tape, *params, h0.expand(B, U), c0.expand(B, U))


def _autograd_rollout_loss(network: PFCNetwork, actions: torch.Tensor, task) -> torch.Tensor:  # noqa: ANN001
    """The same episodes stepped through ``forward`` with autograd (the reference path)."""
    obs, _ = task.reset(seed=3)
    state, logits_t, values_t = network.initial_state(task.num_envs), [], []
    for t in range(task.episode_length):
        logits, value, state, _ = network(obs, state)
        logits_t.append(logits)
        values_t.append(value)
        obs, *_ = task.step(actions[t])
    return torch.stack(logits_t), torch.stack(values_t)


def test_taped_training_rollout_gives_autograd_gradients() -> None:
    task = make_task(TaskConfig(preset="bandit/independent", overrides={"num_trials": 12}), 16)
    network = PFCNetwork(task.obs_dim, task.num_actions, 8, generator=torch.Generator())
    config = OptimConfig(value_cost=0.3, entropy_cost=0.05)
    rollout = run_episodes(network, task, torch.Generator().manual_seed(0), seed=3)
    loss, _ = a2c_loss(rollout, config, 0.05)
    taped = torch.autograd.grad(loss, list(network.parameters()))
    logits, values = _autograd_rollout_loss(network, rollout.actions, task)
    torch.testing.assert_close(logits, rollout.logits, rtol=0, atol=1e-5)
    torch.testing.assert_close(values, rollout.values, rtol=0, atol=1e-5)
    ref = rollout.__class__(**{**rollout.__dict__, "logits": logits, "values": values})
    want = torch.autograd.grad(a2c_loss(ref, config, 0.05)[0], list(network.parameters()))
    for g, w in zip(taped, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-6)
