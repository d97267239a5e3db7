"""The agent contract used by rollouts and the recorder (trained networks and baselines).

An agent acts on a batched task (see :mod:`neurometa.tasks.base`) one step at a time:

1. ``agent.begin(task, generator)`` at every ``task.reset()``: set up per-episode state for
   ``task.num_envs`` episodes (``generator`` is the seeded ``torch.Generator`` for action
   sampling).
2. ``action, out = agent.act(obs, info)`` each step: ``action`` is ``int64 [B]``; ``out``
   maps recordable quantities to tensors with leading dim ``B``: ``policy [B, A]`` (action
   probabilities, required), ``value [B]`` where the agent has a value estimate, and unit
   activity ``h [B, U]``, ``c [B, U]`` and memory read-outs for networks.
3. ``out = agent.observe(action, reward, terminated, info)`` after ``task.step``: belief or
   value updates; may return ``rpe [B]`` (the agent's own prediction error) and other
   per-step quantities.

``agent.discount`` (float) is the γ used to compute ``rpe`` from ``value`` when the agent
does not report one itself; ``agent.name`` is a short identifier for recordings.

A trainable network follows :class:`Network` (what the trainer, the evaluation and
:class:`FrozenAgent` need); two optional capabilities are declared as protocols too:
:class:`TapedNetwork` (a rollout without autograd, replayed with a hand-written backward
pass) and :class:`EpisodicNetwork` (an episodic store that outlives episodes).
:class:`FrozenAgent` makes a trained network an agent; :func:`choose_actions` is the one
greedy-or-sampled action choice of agents and training rollouts alike.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor, nn

__all__ = [
    "Agent",
    "Network",
    "TapedNetwork",
    "EpisodicNetwork",
    "FrozenAgent",
    "choose_actions",
    "sample_actions",
]


@runtime_checkable
class Agent(Protocol):
    """What rollouts and the recorder need from an agent (see module docstring)."""

    name: str
    discount: float

    def begin(self, task, generator: torch.Generator) -> None:  # noqa: ANN001
        """Start new episodes on ``task``."""

    def act(self, obs: Tensor, info: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Choose actions ``int64 [B]``; return them with recordable outputs."""

    def observe(
        self, action: Tensor, reward: Tensor, terminated: Tensor, info: dict[str, Tensor]
    ) -> dict[str, Tensor]:
        """Take in the outcome of the step; return per-step outputs (e.g. ``rpe``)."""


@runtime_checkable
class Network(Protocol):
    """A recurrent policy-value network the trainer can train (e.g. ``PFCNetwork``).

    Its initial weights come from a generator only; its parameters are an ``nn.Module``'s.
    """

    def initial_state(self, batch_size: int) -> tuple[Tensor, ...]:
        """The state before the first step: tensors with leading dim ``B``."""

    def __call__(
        self, obs: Tensor, state: tuple[Tensor, ...]
    ) -> tuple[Tensor, Tensor, tuple[Tensor, ...], dict[str, Tensor]]:
        """One step: ``(logits [B, A], value [B], new_state, activity)``.

        ``activity`` maps recordable names (``h``, ``c``, memory read-outs) to ``[B, ...]``.
        """


@runtime_checkable
class TapedNetwork(Network, Protocol):
    """A network that acts without autograd and replays the rollout as one autograd node.

    ``start_tape(T, B)`` begins a rollout, ``tape_step(tape, obs) -> (logits, value)`` takes
    each step, ``replay(tape) -> (logits [T, B, A], values [T, B], h)`` gives differentiable
    outputs equal to stepping the network with autograd (``PFCNetwork``; see
    :mod:`neurometa.agents.lstm_kernel`).
    """

    def start_tape(self, steps: int, batch_size: int) -> tuple[Any, Tensor]:
        """Begin a taped rollout; return the tape and ``h_0``."""

    def tape_step(self, tape: Any, obs: Tensor) -> tuple[Tensor, Tensor]:
        """One step without autograd: ``(logits [B, A], value [B])``."""

    def replay(self, tape: Any) -> tuple[Tensor, Tensor, Tensor]:
        """Differentiable ``(logits, values, h)`` of the finished tape."""


@runtime_checkable
class EpisodicNetwork(Network, Protocol):
    """A network with an episodic store that outlives episodes (e.g. the episodic LSTM).

    The store is the module's extra state (saved in its ``state_dict``); a new life-time
    starts with :meth:`reset_memory`.
    """

    def reset_memory(self) -> None:
        """Empty the store."""

    def get_extra_state(self) -> Any:
        """The store (as in ``nn.Module.get_extra_state``)."""

    def set_extra_state(self, state: Any) -> None:
        """Restore a store returned by :meth:`get_extra_state`."""


def sample_actions(probs: Tensor, generator: torch.Generator) -> Tensor:
    """Draw one action per row of ``probs`` by inverting the cumulative distribution.

    Parameters
    ----------
    probs : Tensor, shape (B, A)
        Action probabilities (rows sum to 1).
    generator : torch.Generator
        Seeded generator on the device of ``probs``; one uniform draw per row.

    Returns
    -------
    Tensor, shape (B,), int64
        ``a = #{k : u > Σ_{j≤k} p_j}`` with ``u ~ U(0, 1)``, clipped to ``A − 1``.
    """
    u = torch.rand((probs.shape[0], 1), generator=generator, device=probs.device)
    action = (u > probs.cumsum(-1)).sum(-1)
    return action.clamp_(max=probs.shape[-1] - 1)


def choose_actions(logits: Tensor, generator: torch.Generator | None, *, greedy: bool) -> Tensor:
    """The action of each batch member: the most probable one, or one drawn from the policy.

    Parameters
    ----------
    logits : Tensor, shape (B, A)
        Policy logits (the policy is ``softmax(logits)``).
    generator : torch.Generator or None
        Source of the draws (see :func:`sample_actions`); unused (may be None) when greedy.
    greedy : bool
        ``argmax_a logits`` (True) or a draw from ``softmax(logits)`` (False).

    Returns
    -------
    Tensor, shape (B,), int64

    Examples
    --------
    >>> logits = torch.tensor([[0.0, 2.0], [1.0, -1.0]])
    >>> choose_actions(logits, None, greedy=True).tolist()
    [1, 0]
    >>> choose_actions(logits, torch.Generator().manual_seed(0), greedy=False).shape
    torch.Size([2])
    """
    if greedy:
        return logits.argmax(-1)
    if generator is None:
        raise ValueError("sampled actions need a generator (the one given to begin())")
    return sample_actions(torch.softmax(logits, -1), generator)


class FrozenAgent:
    """A trained network with frozen weights, as an :class:`Agent`.

    Parameters
    ----------
    network : nn.Module
        Follows the network contract of :mod:`neurometa.agents.pfc` (``initial_state``,
        ``forward``).
    discount : float
        The γ the network was trained with (used for ``rpe`` by recorders).
    greedy : bool
        Take the most probable action (True) or sample from the policy (False).
    name : str
        Identifier stored in recordings.
    make_task : callable, optional
        ``make_task(num_envs, device)`` building the task (with meta-RL inputs) exactly as
        in training; exposed as :meth:`make_task`.
    """

    def __init__(
        self,
        network: nn.Module,
        *,
        discount: float,
        greedy: bool = True,
        name: str = "pfc",
        make_task: Any = None,
    ) -> None:
        self.network = network.eval()
        for p in self.network.parameters():
            p.requires_grad_(False)
        self.discount = float(discount)
        self.greedy = bool(greedy)
        self.name = name
        self._make_task = make_task
        self._state: Any = None
        self._generator: torch.Generator | None = None
        self._input_dim = getattr(network, "input_dim", None)
        self.variable_dims = dict(getattr(network, "variable_dims", {}) or {})

    def make_task(self, num_envs: int, device: str = "cpu"):  # noqa: ANN201
        """Build the task this agent was trained on (meta-RL inputs included)."""
        if self._make_task is None:
            raise RuntimeError(f"{self.name}: no task factory was given to this agent")
        return self._make_task(num_envs, device)

    def begin(self, task, generator: torch.Generator) -> None:  # noqa: ANN001
        """Reset the network state for ``task.num_envs`` new episodes."""
        obs_dim = getattr(task, "obs_dim", None)
        if self._input_dim is not None and obs_dim is not None and obs_dim != self._input_dim:
            raise ValueError(
                f"{self.name}: the task gives observations of length {obs_dim} but the network "
                f"takes {self._input_dim}; wrap the task with neurometa.tasks.MetaRLInputs "
                "(or use agent.make_task) as in training"
            )
        self._state = self.network.initial_state(task.num_envs)
        self._generator = generator

    @torch.no_grad()
    def act(self, obs: Tensor, info: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Choose actions; return them with ``policy``, ``value``, ``h``, ``c``."""
        if self._state is None:
            raise RuntimeError(f"{self.name}: call begin(task, generator) before act()")
        logits, value, self._state, activity = self.network(obs, self._state)
        action = choose_actions(logits, self._generator, greedy=self.greedy)
        return action, {"policy": torch.softmax(logits, dim=-1), "value": value, **activity}

    def observe(
        self, action: Tensor, reward: Tensor, terminated: Tensor, info: dict[str, Tensor]
    ) -> dict[str, Tensor]:
        """Nothing to update: the within-episode learning is in the LSTM state."""
        return {}
