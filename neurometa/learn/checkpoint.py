"""Checkpoints of a run folder and the frozen agent loaded from one.

A run folder holds ``config.json`` (the :class:`TrainConfig`), ``checkpoint.pt`` (everything
needed to resume bit-identically: weights, optimiser state, generator states, counters,
metrics), ``best.pt`` (the weights that scored best on the selection episodes),
``metrics.csv`` and, when finished, ``done.json``. Files are written through
:func:`neurometa.atomic.atomic_path`, so a kill mid-write keeps the previous file.

Format 2 (this version) keeps, in ``checkpoint.pt``, one entry per worker process under
``ranks``: ``task_generator``, ``sampling_generator``, ``task_state`` and ``store`` (the
rank's episodic store with several workers, else None: the network's ``state_dict`` holds
it). :func:`load_checkpoint` reads format 1 too, returning it in the format-2 layout, so
run folders written by earlier versions still load and resume.

An episodic network's store is part of its ``state_dict`` (see
:class:`~neurometa.agents.episodic.lstm.EpisodicLSTMNetwork`), so ``checkpoint.pt`` resumes
the training life-time's memory; :func:`load_agent` empties it, since a recording or an
evaluation starts a new life-time (docs/episodic.md, "What a checkpoint saves").
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from neurometa.agents.base import EpisodicNetwork, FrozenAgent
from neurometa.atomic import atomic_path
from neurometa.learn.config import TrainConfig
from neurometa.learn.networks import build_network
from neurometa.learn.rollout import make_task
from neurometa.seeding import torch_generator

__all__ = [
    "CHECKPOINT",
    "CheckpointError",
    "BEST",
    "CONFIG",
    "save_checkpoint",
    "load_checkpoint",
    "build_from_spec",
    "load_network",
    "load_agent",
]

CHECKPOINT, BEST, CONFIG = "checkpoint.pt", "best.pt", "config.json"
FORMAT = 2


class CheckpointError(ValueError):
    """A checkpoint file is truncated, corrupt or not a neurometa checkpoint."""


def save_checkpoint(path: str | os.PathLike[str], payload: dict[str, Any]) -> None:
    """Write ``payload`` (tensors, numbers, strings, lists, dicts) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, **payload}, tmp)


def load_checkpoint(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (tensors mapped to ``device``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"{path}: not a readable checkpoint (truncated or corrupt: {first}); resume from "
            "another copy or train again"
        ) from None
    if not isinstance(payload, dict):
        raise CheckpointError(f"{path}: not a neurometa checkpoint")
    if payload.get("format") == 1:
        return _from_format_1(payload)
    if payload.get("format") != FORMAT:
        raise ValueError(f"{path}: unsupported checkpoint format {payload.get('format')!r}")
    return payload


def _from_format_1(payload: dict[str, Any]) -> dict[str, Any]:
    """A format-1 payload in the format-2 layout.

    Format 1 kept each rank's ``(task generator, sampling generator[, task state])`` in
    ``generators`` and, with several workers, their episodic stores in ``rank_stores``; its
    first version held one process's generators as ``task_generator`` and
    ``sampling_generator`` and no task state. ``first_regret`` and ``blend_began`` belonged
    to a removed experiment (docs/training.md) and are dropped.
    """
    payload = {**payload, "format": FORMAT}
    for key in ("first_regret", "blend_began"):
        payload.pop(key, None)
    if "optimizer" not in payload:  # best.pt: weights only
        return payload
    generators = payload.pop("generators", None) or [
        (payload.pop("task_generator"), payload.pop("sampling_generator"))
    ]
    stores = payload.pop("rank_stores", None) or [None] * len(generators)
    payload["ranks"] = [
        {
            "task_generator": entry[0],
            "sampling_generator": entry[1],
            "task_state": entry[2] if len(entry) > 2 else {},
            "store": store,
        }
        for entry, store in zip(generators, stores, strict=True)
    ]
    return payload


def build_from_spec(config: TrainConfig, spec: dict[str, int]) -> nn.Module:
    """Rebuild a network of the run's architecture (``spec`` holds input_dim, num_actions)."""
    return build_network(
        config.network, int(spec["input_dim"]), int(spec["num_actions"]), torch_generator(0)
    )


def load_network(
    run_dir: str | os.PathLike[str],
    device: str | torch.device = "cpu",
    which: Literal["best", "last"] = "best",
) -> tuple[nn.Module, TrainConfig, dict]:
    """Load a run's network with the chosen weights.

    Parameters
    ----------
    run_dir : path-like
        A run folder written by :func:`neurometa.learn.train`.
    device : str or torch.device
        Where to put the network.
    which : {"best", "last"}
        ``best.pt`` (the selection-set winner; falls back to the last checkpoint when the
        run kept none) or the last ``checkpoint.pt``.

    Returns
    -------
    network : nn.Module
    config : TrainConfig
    payload : dict
        The checkpoint read (``update``, ``seed``, ...).
    """
    run_dir = Path(run_dir)
    if which not in ("best", "last"):
        raise ValueError(f"which must be 'best' or 'last', got {which!r}")
    if not (run_dir / CONFIG).is_file():
        raise FileNotFoundError(f"{run_dir} is not a run folder (no {CONFIG})")
    config = TrainConfig.load(run_dir / CONFIG)
    path = run_dir / (BEST if which == "best" and (run_dir / BEST).is_file() else CHECKPOINT)
    payload = load_checkpoint(path, device)
    network = build_from_spec(config, payload["network_spec"]).to(device)
    network.load_state_dict(payload["network"])
    return network, config, payload


def load_agent(
    run_dir: str | os.PathLike[str],
    device: str | torch.device = "cpu",
    *,
    greedy: bool | None = None,
    which: Literal["best", "last"] = "best",
) -> FrozenAgent:
    """The trained network of ``run_dir`` as a frozen :class:`~neurometa.agents.base.Agent`.

    Parameters
    ----------
    run_dir : path-like
        Run folder.
    device : str or torch.device
        Where to run.
    greedy : bool, optional
        Argmax (True) or sampled (False) actions; default: the run's ``eval.greedy``.
    which : {"best", "last"}
        Which weights (see :func:`load_network`).

    Returns
    -------
    FrozenAgent
        ``act`` returns ``policy``, ``value``, ``h``, ``c`` (and an episodic network's
        read-outs; its memory starts empty: a new life-time); ``discount`` is the training γ;
        ``make_task(num_envs, device)`` builds the training task with its meta-RL inputs.

    Examples
    --------
    >>> import tempfile
    >>> import neurometa as nm
    >>> tiny = {"optim.num_updates": 2, "optim.batch_size": 16, "workers": 1,
    ...         "eval.episodes": 16, "task.overrides": {"num_trials": 20}}
    >>> config = nm.replace_paths(nm.get_preset("bandit/independent"), tiny)
    >>> run = nm.train(config, tempfile.mkdtemp(), seed=0, progress=False)
    >>> agent = nm.load_agent(run)
    >>> ds = nm.record_agent(agent, agent.make_task(8), 8, seed=1, progress=False)
    >>> ds["h"].dims, ds.sizes["unit"]
    (('episode', 'step', 'unit'), 48)
    """
    network, config, payload = load_network(run_dir, device, which)
    if isinstance(network, EpisodicNetwork):
        # an episodic network's store (saved for resuming training) belongs to the training
        # life-time; an agent loaded to record or evaluate starts a new one, empty
        network.reset_memory()
    return FrozenAgent(
        network,
        discount=config.optim.discount,
        greedy=config.eval.greedy if greedy is None else greedy,
        name=f"{config.network.kind}:{config.task.preset}",
        make_task=lambda num_envs, dev="cpu": make_task(config.task, num_envs, dev),
    )
