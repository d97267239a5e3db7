"""The episodic store: a batched differentiable neural dictionary (the hippocampal memory).

- :mod:`~neurometa.agents.memory.store`: :class:`EpisodicMemory`, writing, reading with a
  kernel over the ``k`` nearest keys, eviction;
- :mod:`~neurometa.agents.memory.search`: the score GEMM, the exact two-stage top-k and the
  kernel weights;
- :mod:`~neurometa.agents.memory.index`: the inverted-file index for approximate search;
- :mod:`~neurometa.agents.memory.state`: the store's state dict (checkpoints).

Examples
--------
>>> import torch
>>> mem = EpisodicMemory(num_stores=2, capacity=8, key_dim=3, value_dim=1)
>>> _ = mem.write(torch.eye(3)[:2], torch.ones(2, 1))
>>> values, weights = mem.read(torch.eye(3)[:2], k=1)
>>> values.shape
torch.Size([2, 1])
"""

from neurometa.agents.memory.index import IVFIndex
from neurometa.agents.memory.store import EVICTIONS, KERNELS, EpisodicMemory, MemoryRead

__all__ = ["EVICTIONS", "KERNELS", "EpisodicMemory", "IVFIndex", "MemoryRead"]
