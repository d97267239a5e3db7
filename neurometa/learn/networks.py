"""Network builders the trainer can train, by the name in ``NetworkConfig.kind``.

A builder is ``builder(config, input_dim, num_actions, generator) -> nn.Module``; the
module follows the network contract of :mod:`neurometa.agents.pfc` (``initial_state`` and
``forward(obs, state) -> (logits, value, state, activity)``) and draws its initial weights
from ``generator`` only. Other agents (e.g. the episodic LSTM) register theirs with
:func:`register_network`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from neurometa.agents.pfc import PFCNetwork
from neurometa.config import ConfigError
from neurometa.learn.config import NetworkConfig

__all__ = ["NETWORKS", "NetworkBuilder", "register_network", "build_network"]

NetworkBuilder = Callable[[NetworkConfig, int, int, torch.Generator], nn.Module]


def _build_pfc(
    config: NetworkConfig, input_dim: int, num_actions: int, generator: torch.Generator
) -> nn.Module:
    if config.options:
        raise ConfigError(
            "NetworkConfig.options: the 'pfc' network takes no options, "
            f"got {sorted(config.options)}"
        )
    return PFCNetwork(input_dim, num_actions, config.num_units, generator=generator)


#: Registered builders by ``NetworkConfig.kind``.
NETWORKS: dict[str, NetworkBuilder] = {"pfc": _build_pfc}


def register_network(kind: str, builder: NetworkBuilder) -> None:
    """Register ``builder`` under ``kind`` (an existing kind is an error)."""
    if kind in NETWORKS and NETWORKS[kind] is not builder:
        raise ValueError(f"network kind {kind!r} is already registered")
    NETWORKS[kind] = builder


def build_network(
    config: NetworkConfig, input_dim: int, num_actions: int, generator: torch.Generator
) -> nn.Module:
    """Build the network named by ``config.kind`` with weights drawn from ``generator``.

    Raises
    ------
    ConfigError
        For an unknown kind (listing the registered ones).
    """
    if config.kind not in NETWORKS:
        raise ConfigError(
            f"NetworkConfig.kind = {config.kind!r} is not registered; "
            f"valid kinds: {', '.join(sorted(NETWORKS))}"
        )
    return NETWORKS[config.kind](config, input_dim, num_actions, generator)
