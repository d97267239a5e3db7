"""Network builders the trainer can train, by the name in ``NetworkConfig.kind``.

A builder is ``builder(config, input_dim, num_actions, generator) -> nn.Module``; the
module follows :class:`neurometa.agents.base.Network` (``initial_state`` and
``forward(obs, state) -> (logits, value, state, activity)``) and draws its initial weights
from ``generator`` only. Built in: ``pfc`` (the LSTM PFC network) and ``episodic_lstm``
(episodic meta-RL, Ritter et al. 2018); add your own with :func:`register_network`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from neurometa.agents.episodic.lstm import EpisodicLSTMNetwork
from neurometa.agents.pfc import PFCNetwork
from neurometa.config import ConfigError
from neurometa.learn.config import NetworkConfig

__all__ = [
    "NETWORKS",
    "NetworkBuilder",
    "EPISODIC_OPTIONS",
    "register_network",
    "build_network",
    "build_episodic_lstm",
]

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


#: Accepted ``NetworkConfig.options`` of the episodic LSTM and their types.
EPISODIC_OPTIONS: dict[str, type] = {
    "context_dim": int,
    "capacity": int,
    "num_neighbours": int,
    "temperature": float,
    "null_similarity": float,
}


def build_episodic_lstm(
    config: NetworkConfig, input_dim: int, num_actions: int, generator: torch.Generator
) -> nn.Module:
    """Build an :class:`EpisodicLSTMNetwork` from ``config`` (Ritter et al. 2018).

    ``config.options``: ``context_dim`` (int, required: leading observation features used as
    the memory key — the barcode length of the contextual bandit), ``capacity`` (default
    1000), ``num_neighbours`` (default 10), ``temperature`` (default 0.05),
    ``null_similarity`` (default none: plain softmax; see ``EpisodicLSTMNetwork``).
    """
    options = dict(config.options)
    unknown = sorted(set(options) - set(EPISODIC_OPTIONS))
    if unknown:
        raise ConfigError(
            f"NetworkConfig.options: unknown option(s) {unknown} for 'episodic_lstm'; "
            f"valid: {', '.join(EPISODIC_OPTIONS)}"
        )
    if "context_dim" not in options:
        raise ConfigError("NetworkConfig.options: 'episodic_lstm' needs 'context_dim'")
    for key, kind in EPISODIC_OPTIONS.items():
        if key in options and not isinstance(options[key], int | float if kind is float else int):
            raise ConfigError(f"NetworkConfig.options.{key}: expected {kind.__name__}")
    try:
        net = EpisodicLSTMNetwork(input_dim, num_actions, config.num_units, **options)
    except ValueError as err:
        raise ConfigError(f"NetworkConfig.options: {err}") from err
    net.reset_parameters(generator)
    return net


#: Registered builders by ``NetworkConfig.kind``.
NETWORKS: dict[str, NetworkBuilder] = {"pfc": _build_pfc, "episodic_lstm": build_episodic_lstm}


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
