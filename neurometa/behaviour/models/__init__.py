"""The behavioural models, one file each, and their registry.

Adding a model: write one file with a :class:`~neurometa.behaviour.model.BehaviourModel`
subclass (its paper and equations in the module docstring; parameter names from
:data:`~neurometa.behaviour.params.PARAMETERS`) and add one line to :data:`MODELS`.

Examples
--------
>>> sorted(models_for("bandit"))
['matching', 'q_asymmetric', 'q_choice_kernel', 'q_forgetting', 'q_learning']
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

__all__ = ["MODELS", "DEFAULT_MODELS", "get_model", "models_for"]

_P = "neurometa.behaviour.models."
#: Model name -> "module:Class".
MODELS: dict[str, str] = {
    "q_learning": _P + "q_learning:QLearning",
    "q_forgetting": _P + "q_forgetting:QForgetting",
    "q_asymmetric": _P + "q_asymmetric:QAsymmetric",
    "q_choice_kernel": _P + "q_choice_kernel:QChoiceKernel",
    "matching": _P + "matching:LocalMatching",
    "baiting_q": _P + "baiting:BaitingQ",
    "hybrid": _P + "two_step:Hybrid",
    "model_free": _P + "two_step:ModelFree",
    "model_based": _P + "two_step:ModelBased",
}

#: The model each family's recordings get when none is named (e.g. by ``analyze coding``).
DEFAULT_MODELS: dict[str, str] = {
    "bandit": "q_learning",
    "foraging": "q_forgetting",
    "two_step": "hybrid",
}

#: The models compared by default for each family (``neurometa fit all``).
FAMILY_MODELS: dict[str, tuple[str, ...]] = {
    "bandit": ("q_learning", "q_forgetting", "q_asymmetric", "q_choice_kernel"),
    "foraging": (
        "q_learning",
        "q_forgetting",
        "q_asymmetric",
        "q_choice_kernel",
        "matching",
        "baiting_q",
    ),
    "two_step": ("hybrid", "model_free", "model_based"),
}


def get_model(model: Any) -> Any:
    """The model registered as ``model`` (a name), or ``model`` itself if it is a model."""
    if not isinstance(model, str):
        return model
    if model not in MODELS:
        close = difflib.get_close_matches(model, MODELS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise KeyError(f"unknown model {model!r}{hint}; models: {', '.join(sorted(MODELS))}")
    module, _, cls = MODELS[model].partition(":")
    return getattr(importlib.import_module(module), cls)()


def models_for(family: str) -> list[str]:
    """Names of the registered models that fit recordings of ``family``."""
    return [name for name in MODELS if family in get_model(name).families]
