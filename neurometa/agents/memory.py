r"""Batched episodic memory: a differentiable neural dictionary (the hippocampal store).

:class:`EpisodicMemory` holds ``B`` independent stores (one per batch member / episode
stream), each with ``capacity`` preallocated slots of a key (``key_dim``) and a value
(``value_dim``). It implements the DND of Pritzel et al. 2017 ("Neural episodic control")
as used by Ritter et al. 2018 (episodic meta-RL) and, with a fixed embedding, Blundell et al.
2016 (model-free episodic control).

Reading
-------
``read(query, k)`` finds the ``k`` nearest stored keys of each query (exact k-NN with
:func:`torch.topk`, or an approximate inverted-file search, see
:mod:`neurometa.agents.memory_index`) and returns the kernel-weighted sum of their values

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

from typing import Literal, NamedTuple

import torch
from torch import Tensor

from neurometa.agents.memory_index import IVFIndex

__all__ = ["EpisodicMemory", "MemoryRead", "KERNELS", "EVICTIONS"]

KERNELS: tuple[str, ...] = ("inverse_distance", "cosine", "uniform")
EVICTIONS: tuple[str, ...] = ("oldest", "lru")
_EPS = 1e-8


class MemoryRead(NamedTuple):
    """Everything one read produces (``(Q,)`` only when queries had a query axis).

    Attributes
    ----------
    values : Tensor, shape (B, (Q,) value_dim)
        Kernel-weighted sum of the neighbours' values.
    weights : Tensor, shape (B, (Q,) k)
        Kernel weights, summing to one over existing neighbours.
    indices : Tensor, shape (B, (Q,) k), int64
        Slots of the neighbours (``-1`` where fewer than ``k`` entries exist).
    """

    values: Tensor
    weights: Tensor
    indices: Tensor


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
        for name, val in [("num_stores", num_stores), ("capacity", capacity)]:
            if not isinstance(val, int) or val < 1:
                raise ValueError(f"EpisodicMemory: {name} must be a positive int, got {val!r}")
        for name, val in [("key_dim", key_dim), ("value_dim", value_dim)]:
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
        self._cache: tuple[tuple[int, int], dict[str, Tensor]] | None = None
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
        """The store's tensors (for checkpoints); the clock as a 0-d tensor."""
        return {
            "keys": self.keys.detach().clone(),
            "values": self.values.detach().clone(),
            "valid": self.valid.clone(),
            "written_at": self.written_at.clone(),
            "last_used": self.last_used.clone(),
            "clock": torch.tensor(self.clock),
        }

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Restore tensors saved by :meth:`state_dict` (shapes must match)."""
        for name in ("keys", "values", "valid", "written_at", "last_used"):
            if state[name].shape != getattr(self, name).shape:
                raise ValueError(
                    f"EpisodicMemory: {name} has shape {tuple(state[name].shape)}, "
                    f"expected {tuple(getattr(self, name).shape)}"
                )
            with torch.no_grad():
                getattr(self, name).copy_(state[name])
        self.clock = int(state["clock"])
        self.index = None

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
        self._check(keys, "keys", self.key_dim, query_axis=True)
        self._check(values, "values", self.value_dim, query_axis=True)
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
        with torch.no_grad():
            self.keys[rows, slots] = keys[rows, cols].detach().to(self.dtype)
            self.values[rows, slots] = values[rows, cols].detach().to(self.dtype)
        self.valid[rows, slots] = True
        self.written_at[rows, slots] = now
        self.last_used[rows, slots] = now
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
        self._check(values, "values", self.value_dim, query_axis=True)
        ok = slots >= 0 if mask is None else (slots >= 0) & mask[:, None]
        rows, cols = ok.nonzero(as_tuple=True)
        target = slots[rows, cols]
        with torch.no_grad():
            self.values[rows, target] = values[rows, cols].detach().to(self.dtype)
        self.last_used[rows, target] = self._tick()

    def find_exact(self, keys: Tensor, atol: float = 1e-6) -> Tensor:
        """Slot holding a key within ``atol`` (max-abs) of ``keys [B, key_dim]``, else ``-1``."""
        self._check(keys, "keys", self.key_dim, query_axis=False)
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
        self._check(q, "query", self.key_dim, query_axis=True)
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
        weights = self._kernel_weights(q.to(self.dtype), keys, found)
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
                norms = self._key_norms()
                return self.index.search(q, self.keys.detach(), norms, self.valid, k, self.kernel)
            keys, bias = self._search_keys()
            # inverse distance: 2 q.h - |h|^2 ranks like -|q - h|^2; cosine: q.h/|h|
            scores = torch.matmul(q, keys.transpose(1, 2))  # (baddbmm is ~10x slower on CPU)
            scores = scores.mul_(self._alpha).add_(bias[:, None, :])
            top = torch.topk(scores, k, dim=2)
            return top.indices, torch.isfinite(top.values)

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
        :class:`neurometa.agents.memory_index.IVFIndex`.
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

    @property
    def _alpha(self) -> float:
        return 1.0 if self.kernel == "cosine" else 2.0

    def _cached(self) -> dict[str, Tensor]:
        """Key norms, search keys and score bias, recomputed when keys or slots change.

        Tensor ``_version`` counters change on every in-place update (writes, resets and
        optimiser steps on learnable keys), so the cache can never be stale.
        """
        version = (self.keys._version, self.valid._version)
        if self._cache is None or self._cache[0] != version:
            keys = self.keys.detach()
            norms = keys.norm(dim=2)
            empty = torch.zeros_like(norms).masked_fill(~self.valid, float("-inf"))
            if self.kernel != "cosine":
                search_keys, bias = keys, empty - norms.square()
            else:
                search_keys, bias = keys / (norms[..., None] + _EPS), empty
            self._cache = (version, {"norms": norms, "keys": search_keys, "bias": bias})
        return self._cache[1]

    def _key_norms(self) -> Tensor:
        """``|key|`` per slot ``[B, C]``."""
        return self._cached()["norms"]

    def _search_keys(self) -> tuple[Tensor, Tensor]:
        """Keys ``[B, C, D]`` and additive bias ``[B, C]`` whose affine score ranks neighbours."""
        cache = self._cached()
        return cache["keys"], cache["bias"]

    def _kernel_weights(self, q: Tensor, keys: Tensor, found: Tensor) -> Tensor:
        """Normalised kernel weights ``[B, Q, k]`` of the gathered neighbour ``keys``."""
        if self.kernel != "cosine":
            if self.kernel == "uniform":
                raw = found.to(keys.dtype)
            else:
                raw = found / ((q[:, :, None, :] - keys).square().sum(dim=3) + self.delta)
            total = raw.sum(dim=2, keepdim=True)
            return raw / torch.where(total > 0, total, torch.ones_like(total))
        cos = torch.nn.functional.cosine_similarity(q[:, :, None, :], keys, dim=3, eps=_EPS)
        logits = (cos / self.temperature).masked_fill(~found, float("-inf"))
        if self.null_similarity is None:
            weights = torch.softmax(logits, dim=2)
            return torch.nan_to_num(weights, nan=0.0)  # empty store: all -inf -> zeros
        null = logits.new_full((*logits.shape[:2], 1), self.null_similarity / self.temperature)
        return torch.softmax(torch.cat([logits, null], dim=2), dim=2)[..., :-1]

    def _mark_used(self, idx: Tensor, used: Tensor) -> None:
        if self.eviction != "lru":
            return
        flat_idx, flat_used = idx.flatten(1).clamp(min=0), used.flatten(1)
        stamp = torch.where(flat_used, self._tick(), torch.full_like(flat_idx, -self.capacity))
        self.last_used.scatter_reduce_(1, flat_idx, stamp, reduce="amax")

    def _check(self, x: Tensor, name: str, width: int, *, query_axis: bool) -> None:
        want = 3 if query_axis else 2
        shape = "(B, N, width)" if query_axis else "(B, width)"
        if x.dim() != want or x.shape[0] != self.num_stores or x.shape[-1] != width:
            raise ValueError(
                f"EpisodicMemory: {name} must have shape {shape} = "
                f"({self.num_stores}, ..., {width}), got {tuple(x.shape)}"
            )
        if not torch.is_floating_point(x):
            raise ValueError(f"EpisodicMemory: {name} must be floating point, got {x.dtype}")
