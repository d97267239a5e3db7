"""neurometa: fast and slow reinforcement learning as biologically mapped agents.

Prefrontal LSTM (inner loop), dopamine-like TD error (outer loop), hippocampal episodic
store; the tasks of the meta-RL literature; recordings as xarray datasets; and the
regression analyses labs use to compare agents with neurons and behaviour.

The names below are the front door: everything a lab needs from a notebook or a script,
each documented with an example in the API reference. They are imported lazily, so
``import neurometa`` loads neither torch nor the analysis stack; the first use of a name
imports its module (torch only for the names that train, run or record agents).

Examples
--------
>>> import neurometa as nm
>>> task = nm.make_task("bandit/independent", 4, num_trials=10)
>>> ds = nm.record_agent(nm.make_baseline("thompson", task), task, 8, seed=0, progress=False)
>>> round(float(nm.regret_summary(ds)["final"]["mean"]), 3) >= 0
True
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> ``"module:attribute"`` it comes from (imported on first use).
_API: dict[str, str] = {
    # tasks
    "make_task": "neurometa.tasks.registry:make",
    "list_tasks": "neurometa.tasks.registry:list_presets",
    "MetaRLInputs": "neurometa.tasks.wrappers:MetaRLInputs",
    # training and agents
    "TrainConfig": "neurometa.learn.config:TrainConfig",
    "get_preset": "neurometa.learn.presets:get_preset",
    "replace_paths": "neurometa.config:replace_paths",
    "train": "neurometa.learn.trainer:train",
    "load_agent": "neurometa.learn.checkpoint:load_agent",
    "make_agent": "neurometa.agents.registry:make_agent",
    "agent_names": "neurometa.agents.registry:agent_names",
    "make_baseline": "neurometa.agents.baselines:make_baseline",
    "list_baselines": "neurometa.agents.baselines:list_baselines",
    # recordings
    "record_agent": "neurometa.record.recorder:record",
    "open_recording": "neurometa.record.io:open_recording",
    "save_recording": "neurometa.record.io:save_recording",
    "validate_recording": "neurometa.record.validate:validate_recording",
    "record_on_trials": "neurometa.record.replay:replay",
    # lab data
    "read_nwb": "neurometa.data.nwb:read_nwb",
    "NWBImportConfig": "neurometa.data.nwb:NWBImportConfig",
    "read_nwb_behaviour": "neurometa.data.nwb_behaviour:read_nwb_behaviour",
    "read_two_step_csv": "neurometa.data.tables:read_two_step_csv",
    "read_bandit_csv": "neurometa.data.tables:read_bandit_csv",
    "table_to_recording": "neurometa.data.tables:table_to_recording",
    "from_dataframe": "neurometa.data.frames:from_dataframe",
    "export_nwb": "neurometa.data.nwb_export:export_nwb",
    # behaviour models
    "fit_model": "neurometa.behaviour.fitting:fit",
    "compare_models": "neurometa.behaviour.compare:compare_models",
    "add_latents": "neurometa.behaviour.latents:add_latents",
    "simulate_model": "neurometa.behaviour.simulation:simulate",
    # analyses
    "coding_regression": "neurometa.analysis.coding:coding_regression",
    "coding_fractions": "neurometa.analysis.coding:coding_fractions",
    "two_step_trials": "neurometa.analysis.two_step:two_step_trials",
    "stay_probabilities": "neurometa.analysis.two_step:stay_probabilities",
    "stay_regression": "neurometa.analysis.two_step:stay_regression",
    "lagged_regression": "neurometa.analysis.two_step:lagged_regression",
    "rpe_decomposition": "neurometa.analysis.rpe:rpe_decomposition",
    "regret_curve": "neurometa.analysis.bandits:regret_curve",
    "regret_summary": "neurometa.analysis.bandits:regret_summary",
    "better_arm_by_difficulty": "neurometa.analysis.bandits:better_arm_by_difficulty",
    "harlow_accuracy": "neurometa.analysis.bandits:harlow_accuracy",
    "decode": "neurometa.analysis.population:decode",
    "compare_coding": "neurometa.analysis.compare:compare_coding",
    "compare_behaviour": "neurometa.analysis.compare:compare_behaviour",
    "compare_rsa": "neurometa.analysis.compare_rsa:compare_rsa",
    "compare_geometry": "neurometa.analysis.compare_rsa:compare_geometry",
    "encoding_models": "neurometa.analysis.encoding:encoding_models",
    # sweeps
    "SweepSpec": "neurometa.sweep.spec:SweepSpec",
    "run_sweep": "neurometa.sweep.engine:run_sweep",
    "open_results": "neurometa.sweep.results:open_results",
}

#: Submodules reachable as attributes (``nm.plotting.plot_coding_fractions(...)``).
_MODULES: dict[str, str] = {"plotting": "neurometa.analysis.plotting"}

__all__ = ["__version__", *_API, *_MODULES]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562) and cache the name here."""
    if name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    elif name in _API:
        module, attr = _API[name].split(":")
        value = getattr(importlib.import_module(module), attr)
    else:
        raise AttributeError(f"module 'neurometa' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
