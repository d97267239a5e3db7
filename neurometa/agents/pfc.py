"""The prefrontal "PFC" network of meta-RL: an LSTM with policy and value heads.

:class:`PFCNetwork` is an LSTM core with a policy head and a value head and a learned
initial state (Wang et al. 2016, "Learning to reinforcement learn"; Wang et al. 2018, Nat
Neurosci 21:860). Its input is the meta-RL observation built by
``neurometa.tasks.MetaRLInputs``: ``[task obs, one_hot(previous action), previous reward,
(trial index)]``. With the weights frozen, the activity dynamics of the LSTM implement the
fast, within-episode learner.

The network contract the trainer relies on (any ``nn.Module`` that follows it can be
trained, e.g. an episodic LSTM):

- ``initial_state(batch_size) -> state`` (any tuple of tensors with leading dim B);
- ``forward(obs, state) -> (logits [B, A], value [B], new_state, activity)`` where
  ``activity`` maps recordable names (``h``, ``c``, memory read-outs) to ``[B, ...]``.

:class:`neurometa.agents.base.FrozenAgent` wraps such a network into the
:class:`~neurometa.agents.base.Agent` protocol for recordings and evaluation.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils import skip_init

from neurometa.agents.lstm_kernel import LSTMTape, gate_scale, lstm_sequence, lstm_step
from neurometa.seeding import torch_generator

__all__ = ["PFCNetwork"]

State = tuple[Tensor, Tensor]


class PFCNetwork(nn.Module):
    """LSTM core with policy and value heads and a learned initial state.

    Parameters
    ----------
    input_dim : int
        Length of the (meta-RL) observation vector ``D``.
    num_actions : int
        Number of discrete actions ``A``.
    num_units : int
        LSTM units ``U`` (48 in Wang et al. 2018; 256 for Harlow).
    generator : torch.Generator, optional
        Source of the initial weights (see :meth:`reset_parameters`); a generator seeded
        with 0 when omitted. Torch's global RNG is never used.

    Notes
    -----
    One step computes the standard LSTM (``torch.nn.LSTMCell``)::

        i, f, g, o = split(W_x x_t + W_h h_{t-1} + b)
        c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g)
        h_t = σ(o) ⊙ tanh(c_t)

    then one linear read-out ``[logits_t, V_t] = W_out h_t + b_out`` (policy logits ``[A]``
    and the state value). ``(h_0, c_0)`` are parameters learned with the rest. The step is
    computed by :func:`neurometa.agents.lstm_kernel.lstm_step` (``nn.LSTMCell``'s function,
    faster on CPUs); training rollouts use :meth:`start_tape` / :meth:`replay`, whose
    hand-written backward pass through time gives autograd's gradients several times faster.
    """

    def __init__(
        self,
        input_dim: int,
        num_actions: int,
        num_units: int = 48,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("input_dim", input_dim), ("num_actions", num_actions)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"PFCNetwork: {name} must be a positive integer, got {value!r}")
        if not isinstance(num_units, int) or num_units < 1:
            raise ValueError(
                f"PFCNetwork: num_units must be a positive integer, got {num_units!r}"
            )
        self.input_dim = input_dim
        self.num_actions = num_actions
        self.num_units = num_units
        # skip_init: no draw from torch's global RNG; reset_parameters draws every weight
        self.core = skip_init(nn.LSTMCell, input_dim, num_units)
        self.head = skip_init(nn.Linear, num_units, num_actions + 1)
        self.h0 = nn.Parameter(torch.zeros(num_units))
        self.c0 = nn.Parameter(torch.zeros(num_units))
        self.register_buffer("_gate_scale", gate_scale(num_units), persistent=False)
        self._tape: LSTMTape | None = None
        self.reset_parameters(generator if generator is not None else torch_generator(0))

    def reset_parameters(self, generator: torch.Generator) -> None:
        """Draw every weight from ``generator`` (PyTorch's default ranges).

        LSTM weights and biases and the read-out weights ~ U(−1/√U, 1/√U) (PyTorch's
        defaults for ``nn.LSTMCell`` and ``nn.Linear``); the forget-gate bias is set to 1; the
        read-out bias and the initial state are zero.
        """
        bound = self.num_units**-0.5
        with torch.no_grad():
            for p in self.core.parameters():
                p.copy_(torch.rand(p.shape, generator=generator) * 2 * bound - bound)
            u = self.num_units
            self.core.bias_hh[u : 2 * u].fill_(1.0)
            self.core.bias_ih[u : 2 * u].fill_(0.0)
            w = self.head.weight
            w.copy_((torch.rand(w.shape, generator=generator) * 2 - 1) * bound)
            self.head.bias.zero_()
            self.h0.zero_()
            self.c0.zero_()

    def initial_state(self, batch_size: int) -> State:
        """The learned ``(h_0, c_0)``, each ``[B, U]`` (expanded views; differentiable)."""
        return (
            self.h0.unsqueeze(0).expand(batch_size, -1),
            self.c0.unsqueeze(0).expand(batch_size, -1),
        )

    def forward(
        self, obs: Tensor, state: State
    ) -> tuple[Tensor, Tensor, State, dict[str, Tensor]]:
        """One step of the network.

        Parameters
        ----------
        obs : Tensor, shape (B, D)
            Meta-RL observation.
        state : tuple of Tensor, each shape (B, U)
            ``(h_{t-1}, c_{t-1})``.

        Returns
        -------
        logits : Tensor, shape (B, A)
        value : Tensor, shape (B,)
        state : tuple of Tensor
            ``(h_t, c_t)``.
        activity : dict
            ``{"h": h_t, "c": c_t}`` for recordings.
        """
        core = self.core
        bias = core.bias_ih + core.bias_hh
        h, c = lstm_step(obs, *state, core.weight_ih, core.weight_hh, bias, self._gate_scale)
        out = self.head(h)
        return out[:, :-1], out[:, -1], (h, c), {"h": h, "c": c}

    def start_tape(self, steps: int, batch_size: int) -> tuple[LSTMTape, Tensor]:
        """Begin a taped rollout of ``steps`` steps (no autograd until :meth:`replay`).

        Returns
        -------
        tape : LSTMTape
            Advance it with :meth:`tape_step`.
        h0 : Tensor, shape (B, U)
        """
        core = self.core
        sizes = (steps, batch_size, self.input_dim, self.num_units)
        tape = self._tape
        if tape is None or not tape.fits(*sizes):
            tape = self._tape = LSTMTape(*sizes)  # buffers reused by later rollouts
        h0 = tape.start(
            core.weight_ih, core.weight_hh, core.bias_ih, core.bias_hh, self.h0, self.c0
        )
        return tape, h0.t()

    @torch.no_grad()
    def tape_step(self, tape: LSTMTape, obs: Tensor) -> tuple[Tensor, Tensor]:
        """One taped step: ``(logits [B, A], value [B])`` of observation ``obs`` ``[B, D]``."""
        out = torch.addmm(self.head.bias.unsqueeze(1), self.head.weight, tape.step(obs))
        return out[:-1].t(), out[-1]

    def replay(self, tape: LSTMTape) -> tuple[Tensor, Tensor, Tensor]:
        """Differentiable outputs of a finished tape (the same numbers as stepping ``forward``).

        Returns
        -------
        logits : Tensor, shape (T, B, A)
        values : Tensor, shape (T, B)
        h : Tensor, shape (T, B, U)
        """
        core, batch = self.core, tape.batch_size
        h = lstm_sequence(
            tape,
            core.weight_ih,
            core.weight_hh,
            core.bias_ih,
            core.bias_hh,
            self.h0.unsqueeze(0).expand(batch, -1),
            self.c0.unsqueeze(0).expand(batch, -1),
        )
        out = self.head(h)
        return out[..., :-1], out[..., -1], h

    def extra_repr(self) -> str:
        """Sizes shown by ``print(network)``."""
        return (
            f"input_dim={self.input_dim}, num_actions={self.num_actions}, units={self.num_units}"
        )
