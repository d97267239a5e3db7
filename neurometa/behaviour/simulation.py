"""Simulate subjects with known parameters: the model's own recursion choosing on a task.

The simulator runs the same three methods as the fitter (``initial_state``, ``logits``,
``update``), sampling each choice from the model's softmax instead of reading it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from neurometa.behaviour.models import get_model
from neurometa.behaviour.objective import param_dict
from neurometa.behaviour.ops import softmax
from neurometa.behaviour.tasks import make_task
from neurometa.seeding import RunSeeds

__all__ = ["simulate", "sample_choices"]


def sample_choices(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row of ``probs (B, A)``: the first option whose cumulative sum exceeds u."""
    u = rng.random(probs.shape[0])
    return np.minimum((np.cumsum(probs, axis=1) < u[:, None]).sum(axis=1), probs.shape[1] - 1)


def _param_array(model: Any, params: Any) -> np.ndarray:
    """Parameters as ``(N, k)`` in the model's order from a dict, DataFrame or array."""
    if isinstance(params, np.ndarray):
        x = np.atleast_2d(np.asarray(params, dtype=np.float64))
    else:
        missing = [n for n in model.parameters if n not in params]
        if missing:
            raise KeyError(f"model {model.name!r} needs parameter(s) {', '.join(missing)}")
        x = np.column_stack(
            [np.atleast_1d(np.asarray(params[n], dtype=np.float64)) for n in model.parameters]
        )
    if x.shape[1] != len(model.parameters):
        raise ValueError(
            f"need {len(model.parameters)} parameters {model.parameters}, got shape {x.shape}"
        )
    return x


def simulate(
    model: Any,
    params: Any,
    task: Any,
    num_trials: int,
    *,
    num_sessions: int = 1,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate subjects of a model on a task; one row per trial.

    Parameters
    ----------
    model : str or BehaviourModel
    params : dict, pandas.DataFrame or numpy.ndarray
        One value per subject for every free parameter (a dict of sequences, a table with
        the parameter columns, or an array ``(N, k)`` in the model's order).
    task : str or task object
        A name of :data:`~neurometa.behaviour.tasks.TASKS` (e.g. ``"bandit/reversal"``).
    num_trials : int
        Trials per session.
    num_sessions : int
        Sessions per subject (values reset at each session's start).
    seed : int
        Seeds the task and the choices (``RunSeeds(seed).numpy("task")``).

    Returns
    -------
    pandas.DataFrame
        ``subject`` (``"0"``, ``"1"``, ...), ``session``, ``trial``, the model's choice
        columns, what the task revealed (``reward``; two-step ``state2``, ``common``) and the
        task's hidden variables (``arm_probs`` / ``bait_probs`` as ``p0``, ``p1``, ...;
        foraging ``block``; two-step ``reward_probs`` as ``reward_prob_<state><choice>``).

    Examples
    --------
    >>> table = simulate("q_learning", {"alpha": [0.3, 0.5], "beta": [5, 3]},
    ...                  "bandit/reversal", 100)
    >>> table.shape[0], sorted(table["subject"].unique())
    (200, ['0', '1'])
    """
    model = get_model(model)
    env = make_task(task)
    if env.family not in model.families:
        raise ValueError(
            f"model {model.name!r} plays {'/'.join(model.families)} tasks, not {env.family!r}"
        )
    x = np.repeat(_param_array(model, params), num_sessions, axis=0)
    batch = x.shape[0]
    rng = RunSeeds(seed).numpy("task")
    p = param_dict(model, x)
    env.reset(batch, rng)
    state = model.initial_state(p, batch, env.info)
    columns: dict[str, list] = {}
    for _ in range(num_trials):
        trial: dict[str, np.ndarray] = {}
        hidden = env.hidden()
        for stage, key in enumerate(model.choices):
            trial[key] = sample_choices(softmax(model.logits(state, p, stage, trial)), rng)
            trial.update(env.after_choice(stage, trial[key], rng))
        state, _ = model.update(state, p, trial)
        env.end_trial(rng)
        for key, value in {**trial, **hidden}.items():
            columns.setdefault(key, []).append(value)
    out = {
        "subject": np.repeat(np.arange(len(x) // num_sessions), num_sessions).astype(str),
        "session": np.tile(np.arange(num_sessions), len(x) // num_sessions),
    }
    table = pd.DataFrame({k: np.repeat(v, num_trials) for k, v in out.items()})
    table["trial"] = np.tile(np.arange(num_trials), batch)
    for key, values in columns.items():
        arr = np.stack(values, axis=1)  # (B, T, ...)
        if arr.ndim == 2:
            table[key] = arr.reshape(-1)
        elif key in ("arm_probs", "bait_probs"):
            for j in range(arr.shape[2]):
                table[f"p{j}"] = arr[:, :, j].reshape(-1)
        elif key == "reward_probs":  # two-step: state x second-stage choice
            for s in range(arr.shape[2]):
                for c in range(arr.shape[3]):
                    table[f"reward_prob_{s}{c}"] = arr[:, :, s, c].reshape(-1)
    return table
