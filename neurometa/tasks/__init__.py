"""Batched, torch-native tasks of the meta-RL literature (see docs/tasks.md).

``make(preset, num_envs, device="cpu", **overrides)`` builds a task from a registered preset
(``list_presets()``) or a Gymnasium environment (``gym:<env-id>``); ``MetaRLInputs`` adds the
meta-RL inputs (previous action and reward, trial index) to any task.
"""

from neurometa.tasks.base import BatchedTask, StepResult, TaskError
from neurometa.tasks.registry import PRESETS, UnknownTaskError, list_presets, make, preset_config
from neurometa.tasks.wrappers import MetaRLInputs

__all__ = [
    "PRESETS",
    "BatchedTask",
    "MetaRLInputs",
    "StepResult",
    "TaskError",
    "UnknownTaskError",
    "list_presets",
    "make",
    "preset_config",
]
