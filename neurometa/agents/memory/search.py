r"""Exact k-nearest-neighbour search and kernel weights of :class:`EpisodicMemory`.

Scores
------
Every kernel ranks neighbours by an affine score of the stored key ``h``:

- distance kernels (``"inverse_distance"``, ``"uniform"``):
  :math:`s(q, h) = 2 q \cdot h - \lVert h \rVert^2 = \lVert q \rVert^2 - \lVert q - h \rVert^2`,
  so the largest scores are the smallest Euclidean distances;
- ``"cosine"``: :math:`s(q, h) = q \cdot h / \lVert h \rVert`, which ranks like
  :math:`\cos(q, h)` for a fixed query.

:class:`SearchCache` keeps, per store, the *augmented key matrix*
``[a h, b]`` of shape ``(B, C, D + 1)`` (``a = 2, b = -|h|^2`` or ``a = 1/|h|, b = 0``;
``b = -inf`` for empty slots), so the scores of all queries are one matrix product with the
augmented queries ``[q, 1]`` — no separate passes to scale and add a bias — written into a
reused ``(B, C, Q)`` buffer (slots × queries: the faster GEMM output layout here). Rows are
updated in place when slots are written, and rebuilt when the keys change otherwise (tensor
version counters tell which). Everything is float32 (or the memory's dtype); no precision
is traded for speed.

Exact top-k in two stages
-------------------------
:func:`exact_topk` replaces one ``topk`` over all ``N`` scores of a query by:

1. split the ``N`` scores into ``R = ceil(N / c)`` consecutive blocks of ``c`` and take each
   block's maximum (one streaming pass);
2. keep the ``k`` blocks with the largest maxima and run ``topk`` on their ``k c`` scores.

This is exact: let :math:`\tau` be the ``k``-th largest block maximum. Each of the ``k``
kept blocks holds a score :math:`\ge \tau`, so the ``k``-th largest score is
:math:`\ge \tau`; every score in a dropped block is :math:`\le` its block maximum
:math:`\le \tau`. Hence the ``k`` largest scores can all be taken from the kept blocks
(a dropped score can only *tie* the ``k``-th value, and ties may be broken either way, as
with ``torch.topk``). With ``c ≈ sqrt(N / k)`` both ``topk`` calls would see ``≈ sqrt(N k)``
scores instead of ``N``; the default is half that, ``c = floor(sqrt(N / k)) // 2``, because
the gather of the kept blocks' scores (strided in the slots × queries layout) costs more than
the ``topk`` over the extra maxima: on 100,000 slots, k = 50, 64 queries, blocks of 22
(4,545 maxima, 1,100 candidates per query) took 4.3 ms with one thread and 2.0 ms with two,
against 5.3 and 2.8 ms for blocks of 44; blocks of 16–24 were fastest from 30,000 to 300,000
slots (2026-12-06).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

__all__ = [
    "MIN_TWO_STAGE",
    "MemoryRead",
    "SearchCache",
    "check_tensor",
    "exact_topk",
    "kernel_weights",
]

#: Stores with fewer slots than this use a single ``torch.topk`` (it is as fast there).
MIN_TWO_STAGE = 8192
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


def check_tensor(x: Tensor, name: str, num_stores: int, width: int, *, query_axis: bool) -> None:
    """Raise a ``ValueError`` naming ``name`` unless ``x`` is float ``(B, [N,] width)``."""
    want = 3 if query_axis else 2
    shape = "(B, N, width)" if query_axis else "(B, width)"
    if x.dim() != want or x.shape[0] != num_stores or x.shape[-1] != width:
        raise ValueError(
            f"EpisodicMemory: {name} must have shape {shape} = "
            f"({num_stores}, ..., {width}), got {tuple(x.shape)}"
        )
    if not torch.is_floating_point(x):
        raise ValueError(f"EpisodicMemory: {name} must be floating point, got {x.dtype}")


def exact_topk(
    scores: Tensor, k: int, *, dim: int = -1, block: int | None = None
) -> tuple[Tensor, Tensor]:
    """The ``k`` largest scores along ``dim``, exactly (see the module docstring).

    Parameters
    ----------
    scores : Tensor, shape (..., N) for ``dim=-1`` or (M, N, Q) for ``dim=-2``, contiguous
        ``dim=-2`` is the layout of :meth:`SearchCache.scores` (slots × queries, which the
        GEMM writes faster than queries × slots).
    k : int
        ``1 <= k <= N``.
    dim : {-1, -2}
        The dim of the ``N`` candidates.
    block : int, optional
        Block length ``c``; default ``max(1, floor(sqrt(N / k)) // 2)``. Stores with fewer than
        :data:`MIN_TWO_STAGE` slots, or fewer than ``16 k`` (blocks shorter than 2), fall back to
        one ``torch.topk``.

    Returns
    -------
    values : Tensor, shape (..., k), or (M, Q, k) for ``dim=-2`` — in decreasing order.
    indices : Tensor, int64, same shape — positions along ``dim``.
    """
    if dim not in (-1, -2) or (dim == -2 and scores.dim() != 3):
        raise ValueError(f"exact_topk: dim must be -1, or -2 for (M, N, Q) scores; got {dim}")
    n = scores.shape[dim]
    if not 1 <= k <= n:
        raise ValueError(f"exact_topk: k must be in [1, {n}], got {k}")
    root = math.isqrt(n // k)
    c = block if block is not None else max(1, root // 2)
    few = block is None and (n < MIN_TWO_STAGE or 4 * k * root > n)  # N < 16 k: blocks of < 2
    if few or -(-n // c) <= k:  # one topk is as fast (or there are too few blocks)
        rows = scores if dim == -1 else scores.mT.contiguous()  # topk reads rows fastest
        top = torch.topk(rows, k, dim=-1)
        return top.values, top.indices
    cube = scores.reshape(-1, n, 1) if dim == -1 else scores  # [M, N, Q]
    values, indices = _two_stage(cube.contiguous(), k, c)  # [M, Q, k]
    if dim == -1:
        return values.view(*scores.shape[:-1], k), indices.view(*scores.shape[:-1], k)
    return values, indices


def _two_stage(s: Tensor, k: int, c: int) -> tuple[Tensor, Tensor]:
    """Top ``k`` along dim 1 of ``s [M, N, Q]`` via blocks of ``c`` rows -> ``[M, Q, k]``."""
    m, n, q = s.shape
    whole = (n // c) * c
    maxima = s[:, :whole].view(m, n // c, c, q).amax(dim=2)  # [M, R, Q]
    if whole < n:  # a last, shorter block
        maxima = torch.cat([maxima, s[:, whole:].amax(dim=1, keepdim=True)], dim=1)
    kept = torch.topk(maxima.transpose(1, 2).contiguous(), k, dim=2, sorted=False).indices
    rows = (kept[..., None] * c + torch.arange(c, device=s.device)).flatten(2)  # [M, Q, kc]
    base = torch.arange(m, device=s.device)[:, None, None] * n
    flat = (base + rows.clamp(max=n - 1)) * q + torch.arange(q, device=s.device)[:, None]
    candidates = s.view(-1).take(flat)
    if whole < n:  # positions past the end (last block) never win
        candidates = candidates.masked_fill(rows >= n, float("-inf"))
    top = torch.topk(candidates, k, dim=2)
    return top.values, rows.gather(2, top.indices)


class SearchCache:
    """Augmented key matrices and key norms of a memory's stores (see module docstring).

    Parameters
    ----------
    kernel : str
        The memory's kernel (``"cosine"`` or a distance kernel).
    """

    def __init__(self, kernel: str) -> None:
        self.kernel = kernel
        self.version: tuple[int, int] | None = None
        self.matrix: Tensor | None = None  # [B, C, D + 1]
        self.norms: Tensor | None = None  # [B, C]
        self._scores: Tensor | None = None  # preallocated output of the score product

    def _rows(self, keys: Tensor, valid: Tensor) -> tuple[Tensor, Tensor]:
        """Augmented rows ``[..., D + 1]`` and norms ``[...]`` of ``keys [..., D]``."""
        norms = keys.norm(dim=-1)
        if self.kernel == "cosine":
            scaled, bias = keys / (norms[..., None] + _EPS), torch.zeros_like(norms)
        else:
            scaled, bias = 2.0 * keys, -norms.square()
        bias = bias.masked_fill(~valid, float("-inf"))
        return torch.cat([scaled, bias[..., None]], dim=-1), norms

    def get(self, keys: Tensor, valid: Tensor) -> tuple[Tensor, Tensor]:
        """``(matrix [B, C, D + 1], norms [B, C])`` for the current ``keys`` and ``valid``."""
        version = (keys._version, valid._version)
        if self.matrix is None or self.version != version:
            self.matrix, self.norms = self._rows(keys.detach(), valid)
            self.version = version
        return self.matrix, self.norms

    def written(
        self, keys: Tensor, valid: Tensor, rows: Tensor, slots: Tensor, before: tuple[int, int]
    ) -> None:
        """Update the rows of slots ``(rows, slots)`` just written (``before``: old versions).

        When the cache did not match the tensors before the write it is left to rebuild.
        """
        if self.matrix is None or self.version != before:
            return
        new, norms = self._rows(keys.detach()[rows, slots], valid[rows, slots])
        self.matrix[rows, slots] = new
        self.norms[rows, slots] = norms
        self.version = (keys._version, valid._version)

    def scores(self, query: Tensor, keys: Tensor, valid: Tensor) -> Tensor:
        """Scores ``[B, C, Q]`` of ``query [B, Q, D]`` against every slot (``-inf``: empty).

        Slots × queries: MKL writes this tall output faster than its transpose (measured
        ~20 % on the 100,000 × 64 benchmark). The output buffer is reused between calls:
        consume it before the next call.
        """
        matrix, _ = self.get(keys, valid)
        b, q = query.shape[:2]
        aug = torch.cat([query, query.new_ones(b, q, 1)], dim=2)
        shape = (b, matrix.shape[1], q)
        if self._scores is None or self._scores.shape != shape:
            self._scores = torch.empty(shape, dtype=matrix.dtype, device=matrix.device)
        out = self._scores
        if b == 1:  # a plain GEMM into the buffer (bmm adds overhead for one store)
            torch.mm(matrix[0], aug[0].T, out=out[0])
        else:
            torch.bmm(matrix, aug.transpose(1, 2), out=out)
        return out


def kernel_weights(
    q: Tensor,
    keys: Tensor,
    found: Tensor,
    kernel: str,
    delta: float,
    temperature: float,
    null_similarity: float | None,
) -> Tensor:
    r"""Normalised kernel weights of the gathered neighbours.

    Parameters
    ----------
    q : Tensor, shape (B, Q, D)
    keys : Tensor, shape (B, Q, k, D) — the neighbours' keys.
    found : Tensor, shape (B, Q, k), bool — which neighbours exist.
    kernel, delta, temperature, null_similarity
        As in :class:`~neurometa.agents.memory.EpisodicMemory`.

    Returns
    -------
    Tensor, shape (B, Q, k)
        ``inverse_distance``: :math:`w_i \propto 1 / (\lVert q - h_i \rVert^2 + \delta)`;
        ``uniform``: :math:`w_i = 1 / k_{found}`; ``cosine``:
        :math:`w = \mathrm{softmax}(\cos(q, h_i) / \tau)` (with the null neighbour's logit
        appended and its weight dropped when ``null_similarity`` is set). Missing neighbours
        get 0; an empty store gives all zeros. Differentiable in ``q`` and ``keys``.
    """
    if kernel != "cosine":
        if kernel == "uniform":
            raw = found.to(keys.dtype)
        else:
            raw = found / ((q[:, :, None, :] - keys).square().sum(dim=3) + delta)
        total = raw.sum(dim=2, keepdim=True)
        return raw / torch.where(total > 0, total, torch.ones_like(total))
    cos = torch.nn.functional.cosine_similarity(q[:, :, None, :], keys, dim=3, eps=_EPS)
    logits = (cos / temperature).masked_fill(~found, float("-inf"))
    if null_similarity is None:
        weights = torch.softmax(logits, dim=2)
        return torch.nan_to_num(weights, nan=0.0)  # empty store: all -inf -> zeros
    null = logits.new_full((*logits.shape[:2], 1), null_similarity / temperature)
    return torch.softmax(torch.cat([logits, null], dim=2), dim=2)[..., :-1]
