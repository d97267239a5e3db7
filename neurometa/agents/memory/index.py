"""Approximate nearest-neighbour search for large episodic stores: an inverted file (IVF).

The inverted-file index of Jégou et al. 2011 (the coarse quantiser of FAISS' ``IndexIVFFlat``):
k-means partitions each store's keys into ``num_lists`` cells; a query ranks the cell
centroids, visits the ``num_probes`` nearest cells, and searches exactly only among the keys
in them. Cost per query is ``num_lists + (num_probes / num_lists) * capacity`` key
comparisons instead of ``capacity``; recall (the fraction of the true ``k`` nearest
neighbours returned) grows with ``num_probes`` and with how clustered the keys are —
``benchmarks/memory_read.py`` measures it. Everything is batched over ``B`` stores with
tensor operations (cells are a sort order plus offsets, not Python lists).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["IVFIndex", "kmeans"]

#: Most key floats gathered at once by a search (8 MB of float32; see IVFIndex.search).
_GATHER_FLOATS = 2**21


def _sq_dists(x: Tensor, centroids: Tensor) -> Tensor:
    """Squared distances ``[B, N, L]`` between ``x [B, N, D]`` and ``centroids [B, L, D]``."""
    return (
        x.square().sum(-1, keepdim=True)
        - 2.0 * x @ centroids.transpose(1, 2)
        + centroids.square().sum(-1)[:, None, :]
    )


def kmeans(
    x: Tensor, weight: Tensor, num_clusters: int, *, generator: torch.Generator, num_iters: int
) -> Tensor:
    """Batched Lloyd k-means; returns centroids ``[B, num_clusters, D]``.

    Parameters
    ----------
    x : Tensor, shape (B, N, D)
    weight : Tensor, shape (B, N), bool — which rows take part (filled slots).
    num_clusters : int
    generator : torch.Generator — picks the initial centroids among the weighted rows.
    num_iters : int — Lloyd iterations; a cluster left empty keeps its centroid.
    """
    num_stores, n, d = x.shape
    probs = weight.float() + 1e-12
    init = torch.multinomial(probs, num_clusters, replacement=False, generator=generator)
    b = torch.arange(num_stores, device=x.device)[:, None]
    centroids = x[b, init].clone()
    w = weight.to(x.dtype)[..., None]
    for _ in range(num_iters):
        labels = _sq_dists(x, centroids).argmin(dim=2)  # [B, N]
        sums = torch.zeros_like(centroids).scatter_add_(
            1, labels[..., None].expand(-1, -1, d), x * w
        )
        counts = torch.zeros(num_stores, num_clusters, 1, dtype=x.dtype, device=x.device)
        counts.scatter_add_(1, labels[..., None], w)
        centroids = torch.where(counts > 0, sums / counts.clamp(min=1.0), centroids)
    return centroids


class IVFIndex:
    """Inverted-file index over ``B`` stores (see module docstring).

    Build it with :meth:`train` (normally through ``EpisodicMemory.build_index``).

    Attributes
    ----------
    centroids : Tensor, shape (B, L, D)
    cell : Tensor, shape (B, C), int64 — cell of each slot (``L`` for empty slots).
    """

    def __init__(self, centroids: Tensor, cell: Tensor, num_probes: int) -> None:
        num_lists = centroids.shape[1]
        if not 1 <= num_probes <= num_lists:
            raise ValueError(f"IVFIndex: num_probes must be in [1, {num_lists}], got {num_probes}")
        self.centroids = centroids
        self.cell = cell
        self.num_lists = num_lists
        self.num_probes = num_probes
        self._layout: tuple[Tensor, Tensor, Tensor] | None = None
        self._sorted: tuple[tuple[int, int, int], Tensor, Tensor] | None = None

    @classmethod
    def train(
        cls,
        keys: Tensor,
        valid: Tensor,
        num_lists: int,
        *,
        num_probes: int,
        generator: torch.Generator,
        num_iters: int = 10,
        max_train: int = 20_000,
    ) -> IVFIndex:
        """Fit k-means to (a sample of up to ``max_train``) filled keys and assign all slots."""
        fewest = int(valid.sum(dim=1).min())
        if num_lists < 1 or num_lists > fewest:
            raise ValueError(
                f"IVFIndex: num_lists must be in [1, {fewest}] (filled slots in the "
                f"emptiest store), got {num_lists}"
            )
        sample = min(max_train, fewest)
        pick = torch.multinomial(valid.float(), sample, replacement=False, generator=generator)
        b = torch.arange(keys.shape[0], device=keys.device)[:, None]
        centroids = kmeans(
            keys[b, pick],
            torch.ones_like(pick, dtype=torch.bool),
            num_lists,
            generator=generator,
            num_iters=num_iters,
        )
        index = cls(centroids, torch.full_like(valid, num_lists, dtype=torch.long), num_probes)
        index.cell = torch.where(valid, _sq_dists(keys, centroids).argmin(dim=2), index.cell)
        return index

    def assign(self, keys: Tensor, rows: Tensor, slots: Tensor) -> None:
        """Put the newly written slots ``keys[rows, slots]`` into their nearest cells."""
        new = keys[rows, slots]  # [R, n, D]
        self.cell[rows, slots] = _sq_dists(new, self.centroids[rows.squeeze(1)]).argmin(dim=2)
        self._layout = None

    def mark_empty(self, rows: Tensor) -> None:
        """Remove every slot of stores ``rows`` from the index (the stores were reset)."""
        self.cell[rows] = self.num_lists
        self._layout = None

    def _cells(self) -> tuple[Tensor, Tensor, Tensor]:
        """Slots sorted by cell ``[B, C]``, cell sizes and cell start offsets ``[B, L]``."""
        if self._layout is None:
            order = torch.argsort(self.cell, dim=1, stable=True)
            sizes = torch.zeros(
                self.cell.shape[0], self.num_lists + 1, dtype=torch.long, device=self.cell.device
            ).scatter_add_(1, self.cell, torch.ones_like(self.cell))[:, :-1]
            starts = torch.cumsum(sizes, dim=1) - sizes
            self._layout = (order, sizes, starts)
            self._sorted = None
        return self._layout

    def _sorted_keys(
        self, keys: Tensor, key_norms: Tensor, valid: Tensor, kernel: str
    ) -> tuple[Tensor, Tensor]:
        """Keys in cell order ``[B*C, D]`` and their score bias ``[B*C]`` (cached).

        Cell-ordered copies make the candidates of a cell contiguous in memory. The cache is
        keyed by the tensors' version counters, so in-place changes rebuild it.
        """
        order, _, _ = self._cells()
        version = (keys._version, valid._version, keys.data_ptr())
        if self._sorted is None or self._sorted[0] != version:
            b = torch.arange(keys.shape[0], device=keys.device)[:, None]
            sk, norms, ok = keys[b, order], key_norms[b, order], valid[b, order]
            if kernel == "cosine":
                sk, bias = sk / (norms[..., None] + 1e-8), torch.zeros_like(norms)
            else:
                bias = -norms.square()
            bias = bias.masked_fill(~ok, float("-inf"))
            self._sorted = (version, sk.reshape(-1, keys.shape[2]), bias.flatten())
        return self._sorted[1], self._sorted[2]

    def search(
        self, query: Tensor, keys: Tensor, key_norms: Tensor, valid: Tensor, k: int, kernel: str
    ) -> tuple[Tensor, Tensor]:
        """Approximate ``k``-NN: slot indices ``[B, Q, k]`` and a found mask.

        ``key_norms [B, C]`` are the keys' Euclidean norms (cached by the memory).
        """
        num_stores, num_queries = query.shape[:2]
        capacity = keys.shape[1]
        probes = self._probe(query, kernel)  # [B, Q, P]
        order, sizes, starts = self._cells()
        sorted_keys, sorted_bias = self._sorted_keys(keys, key_norms, valid, kernel)
        lens = sizes[:, None, :].expand(-1, num_queries, -1).gather(2, probes)
        first = starts[:, None, :].expand(-1, num_queries, -1).gather(2, probes)
        ends = torch.cumsum(lens, dim=2)
        total = max(int(ends[..., -1].max()), 1)
        j = torch.arange(total, device=query.device).expand(num_stores, num_queries, total)
        which = torch.searchsorted(ends, j.contiguous(), right=True).clamp(max=self.num_probes - 1)
        pos = first.gather(2, which) + j - (ends - lens).gather(2, which)
        inside = j < ends[..., -1:]
        pos = torch.where(inside, pos, torch.zeros_like(pos)).clamp(max=capacity - 1)
        offset = capacity * torch.arange(num_stores, device=query.device)[:, None, None]
        # gather and score the candidates a few queries at a time: gathering all of them at
        # once (64 x 2,942 x 64 floats = 48 MB at 8 probes on the clustered benchmark) made
        # the read 3x slower (23 vs 7.4 ms, A/B), likely the page faults of a temporary past
        # malloc's 32 MB mmap threshold; chunks of 8 MB time the same as one gather elsewhere
        step = max(1, _GATHER_FLOATS // (num_stores * total * keys.shape[2]))
        scores = torch.cat(
            [
                self._score(
                    query[:, i : i + step],
                    pos[:, i : i + step] + offset,
                    sorted_keys,
                    sorted_bias,
                    kernel,
                )
                for i in range(0, num_queries, step)
            ],
            dim=1,
        ).masked_fill(~inside, float("-inf"))
        top = torch.topk(scores, min(k, total), dim=2)
        best = pos.gather(2, top.indices)  # positions in cell order
        idx = order.gather(1, best.flatten(1)).view_as(best)
        found = torch.isfinite(top.values)
        if total < k:  # pad to k with missing neighbours
            pad = k - total
            idx = torch.cat([idx, idx.new_zeros(num_stores, num_queries, pad)], dim=2)
            found = torch.cat([found, found.new_zeros(num_stores, num_queries, pad)], dim=2)
        return idx, found

    @staticmethod
    def _score(
        query: Tensor, rows: Tensor, sorted_keys: Tensor, sorted_bias: Tensor, kernel: str
    ) -> Tensor:
        """Scores ``[B, Q, T]`` of ``query [B, Q, D]`` against some rows of the sorted keys.

        ``rows [B, Q, T]`` index ``sorted_keys [B*C, D]`` and ``sorted_bias [B*C]``; the score
        is the exact search's (``2 q·h − |h|²``, or ``q·h/|h|`` for the cosine kernel).
        """
        flat = rows.flatten()
        cand = sorted_keys.index_select(0, flat).view(*rows.shape, -1)
        dots = torch.einsum("bqtd,bqd->bqt", cand, query)
        bias = sorted_bias.index_select(0, flat).view_as(dots)
        return torch.add(bias, dots, alpha=1.0 if kernel == "cosine" else 2.0)

    def _probe(self, query: Tensor, kernel: str) -> Tensor:
        """The ``num_probes`` cells nearest each query, ``int64 [B, Q, P]``."""
        if kernel == "cosine":  # rank cells by angle for the cosine kernel
            unit = torch.nn.functional.normalize(query, dim=2)
            cent = torch.nn.functional.normalize(self.centroids, dim=2)
            cell_scores = unit @ cent.transpose(1, 2)
        else:
            cell_scores = -_sq_dists(query, self.centroids)
        return torch.topk(cell_scores, self.num_probes, dim=2).indices
