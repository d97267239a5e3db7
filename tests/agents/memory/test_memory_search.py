"""Exact two-stage top-k and the cached search matrix against brute force (ties included)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurometa.agents.memory import EpisodicMemory
from neurometa.agents.memory.search import MIN_TWO_STAGE, exact_topk
from neurometa.seeding import torch_generator


def _assert_same_topk(scores: torch.Tensor, k: int, **kwargs: int) -> None:
    """Values equal ``torch.topk``'s exactly; every index points at its value (ties: any)."""
    values, indices = exact_topk(scores, k, **kwargs)
    want = torch.topk(scores, k, dim=-1).values
    assert torch.equal(values, want)
    assert torch.equal(scores.gather(-1, indices), values)
    assert bool((indices.sort(-1).values.diff(dim=-1) > 0).all())  # no index twice


@pytest.mark.parametrize(
    ("n", "k", "block"),
    [(1000, 5, 7), (1000, 5, 10), (999, 50, 9), (20_000, 50, None), (MIN_TWO_STAGE, 1, None)],
    ids=["remainder", "even", "k50_remainder", "default_block", "k1"],
)
def test_exact_topk_matches_full_topk(n: int, k: int, block: int | None) -> None:
    scores = torch.randn(2, 3, n, generator=torch_generator(0))
    _assert_same_topk(scores, k, **({} if block is None else {"block": block}))


@pytest.mark.parametrize("block", [4, 16], ids=["block4", "block16"])
def test_exact_topk_with_ties_and_empty_slots(block: int) -> None:
    # integer scores in 0..9: the k-th value is tied many times; -inf marks empty slots
    gen = torch_generator(1)
    scores = torch.randint(0, 10, (4, 300), generator=gen).float()
    scores[:, ::3] = float("-inf")
    scores[3, 5:] = float("-inf")  # a store with fewer than k entries
    _assert_same_topk(scores, 20, block=block)
    values, _ = exact_topk(scores, 20, block=block)
    assert int(torch.isfinite(values[3]).sum()) == 3  # slots 1, 2, 4 are the only ones


@pytest.mark.parametrize("block", [6, None], ids=["block6_remainder", "default"])
def test_exact_topk_over_slots_of_a_slots_by_queries_layout(block: int | None) -> None:
    # the memory's layout: scores (M, N, Q), neighbours along N; ties from rounding to 0.5
    gen = torch_generator(4)
    scores = (torch.randn(2, MIN_TWO_STAGE + 5, 3, generator=gen) * 2).round() / 2
    kwargs = {} if block is None else {"block": block}
    values, indices = exact_topk(scores, 30, dim=-2, **kwargs)
    rows = scores.mT.contiguous()  # (M, Q, N)
    assert values.shape == indices.shape == (2, 3, 30)
    assert torch.equal(values, torch.topk(rows, 30, dim=-1).values)
    assert torch.equal(rows.gather(-1, indices), values)


def test_exact_topk_rejects_bad_k_and_dim() -> None:
    with pytest.raises(ValueError, match="k must be"):
        exact_topk(torch.zeros(1, 5), 6)
    with pytest.raises(ValueError, match="dim must be"):
        exact_topk(torch.zeros(1, 5), 2, dim=0)


@pytest.mark.parametrize(
    "kernel", ["inverse_distance", "cosine", "uniform"], ids=["invdist", "cosine", "uniform"]
)
def test_large_store_search_matches_brute_force(kernel: str) -> None:
    # capacity >= MIN_TWO_STAGE, so search takes the two-stage path
    n, gen = 2 * MIN_TWO_STAGE, torch_generator(2)
    keys = torch.randn(2, n, 8, generator=gen)
    mem = EpisodicMemory(2, n + 100, 8, 1, kernel=kernel, eviction="oldest")  # 100 empty
    mem.write(keys, torch.zeros(2, n, 1))
    queries = keys[:, :6] + 0.3 * torch.randn(2, 6, 8, generator=gen)
    idx, found = mem.search(queries, 25)
    k64, q64 = keys.double().numpy(), queries.double().numpy()
    for b in range(2):
        if kernel == "cosine":
            unit = k64[b] / np.linalg.norm(k64[b], axis=1, keepdims=True)
            rank = -(q64[b] @ unit.T)
        else:
            rank = ((q64[b][:, None, :] - k64[b][None]) ** 2).sum(-1)
        want = np.argsort(rank, axis=1, kind="stable")[:, :25]
        np.testing.assert_array_equal(idx[b].numpy(), want)
    assert bool(found.all())


def test_cache_follows_writes_resets_and_learnable_updates() -> None:
    gen = torch_generator(3)
    mem = EpisodicMemory(1, 50, 4, 1, learnable=True, eviction="oldest")
    mem.write(torch.randn(1, 30, 4, generator=gen), torch.zeros(1, 30, 1))
    q = torch.randn(1, 3, 4, generator=gen)
    mem.search(q, 5)  # builds the cache
    target = torch.full((1, 4), 7.0)
    mem.write(target, torch.ones(1, 1))  # incremental row update
    assert int(mem.search(target[:, None] + 0.01, 1)[0]) == 30
    with torch.no_grad():  # an optimiser step moves a key in place: cache rebuilt
        mem.keys[0, 3] = -7.0
    assert int(mem.search(torch.full((1, 1, 4), -7.0), 1)[0]) == 3
    mem.reset()
    _, found = mem.search(q, 5)
    assert not bool(found.any())
