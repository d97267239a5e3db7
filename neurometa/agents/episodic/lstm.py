"""Episodic meta-RL: an LSTM whose cell state can be reinstated from episodic memory.

Ritter et al. 2018, "Been there, done that: meta-learning with episodic recall" (ICML). The
"epLSTM" cell adds a reinstatement gate ``r_t`` to the LSTM::

    i, f, o, r = σ(W [x_t, h_{t-1}] + b)        (input, forget, output, reinstatement gates)
    g          = tanh(W_g [x_t, h_{t-1}] + b_g)
    c_t        = f ⊙ c_{t-1} + i ⊙ g + r ⊙ tanh(c^ep_t)
    h_t        = o ⊙ tanh(c_t)

where ``c^ep_t`` is read from an :class:`~neurometa.agents.memory.EpisodicMemory` (the
hippocampal store): keys are the episode's context (the first ``context_dim``
features of the observation, e.g. the barcode of the contextual bandit), values are LSTM cell
states. Each batch member has its own store (its life-time). The cell state at the last step
of every episode is written under that episode's context when the next episode starts
(``initial_state``), so a context met again retrieves what was learnt about it; the read is
the cosine-kernel softmax over the ``k`` nearest keys (temperature ``τ``). Stored states are
detached: the outer loop (A2C) trains the gates and heads, not the memory.

The network follows the contract of :mod:`neurometa.agents.pfc` (``initial_state``,
``forward -> (logits, value, state, activity)``); ``activity`` adds the memory read-outs
``gate`` (``r_t``, ``[B, U]``) and ``retrieval_weights`` (``[B, k]``) for recordings.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from neurometa.agents.base import FrozenAgent
from neurometa.agents.memory import EpisodicMemory

__all__ = ["EpisodicLSTMNetwork", "EpisodicLSTMAgent", "READOUT_DIMS"]

State = tuple[Tensor, Tensor]

#: Trailing dims of the memory read-outs in ``activity`` (recordings name them so).
READOUT_DIMS: dict[str, tuple[str, ...]] = {"gate": ("unit",), "retrieval_weights": ("neighbour",)}


class EpisodicLSTMNetwork(nn.Module):
    """epLSTM core with policy/value heads, a learned initial state and an episodic store.

    Parameters
    ----------
    input_dim : int
        Length of the (meta-RL) observation ``D``.
    num_actions : int
        Actions ``A``.
    num_units : int
        LSTM units ``U``.
    context_dim : int
        The first ``context_dim`` observation features form the memory key.
    capacity : int
        Slots per store (oldest evicted first).
    num_neighbours : int
        ``k`` of the memory read.
    temperature : float
        τ of the cosine-kernel softmax.
    null_similarity : float, optional
        If set, the read includes a "null" neighbour of this cosine similarity, so a context
        unlike every stored one retrieves ≈ 0 (no reinstatement) instead of the nearest
        unrelated state (see :class:`~neurometa.agents.memory.EpisodicMemory`).
    """

    #: Trailing dims of the memory read-outs (for agents wrapping this network).
    variable_dims: ClassVar[dict[str, tuple[str, ...]]] = READOUT_DIMS

    def __init__(
        self,
        input_dim: int,
        num_actions: int,
        num_units: int = 48,
        *,
        context_dim: int,
        capacity: int = 1000,
        num_neighbours: int = 10,
        temperature: float = 0.05,
        null_similarity: float | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("input_dim", input_dim), ("num_actions", num_actions),
                            ("num_units", num_units), ("capacity", capacity),
                            ("num_neighbours", num_neighbours)):  # fmt: skip
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"EpisodicLSTMNetwork: {name} must be a positive int, got {value!r}"
                )
        if not isinstance(context_dim, int) or not 1 <= context_dim <= input_dim:
            raise ValueError(
                f"EpisodicLSTMNetwork: context_dim must be an int in [1, {input_dim}], "
                f"got {context_dim!r}"
            )
        if num_neighbours > capacity or not temperature > 0:
            raise ValueError(
                "EpisodicLSTMNetwork: need num_neighbours <= capacity and temperature > 0, got "
                f"{num_neighbours}, {capacity}, {temperature}"
            )
        self.input_dim, self.num_actions, self.num_units = input_dim, num_actions, num_units
        self.context_dim, self.capacity = context_dim, capacity
        self.num_neighbours, self.temperature = num_neighbours, float(temperature)
        self.null_similarity = null_similarity
        self.gates = nn.Linear(input_dim + num_units, 5 * num_units)
        self.head = nn.Linear(num_units, num_actions + 1)
        self.h0 = nn.Parameter(torch.zeros(num_units))
        self.c0 = nn.Parameter(torch.zeros(num_units))
        self.memory: EpisodicMemory | None = None
        self._pending: tuple[Tensor, Tensor] | None = None
        self.register_load_state_dict_pre_hook(self._default_extra_state)

    def reset_parameters(self, generator: torch.Generator) -> None:
        """Draw every weight from ``generator``.

        Gates ~ U(−1/√U, 1/√U) (as ``nn.LSTMCell``), forget bias 1, reinstatement bias 0,
        read-out ~ U(−0.01, 0.01), zero initial state.
        """
        u, bound = self.num_units, self.num_units**-0.5
        with torch.no_grad():
            for p in self.gates.parameters():
                p.copy_(torch.rand(p.shape, generator=generator) * 2 * bound - bound)
            self.gates.bias[u : 2 * u].fill_(1.0)
            self.gates.bias[3 * u : 4 * u].fill_(0.0)
            w = self.head.weight
            w.copy_((torch.rand(w.shape, generator=generator) * 2 - 1) * 0.01)
            self.head.bias.zero_()
            self.h0.zero_()
            self.c0.zero_()

    def reset_memory(self) -> None:
        """Forget everything (start new life-times); the next episode allocates fresh stores."""
        self.memory, self._pending = None, None

    # The store is part of ``state_dict()`` (PyTorch's "extra state"), so a training
    # checkpoint resumes the current life-time's memory; see docs/episodic.md.
    def get_extra_state(self) -> dict[str, Any]:
        """The episodic store and the (key, cell) pair not yet written, or ``None`` each."""
        memory = None if self.memory is None else self.memory.state_dict()
        pending = None
        if self._pending is not None:
            pending = {"keys": self._pending[0].clone(), "cells": self._pending[1].clone()}
        return {"memory": memory, "pending": pending}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_extra_state` saved (an empty memory when it held none)."""
        self.reset_memory()
        like = self.h0.detach()
        if state.get("memory") is not None:
            num_stores = int(state["memory"]["valid"].shape[0])
            self._memory_for(num_stores, like).load_state_dict(state["memory"])
        if state.get("pending") is not None:
            pending = state["pending"]
            self._pending = (pending["keys"].to(like.device), pending["cells"].to(like.device))

    @staticmethod
    def _default_extra_state(
        module: nn.Module, state_dict: dict[str, Any], prefix: str, *args: Any
    ) -> None:
        """Load-time hook: weights saved before the store was saved load with no memory."""
        state_dict.setdefault(prefix + "_extra_state", {"memory": None, "pending": None})

    def _memory_for(self, batch_size: int, like: Tensor) -> EpisodicMemory:
        if self.memory is None or self.memory.num_stores != batch_size:
            self.memory = EpisodicMemory(
                batch_size,
                self.capacity,
                self.context_dim,
                self.num_units,
                kernel="cosine",
                temperature=self.temperature,
                null_similarity=self.null_similarity,
                eviction="oldest",
                device=like.device,
            )
            self._pending = None
        return self.memory

    def initial_state(self, batch_size: int) -> State:
        """Store the last episode's final cell states, then return the learned ``(h_0, c_0)``."""
        if self._pending is not None and self.memory is not None:
            keys, cells = self._pending
            if keys.shape[0] == self.memory.num_stores:
                self.memory.write(keys, cells)
        self._pending = None
        return (
            self.h0.unsqueeze(0).expand(batch_size, -1),
            self.c0.unsqueeze(0).expand(batch_size, -1),
        )

    def forward(
        self, obs: Tensor, state: State
    ) -> tuple[Tensor, Tensor, State, dict[str, Tensor]]:
        """One epLSTM step (see the module docstring).

        Parameters
        ----------
        obs : Tensor, shape (B, D)
        state : tuple of Tensor, each shape (B, U)

        Returns
        -------
        logits : Tensor, shape (B, A)
        value : Tensor, shape (B,)
        state : tuple of Tensor — ``(h_t, c_t)``
        activity : dict — ``h``, ``c``, ``gate`` ``[B, U]``, ``retrieval_weights`` ``[B, k]``
        """
        if obs.dim() != 2 or obs.shape[1] != self.input_dim:
            raise ValueError(
                f"EpisodicLSTMNetwork: obs must be (B, {self.input_dim}), got {tuple(obs.shape)}"
            )
        h, c = state
        memory = self._memory_for(obs.shape[0], obs)
        key = obs[:, : self.context_dim].detach()
        retrieved, weights = memory.read(key, min(self.num_neighbours, self.capacity))
        z = self.gates(torch.cat([obs, h], dim=1))
        i, f, o, r, g = z.chunk(5, dim=1)
        i, f, o, r = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o), torch.sigmoid(r)
        c = f * c + i * torch.tanh(g) + r * torch.tanh(retrieved)
        h = o * torch.tanh(c)
        self._pending = (key, c.detach())
        out = self.head(h)
        activity = {"h": h, "c": c, "gate": r, "retrieval_weights": weights}
        return out[:, :-1], out[:, -1], (h, c), activity

    def extra_repr(self) -> str:
        """Sizes shown by ``print(network)``."""
        return (
            f"input_dim={self.input_dim}, num_actions={self.num_actions}, units={self.num_units}, "
            f"context_dim={self.context_dim}, capacity={self.capacity}, k={self.num_neighbours}"
        )


class EpisodicLSTMAgent(FrozenAgent):
    """A trained :class:`EpisodicLSTMNetwork` as an :class:`~neurometa.agents.base.Agent`.

    Like :class:`~neurometa.agents.base.FrozenAgent` (weights frozen, the memory keeps
    learning by storing states); ``act`` also returns the memory read-outs ``gate`` and
    ``retrieval_weights``. Call :meth:`reset_memory` to start a new life-time.
    """

    #: Trailing dims of the memory read-outs, for the recorder.
    variable_dims: ClassVar[dict[str, tuple[str, ...]]] = READOUT_DIMS

    def __init__(self, network: EpisodicLSTMNetwork, **kwargs: Any) -> None:
        if not isinstance(network, EpisodicLSTMNetwork):
            raise TypeError(f"EpisodicLSTMAgent needs an EpisodicLSTMNetwork, got {type(network)}")
        kwargs.setdefault("name", "episodic_lstm")
        super().__init__(network, **kwargs)

    def reset_memory(self) -> None:
        """Empty the episodic stores."""
        self.network.reset_memory()
