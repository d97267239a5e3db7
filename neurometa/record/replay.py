"""Run an agent through an animal's own trials: its choices, its outcomes, what it saw.

A lab compares a model with its neurons trial by trial: the model must live through the
exact history the animal experienced. :func:`replay` runs any agent (a trained network, a
baseline, an episodic agent) on a task of the same family whose every trial is forced to the
animal's:

- the **observation** is the one the animal got: the task's own stimulus rebuilt from the
  behaviour file (two-step: the second-stage state the animal reached; Harlow: which object
  was on the left; contextual bandits: the context), and for meta-RL agents the previous
  choice and reward inputs are the animal's (:class:`neurometa.tasks.MetaRLInputs` sees the
  forced action and reward);
- the **action** is replaced by the animal's choice (what the agent would have chosen is kept
  as ``agent_action``), so ``observe`` and the recorded history follow the animal;
- the **reward** is the animal's outcome.

The recording keeps the behaviour file's episode order, trial numbers (``trial_id``) and
``subject``/``session`` labels, so it lines up trial for trial with the lab's neural
recording (:func:`neurometa.analysis.trials.check_aligned`), and its ``choice_loglik`` is
``log policy(animal's choice)`` at every choice step — the agent's likelihood of the
animal's behaviour.

Replaying an agent's own recording reproduces its units exactly (its observations are
rebuilt from its task variables), which is the test of this path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch import Tensor

from neurometa.record.spec import task_family
from neurometa.tasks.base import BatchedTask

__all__ = ["ReplayError", "AnimalTrials", "ForcedChoices", "behaviour_arrays", "replay"]

#: Families whose observations need no per-trial stimulus beyond choices and outcomes.
_PLAIN = ("bandit", "foraging")
#: Per-trial variables each family needs from the behaviour file (besides choice, reward).
_NEEDS = {
    "two_step": ("state2",),
    "harlow": ("object_left",),
    "contextual_bandit": ("context_id",),
}


class ReplayError(ValueError):
    """A behaviour file cannot drive the agent (the message names the mismatch)."""


def _family_of(behaviour: xr.Dataset) -> str:
    preset = str(behaviour.attrs.get("preset", ""))
    return task_family(preset) if preset else ""


def check_family(behaviour: xr.Dataset, agent_preset: str) -> str:
    """The agent's task family, checked against the behaviour file's.

    Bandit-layout lab files (``bandit/lab``) drive bandit and foraging agents alike (a
    choice and an outcome per trial is all those tasks show).
    """
    agent_family, lab_family = task_family(agent_preset), _family_of(behaviour)
    compatible = lab_family == agent_family or (lab_family == "bandit" and agent_family in _PLAIN)
    if not compatible:
        raise ReplayError(
            f"the behaviour file is a {lab_family or 'recording of unknown family'} recording "
            f"(preset {behaviour.attrs.get('preset', '?')!r}) but the agent plays "
            f"{agent_preset!r} ({agent_family}); replay an agent of the same task family"
        )
    return agent_family


def behaviour_arrays(behaviour: xr.Dataset, family: str) -> dict[str, np.ndarray]:
    """Per-trial arrays ``(episode, trial)`` of what the animal chose, saw and got.

    Returns
    -------
    dict of str to numpy.ndarray
        ``choice`` (first stage), ``reward`` (trial total, NaN where missing), ``valid``
        (a completed trial), and the family's stimulus variables (``state2``, ``choice2``
        where present; ``object_left``; ``context_id``).
    """
    from neurometa.analysis._common import by_trial, trial_sum
    from neurometa.analysis.trials import trial_choice

    missing = [n for n in _NEEDS.get(family, ()) if n not in behaviour]
    if missing:
        raise ReplayError(
            f"replaying a {family} agent needs the variable(s) {missing} (what the animal saw) "
            f"in the behaviour file; it has {sorted(map(str, behaviour.data_vars))}"
        )
    out = {
        "choice": trial_choice(behaviour),
        "reward": trial_sum(behaviour["reward"], behaviour).transpose("episode", "trial").values,
    }
    last = -1 % int(np.sum(behaviour["trial"].values == behaviour["trial"].values[0]))
    for name in (*_NEEDS.get(family, ()), "choice2"):
        if name in behaviour:
            values = by_trial(behaviour[name], behaviour, last).transpose("episode", "trial")
            out[name] = values.values.astype(np.int64)
    if family == "two_step" and "choice2" not in out and "action" in behaviour and last == 1:
        second = by_trial(behaviour["action"], behaviour, 1)  # an agent's own recording
        out["choice2"] = second.transpose("episode", "trial").values.astype(np.int64)
    if "obs" in behaviour and family in ("harlow", "contextual_bandit"):
        # an agent's own recording: the very stimuli it saw (first stage of every trial)
        stimulus = by_trial(behaviour["obs"], behaviour, 0).transpose("episode", "trial", ...)
        out["stimulus"] = stimulus.values.astype(np.float32)
    out["valid"] = (out["choice"] >= 0) & np.isfinite(out["reward"])
    return out


def _check_valid(arrays: dict[str, np.ndarray], num_actions: int) -> None:
    """Missed trials only at the end of an episode (padding); choices in range."""
    valid = arrays["valid"]
    later_valid = np.flip(np.cumsum(np.flip(valid, axis=1), axis=1), axis=1) > 0
    inside = np.argwhere(
        ~valid
        & np.roll(later_valid, -1, axis=1)
        & (np.arange(valid.shape[1]) < valid.shape[1] - 1)
    )
    if inside.size:
        e, t = inside[0]
        raise ReplayError(
            f"the behaviour file has {len(inside)} trial(s) without a choice or outcome inside "
            f"a session (first: episode {e}, trial {t}); the agent cannot skip a trial the "
            "animal missed: drop them at import (--drop-missing) and replay"
        )
    if np.any(arrays["choice"][valid] >= num_actions):
        raise ReplayError(
            f"the animal's choices reach {int(arrays['choice'][valid].max())} but the agent's "
            f"task has {num_actions} actions"
        )


class AnimalTrials(BatchedTask):
    """A task whose episodes are an animal's sessions: its stimuli and outcomes, in order.

    Wraps a task of the same family built for the sessions' length; each :meth:`reset`
    starts the next ``num_envs`` sessions (the last batch is padded with repeats of the
    first session, cut away by the recorder). Each step returns the animal's reward; the
    task's own stimuli are forced to what the animal saw (see the module docstring).

    Parameters
    ----------
    task : BatchedTask
        The inner task (not wrapped in ``MetaRLInputs``), ``num_trials`` = the sessions'.
    arrays : dict of str to numpy.ndarray
        From :func:`behaviour_arrays`.
    family : str
    """

    def __init__(self, task: BatchedTask, arrays: dict[str, np.ndarray], family: str) -> None:
        super().__init__(task.num_envs, task.device)
        self.task, self.family = task, family
        for name in ("metadata", "single_observation_space", "single_action_space",
                     "num_trials", "steps_per_trial", "hidden_variables", "stage_names",
                     "variable_dims"):  # fmt: skip
            setattr(self, name, getattr(task, name))
        self.arrays = arrays
        self._next = 0
        self.episodes = np.zeros(task.num_envs, dtype=np.int64)

    @property
    def config(self) -> Any:
        """The inner task's config."""
        return getattr(self.task, "config", None)

    def _batch(self, name: str) -> Tensor:
        """``arrays[name]`` of the current sessions as ``[T, B, ...]`` (padding: zeros)."""
        values = self.arrays[name][self.episodes]
        valid = self.arrays["valid"][self.episodes].reshape(
            *values.shape[:2], *[1] * (values.ndim - 2)
        )
        values = np.where(valid, values, 0)
        return torch.as_tensor(np.swapaxes(values, 0, 1).copy(), device=self.device)

    def forced_action(self) -> Tensor:
        """The animal's choice at the current step, ``[B]`` (second stage: ``choice2``)."""
        trial, stage = divmod(self.t, self.steps_per_trial)
        name = "choice" if stage == 0 else "choice2"
        if name not in self.arrays:  # e.g. the Wang/Miller two-step task has no second choice
            return torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        return self._batch(name)[trial].long()

    def _reset(self) -> tuple[Tensor, dict[str, Tensor]]:
        total = len(self.arrays["choice"])
        self.episodes = (self._next + np.arange(self.num_envs)) % total
        self._next += self.num_envs
        obs, info = self.task.reset(seed=int(torch.randint(2**31, (1,), generator=self.generator)))
        return _FORCE.get(self.family, _keep)(self, obs, info)

    def _step(self, action: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        trial, stage = divmod(self.t, self.steps_per_trial)
        obs, _, _, _, info = self.task.step(action)
        last = stage == self.steps_per_trial - 1
        reward = self._batch("reward")[trial].float() if last else torch.zeros(self.num_envs)
        return obs, reward.to(self.device), info


def _keep(trials: AnimalTrials, obs: Tensor, info: dict[str, Tensor]) -> tuple[Tensor, dict]:
    return obs, info


def _force_two_step(trials: AnimalTrials, obs: Tensor, info: dict) -> tuple[Tensor, dict]:
    # the task moves to state2 = choice1 on a common transition, else to the other state
    trials.task._common = trials._batch("state2") == trials._batch("choice")  # noqa: SLF001
    return obs, info


def _force_harlow(trials: AnimalTrials, obs: Tensor, info: dict) -> tuple[Tensor, dict]:
    inner = trials.task
    width = inner._obs.shape[-1] // 2  # noqa: SLF001 - the task's pre-drawn stimuli
    left, right = inner._obs[0, :, :width], inner._obs[0, :, width:]  # noqa: SLF001
    first_left = (inner._object_left[0] == 1).unsqueeze(1)  # noqa: SLF001
    objects = torch.stack(
        [torch.where(first_left, right, left), torch.where(first_left, left, right)], 1
    )
    lab_left = trials._batch("object_left").long()  # [T, B]
    batch = torch.arange(trials.num_envs, device=trials.device)
    inner._object_left = lab_left  # noqa: SLF001
    if "stimulus" in trials.arrays:  # the recorded objects themselves
        inner._obs[:-1] = trials._batch("stimulus")[..., : 2 * width]  # noqa: SLF001
    else:  # the task's fresh objects, on the sides where the animal saw them
        inner._obs[:-1] = torch.cat(  # noqa: SLF001
            [objects[batch, lab_left], objects[batch, 1 - lab_left]], dim=2
        )
    return inner._obs[0], info  # noqa: SLF001


def _force_context(trials: AnimalTrials, obs: Tensor, info: dict) -> tuple[Tensor, dict]:
    inner = trials.task
    batch = torch.arange(trials.num_envs, device=trials.device)
    context = trials._batch("context_id")[0].long()
    inner._counts[batch, inner._context] -= 1  # noqa: SLF001 - undo the random draw
    inner._counts[batch, context] += 1  # noqa: SLF001
    inner._context, inner._encounter = context, inner._counts[batch, context]  # noqa: SLF001
    inner._obs = inner._barcodes[batch, context]  # noqa: SLF001
    if "stimulus" in trials.arrays:  # the recorded barcodes themselves
        inner._obs = trials._batch("stimulus")[0, :, : inner._obs.shape[1]]  # noqa: SLF001
    return inner._obs, info  # noqa: SLF001


_FORCE: dict[str, Callable[[AnimalTrials, Tensor, dict], tuple[Tensor, dict]]] = {
    "two_step": _force_two_step,
    "harlow": _force_harlow,
    "contextual_bandit": _force_context,
}


class ForcedChoices:
    """An agent whose actions are replaced by the animal's (its own kept as ``agent_action``).

    Parameters
    ----------
    agent : Agent
        Any agent of the :class:`neurometa.agents.base.Agent` protocol.
    trials : AnimalTrials
        The task (possibly inside ``MetaRLInputs``) that knows the animal's choices.
    """

    def __init__(self, agent: Any, trials: AnimalTrials) -> None:
        self.agent, self.trials = agent, trials
        self.name, self.discount = agent.name, agent.discount
        self.variable_dims = dict(getattr(agent, "variable_dims", None) or {})

    def begin(self, task: Any, generator: torch.Generator) -> None:
        """Start the wrapped agent."""
        self.agent.begin(task, generator)

    def act(self, obs: Tensor, info: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """The agent's outputs for ``obs``, with the animal's choice as the action."""
        own, out = self.agent.act(obs, info)
        return self.trials.forced_action(), {**out, "agent_action": own}

    def observe(self, action: Tensor, reward: Tensor, terminated: Tensor, info: dict) -> dict:
        """The wrapped agent observes the animal's choice and outcome."""
        return self.agent.observe(action, reward, terminated, info)


def _check_behaviour(behaviour: xr.Dataset) -> None:
    if not isinstance(behaviour, xr.Dataset):
        raise ReplayError(
            f"the behaviour must be an xarray.Dataset, got {type(behaviour).__name__}"
        )
    missing = [n for n in ("episode", "step") if n not in behaviour.dims]
    missing += [n for n in ("trial", "stage", "reward") if n not in behaviour.variables]
    if "action" not in behaviour and "choice1" not in behaviour:
        missing.append("action (or choice1)")
    if missing:
        raise ReplayError(f"the behaviour file is not a recording: missing {', '.join(missing)}")


def replay(
    make_agent: Callable[[BatchedTask], Any],
    behaviour: xr.Dataset,
    *,
    preset: str,
    task_overrides: dict[str, Any] | None = None,
    trial_index: bool | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    progress: bool = True,
    config: dict[str, Any] | None = None,
) -> xr.Dataset:
    """Record an agent on an animal's own trials (see the module docstring).

    Parameters
    ----------
    make_agent : callable
        ``make_agent(task) -> Agent``: the agent for the task it will play (baselines are
        built for their task; a trained network ignores it).
    behaviour : xarray.Dataset
        The animal's recording (``neurometa import ...``): choices (``action`` or
        ``choice1``), ``reward``, and what the family's stimuli need (``state2``,
        ``object_left``, ``context_id``); missed trials only as padding at the end.
    preset : str
        The agent's task preset (its family must match the behaviour's).
    task_overrides : dict, optional
        Overrides of the preset (a trained run's own); ``num_trials`` is set to the
        sessions' length.
    trial_index : bool or None
        Wrap the task in :class:`neurometa.tasks.MetaRLInputs` with this ``trial_index``
        (meta-RL networks); ``None`` for agents that take the task's raw observations.
    seed, batch_size, progress, config
        As :func:`neurometa.record.record` (``batch_size``: sessions in parallel; 1 for
        contextual bandits, whose contexts recur across the sessions of one life-time).

    Returns
    -------
    xarray.Dataset
        An agent recording (``source = "agent"``) with the behaviour's ``episode`` order,
        ``trial_id``, ``subject``/``session`` labels and task variables; ``action`` and
        ``reward`` are the animal's, ``agent_action`` what the agent would have chosen,
        ``choice_loglik`` the log-probability of the animal's choice under the agent's
        policy (NaN on steps without a choice); attrs ``replayed_on`` (the behaviour's
        task, preset and source).

    Examples
    --------
    >>> import neurometa as nm
    >>> task = nm.make_task("bandit/independent", 4, num_trials=20)
    >>> animal = nm.record_agent(nm.make_baseline("thompson", task), task, 4, seed=0,
    ...                          progress=False)  # stands in for a lab's behaviour file
    >>> ucb = nm.record_on_trials(lambda t: nm.make_baseline("ucb1", t), animal,
    ...                           preset="bandit/independent", progress=False)
    >>> bool((ucb["action"] == animal["action"]).all()), ucb["choice_loglik"].dims
    (True, ('episode', 'step'))
    """
    from neurometa.record.recorder import record
    from neurometa.tasks import MetaRLInputs, make

    _check_behaviour(behaviour)
    family = check_family(behaviour, preset)
    arrays = behaviour_arrays(behaviour, family)
    num_episodes, num_trials = arrays["choice"].shape
    if batch_size is None:
        batch_size = 1 if family == "contextual_bandit" else min(num_episodes, 256)
    overrides = {**(task_overrides or {}), "num_trials": num_trials}
    inner = make(preset, batch_size, **overrides)
    _check_valid(arrays, inner.num_actions)
    trials = AnimalTrials(inner, arrays, family)
    task = trials if trial_index is None else MetaRLInputs(trials, trial_index=trial_index)
    agent = ForcedChoices(make_agent(task), trials)
    replay_config = {**(config or {}), "replay": {"preset": preset, "overrides": overrides}}
    ds = record(
        agent,
        task,
        num_episodes,
        seed=seed,
        progress=progress,
        preset=preset,
        config=replay_config,
    )
    return _label(ds.load(), behaviour, arrays, inner)


def _label(
    ds: xr.Dataset, behaviour: xr.Dataset, arrays: dict[str, np.ndarray], inner: BatchedTask
) -> xr.Dataset:
    """The animal's labels, choices, outcomes and task variables on the agent's recording."""
    from neurometa.analysis._common import by_trial
    from neurometa.record.validate import validate_recording

    spt = int(inner.steps_per_trial)
    valid = np.repeat(arrays["valid"], spt, axis=1)
    ds = ds.drop_vars([v for v in inner.hidden_variables if v in ds])
    ds = ds.assign_coords(episode=behaviour["episode"].values)
    for name in ("subject", "session"):
        if name in behaviour.coords:
            ds = ds.assign_coords({name: ("episode", behaviour[name].values.astype(str))})
    last = -1 % int(np.sum(behaviour["trial"].values == behaviour["trial"].values[0]))
    for name, da in behaviour.data_vars.items():  # the animal's task variables, per trial
        if da.dims[:2] != ("episode", "step") or "unit" in da.dims or name in ds:
            continue  # neural activity stays in the lab's file
        per_trial = by_trial(da, behaviour, last).transpose("episode", "trial", ...)
        ds[name] = (("episode", "step", *da.dims[2:]), np.repeat(per_trial.values, spt, axis=1))
    policy = ds["policy"].values.astype(np.float64)
    action = ds["action"].values
    with np.errstate(divide="ignore"):
        chosen = np.take_along_axis(policy, np.clip(action, 0, None)[..., None], -1)[..., 0]
        loglik = np.log(chosen)
    stage = np.tile(np.arange(spt), ds.sizes["step"] // spt)
    has_choice = (stage == 0) | ("choice2" in arrays)
    ds["choice_loglik"] = (("episode", "step"), np.where(valid & has_choice, loglik, np.nan))
    ds["choice_loglik"].attrs.update(
        long_name="log-probability of the animal's choice under the agent's policy", units="1"
    )
    ds["agent_action"].attrs.update(long_name="the agent's own choice (not taken)", units="1")
    ds["action"] = ds["action"].where(valid, -1)
    for name in ds.data_vars:
        if ds[name].dtype.kind == "f" and ds[name].dims[:2] == ("episode", "step"):
            ds[name] = ds[name].where(xr.DataArray(valid, dims=("episode", "step")))
    ds.attrs["replayed_on"] = (
        f"task {behaviour.attrs.get('task', '?')}, preset {behaviour.attrs.get('preset', '?')}, "
        f"source {behaviour.attrs.get('source', '?')}"
    )
    validate_recording(ds, what="replayed recording")
    return ds
