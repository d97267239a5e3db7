"""Classic baseline agents (no learned weights) and their registry.

Every baseline follows :class:`neurometa.agents.base.Agent` and acts on a whole batch at
once. Build one with :func:`make_baseline`; :func:`list_baselines` says which exist and
which task families they apply to. Agent modules are imported only when a baseline is
made. The Rescorla-Wagner, F-Q and hybrid agents run the behavioural models of
:mod:`neurometa.behaviour` (:mod:`~neurometa.agents.baselines.model_agent`).

Examples
--------
>>> [name for name, _, _ in list_baselines("bandit")][:3]
['bayes_optimal', 'gittins', 'greedy']
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any, NamedTuple

__all__ = ["BaselineInfo", "BASELINES", "list_baselines", "make_baseline"]


class BaselineInfo(NamedTuple):
    """Where a baseline lives and what it applies to."""

    agent: str
    """``module:Class`` of the agent."""
    config: str
    """``module:Class`` of its frozen config (built strictly from the keyword parameters)."""
    families: tuple[str, ...]
    """Task families (``metadata['name']`` of the task) it can play."""
    description: str
    """One line."""
    fixed: tuple[tuple[str, Any], ...] = ()
    """Config fields this baseline pins (e.g. ``w = 0`` for the model-free end)."""


_M = "neurometa.agents.baselines."
BASELINES: dict[str, BaselineInfo] = {
    "bayes_optimal": BaselineInfo(
        _M + "index_agents:BayesOptimalAgent", _M + "index_agents:BayesOptimalConfig",
        ("bandit",), "Bayes-optimal finite-horizon policy by exact DP for the task's prior",
    ),
    "gittins": BaselineInfo(
        _M + "index_agents:GittinsAgent", _M + "index_agents:GittinsConfig",
        ("bandit",), "Gittins index of Beta(1,1) arms, discount 1 - 1/T by default",
    ),
    "thompson": BaselineInfo(
        _M + "bandit_agents:ThompsonAgent", _M + "bandit_agents:ThompsonConfig",
        ("bandit",), "Thompson sampling from the posterior under the task's prior",
    ),
    "ucb1": BaselineInfo(
        _M + "bandit_agents:UCB1Agent", _M + "bandit_agents:UCB1Config",
        ("bandit",), "UCB1 (Auer et al. 2002)",
    ),
    "rescorla_wagner": BaselineInfo(
        _M + "model_agent:RescorlaWagnerAgent", _M + "model_agent:RescorlaWagnerConfig",
        ("bandit",), "Rescorla-Wagner / Q-learning values with softmax choice",
    ),
    "greedy": BaselineInfo(
        _M + "bandit_agents:GreedyAgent", _M + "bandit_agents:GreedyConfig",
        ("bandit",), "(epsilon-)greedy on the posterior mean under the task's prior",
    ),
    "hybrid": BaselineInfo(
        _M + "model_agent:HybridAgent", _M + "model_agent:HybridParams",
        ("two_step",), "Daw 2011 hybrid model-based / model-free agent (weight w)",
    ),
    "model_free": BaselineInfo(
        _M + "model_agent:HybridAgent", _M + "model_agent:HybridParams",
        ("two_step",), "Daw 2011 hybrid agent at w = 0 (model-free SARSA(lambda))",
        (("w", 0.0),),
    ),
    "model_based": BaselineInfo(
        _M + "model_agent:HybridAgent", _M + "model_agent:HybridParams",
        ("two_step",), "Daw 2011 hybrid agent at w = 1 (model-based)", (("w", 1.0),),
    ),
    "harlow_ideal": BaselineInfo(
        _M + "harlow:HarlowObserver", _M + "harlow:HarlowObserverConfig",
        ("harlow",), "ideal one-shot observer: coin on trial 1, then the rewarded object",
    ),
    "matching": BaselineInfo(
        _M + "foraging:MatchingForager", _M + "foraging:MatchingConfig",
        ("foraging",), "local matching law on leaky-integrated income (Sugrue et al. 2004)",
    ),
    "q_forager": BaselineInfo(
        _M + "model_agent:QForager", _M + "model_agent:QForagerConfig",
        ("foraging",), "forgetting Q-learning with softmax (Ito & Doya 2009)",
    ),
}  # fmt: skip


def _load(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def list_baselines(family: str | None = None) -> list[tuple[str, tuple[str, ...], str]]:
    """Registered baselines as ``(name, task families, description)``, sorted by name.

    Parameters
    ----------
    family : str, optional
        Keep only the baselines that play this task family (e.g. ``"two_step"``).

    Examples
    --------
    >>> import neurometa as nm
    >>> [name for name, families, description in nm.list_baselines("two_step")]
    ['hybrid', 'model_based', 'model_free']
    """
    return [
        (name, info.families, info.description)
        for name, info in sorted(BASELINES.items())
        if family is None or family in info.families
    ]


def make_baseline(name: str, task: Any, **params: Any) -> Any:
    """Build the baseline ``name`` for ``task`` with config fields ``params``.

    Parameters
    ----------
    name : str
        A registered name (see :func:`list_baselines`).
    task : BatchedTask
        The task it will play (checked against the baseline's families; the agent reads
        the task's prior and horizon in ``begin``).
    **params
        Fields of the baseline's config, validated strictly.

    Returns
    -------
    Agent
        Call ``agent.begin(task, generator)`` at every ``task.reset()``.

    Raises
    ------
    KeyError
        For an unknown baseline (naming the valid ones).
    ValueError
        If the baseline does not apply to the task's family.
    neurometa.config.ConfigError
        For an unknown parameter or a value out of range.

    Examples
    --------
    >>> import neurometa as nm
    >>> task = nm.make_task("bandit/independent", 16)
    >>> agent = nm.make_baseline("thompson", task)
    >>> ds = nm.record_agent(agent, task, 16, seed=0, progress=False)
    >>> ds.attrs["agent"]
    'thompson'
    """
    if name not in BASELINES:
        close = difflib.get_close_matches(str(name), BASELINES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise KeyError(f"unknown baseline {name!r}{hint}; valid: {', '.join(sorted(BASELINES))}")
    from neurometa.record.spec import task_family  # lazily: keep this package import light

    info = BASELINES[name]
    family = task_family(task)
    if family not in info.families:
        suitable = [n for n, fams, _ in list_baselines(family)]
        raise ValueError(
            f"baseline {name!r} plays {', '.join(info.families)} tasks, not {family!r}; "
            f"baselines for {family!r}: {', '.join(suitable) or 'none'}"
        )
    for key, value in info.fixed:
        if key in params:
            raise ValueError(f"baseline {name!r} fixes {key} = {value}; use 'hybrid' to set it")
    config = _load(info.config).from_dict({**params, **dict(info.fixed)})
    agent = _load(info.agent)(config)
    agent.name = name  # e.g. "model_free" rather than the class's "hybrid"
    return agent
