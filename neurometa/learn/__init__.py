"""The outer loop: pure A2C losses, the trainer, checkpoints and named presets.

``train(config, run_dir, seed=...)`` trains a network and writes a run folder
(``Trainer.step()`` is one update); ``load_agent(run_dir)`` returns the frozen agent;
``PRESETS`` holds the named settings.
"""

from neurometa.learn.checkpoint import load_agent, load_network
from neurometa.learn.config import EvalConfig, NetworkConfig, OptimConfig, TaskConfig, TrainConfig
from neurometa.learn.evaluate import evaluate
from neurometa.learn.networks import NETWORKS, build_network, register_network
from neurometa.learn.presets import DEFAULT_PRESET, PRESETS, get_preset
from neurometa.learn.trainer import Trainer, TrainingDivergedError, train

__all__ = [
    "DEFAULT_PRESET",
    "NETWORKS",
    "PRESETS",
    "EvalConfig",
    "NetworkConfig",
    "OptimConfig",
    "TaskConfig",
    "TrainConfig",
    "Trainer",
    "TrainingDivergedError",
    "build_network",
    "evaluate",
    "get_preset",
    "load_agent",
    "load_network",
    "register_network",
    "train",
]
