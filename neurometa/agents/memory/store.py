r"""Batched episodic memory: a differentiable neural dictionary (the hippocampal store).

:class:`EpisodicMemory` holds ``B`` independent stores (one per batch member / episode
stream), each with ``capacity`` preallocated slots of a key (``key_dim``) and a value
(``value_dim``). It implements the DND of Pritzel et al. 2017 ("Neural episodic control")
as used by Ritter et al. 2018 (episodic meta-RL) and, with a fixed embedding, Blundell et al.
2016 (model-free episodic control).

Reading
-------
``read(query, k)`` finds the ``k`` nearest stored keys of each query (exact k-NN: one
matrix product with cached augmented keys and an exact two-stage top-k, see
:mod:`neurometa.agents.memory.search`; or an approximate inverted-file search, see
:mod:`neurometa.agents.memory.index`) and returns the kernel-weighted sum of their values

.. math:: o = \sum_{i \in \mathrm{kNN}(q)} w_i v_i, \qquad w_i = k(q, h_i) / \sum_j k(q, h_j)

with one of three kernels:

- ``"inverse_distance"`` (NEC): :math:`k(q, h) = 1 / (\lVert q - h \rVert^2 + \delta)`;
  neighbours are the ``k`` smallest Euclidean distances.
- ``"cosine"``: :math:`w = \mathrm{softmax}_i(\cos(q, h_i) / \tau)`; neighbours are the
  ``k`` largest cosine similarities.
- ``"uniform"`` (MFEC): :math:`w_i = 1/k`, the plain average of the ``k`` nearest neighbours
  by Euclidean distance.

Weights sum to one over the neighbours that exist; a store with fewer than ``k`` entries
gives zero weight to the missing ones, and an empty store reads zeros (all weights zero).

Gradients: the neighbour search is not differentiable (indices), but the weights are
recomputed from the gathered keys, so gradients flow to the query always, to the stored keys
and values when the memory is ``learnable`` (NEC), and never through ``write``.

Eviction
--------
A full store overwrites, per batch member, the slot chosen by ``eviction``:

- ``"oldest"``: the slot written longest ago (first-in first-out);
- ``"lru"``: the least recently used slot, where a slot is *used* when written and when it is
  among the ``k`` neighbours (with non-zero weight) returned by a read (NEC).

Empty slots are always filled first, in index order. Both rules are "smallest time stamp
wins" over one integer clock, so eviction is one ``topk`` over ``[B, capacity]`` — no Python
lists in the hot path.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from neurometa.agents.memory.index import IVFIndex
from neurometa.agents.memory.search import (
    MemoryRead,
    SearchCache,
    check_tensor,
    exact_topk,
    kernel_weights,
)
from neurometa.agents.memory.state import load_memory_state, memory_state

__all__ = ["EpisodicMemory", "MemoryRead", "KERNELS", "EVICTIONS"]

KERNELS: tuple[str, ...] = ("inverse_distance", "cosine", "uniform")
EVICTIONS: tuple[str, ...] = ("oldest", "lru")


class EpisodicMemory:
    """``B`` independent key-value stores with k-NN kernel reads (see module docstring).

    Parameters
    ----------
    num_stores : int
        Number of independent stores ``B`` (one per batch member).
    capacity : int
        Slots per store.
    key_dim, value_dim : int
        Widths of keys and values.
    kernel : {"inverse_distance", "cosine", "uniform"}
        Similarity kernel.
    delta : float
        The δ of the inverse-distance kernel (NEC used 1e-3).
    temperature : float
        The τ of the cosine kernel's softmax.
    null_similarity : float, optional
        Cosine kernel only: add a "null" neighbour of this similarity to the softmax and
        drop its weight, so weights sum to *less* than one when no stored key is more
        similar than it (a novel query reads ≈ 0 instead of the nearest unrelated value).
    eviction : {"oldest", "lru"}
        Which slot a full store overwrites.
    learnable : bool
        If True, ``keys`` and ``values`` are leaf tensors with ``requires_grad`` (NEC's
        gradient updates of the dictionary); reads then carry gradients to them.
    device, dtype
        Where and in which float type the store lives.
    """

    def __init__(
        self,
        num_stores: int,
        capacity: int,
        key_dim: int,
        value_dim: int,
        *,
        kernel: Literal["inverse_distance", "cosine", "uniform"] = "inverse_distance",
        delta: float = 1e-3,
        temperature: float = 1.0,
        null_similarity: float | None = None,
        eviction: Literal["oldest", "lru"] = "lru",
        learnable: bool = False,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> None:
        sizes = {"num_stores": num_stores, "capacity": capacity, "key_dim": key_dim}
        for name, val in (sizes | {"value_dim": value_dim}).items():
            if not isinstance(val, int) or val < 1:
                raise ValueError(f"EpisodicMemory: {name} must be a positive int, got {val!r}")
        if kernel not in KERNELS:
            raise ValueError(f"EpisodicMemory: kernel {kernel!r} is not one of {KERNELS}")
        if eviction not in EVICTIONS:
            raise ValueError(f"EpisodicMemory: eviction {eviction!r} is not one of {EVICTIONS}")
        if not delta > 0 or not temperature > 0:
            raise ValueError(
                f"EpisodicMemory: delta and temperature must be > 0, got {delta}, {temperature}"
            )
        self.num_stores, self.capacity = num_stores, capacity
        self.key_dim, self.value_dim = key_dim, value_dim
        self.kernel, self.eviction = kernel, eviction
        self.delta, self.temperature = float(delta), float(temperature)
        if null_similarity is not None and kernel != "cosine":
            raise ValueError("EpisodicMemory: null_similarity needs kernel='cosine'")
        self.null_similarity = None if null_similarity is None else float(null_similarity)
        self.learnable = learnable
        self.device = torch.device(device)
        self.dtype = dtype
        shape = (num_stores, capacity)
        self.keys = torch.zeros(*shape, key_dim, device=self.device, dtype=dtype)
        self.values = torch.zeros(*shape, value_dim, device=self.device, dtype=dtype)
        self.keys.requires_grad_(learnable)
        self.values.requires_grad_(learnable)
        self.valid = torch.zeros(shape, dtype=torch.bool, device=self.device)
        self.written_at = torch.zeros(shape, dtype=torch.long, device=self.device)
        self.last_used = torch.zeros(shape, dtype=torch.long, device=self.device)
        self.clock = 0
        self.index: IVFIndex | None = None
        self._search = SearchCache(kernel)
        self.reset()

    # ------------------------------------------------------------------ state
    @property
    def size(self) -> Tensor:
        """Number of filled slots per store, ``int64 [B]``."""
        return self.valid.sum(dim=1)

    def reset(self, mask: Tensor | None = None) -> None:
        """Empty all stores, or those where ``mask`` (``bool [B]``) is True."""
        rows = self._rows(mask)
        # Empty slots carry stamps -capacity..-1 so they are filled first, in index order.
        empty = torch.arange(self.capacity, device=self.device) - self.capacity
        with torch.no_grad():
            self.keys[rows] = 0.0
            self.values[rows] = 0.0
        self.valid[rows] = False
        self.written_at[rows] = empty
        self.last_used[rows] = empty
        if self.index is not None:
            self.index.mark_empty(rows)

    def state_dict(self) -> dict[str, Tensor]:
        """The store's used slots, clock and capacity, for checkpoints.

        See :func:`neurometa.agents.memory.state.memory_state`: only the slot prefix that
        was ever touched is kept, so a large, mostly empty store saves little.
        """
        return memory_state(self)

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Restore a state saved by :meth:`state_dict` exactly (the index is dropped)."""
        load_memory_state(self, state)

    def _rows(self, mask: Tensor | None) -> Tensor:
        """Indices of the stores selected by ``mask`` (all when None)."""
        if mask is None:
            return torch.arange(self.num_stores, device=self.device)
        if mask.shape != (self.num_stores,) or mask.dtype != torch.bool:
            raise ValueError(
                f"EpisodicMemory: mask must be bool of shape ({self.num_stores},), "
                f"got {mask.dtype} {tuple(mask.shape)}"
            )
        return mask.nonzero().squeeze(1)

    def _tick(self, n: int = 1) -> Tensor:
        stamps = torch.arange(self.clock, self.clock + n, device=self.device)
        self.clock += n
        return stamps

    # ------------------------------------------------------------------ write
    def write(self, keys: Tensor, values: Tensor, mask: Tensor | None = None) -> Tensor:
        """Store key-value pairs, evicting by the configured rule when full.

        Parameters
        ----------
        keys : Tensor, shape (B, key_dim) or (B, N, key_dim)
        values : Tensor, shape (B, value_dim) or (B, N, value_dim)
        mask : Tensor, shape (B,) or (B, N), bool, optional
            Which stores (or which pairs) are written; pairs of one store go, in order, to
            that store's next slots under the eviction rule.

        Returns
        -------
        Tensor, shape (B,) or (B, N), int64
            The slot each pair went to (``-1`` where masked out or, when more than
            ``capacity`` pairs are written to one store, overwritten by a later pair).
            Written values are detached: gradients never flow through a write.
        """
        single = keys.dim() == 2
        keys, values = (keys[:, None], values[:, None]) if single else (keys, values)
        check_tensor(keys, "keys", self.num_stores, self.key_dim, query_axis=True)
        check_tensor(values, "values", self.num_stores, self.value_dim, query_axis=True)
        num_new = keys.shape[1]
        if values.shape[1] != num_new:
            raise ValueError(f"EpisodicMemory.write: {num_new} keys but {values.shape[1]} values")
        items = self._item_mask(mask, num_new)
        # rank of each kept pair within its store, counted from the last one
        from_end = items.flip(1).cumsum(1).flip(1) - 1
        items = items & (from_end < self.capacity)
        rank = items.cumsum(1) - 1  # [B, N]
        n = min(num_new, self.capacity)
        stamps = self.written_at if self.eviction == "oldest" else self.last_used
        order = torch.topk(stamps, n, dim=1, largest=False, sorted=True).indices  # [B, n]
        rows, cols = items.nonzero(as_tuple=True)
        slots = order[rows, rank[rows, cols]]
        now = self._tick(num_new)[cols]
        before = (self.keys._version, self.valid._version)
        with torch.no_grad():
            self.keys[rows, slots] = keys[rows, cols].detach().to(self.dtype)
            self.values[rows, slots] = values[rows, cols].detach().to(self.dtype)
        self.valid[rows, slots] = True
        self.written_at[rows, slots] = now
        self.last_used[rows, slots] = now
        self._search.written(self.keys, self.valid, rows, slots, before)
        if self.index is not None:
            self.index.assign(self.keys.detach(), rows[:, None], slots[:, None])
        out = torch.full((self.num_stores, num_new), -1, dtype=torch.long, device=self.device)
        out[rows, cols] = slots
        return out[:, 0] if single else out

    def _item_mask(self, mask: Tensor | None, num_new: int) -> Tensor:
        """Expand a store mask ``[B]`` or pair mask ``[B, N]`` to ``bool [B, N]``."""
        full = torch.ones(self.num_stores, num_new, dtype=torch.bool, device=self.device)
        if mask is None:
            return full
        if mask.dtype != torch.bool or mask.shape not in (
            (self.num_stores,),
            (self.num_stores, num_new),
        ):
            raise ValueError(
                f"EpisodicMemory: mask must be bool of shape ({self.num_stores},) or "
                f"({self.num_stores}, {num_new}), got {mask.dtype} {tuple(mask.shape)}"
            )
        return full & (mask[:, None] if mask.dim() == 1 else mask)

    def update_values(self, slots: Tensor, values: Tensor, mask: Tensor | None = None) -> None:
        """Overwrite the values in ``slots`` with ``values``.

        Parameters
        ----------
        slots : Tensor, shape (B,) or (B, N), int64
            Slots to update; ``-1`` entries are skipped.
        values : Tensor, shape (B, value_dim) or (B, N, value_dim)
        mask : Tensor, shape (B,), bool, optional
            Stores where False are left alone.

        Updated slots count as used (for ``"lru"`` eviction).
        """
        single = slots.dim() == 1
        slots, values = (slots[:, None], values[:, None]) if single else (slots, values)
        check_tensor(values, "values", self.num_stores, self.value_dim, query_axis=True)
        ok = slots >= 0 if mask is None else (slots >= 0) & mask[:, None]
        rows, cols = ok.nonzero(as_tuple=True)
        target = slots[rows, cols]
        with torch.no_grad():
            self.values[rows, target] = values[rows, cols].detach().to(self.dtype)
        self.last_used[rows, target] = self._tick()

    def find_exact(self, keys: Tensor, atol: float = 1e-6) -> Tensor:
        """Slot holding a key within ``atol`` (max-abs) of ``keys [B, key_dim]``, else ``-1``."""
        check_tensor(keys, "keys", self.num_stores, self.key_dim, query_axis=False)
        with torch.no_grad():
            close = ((self.keys - keys[:, None]).abs().amax(dim=2) <= atol) & self.valid
            found = close.any(dim=1)
            slot = close.to(torch.int8).argmax(dim=1)
        return torch.where(found, slot, torch.full_like(slot, -1))

    # ------------------------------------------------------------------ read
    def read(self, query: Tensor, k: int, *, approximate: bool = False) -> tuple[Tensor, Tensor]:
        """Kernel-weighted read of the ``k`` nearest neighbours.

        Parameters
        ----------
        query : Tensor, shape (B, key_dim) or (B, Q, key_dim)
        k : int
            Number of neighbours (``1 <= k <= capacity``).
        approximate : bool
            Use the inverted-file index built by :meth:`build_index` instead of exact search.

        Returns
        -------
        values : Tensor, shape (B, (Q,) value_dim)
        weights : Tensor, shape (B, (Q,) k)
        """
        out = self.lookup(query, k, approximate=approximate)
        return out.values, out.weights

    def lookup(self, query: Tensor, k: int, *, approximate: bool = False) -> MemoryRead:
        """Like :meth:`read`, also returning neighbour slots (see :class:`MemoryRead`)."""
        single = query.dim() == 2
        q = query[:, None] if single else query
        check_tensor(q, "query", self.num_stores, self.key_dim, query_axis=True)
        if not isinstance(k, int) or not 1 <= k <= self.capacity:
            raise ValueError(
                f"EpisodicMemory.read: k must be an int in [1, {self.capacity}], got {k!r}"
            )
        idx, found = self.search(q, k, approximate=approximate)  # [B, Q, k]
        rows = idx.clamp(min=0) + self.capacity * torch.arange(
            self.num_stores, device=self.device
        ).view(-1, 1, 1)
        flat = rows.flatten()  # index_select on the flat store is faster than fancy indexing
        keys = self.keys.reshape(-1, self.key_dim).index_select(0, flat)
        vals = self.values.reshape(-1, self.value_dim).index_select(0, flat)
        keys, vals = keys.view(*idx.shape, -1), vals.view(*idx.shape, -1)  # [B, Q, k, D|V]
        params = (self.kernel, self.delta, self.temperature, self.null_similarity)
        weights = kernel_weights(q.to(self.dtype), keys, found, *params)
        values = torch.einsum("bqk,bqkv->bqv", weights, vals)
        self._mark_used(idx, found & (weights > 0))
        idx = torch.where(found, idx, torch.full_like(idx, -1))
        if single:
            return MemoryRead(values[:, 0], weights[:, 0], idx[:, 0])
        return MemoryRead(values, weights, idx)

    def search(self, query: Tensor, k: int, *, approximate: bool = False) -> tuple[Tensor, Tensor]:
        """Indices of the ``k`` nearest keys, ``int64 [B, Q, k]``, and a found mask.

        ``query`` has shape ``(B, Q, key_dim)``. Not differentiable. ``found`` (bool) is False
        for neighbours that do not exist (store smaller than ``k``).
        """
        with torch.no_grad():
            q = query.detach().to(self.dtype)
            if approximate:
                if self.index is None:
                    raise RuntimeError(
                        "EpisodicMemory: approximate read needs an index; call build_index() first"
                    )
                norms = self._search.get(self.keys, self.valid)[1]  # cached |key| [B, C]
                return self.index.search(q, self.keys.detach(), norms, self.valid, k, self.kernel)
            scores = self._search.scores(q, self.keys, self.valid)  # [B, C, Q], reused buffer
            values, indices = exact_topk(scores, k, dim=-2)  # [B, Q, k]
            return indices, torch.isfinite(values)

    def build_index(
        self,
        num_lists: int,
        *,
        num_probes: int = 8,
        generator: torch.Generator,
        num_iters: int = 10,
    ) -> IVFIndex:
        """Train an inverted-file index (k-means coarse quantiser) for approximate reads.

        Keys written later are assigned to their nearest centroid; call again to retrain
        (e.g. after a learnable memory's keys have moved). See
        :class:`neurometa.agents.memory.index.IVFIndex`.
        """
        self.index = IVFIndex.train(
            self.keys.detach(),
            self.valid,
            num_lists,
            num_probes=num_probes,
            generator=generator,
            num_iters=num_iters,
        )
        return self.index

    def _mark_used(self, idx: Tensor, used: Tensor) -> None:
        if self.eviction != "lru":
            return
        flat_idx, flat_used = idx.flatten(1).clamp(min=0), used.flatten(1)
        stamp = torch.where(flat_used, self._tick(), torch.full_like(flat_idx, -self.capacity))
        self.last_used.scatter_reduce_(1, flat_idx, stamp, reduce="amax")
