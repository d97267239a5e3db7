"""Saving and restoring an :class:`~neurometa.agents.memory.EpisodicMemory` (checkpoints).

A state holds the store's tensors and its clock. Slots fill in index order, so in a store
that is not yet full every slot past the last one ever touched is still *pristine* (empty,
zero key and value, the empty time stamps of :meth:`EpisodicMemory.reset`); the state keeps
only the slots up to the last non-pristine one of any store, and loading restores the rest
as pristine. A store of capacity 1,000 holding 100 episodes therefore saves 100 slots, and
an empty one saves none. Restoring is exact: every tensor and the clock come back equal, so
reads, writes and evictions continue as if the memory had never been saved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:
    from neurometa.agents.memory import EpisodicMemory

__all__ = ["STATE_TENSORS", "memory_state", "load_memory_state"]

#: The per-slot tensors of a state, each with leading dims ``(B, slots)``.
STATE_TENSORS: tuple[str, ...] = ("keys", "values", "valid", "written_at", "last_used")


def _empty_stamps(capacity: int, device: torch.device) -> Tensor:
    """Time stamps of empty slots (``-capacity .. -1``; see ``EpisodicMemory.reset``)."""
    return torch.arange(capacity, device=device) - capacity


def _used_slots(mem: EpisodicMemory) -> int:
    """Length of the slot prefix that holds everything but pristine empty slots."""
    with torch.no_grad():
        empty = _empty_stamps(mem.capacity, mem.device)
        pristine = (
            ~mem.valid
            & (mem.keys == 0).all(dim=2)
            & (mem.values == 0).all(dim=2)
            & (mem.written_at == empty)
            & (mem.last_used == empty)
        ).all(dim=0)  # [C]: pristine in every store
    touched = (~pristine).nonzero()
    return int(touched[-1]) + 1 if touched.numel() else 0


def memory_state(mem: EpisodicMemory) -> dict[str, Tensor]:
    """The state of ``mem``: its used slots, clock and capacity (see module docstring).

    Returns
    -------
    dict of str to Tensor
        ``keys (B, S, key_dim)``, ``values (B, S, value_dim)``, ``valid``, ``written_at``,
        ``last_used`` ``(B, S)`` with ``S <= capacity`` the used prefix; ``clock`` and
        ``capacity`` as 0-d int64 tensors. Detached copies (safe to save with
        ``torch.save`` and to load with ``weights_only=True``).
    """
    used = _used_slots(mem)
    state = {name: getattr(mem, name).detach()[:, :used].clone() for name in STATE_TENSORS}
    state["clock"] = torch.tensor(mem.clock)
    state["capacity"] = torch.tensor(mem.capacity)
    return state


def load_memory_state(mem: EpisodicMemory, state: dict[str, Tensor]) -> None:
    """Restore ``state`` (from :func:`memory_state`) into ``mem`` in place.

    Raises
    ------
    ValueError
        A tensor is missing, the capacity differs, or a shape does not fit ``mem``.
    """
    missing = [name for name in (*STATE_TENSORS, "clock") if name not in state]
    if missing:
        raise ValueError(f"EpisodicMemory: state lacks {missing}")
    used = state["keys"].shape[1] if state["keys"].dim() == 3 else -1
    capacity = int(state.get("capacity", used))
    if capacity != mem.capacity or not 0 <= used <= mem.capacity:
        raise ValueError(
            f"EpisodicMemory: state is of a store with capacity {capacity} ({used} slots "
            f"saved); this memory has capacity {mem.capacity}"
        )
    for name in STATE_TENSORS:
        want = (mem.num_stores, used, *getattr(mem, name).shape[2:])
        if tuple(state[name].shape) != want:
            raise ValueError(
                f"EpisodicMemory: {name} has shape {tuple(state[name].shape)}, expected {want}"
            )
    mem.reset()
    with torch.no_grad():
        for name in STATE_TENSORS:
            getattr(mem, name)[:, :used] = state[name].to(getattr(mem, name).device)
    mem.clock = int(state["clock"])
    mem.index = None
