"""Agents that act on batched tasks: the contract, the networks, the memory, the baselines.

- :mod:`~neurometa.agents.base`: the :class:`Agent` protocol, the network protocols
  (:class:`Network`, :class:`TapedNetwork`, :class:`EpisodicNetwork`), :class:`FrozenAgent`
  (a trained network as an agent) and the action choice (:func:`choose_actions`);
- :mod:`~neurometa.agents.pfc`: the prefrontal LSTM network of meta-RL, with its fast
  kernel in :mod:`~neurometa.agents.lstm_kernel`;
- :mod:`~neurometa.agents.memory`: the episodic store;
- :mod:`~neurometa.agents.episodic`: agents built on it (episodic meta-RL, episodic control);
- :mod:`~neurometa.agents.baselines`: classic agents with no learned weights;
- :mod:`~neurometa.agents.registry`: :func:`make_agent`, any of them by name.

Names are imported lazily. The behavioural models the simple baselines run live in the
torch-free :mod:`neurometa.behaviour`.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "Agent": "base",
    "Network": "base",
    "TapedNetwork": "base",
    "EpisodicNetwork": "base",
    "FrozenAgent": "base",
    "choose_actions": "base",
    "sample_actions": "base",
    "make_agent": "registry",
    "agent_names": "registry",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    """Import the public names on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"neurometa.agents.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'neurometa.agents' has no attribute {name!r}")
