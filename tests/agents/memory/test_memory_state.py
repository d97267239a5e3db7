"""EpisodicMemory.state_dict round trips: exact restore, trimmed prefix, errors."""

from __future__ import annotations

import pytest
import torch

from neurometa.agents.memory import EpisodicMemory
from neurometa.atomic import atomic_path
from neurometa.seeding import torch_generator

_TENSORS = ("keys", "values", "valid", "written_at", "last_used")


def _lru_memory(num_writes: int, seed: int = 0) -> EpisodicMemory:
    """A 3-store LRU memory of capacity 10 after writes, reads and a value update."""
    gen = torch_generator(seed)
    mem = EpisodicMemory(3, 10, 4, 2, eviction="lru")
    for _ in range(num_writes):
        mem.write(torch.randn(3, 4, generator=gen), torch.randn(3, 2, generator=gen))
        mem.read(torch.randn(3, 4, generator=gen), 2)
    mem.update_values(torch.zeros(3, dtype=torch.long), torch.ones(3, 2))
    return mem


def _assert_equal(a: EpisodicMemory, b: EpisodicMemory) -> None:
    for name in _TENSORS:
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert a.clock == b.clock


@pytest.mark.parametrize(
    ("num_writes", "saved_slots"),
    [(0, 1), (4, 4), (25, 10)],
    ids=["update_only", "partly_filled", "full_after_eviction"],
)
def test_round_trip_through_file_is_exact(tmp_path, num_writes: int, saved_slots: int) -> None:
    mem = _lru_memory(num_writes)
    state = mem.state_dict()
    # slots fill in index order: only the touched prefix is kept (update_values touched slot 0)
    assert state["keys"].shape == (3, saved_slots, 4)
    path = tmp_path / "memory.pt"
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    copy = _lru_memory(7, seed=1)  # a different, non-empty memory is overwritten entirely
    copy.load_state_dict(torch.load(path, weights_only=True))
    _assert_equal(copy, mem)
    gen_a, gen_b = torch_generator(2), torch_generator(2)
    for _ in range(12):  # later writes, evictions and reads continue identically
        for m, g in ((mem, gen_a), (copy, gen_b)):
            m.write(torch.randn(3, 4, generator=g), torch.randn(3, 2, generator=g))
            m.read(torch.randn(3, 4, generator=g), 3)
    _assert_equal(copy, mem)


def test_empty_memory_saves_no_slots() -> None:
    mem = EpisodicMemory(2, 1000, 3, 1)
    state = mem.state_dict()
    assert state["keys"].shape == (2, 0, 3)
    assert int(state["capacity"]) == 1000
    copy = EpisodicMemory(2, 1000, 3, 1)
    copy.load_state_dict(state)
    _assert_equal(copy, mem)


def test_full_size_state_without_capacity_loads() -> None:
    mem = _lru_memory(4)
    state = {name: getattr(mem, name).detach().clone() for name in _TENSORS}
    state["clock"] = torch.tensor(mem.clock)
    copy = EpisodicMemory(3, 10, 4, 2, eviction="lru")
    copy.load_state_dict(state)
    _assert_equal(copy, mem)


@pytest.mark.parametrize(
    ("other", "match"),
    [
        ({"capacity": 20}, "capacity 10"),
        ({"key_dim": 5}, "keys has shape"),
        ({"num_stores": 2}, "shape"),
    ],
    ids=["capacity", "key_dim", "num_stores"],
)
def test_mismatched_state_is_named(other: dict, match: str) -> None:
    args = {"num_stores": 3, "capacity": 10, "key_dim": 4, "value_dim": 2} | other
    with pytest.raises(ValueError, match=match):
        EpisodicMemory(**args).load_state_dict(_lru_memory(4).state_dict())


def test_missing_tensor_is_named() -> None:
    state = _lru_memory(2).state_dict()
    del state["last_used"]
    with pytest.raises(ValueError, match="last_used"):
        EpisodicMemory(3, 10, 4, 2).load_state_dict(state)
