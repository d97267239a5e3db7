"""EpisodicMemory against a brute-force reference: neighbours, kernels, eviction, batching."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurometa.agents.memory import EpisodicMemory
from neurometa.agents.memory import index as memory_index
from neurometa.seeding import torch_generator


def _filled(kernel: str, *, num_stores: int = 3, capacity: int = 40, n: int = 40, seed: int = 0):
    gen = torch_generator(seed)
    mem = EpisodicMemory(num_stores, capacity, 5, 2, kernel=kernel, eviction="oldest")
    keys = torch.randn(num_stores, n, 5, generator=gen)
    values = torch.randn(num_stores, n, 2, generator=gen)
    mem.write(keys, values)
    return mem, keys, values, gen


def _brute_force(kernel: str, q: np.ndarray, keys: np.ndarray, values: np.ndarray, k: int):
    """Obviously correct loop: rank every key, weight the k best by the kernel."""
    if kernel != "cosine":
        d2 = ((keys - q) ** 2).sum(1)
        nn = np.argsort(d2, kind="stable")[:k]
        raw = 1.0 / (d2[nn] + 1e-3) if kernel == "inverse_distance" else np.ones(k)
        w = raw / raw.sum()
    else:
        cos = keys @ q / (np.linalg.norm(keys, axis=1) * np.linalg.norm(q))
        nn = np.argsort(-cos, kind="stable")[:k]
        e = np.exp(cos[nn] - cos[nn].max())
        w = e / e.sum()
    return nn, w, w @ values[nn]


KERNELS = pytest.mark.parametrize(
    "kernel", ["inverse_distance", "cosine", "uniform"], ids=["invdist", "cosine", "uniform"]
)


@KERNELS
def test_read_matches_brute_force(kernel: str) -> None:
    mem, keys, values, gen = _filled(kernel)
    queries = torch.randn(3, 4, 5, generator=gen)
    out = mem.lookup(queries, 7)
    for b in range(3):
        for i in range(4):
            nn, w, v = _brute_force(
                kernel, queries[b, i].numpy(), keys[b].numpy(), values[b].numpy(), 7
            )
            np.testing.assert_array_equal(out.indices[b, i].numpy(), nn)
            np.testing.assert_allclose(out.weights[b, i].numpy(), w, rtol=1e-5)
            np.testing.assert_allclose(out.values[b, i].numpy(), v, rtol=1e-5, atol=1e-6)


@KERNELS
def test_weights_sum_to_one_and_single_query_shape(kernel: str) -> None:
    mem, _, _, gen = _filled(kernel)
    values, weights = mem.read(torch.randn(3, 5, generator=gen), 10)
    assert values.shape == (3, 2)
    assert weights.shape == (3, 10)
    torch.testing.assert_close(weights.sum(1), torch.ones(3))
    assert bool((weights >= 0).all())


def test_exact_key_gets_almost_all_weight() -> None:
    # inverse distance: w_self = (1/δ) / (1/δ + Σ 1/d²); with δ = 1e-3 and d² ~ 10 -> > 0.99
    mem, keys, values, _ = _filled("inverse_distance")
    out = mem.lookup(keys[:, 3], 5)
    assert bool((out.indices[:, 0] == 3).all())
    assert bool((out.weights[:, 0] > 0.99).all())
    torch.testing.assert_close(out.values, values[:, 3], atol=0.05, rtol=0.0)


def test_partially_filled_and_empty_stores() -> None:
    mem = EpisodicMemory(3, 10, 2, 1, eviction="oldest")
    gen = torch_generator(1)
    mem.write(torch.randn(3, 2, 2, generator=gen), torch.ones(3, 2, 1))
    mem.reset(torch.tensor([False, False, True]))
    assert mem.size.tolist() == [2, 2, 0]
    out = mem.lookup(torch.randn(3, 2, generator=gen), 4)
    torch.testing.assert_close(out.weights[:2].sum(1), torch.ones(2))
    assert bool((out.weights[:2, 2:] == 0).all())
    assert bool((out.indices[:2, 2:] == -1).all())
    assert bool((out.weights[2] == 0).all())
    assert bool((out.values[2] == 0).all())
    torch.testing.assert_close(out.values[:2], torch.ones(2, 1))


def test_fifo_eviction_order() -> None:
    mem = EpisodicMemory(1, 3, 1, 1, eviction="oldest")
    slots = [int(mem.write(torch.full((1, 1), float(i)), torch.zeros(1, 1))[0]) for i in range(5)]
    assert slots == [0, 1, 2, 0, 1]  # empty slots in order, then the oldest is overwritten
    assert mem.keys[0, :, 0].tolist() == [3.0, 4.0, 2.0]
    mem.read(torch.tensor([[2.0]]), 1)  # reading does not protect under "oldest"
    assert int(mem.write(torch.full((1, 1), 9.0), torch.zeros(1, 1))[0]) == 2


def test_lru_eviction_protects_recently_read() -> None:
    mem = EpisodicMemory(1, 3, 1, 1, eviction="lru")
    mem.write(torch.tensor([[[0.0], [10.0], [20.0]]]), torch.zeros(1, 3, 1))
    mem.read(torch.tensor([[0.1]]), 1)  # uses slot 0 -> slot 1 is now least recently used
    assert int(mem.write(torch.tensor([[5.0]]), torch.zeros(1, 1))[0]) == 1
    assert int(mem.write(torch.tensor([[6.0]]), torch.zeros(1, 1))[0]) == 2
    assert int(mem.write(torch.tensor([[7.0]]), torch.zeros(1, 1))[0]) == 0


def test_write_more_than_capacity_keeps_last() -> None:
    mem = EpisodicMemory(1, 4, 1, 1, eviction="oldest")
    keys = torch.arange(6.0).view(1, 6, 1)
    slots = mem.write(keys, keys)
    assert slots[0, :2].tolist() == [-1, -1]
    assert sorted(mem.keys[0, :, 0].tolist()) == [2.0, 3.0, 4.0, 5.0]


def test_batch_independence_and_write_mask() -> None:
    gen = torch_generator(3)
    keys, values = torch.randn(2, 6, 4, generator=gen), torch.randn(2, 6, 3, generator=gen)
    both = EpisodicMemory(2, 8, 4, 3)
    both.write(keys, values)
    both.write(
        torch.randn(2, 4, generator=gen),
        torch.randn(2, 3, generator=gen),
        mask=torch.tensor([False, True]),
    )
    alone = EpisodicMemory(1, 8, 4, 3)
    alone.write(keys[:1], values[:1])
    q = torch.randn(1, 5, 4, generator=gen)
    got, want = both.lookup(q.expand(2, 5, 4), 3), alone.lookup(q, 3)
    assert both.size.tolist() == [6, 7]
    torch.testing.assert_close(got.values[:1], want.values)
    torch.testing.assert_close(got.indices[:1], want.indices)


def test_gradients_flow_to_query_not_through_frozen_store() -> None:
    mem, _, _, gen = _filled("inverse_distance")
    q = torch.randn(3, 5, generator=gen, requires_grad=True)
    values, _ = mem.read(q, 5)
    values.sum().backward()
    assert q.grad is not None
    assert float(q.grad.abs().sum()) > 0
    assert not mem.keys.requires_grad


@pytest.mark.parametrize("kernel", ["inverse_distance", "cosine"], ids=["invdist", "cosine"])
def test_learnable_store_gradients_match_finite_differences(kernel: str) -> None:
    gen = torch_generator(4)
    mem = EpisodicMemory(1, 6, 3, 1, kernel=kernel, learnable=True, dtype=torch.float64)
    mem.write(
        torch.randn(1, 6, 3, generator=gen, dtype=torch.float64),
        torch.randn(1, 6, 1, generator=gen, dtype=torch.float64),
    )
    q = torch.randn(1, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    out = mem.lookup(q, 4)
    out.values.sum().backward()
    slot = int(out.indices[0, 1])
    assert float(mem.values.grad[0, slot, 0]) == pytest.approx(float(out.weights[0, 1].detach()))
    eps = 1e-6
    with torch.no_grad():
        mem.keys[0, slot, 0] += eps
    plus = float(mem.lookup(q, 4).values.sum().detach())
    with torch.no_grad():
        mem.keys[0, slot, 0] -= 2 * eps
    minus = float(mem.lookup(q, 4).values.sum().detach())
    fd = (plus - minus) / (2 * eps)
    assert float(mem.keys.grad[0, slot, 0]) == pytest.approx(fd, rel=1e-4, abs=1e-8)
    assert float(q.grad.abs().sum()) > 0


def test_find_exact_and_update_values() -> None:
    mem, keys, _, _ = _filled("inverse_distance")
    probe = torch.stack([keys[0, 5], keys[1, 9] + 1.0, keys[2, 0]])
    slots = mem.find_exact(probe)
    assert slots.tolist() == [5, -1, 0]
    mem.update_values(slots, torch.full((3, 2), 7.0))
    assert mem.values[0, 5].tolist() == [7.0, 7.0]
    assert mem.values[2, 0].tolist() == [7.0, 7.0]
    assert mem.values[1, 9].tolist() != [7.0, 7.0]
    many = torch.tensor([[1, 2], [-1, 3], [4, -1]])
    mem.update_values(many, torch.full((3, 2, 2), -2.0))
    changed = (mem.values == -2.0).all(dim=2).nonzero().tolist()
    assert changed == [[0, 1], [0, 2], [1, 3], [2, 4]]


@pytest.mark.parametrize("kernel", ["inverse_distance", "cosine"], ids=["invdist", "cosine"])
def test_approximate_search_recall_on_clustered_keys(kernel: str) -> None:
    gen = torch_generator(5)
    centres = torch.randn(20, 8, generator=gen) * 4
    keys = centres[torch.randint(0, 20, (2, 2000), generator=gen)]
    keys = keys + 0.3 * torch.randn(2, 2000, 8, generator=gen)
    mem = EpisodicMemory(2, 2000, 8, 1, kernel=kernel)
    mem.write(keys, torch.zeros(2, 2000, 1))
    q = keys[:, :50] + 0.1 * torch.randn(2, 50, 8, generator=gen)
    exact, _ = mem.search(q, 10)
    mem.build_index(20, num_probes=3, generator=gen)
    approx, found = mem.search(q, 10, approximate=True)
    assert bool(found.all())
    hits = (exact[..., :, None] == approx[..., None, :]).any(-1).float().mean()
    assert float(hits) > 0.9
    all_probes = mem.build_index(20, num_probes=20, generator=gen)  # visits every cell: exact
    assert all_probes.num_probes == 20
    torch.testing.assert_close(
        mem.search(q, 10, approximate=True)[0].sort(-1).values, exact.sort(-1).values
    )


@pytest.mark.parametrize("gather", [2**21, 64], ids=["one-gather", "query-chunks"])
@pytest.mark.parametrize("kernel", ["inverse_distance", "cosine"], ids=["invdist", "cosine"])
def test_approximate_search_is_exact_within_the_probed_cells(
    kernel: str, gather: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Brute force over the slots of each query's probed cells; stores filled unequally;
    candidates gathered all at once or a query at a time (``_GATHER_FLOATS``)."""
    monkeypatch.setattr(memory_index, "_GATHER_FLOATS", gather)
    gen = torch_generator(8)
    mem = EpisodicMemory(3, 400, 6, 1, kernel=kernel)
    mem.write(torch.randn(3, 300, 6, generator=gen), torch.zeros(3, 300, 1))
    mem.valid[2, 150:] = False  # the third store holds fewer keys
    index = mem.build_index(12, num_probes=3, generator=gen)
    q = torch.randn(3, 7, 6, generator=gen)
    idx, found = mem.search(q, 5, approximate=True)
    probes = index._probe(q, kernel)  # [B, Q, P]
    scores = mem._search.scores(q, mem.keys, mem.valid).transpose(1, 2)  # [B, Q, C]
    for b in range(3):
        for j in range(7):
            allowed = torch.isin(index.cell[b], probes[b, j]) & mem.valid[b]
            s = scores[b, j].masked_fill(~allowed, float("-inf"))
            want = torch.topk(s, 5).indices
            assert bool(found[b, j].all())
            assert sorted(idx[b, j].tolist()) == sorted(want.tolist())


def test_index_tracks_writes_after_build() -> None:
    gen = torch_generator(6)
    mem = EpisodicMemory(1, 300, 4, 1, eviction="oldest")
    mem.write(torch.randn(1, 200, 4, generator=gen), torch.zeros(1, 200, 1))
    mem.build_index(10, num_probes=10, generator=gen)
    new = torch.full((1, 4), 50.0)
    mem.write(new, torch.ones(1, 1))
    values, weights = mem.read(new, 1, approximate=True)
    assert float(values) == 1.0
    assert float(weights) == 1.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"capacity": 0}, "capacity"),
        ({"kernel": "dot"}, "kernel"),
        ({"eviction": "random"}, "eviction"),
        ({"delta": 0.0}, "delta"),
    ],
    ids=["capacity", "kernel", "eviction", "delta"],
)
def test_bad_construction_is_named(kwargs: dict, match: str) -> None:
    args = {"num_stores": 1, "capacity": 4, "key_dim": 2, "value_dim": 1} | kwargs
    with pytest.raises(ValueError, match=match):
        EpisodicMemory(**args)


def test_bad_calls_are_named() -> None:
    mem = EpisodicMemory(2, 4, 3, 1)
    with pytest.raises(ValueError, match="query must have shape"):
        mem.read(torch.zeros(2, 4), 1)
    with pytest.raises(ValueError, match="k must be"):
        mem.read(torch.zeros(2, 3), 5)
    with pytest.raises(ValueError, match="mask must be bool"):
        mem.write(torch.zeros(2, 3), torch.zeros(2, 1), mask=torch.ones(2))
    with pytest.raises(RuntimeError, match="build_index"):
        mem.read(torch.zeros(2, 3), 1, approximate=True)


def test_state_dict_round_trip() -> None:
    mem, _, _, gen = _filled("cosine")
    copy = EpisodicMemory(3, 40, 5, 2, kernel="cosine", eviction="oldest")
    copy.load_state_dict(mem.state_dict())
    q = torch.randn(3, 5, generator=gen)
    torch.testing.assert_close(copy.read(q, 3)[0], mem.read(q, 3)[0])
    assert copy.clock == mem.clock


def test_pair_mask_writes_selected_pairs_in_order() -> None:
    mem = EpisodicMemory(2, 3, 1, 1, eviction="oldest")
    keys = torch.arange(8.0).view(2, 4, 1)
    mask = torch.tensor([[True, False, True, False], [True, True, True, True]])
    slots = mem.write(keys, keys, mask=mask)
    assert slots.tolist() == [[0, -1, 1, -1], [-1, 0, 1, 2]]
    assert mem.size.tolist() == [2, 3]
    assert mem.keys[0, :2, 0].tolist() == [0.0, 2.0]
    assert mem.keys[1, :, 0].tolist() == [5.0, 6.0, 7.0]


def test_null_similarity_damps_novel_queries() -> None:
    # cosine kernel, τ = 0.1, null at 0.9: an exact match (cos 1) gets e^10 / (e^10 + e^9)
    mem = EpisodicMemory(1, 4, 2, 1, kernel="cosine", temperature=0.1, null_similarity=0.9)
    mem.write(torch.tensor([[[1.0, 0.0], [0.0, 1.0]]]), torch.tensor([[[1.0], [2.0]]]))
    _, weights = mem.read(torch.tensor([[1.0, 0.0]]), 2)
    e = np.exp([10.0, 0.0, 9.0])  # logits cos/τ of the two keys and of the null neighbour
    np.testing.assert_allclose(weights[0].numpy(), (e / e.sum())[:2], rtol=1e-5)
    novel, _ = mem.read(torch.tensor([[1.0, -1.0]]), 2)  # cos 0.71 and -0.71: mostly null
    assert float(novel.abs().max()) < 0.25
    with pytest.raises(ValueError, match="null_similarity"):
        EpisodicMemory(1, 4, 2, 1, kernel="uniform", null_similarity=0.5)
