"""Models of lab behaviour: one recursion per model, one fitting engine, latents, comparison.

Torch-free. Every model (:mod:`neurometa.behaviour.models`, one file each, its paper in the
docstring) is one recursion — values, choice probabilities, prediction errors — used by
the fitter, the simulator, the latent regressors and the simulated baseline agents.

Steps, each a function:

- :func:`behaviour_data`: choices and outcomes of a recording or trial table;
- :func:`fit` / :func:`fit_models`: ML, MAP or empirical Bayes, all subjects at once;
- :func:`add_latents`: the fitted model's values and prediction errors into the recording;
- :func:`compare_models`: held-out log-likelihood per trial, BIC, iBIC;
  :func:`plot_model_comparison`;
- :func:`simulate`: subjects with known parameters on a task;
  :func:`parameter_recovery`, :func:`model_recovery`.

Examples
--------
>>> from neurometa import behaviour
>>> table = behaviour.simulate("q_learning", {"alpha": [0.4], "beta": [6.0]},
...                            "bandit/reversal", 300, seed=2)
>>> fits = behaviour.fit("q_learning", table, family="bandit", progress=False)
>>> round(float(fits["alpha"].iloc[0]), 1)
0.4
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "PARAMETERS",
    "MODELS",
    "DEFAULT_MODELS",
    "FAMILY_MODELS",
    "BehaviourModel",
    "BehaviourData",
    "BehaviourDataError",
    "GivenPolicy",
    "behaviour_data",
    "get_model",
    "models_for",
    "run_model",
    "fit",
    "fit_models",
    "simulate",
    "model_latents",
    "add_latents",
    "cross_validate",
    "compare_models",
    "plot_model_comparison",
    "parameter_recovery",
    "model_recovery",
]

_WHERE = {
    "PARAMETERS": "params",
    "MODELS": "models",
    "DEFAULT_MODELS": "models",
    "FAMILY_MODELS": "models",
    "get_model": "models",
    "models_for": "models",
    "BehaviourModel": "model",
    "run_model": "model",
    "BehaviourData": "data",
    "BehaviourDataError": "data",
    "behaviour_data": "data",
    "GivenPolicy": "models.given_policy",
    "fit": "fitting",
    "fit_models": "fitting",
    "simulate": "simulation",
    "model_latents": "latents",
    "add_latents": "latents",
    "cross_validate": "compare",
    "compare_models": "compare",
    "plot_model_comparison": "compare",
    "parameter_recovery": "recovery",
    "model_recovery": "recovery",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"neurometa.behaviour.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'neurometa.behaviour' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
