"""One way to get any agent by name: baselines, episodic control and trained runs.

:func:`make_agent` is to agents what :func:`neurometa.tasks.make` is to tasks. A name is

- a baseline (``thompson``, ``bayes_optimal``, ``hybrid``, ...; see
  :func:`neurometa.agents.baselines.list_baselines`), built for the task it will play;
- an episodic-control agent (``box2``, ``mfec``, ``nec``: the presets of
  :data:`neurometa.agents.episodic.EPISODIC_CONTROL_PRESETS`), built with an empty memory
  for the task (it learns while it acts);
- or the folder of a run trained by ``neurometa train`` / :func:`neurometa.learn.train`,
  loaded with frozen weights (:func:`neurometa.learn.load_agent`; its task is
  ``agent.make_task(num_envs)``).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

__all__ = ["make_agent", "agent_names"]


def agent_names() -> list[str]:
    """The names :func:`make_agent` knows besides run folders, sorted.

    Examples
    --------
    >>> "mfec" in agent_names() and "thompson" in agent_names()
    True
    """
    from neurometa.agents.baselines import BASELINES
    from neurometa.agents.episodic.control import EPISODIC_CONTROL_PRESETS

    return sorted({*BASELINES, *EPISODIC_CONTROL_PRESETS})


def make_agent(
    name: str | os.PathLike[str],
    task: Any = None,
    *,
    seed: int = 0,
    device: str = "cpu",
    greedy: bool | None = None,
    **params: Any,
) -> Any:
    """The agent ``name``: a baseline, an episodic-control agent or a trained run.

    Parameters
    ----------
    name : str or path-like
        A baseline or episodic-control name (:func:`agent_names`), or a run folder.
    task : BatchedTask, optional
        The task the agent will play: required for baselines and episodic control; for a run
        leave it out and build the run's task with ``agent.make_task(num_envs)``.
    seed : int
        Episodic control: seeds the projection / embedding (stream ``memory``).
    device : str
        Where the agent computes.
    greedy : bool, optional
        Trained runs: argmax (True) or sampled (False) actions; default the run's
        ``eval.greedy``.
    **params
        Fields of the baseline's or the episodic-control agent's config.

    Returns
    -------
    Agent
        Call ``agent.begin(task, generator)`` at every ``task.reset()``.

    Raises
    ------
    KeyError
        For a name that is neither known nor a run folder (listing the known names).
    ValueError
        For an option that does not apply to this kind of agent, or a missing task.

    Examples
    --------
    >>> from neurometa.tasks import make
    >>> make_agent("ucb1", make("bandit/independent", 4)).name
    'ucb1'
    >>> make_agent("mfec", make("gridworld/5x5", 2), seed=3, epsilon=0.05).config.epsilon
    0.05
    """
    from neurometa.agents.baselines import BASELINES, make_baseline
    from neurometa.agents.episodic.control import EPISODIC_CONTROL_PRESETS, EpisodicControlAgent

    key = os.fspath(name)
    if key in BASELINES or key in EPISODIC_CONTROL_PRESETS:
        if task is None:
            raise ValueError(f"agent {key!r} is built for a task: pass task=")
        if greedy is not None:
            raise ValueError(f"greedy applies to trained runs, not to {key!r}")
        if key in BASELINES:
            return make_baseline(key, task, **params)
        config = EPISODIC_CONTROL_PRESETS[key].replace(**params)
        return EpisodicControlAgent.for_task(config, task, seed=seed, device=device)
    if (Path(key) / "config.json").is_file():
        if params:
            raise ValueError(f"a trained run takes no config fields, got {sorted(params)}")
        from neurometa.learn import load_agent

        return load_agent(key, device, greedy=greedy)
    close = difflib.get_close_matches(key, agent_names(), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise KeyError(
        f"unknown agent {key!r}{hint}: not a baseline or episodic-control agent "
        f"({', '.join(agent_names())}) and not a run folder (no {Path(key) / 'config.json'})"
    )
