"""The recording schema as data: dimensions, coordinates, variables and attributes.

One :class:`xarray.Dataset` holds a recording, from an agent (``source="agent"``) or from
a lab (``source="lab"``, loaded through :mod:`neurometa.data`). This module states the
schema as Python data (:data:`VARIABLES`, :data:`FAMILY_VARIABLES`, :data:`COORDS`,
:data:`ATTRS`) so that the validator (:func:`neurometa.record.validate_recording`), the
recorder and the documentation page ``docs/schema.md`` read the same source.

Which variables are required depends on the source:

- agent recordings need ``action``, ``reward``, ``policy`` and ``obs``; ``value``, ``rpe``,
  ``h`` and ``c`` are present where the agent has them (classic baselines have no units);
- lab data needs ``reward`` and the task family's choice variables (``action`` for bandits,
  ``choice1``/``state2`` for the two-step task), a ``subject`` coordinate on ``episode``,
  and has no ``policy`` (an animal's policy is not observed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "SCHEMA_VERSION",
    "SUPPORTED_SCHEMA_VERSIONS",
    "SOURCES",
    "CORE_DIMS",
    "POLICY_DIM",
    "VariableSpec",
    "CoordSpec",
    "AttrSpec",
    "VARIABLES",
    "FAMILY_VARIABLES",
    "LAB_REQUIRED",
    "AGENT_REQUIRED",
    "COORDS",
    "ATTRS",
    "task_family",
    "variable_spec",
    "annotate",
]

#: Version written by this package; bump it (and add a migration) when the schema changes.
SCHEMA_VERSION: int = 1
#: Versions this package can read.
SUPPORTED_SCHEMA_VERSIONS: tuple[int, ...] = (1,)
#: Where a recording comes from.
SOURCES: tuple[str, ...] = ("agent", "lab")
#: Every per-step variable starts with these two dims.
CORE_DIMS: tuple[str, str] = ("episode", "step")
#: Trailing dim of ``policy`` (one entry per action). Not ``"action"``: xarray would turn
#: the ``action`` variable into a coordinate of a dim with its name.
POLICY_DIM: str = "action_id"


@dataclass(frozen=True)
class VariableSpec:
    """One data variable of the schema.

    Parameters
    ----------
    name : str
        Variable name in the dataset.
    dims : tuple of str
        Required dims, in order. ``None`` for the trailing dims of task variables whose
        extra dims are named by the task's ``variable_dims`` (only the leading
        ``("episode", "step")`` is checked then).
    dtype : {"int64", "float", "bool"}
        ``"float"`` means float32 (what the recorder writes) or float64 (accepted from lab
        importers).
    required : tuple of str
        The sources for which the variable must be present.
    long_name, units : str
        Written into the variable's attrs by :func:`annotate`.
    nan_ok : tuple of str
        Sources whose data may hold NaN here (lab data marks missed or padded trials
        with NaN; integer variables use -1 instead).
    """

    name: str
    dims: tuple[str, ...] | None
    dtype: str
    required: tuple[str, ...]
    long_name: str
    units: str = "1"
    nan_ok: tuple[str, ...] = ("lab",)


def _v(
    name: str,
    dims: tuple[str, ...] | None,
    dtype: str,
    long_name: str,
    *,
    required: tuple[str, ...] = (),
    units: str = "1",
) -> VariableSpec:
    return VariableSpec(name, dims, dtype, required, long_name, units)


_ES = CORE_DIMS

#: The variables shared by every task (agent outputs and behaviour).
VARIABLES: dict[str, VariableSpec] = {
    v.name: v
    for v in (
        _v("action", _ES, "int64", "action chosen (-1: no response)", required=("agent",)),
        _v("reward", _ES, "float", "reward received", required=SOURCES),
        _v("policy", (*_ES, POLICY_DIM), "float", "action probabilities", required=("agent",)),
        _v(
            "obs", (*_ES, "obs_feature"), "float", "observation the agent saw", required=("agent",)
        ),
        _v("value", _ES, "float", "state-value estimate V_t"),
        _v("rpe", _ES, "float", "TD error delta_t = r_t + gamma V_(t+1) - V_t (dopamine)"),
        _v("h", (*_ES, "unit"), "float", "LSTM hidden state (prefrontal unit activity)"),
        _v("c", (*_ES, "unit"), "float", "LSTM cell state"),
        # memory read-outs of the episodic-control agents (MFEC / NEC / Box 2)
        _v("q_values", (*_ES, POLICY_DIM), "float", "value Q(s, a) read from each action's store"),
        _v("memory_size", (*_ES, POLICY_DIM), "int64", "pairs stored in each action's store"),
        _v(
            "nearest_distance",
            (*_ES, POLICY_DIM),
            "float",
            "distance from the step's key to the nearest stored key (inf: store empty)",
        ),
    )
}

#: Hidden task variables per task family (``preset`` prefix before ``/``).
FAMILY_VARIABLES: dict[str, dict[str, VariableSpec]] = {
    family: {v.name: v for v in specs}
    for family, specs in {
        "bandit": (
            _v("arm_probs", (*_ES, "arm"), "float", "reward probability of each arm"),
            _v("best_arm", _ES, "int64", "arm with the highest reward probability"),
        ),
        "two_step": (
            _v("choice1", _ES, "int64", "first-stage choice of the trial (-1 before it)"),
            _v("choice2", _ES, "int64", "second-stage choice of the trial"),
            _v("state2", _ES, "int64", "second-stage state reached (0/1)"),
            _v("common_transition", _ES, "bool", "whether the transition was the common one"),
            _v("reward_probs", None, "float", "second-stage reward probabilities"),
        ),
        "harlow": (
            _v("correct_side", _ES, "int64", "side (0 left, 1 right) of the rewarded object"),
            _v("object_left", _ES, "int64", "which object (0/1) is on the left"),
            _v("correct", _ES, "bool", "whether the action chose the rewarded object"),
        ),
        "foraging": (
            _v("bait_probs", None, "float", "baiting probability of each option"),
            _v("baited", None, "bool", "whether each option is baited before the choice"),
            _v("block", _ES, "int64", "block index within the episode"),
        ),
        "contextual_bandit": (
            _v("context_id", _ES, "int64", "identity of the context (barcode)"),
            _v("encounter", _ES, "int64", "how many times the context has been seen (1 = first)"),
            _v("arm_probs", (*_ES, "arm"), "float", "reward probability of each arm"),
            _v("best_arm", _ES, "int64", "arm with the highest reward probability"),
        ),
        "gridworld": (
            _v("position", _ES, "int64", "cell index row * size + col before the step's move"),
            _v("reached_goal", _ES, "bool", "whether the step's move reached the goal"),
        ),
    }.items()
}

#: Hidden task variables every agent recording of a family holds (the task reports them on
#: every step), so that a file labelled with the family has the family's data.
AGENT_REQUIRED: dict[str, tuple[str, ...]] = {
    "two_step": ("choice1", "state2"),
}

#: Variables lab data must hold, per family (default: behaviour as ``action``/``reward``).
LAB_REQUIRED: dict[str, tuple[str, ...]] = {
    "two_step": ("choice1", "state2", "reward"),
    "default": ("action", "reward"),
}


@dataclass(frozen=True)
class CoordSpec:
    """One coordinate of the schema.

    Parameters
    ----------
    name : str
        Coordinate name.
    dims : tuple of str
        The dims it lives on.
    dtype : {"int64", "str"}
        Integer coordinates accept any integer dtype; ``"str"`` accepts unicode or object
        arrays of ``str``.
    required : tuple of str
        Sources for which it must be present (``unit`` is required whenever a variable uses
        the ``unit`` dim).
    meaning : str
        One line for the documentation.
    """

    name: str
    dims: tuple[str, ...]
    dtype: str
    required: tuple[str, ...]
    meaning: str


#: Coordinates of the schema.
COORDS: dict[str, CoordSpec] = {
    c.name: c
    for c in (
        CoordSpec("episode", ("episode",), "int64", SOURCES, "episode index (lab: session/block)"),
        CoordSpec("step", ("step",), "int64", SOURCES, "step index within the episode"),
        CoordSpec("trial", ("step",), "int64", SOURCES, "trial index of each step"),
        CoordSpec(
            "stage", ("step",), "str", SOURCES, "stage name of each step (task.stage_names)"
        ),
        CoordSpec("unit", ("unit",), "int64", (), "unit index (with h, c)"),
        CoordSpec("subject", ("episode",), "str", ("lab",), "subject of each session"),
    )
}


@dataclass(frozen=True)
class AttrSpec:
    """One global attribute of the schema.

    Parameters
    ----------
    name : str
        Attribute name.
    kind : {"int", "float", "str", "json"}
        Python type of the value (``"json"``: a string holding valid JSON).
    required : tuple of str
        Sources for which it must be present.
    meaning : str
        One line for the documentation.
    """

    name: str
    kind: str
    required: tuple[str, ...]
    meaning: str


#: Global attributes (NetCDF-storable types only).
ATTRS: dict[str, AttrSpec] = {
    a.name: a
    for a in (
        AttrSpec("schema_version", "int", SOURCES, "version of this schema"),
        AttrSpec("source", "str", SOURCES, "'agent' (a rollout) or 'lab' (recorded data)"),
        AttrSpec("task", "str", SOURCES, "task name (task.metadata['name'])"),
        AttrSpec("preset", "str", SOURCES, "task preset id, e.g. 'bandit/independent'"),
        AttrSpec("config_json", "json", SOURCES, "configuration (agent, task, recording) as JSON"),
        AttrSpec("neurometa_version", "str", SOURCES, "package version that wrote the file"),
        AttrSpec("agent", "str", ("agent",), "agent name (agent.name)"),
        AttrSpec("seed", "int", ("agent",), "the recording's seed"),
        AttrSpec("discount", "float", ("agent",), "discount gamma used for rpe"),
    )
}


def task_family(task: Any) -> str:
    """The family of a task preset id or of a task: ``bandit``, ``two_step``, ``harlow``, ...

    Parameters
    ----------
    task : str or BatchedTask
        A preset id (its family is the part before ``/``) or a task, wrapped or not (its
        family is ``task.unwrapped.metadata["name"]``).

    Returns
    -------
    str

    Raises
    ------
    TypeError
        For a task whose ``metadata`` names no family.

    Examples
    --------
    >>> task_family("two_step/daw2011")
    'two_step'
    """
    if isinstance(task, str):
        return task.split("/", 1)[0]
    inner = getattr(task, "unwrapped", task)
    name = getattr(inner, "metadata", {}).get("name")
    if not isinstance(name, str):
        raise TypeError(f"{type(inner).__name__} has no metadata['name'] naming its task family")
    return name


def variable_spec(name: str, preset: str | None = None) -> VariableSpec | None:
    """The spec of variable ``name`` (common or of ``preset``'s family), or ``None``."""
    if name in VARIABLES:
        return VARIABLES[name]
    if preset is not None:
        return FAMILY_VARIABLES.get(task_family(preset), {}).get(name)
    return None


def annotate(ds):  # noqa: ANN001, ANN201 - xarray imported lazily by callers
    """Set ``long_name`` and ``units`` attrs on the schema's variables, in place.

    Parameters
    ----------
    ds : xarray.Dataset
        A recording; its ``preset`` attr (if any) selects the family's variables.

    Returns
    -------
    xarray.Dataset
        ``ds`` itself.
    """
    preset = ds.attrs.get("preset")
    for name in ds.data_vars:
        spec = variable_spec(str(name), preset if isinstance(preset, str) else None)
        if spec is not None:
            ds[name].attrs.setdefault("long_name", spec.long_name)
            ds[name].attrs.setdefault("units", spec.units)
    return ds
