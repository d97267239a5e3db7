"""Training presets and the network builder of the episodic agents.

Importing this module (``neurometa.learn`` does) registers the ``"episodic_lstm"`` network
kind with :func:`neurometa.learn.networks.register_network` and adds the presets below to
:data:`neurometa.learn.presets.PRESETS`, so ``neurometa train ritter2018/episodic`` trains the
episodic meta-RL agent of Ritter et al. 2018 with the same A2C outer loop as the plain
meta-RL agent (``ritter2018/plain``).

``NetworkConfig.options`` of ``"episodic_lstm"``: ``context_dim`` (int, required: leading
observation features used as the memory key — the barcode length of the contextual bandit),
``capacity`` (default 1000), ``num_neighbours`` (default 10), ``temperature`` (default 0.05),
``null_similarity`` (default none: plain softmax; see ``EpisodicLSTMNetwork``).
"""

from __future__ import annotations

import torch
from torch import nn

from neurometa.agents.episodic_lstm import EpisodicLSTMNetwork
from neurometa.config import ConfigError
from neurometa.learn.config import EvalConfig, NetworkConfig, OptimConfig, TaskConfig, TrainConfig
from neurometa.learn.networks import NETWORKS, register_network
from neurometa.learn.presets import PRESETS

__all__ = ["EPISODIC_OPTIONS", "EPISODIC_PRESETS", "build_episodic_lstm"]

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
    """Build an :class:`EpisodicLSTMNetwork` from ``config`` (see the module docstring)."""
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


#: 16,000 updates: at 8,000 the episodic agent was 0.03-0.05 worse than the plain one on
#: first encounters on every seed (half of its training episodes are first encounters, all
#: of the plain agent's are); at 16,000 the two match there (benchmarks/episodic_meta_rl.py,
#: docs/episodic.md). About 2 (plain) and 4 (episodic) minutes on one core.
_RITTER_OPTIM = OptimConfig(
    num_updates=16000,
    batch_size=32,
    learning_rate=1e-3,
    max_grad_norm=1.0,
    discount=0.9,
    gae_lambda=1.0,
    value_cost=0.05,
    entropy_cost=0.05,
    entropy_final=0.0,
    entropy_anneal_fraction=1.0,
)


def _ritter(kind: str, options: dict) -> TrainConfig:
    return TrainConfig(
        # a new pool of contexts (and an empty store) every 20 episodes, as in the benchmark
        task=TaskConfig(preset="contextual_bandit/ritter2018", trial_index=True, lifetime=20),
        network=NetworkConfig(kind=kind, num_units=48, options=options),
        optim=_RITTER_OPTIM,
        eval=EvalConfig(interval=100, episodes=256, greedy=True),
        checkpoint_interval=100,
        log_interval=10,
    )


#: The episodic meta-RL agent and its plain meta-RL control on the recurring-context bandit.
EPISODIC_PRESETS: dict[str, TrainConfig] = {
    # null_similarity 0.9: a novel barcode (cosine <= 0.8 to every stored one) reinstates
    # ~nothing; benchmarks/episodic_meta_rl.py measured first-encounter interference without it
    "ritter2018/episodic": _ritter("episodic_lstm", {"context_dim": 10, "null_similarity": 0.9}),
    "ritter2018/plain": _ritter("pfc", {}),
}

if NETWORKS.get("episodic_lstm") is not build_episodic_lstm:
    register_network("episodic_lstm", build_episodic_lstm)
for _name, _config in EPISODIC_PRESETS.items():
    PRESETS.setdefault(_name, _config)
