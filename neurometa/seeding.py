"""Seeding: one integer seed per run, split into explicit, independent generators.

A run's seed is split with :class:`numpy.random.SeedSequence` into named child streams
(by default ``task``, ``sampling`` and ``weights``). Each stream gives either a NumPy
``Generator`` or a seeded ``torch.Generator``; library code never touches global RNG state.

Examples
--------
>>> seeds = RunSeeds(7)
>>> a = seeds.numpy("task").integers(1000)
>>> b = RunSeeds(7).numpy("task").integers(1000)
>>> int(a) == int(b)
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["STREAMS", "RunSeeds", "torch_generator", "child_seed"]

#: The named streams every run has, in a fixed order (the order fixes the split).
#: (Appending a stream keeps the others: a spawned child depends on its index only.)
STREAMS: tuple[str, ...] = (
    "task", "sampling", "weights", "eval", "memory", "extra", "lifetime"
)  # fmt: skip


def child_seed(seed: int, stream: str, streams: tuple[str, ...] = STREAMS) -> int:
    """Return a 63-bit integer seed for ``stream`` derived from ``seed``.

    Parameters
    ----------
    seed : int
        The run's seed (non-negative).
    stream : str
        One of ``streams``.
    streams : tuple of str
        The ordered stream names; the index of ``stream`` picks the spawned child.

    Returns
    -------
    int
        A seed in ``[0, 2**63)``, identical for identical ``(seed, stream)``.
    """
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if stream not in streams:
        raise KeyError(f"unknown seed stream {stream!r}; valid streams: {', '.join(streams)}")
    child = np.random.SeedSequence(int(seed)).spawn(len(streams))[streams.index(stream)]
    low, high = (int(w) for w in child.generate_state(2, dtype=np.uint32))
    return (low + (high << 32)) >> 1


def torch_generator(seed: int, device: str = "cpu"):  # noqa: ANN201 - torch imported lazily
    """Return a ``torch.Generator`` on ``device`` seeded with ``seed``.

    Parameters
    ----------
    seed : int
        Any non-negative integer (e.g. from :func:`child_seed`).
    device : str
        Torch device of the generator (``"cpu"`` or ``"cuda"``).
    """
    import torch

    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed) % (2**63))
    return gen


@dataclass(frozen=True)
class RunSeeds:
    """The explicit random streams of one run, all derived from one integer seed.

    Parameters
    ----------
    seed : int
        The run's seed.
    """

    seed: int
    """The run's single integer seed."""
    streams: tuple[str, ...] = field(default=STREAMS)
    """Names of the child streams, in spawn order."""

    def __post_init__(self) -> None:
        child_seed(self.seed, self.streams[0], self.streams)  # validates the seed

    def int(self, stream: str) -> int:
        """Integer seed of ``stream``."""
        return child_seed(self.seed, stream, self.streams)

    def numpy(self, stream: str) -> np.random.Generator:
        """A fresh NumPy ``Generator`` for ``stream``."""
        return np.random.default_rng(self.int(stream))

    def torch(self, stream: str, device: str = "cpu"):  # noqa: ANN201
        """A fresh seeded ``torch.Generator`` for ``stream`` on ``device``."""
        return torch_generator(self.int(stream), device)
