"""The recorder: run an agent on a batched task with frozen weights, into an xarray Dataset.

:func:`record` runs the :class:`neurometa.agents.base.Agent` protocol (``begin`` / ``act`` /
``observe``) on a :class:`neurometa.tasks.base.BatchedTask` under ``torch.no_grad()`` and
captures, per step, the observation the agent saw, its action, the reward, the agent's
outputs (``policy``, ``value``, ``h``, ``c``, memory read-outs and any other key it
returns), its ``rpe`` and every hidden task variable in ``info``. With ``out`` the episodes
stream to disk batch by batch (memory stays bounded by one batch); otherwise the Dataset is
built in memory.

The recorded ``rpe`` is the agent's own prediction error when ``observe`` returns one;
otherwise the actor-critic TD error :func:`neurometa.returns.td_errors` (the dopamine
signal of Wang et al. 2018) with the agent's ``discount`` γ, ending with the episode::

    δ_t = r_t + γ_t V_{t+1} − V_t,    γ_t = γ before the last step, γ_{T−1} = 0.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch
import xarray as xr
from torch import Tensor
from tqdm.auto import tqdm

from neurometa import __version__
from neurometa.netcdf import stamp_cf
from neurometa.record.io import RecordingWriter, open_recording, recording_title
from neurometa.record.spec import POLICY_DIM, SCHEMA_VERSION, annotate
from neurometa.record.validate import RecordingError, validate_recording
from neurometa.returns import td_errors
from neurometa.seeding import RunSeeds

__all__ = ["play_batch", "record"]

#: Trailing dims of the agent outputs the schema names.
_KNOWN_DIMS: dict[str, tuple[str, ...]] = {
    "policy": (POLICY_DIM,),
    "obs": ("obs_feature",),
    "h": ("unit",),
    "c": ("unit",),
}
#: Variables stored as float32 whatever the agent returns.
_FLOAT32 = ("reward", "value", "rpe", "policy", "obs", "h", "c")


def _inner(task: Any) -> Any:
    """The task under wrappers such as :class:`neurometa.tasks.MetaRLInputs` (``unwrapped``)."""
    return getattr(task, "unwrapped", task)


def _numpy(name: str, value: Any, batch: int) -> np.ndarray:
    """A per-step output as a numpy array with leading dim ``batch`` (checked)."""
    array = value.detach().cpu().numpy() if isinstance(value, Tensor) else np.asarray(value)
    if array.ndim == 0 or array.shape[0] != batch:
        raise RecordingError([f"{name!r} has shape {array.shape}; expected leading dim {batch}"])
    if name in _FLOAT32 or array.dtype.kind == "f":
        return array.astype(np.float32, copy=False)
    if array.dtype.kind in "iu":
        return array.astype(np.int64, copy=False)
    return array


class _Trace:
    """Per-step arrays of one batch, preallocated as ``[B, T, ...]`` on first use."""

    def __init__(self, batch: int, steps: int) -> None:
        self.batch, self.steps = batch, steps
        self.arrays: dict[str, np.ndarray] = {}
        self.last_step: dict[str, int] = {}

    def put(self, name: str, t: int, value: Any) -> None:
        if self.last_step.get(name) == t:
            raise RecordingError(
                [
                    f"{name!r} was given twice at step {t}: an agent output, "
                    "an observe() output and a task info key share the name"
                ]
            )
        self.last_step[name] = t
        array = _numpy(name, value, self.batch)
        if name not in self.arrays:
            shape = (self.batch, self.steps, *array.shape[1:])
            self.arrays[name] = np.empty(shape, dtype=array.dtype)
        elif self.arrays[name].shape[2:] != array.shape[1:]:
            raise RecordingError([f"{name!r} changed shape to {array.shape} at step {t}"])
        self.arrays[name][:, t] = array


@torch.no_grad()
def play_batch(
    agent: Any, task: Any, generator: torch.Generator, seed: int | None
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Play one batch of whole episodes of ``task`` with ``agent``, without gradients.

    Resets the task with ``seed`` and starts the agent with ``generator``, then at every step
    keeps the observation, the agent's outputs (``act``, e.g. ``policy``, ``value``), the
    action, the reward, what ``observe`` returns (e.g. ``rpe``) and the task's ``info``.

    Returns
    -------
    arrays : dict of str to ndarray
        Each of shape ``(B, T, ...)`` (``B = task.num_envs``, ``T = task.episode_length``).
    trial, stage : ndarray, shape (T,)
        Trial index and within-trial stage of each step.
    """
    steps = int(task.episode_length)
    trace = _Trace(task.num_envs, steps)
    trial, stage = np.zeros(steps, np.int64), np.zeros(steps, np.int64)
    obs, info = task.reset(seed=seed)
    agent.begin(task, generator)
    for t in range(steps):
        trace.put("obs", t, obs)
        action, out = agent.act(obs, info)
        for key, value in out.items():
            trace.put(key, t, value)
        obs, reward, terminated, _, info = task.step(action)
        trace.put("action", t, action)
        trace.put("reward", t, reward)
        for key, value in (agent.observe(action, reward, terminated, info) or {}).items():
            trace.put(key, t, value)
        trial[t], stage[t] = int(info["trial"][0]), int(info["stage"][0])
        for key, value in info.items():
            if key not in ("trial", "stage"):
                trace.put(key, t, value)
    arrays = trace.arrays
    if "rpe" not in arrays and "value" in arrays:
        arrays["rpe"] = _episode_td_errors(arrays["reward"], arrays["value"], agent.discount)
    return arrays, trial, stage


def _episode_td_errors(rewards: np.ndarray, values: np.ndarray, discount: float) -> np.ndarray:
    """TD errors ``(B, T)`` of whole episodes in float64, stored as float32.

    The episode ends with its last step (``γ_{T−1} = 0``), so ``V_T`` plays no part.
    """
    if not 0.0 <= discount <= 1.0:
        raise ValueError(f"the agent's discount must lie in [0, 1], got {discount}")
    values = values.astype(np.float64).T
    discounts = np.full_like(values, float(discount))
    discounts[-1] = 0.0
    deltas = td_errors(rewards.T, discounts, values, np.zeros_like(values[0]))
    return deltas.T.astype(np.float32)


def _dims(name: str, ndim: int, declared: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Dims of a recorded variable with ``ndim`` trailing dims after ``(episode, step)``."""
    extra = _KNOWN_DIMS.get(name) or tuple(declared.get(name, ()))
    if len(extra) != ndim:
        extra = tuple(f"{name}_dim{i}" for i in range(ndim))
    return ("episode", "step", *extra)


def _batch_dataset(
    arrays: dict[str, np.ndarray],
    first_episode: int,
    coords: dict[str, Any],
    declared: Mapping[str, tuple[str, ...]],
    attrs: dict[str, Any],
) -> xr.Dataset:
    """Wrap one batch's arrays (already cut to the episodes kept) as a Dataset."""
    num = next(iter(arrays.values())).shape[0]
    data = {name: (_dims(name, a.ndim - 2, declared), a) for name, a in arrays.items()}
    ds = xr.Dataset(data, attrs=dict(attrs))
    ds = ds.assign_coords(episode=np.arange(first_episode, first_episode + num, dtype=np.int64))
    ds = ds.assign_coords(coords)
    if "unit" in ds.dims:
        ds = ds.assign_coords(unit=np.arange(ds.sizes["unit"], dtype=np.int64))
    return stamp_cf(annotate(ds), title=recording_title(ds))


def _attrs(agent: Any, task: Any, seed: int, preset: str | None, config: dict) -> dict[str, Any]:
    inner = _inner(task)
    name = str(getattr(inner, "metadata", {}).get("name", type(inner).__name__))
    return {
        "schema_version": SCHEMA_VERSION,
        "source": "agent",
        "task": name,
        "preset": preset or str(getattr(inner, "preset", name)),
        "agent": str(agent.name),
        "seed": int(seed),
        "discount": float(agent.discount),
        "config_json": json.dumps(config, sort_keys=True, default=str),
        "neurometa_version": __version__,
    }


def _config(
    config: Any, task: Any, num_episodes: int, batch_size: int, seed: int
) -> dict[str, Any]:
    """The recording's configuration: ``config``, the task's config and the recording's."""
    if config is not None and hasattr(config, "to_dict"):
        config = config.to_dict()
    merged = dict(config or {})
    task_config = getattr(_inner(task), "config", None)
    if "task" not in merged and hasattr(task_config, "to_dict"):
        merged["task"] = task_config.to_dict()
    merged["recording"] = {"num_episodes": num_episodes, "batch_size": batch_size, "seed": seed}
    return merged


def _resolve_task(task: Any, batch_size: int | None, num_episodes: int) -> tuple[Any, str | None]:
    if isinstance(task, str):
        from neurometa.tasks import make

        return make(task, batch_size or min(num_episodes, 256)), task
    if batch_size is not None and batch_size != task.num_envs:
        raise ValueError(
            f"batch_size={batch_size} differs from task.num_envs={task.num_envs}; "
            "pass a preset name to build the task with that batch size"
        )
    return task, None


def record(
    agent: Any,
    task: Any,
    num_episodes: int,
    *,
    seed: int,
    batch_size: int | None = None,
    out: str | os.PathLike[str] | None = None,
    progress: bool = True,
    preset: str | None = None,
    config: Any = None,
) -> xr.Dataset:
    """Record ``num_episodes`` episodes of ``agent`` on ``task`` with frozen weights.

    Parameters
    ----------
    agent : Agent
        Follows :class:`neurometa.agents.base.Agent`; its ``act`` outputs (``policy
        [B, A]``, ``value [B]``, ``h``/``c [B, U]``, memory read-outs) and ``observe``
        outputs (``rpe [B]``, ...) are all recorded. An optional ``variable_dims`` mapping
        names the trailing dims of other outputs.
    task : BatchedTask or str
        The task (its ``num_envs`` is the batch size) or a preset id for
        :func:`neurometa.tasks.make`.
    num_episodes : int
        Episodes to record; the last batch is cut to fit.
    seed : int
        Seeds the task (stream ``task``, at the first reset; later resets continue it) and
        the agent's action sampling (stream ``sampling``). Same seed and batch size give the
        same recording.
    batch_size : int, optional
        Episodes run in parallel (only with a preset id, or equal to ``task.num_envs``).
    out : path-like, optional
        Stream episodes to this ``.nc`` (NetCDF, compressed) or ``.zarr`` file, written
        atomically; the returned Dataset is then opened lazily from it.
    progress : bool
        Show a progress bar (stderr).
    preset, config : optional
        Preset id stored in ``attrs["preset"]`` (default: the task's) and extra
        configuration (a mapping or a :class:`neurometa.config.Config`) stored in
        ``attrs["config_json"]``.

    Returns
    -------
    xarray.Dataset
        Dims ``(episode, step, ...)``; see ``docs/schema.md``.

    Examples
    --------
    >>> from neurometa.agents.baselines import make_baseline
    >>> from neurometa.tasks import make
    >>> task = make("bandit/independent", 4, num_trials=10)
    >>> ds = record(make_baseline("ucb1", task), task, 8, seed=0, progress=False)
    >>> dict(ds.sizes)["episode"], ds.action.dims
    (8, ('episode', 'step'))
    """
    if not isinstance(num_episodes, int) or num_episodes < 1:
        raise ValueError(f"num_episodes must be a positive integer, got {num_episodes!r}")
    task, made_preset = _resolve_task(task, batch_size, num_episodes)
    attrs = _attrs(
        agent,
        task,
        seed,
        preset or made_preset,
        _config(config, task, num_episodes, task.num_envs, seed),
    )
    writer = RecordingWriter(out) if out is not None else None
    parts: list[xr.Dataset] = []
    bar = tqdm(total=num_episodes, unit="episode", disable=not progress, file=sys.stderr)
    with bar, writer if writer is not None else contextlib.nullcontext():
        for part in _batches(agent, task, num_episodes, RunSeeds(seed), attrs):
            if writer is not None:
                writer.append(part)
            else:
                parts.append(part)
            bar.update(part.sizes["episode"])
    if out is not None:
        return open_recording(out)
    if len(parts) == 1:
        return parts[0]
    return xr.concat(parts, "episode", coords="minimal", compat="override", join="exact")


def _batches(
    agent: Any, task: Any, num_episodes: int, seeds: RunSeeds, attrs: dict[str, Any]
) -> Iterator[xr.Dataset]:
    """Yield validated Datasets of consecutive batches until ``num_episodes`` are done."""
    generator = seeds.torch("sampling", str(task.device))
    stage_names = tuple(getattr(_inner(task), "stage_names", ("choice",)))
    declared = dict(getattr(agent, "variable_dims", None) or {})
    declared.update(getattr(_inner(task), "variable_dims", None) or {})
    done, reference = 0, None
    while done < num_episodes:
        arrays, trial, stage = play_batch(
            agent, task, generator, seeds.int("task") if done == 0 else None
        )
        reference = (trial, stage) if reference is None else reference
        if not (np.array_equal(trial, reference[0]) and np.array_equal(stage, reference[1])):
            raise RecordingError(["the trial/stage sequence differs between batches"])
        keep = min(task.num_envs, num_episodes - done)
        labels = np.array([stage_names[s] for s in stage], dtype=object)
        coords = {
            "step": np.arange(len(trial), dtype=np.int64),
            "trial": ("step", trial),
            "stage": ("step", labels),
        }
        cut = {k: v[:keep] for k, v in arrays.items()}
        part = _batch_dataset(cut, done, coords, declared, attrs)
        validate_recording(part, what=f"recorded episodes {done}-{done + keep - 1}")
        yield part
        done += keep
