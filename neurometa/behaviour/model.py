"""The model contract and the one driver that runs every model's recursion.

A behavioural model is one small class (one file in :mod:`neurometa.behaviour.models`)
with its paper and equations in the docstring and three methods that together are its
per-trial recursion, written once:

- ``initial_state(p, batch, info)``: the values before the first trial of a session;
- ``logits(state, p, stage, trial)``: the softmax logits of the choice at ``stage``
  (``(B, A)``), from the state and what the trial has shown so far (e.g. the second-stage
  state of a two-step trial);
- ``update(state, p, trial)``: the new state after the trial's choices and outcome, and the
  trial's prediction errors;

plus ``latents(state, p, trial)``, the values before the trial that the neural analyses use.
Every user runs the model through these methods: the likelihood and latents of observed
choices (:func:`run_model`, used by the fitter, the model comparison and the latent
regressors), the simulator (:func:`neurometa.behaviour.simulate.simulate`) and the simulated
baseline agents (``neurometa.agents.baselines.model_agent``). Parameters arrive as a dict of
arrays of shape ``(B,)`` (real, or complex for the complex-step gradient) or scalars.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from neurometa.behaviour.ops import log_prob, softmax

__all__ = ["BehaviourModel", "TaskInfo", "run_model", "RunResult"]

#: Task facts a model may need: ``num_options`` (first-stage options), ``num_choice2``
#: (second-stage options of a two-step task), ``common_prob``.
TaskInfo = Mapping[str, Any]

Params = dict[str, Any]
State = dict[str, np.ndarray]


class BehaviourModel:
    """Base class of the behavioural models (see the module docstring for the contract)."""

    name: ClassVar[str] = ""
    """Registry name (``neurometa fit NAME``)."""
    families: ClassVar[tuple[str, ...]] = ()
    """Task families whose recordings it fits (``bandit``, ``foraging``, ``two_step``)."""
    parameters: ClassVar[tuple[str, ...]] = ()
    """Free parameters, names from :data:`neurometa.behaviour.params.PARAMETERS`."""
    fixed: ClassVar[dict[str, float]] = {}
    """Parameters held at a value (e.g. ``w = 0`` for the model-free two-step model)."""
    choices: ClassVar[tuple[str, ...]] = ("choice",)
    """Trial-data keys of the choice at each stage."""
    inputs: ClassVar[tuple[str, ...]] = ("choice", "reward")
    """Trial-data keys the recursion reads."""
    num_options: ClassVar[int | None] = None
    """Options the model is written for (None: any number)."""
    description: ClassVar[str] = ""
    """One line."""

    def initial_state(self, p: Params, batch: int, info: TaskInfo) -> State:
        """State before the first trial of a session."""
        raise NotImplementedError

    def logits(self, state: State, p: Params, stage: int, trial: dict[str, np.ndarray]) -> Any:
        """Softmax logits ``(B, A)`` of the choice at ``stage``."""
        raise NotImplementedError

    def update(
        self, state: State, p: Params, trial: dict[str, np.ndarray]
    ) -> tuple[State, dict[str, np.ndarray]]:
        """New state after the trial, and the trial's prediction errors (``(B,)`` each)."""
        raise NotImplementedError

    def latents(self, state: State, p: Params, trial: dict[str, np.ndarray]) -> dict[str, Any]:
        """Values before the trial's update that the neural analyses use (``(B, ...)``)."""
        return {}

    def stage_values(self, state: State, p: Params, stage: int, trial: dict) -> Any:
        """The value of each option at ``stage`` (``(B, A)``), or None if the model has none."""
        return None

    def extra_inputs(self, data: Any) -> dict[str, np.ndarray]:
        """Per-trial arrays ``(S, T, ...)`` this model adds to the data (default none)."""
        return {}

    def __repr__(self) -> str:
        fixed = "".join(f", {k}={v:g}" for k, v in self.fixed.items())
        return f"{type(self).__name__}({self.name!r}: {', '.join(self.parameters)}{fixed})"


class RunResult:
    """Output of :func:`run_model`.

    Attributes
    ----------
    loglik : numpy.ndarray, shape (B,)
        Summed log-likelihood of the weighted choices.
    trial_loglik : numpy.ndarray, shape (T, B) or None
        Per-trial log-likelihood (all stages), when stored.
    latents : dict of numpy.ndarray, each (T, B, ...)
        Values, prediction errors and choice probabilities (``policy_<stage>``), when stored.
    """

    def __init__(self, loglik: np.ndarray, trial_loglik: np.ndarray | None, latents: dict):
        self.loglik, self.trial_loglik, self.latents = loglik, trial_loglik, latents


def _keep(ok: np.ndarray, new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """``new`` where ``ok`` (broadcast over trailing dims), else ``old``."""
    return np.where(ok.reshape(ok.shape + (1,) * (np.ndim(new) - 1)), new, old)


def run_model(
    model: BehaviourModel,
    p: Params,
    trials: Mapping[str, np.ndarray],
    valid: np.ndarray,
    info: TaskInfo,
    *,
    weight: np.ndarray | None = None,
    store: bool = False,
    store_logits: bool = False,
) -> RunResult:
    """Run a model over observed trials: log-likelihood of the choices (and latents).

    Parameters
    ----------
    model : BehaviourModel
    p : dict of str to numpy.ndarray, each shape (B,), or scalars
        Parameter values (free and fixed), real or complex.
    trials : mapping of str to numpy.ndarray, each shape (T, B, ...)
        The trial data the model reads (``model.inputs``), time-major.
    valid : numpy.ndarray of bool, shape (T, B)
        Trials that happened; invalid ones (missed, padding) neither update nor count.
    info : mapping
        Task facts (:data:`TaskInfo`).
    weight : numpy.ndarray of bool, shape (T, B), optional
        Valid trials whose choices enter the likelihood (default all): the recursion still
        learns from the others (cross-validation folds).
    store : bool
        Also keep per-trial log-likelihoods and latents.
    store_logits : bool
        Keep every stage's logits as ``latents["logits_<stage>"]`` (T, B, A) (the fitter's
        Fisher information).

    Returns
    -------
    RunResult
    """
    num_trials, batch = valid.shape
    counted = valid if weight is None else valid & weight
    # Padding only at the end of each sequence (tables drop missed trials): nothing after it
    # counts, so the state needs no masking and each trial saves one select per state array.
    mask_state = store or bool((valid[1:] & ~valid[:-1]).any())
    state = model.initial_state(p, batch, info)
    logits_seen: list[list[np.ndarray]] = [[] for _ in model.choices]
    kept: dict[str, list] = {}
    for t in range(num_trials):
        trial = {k: trials[k][t] for k in model.inputs}
        for stage in range(len(model.choices)):
            logits_seen[stage].append(model.logits(state, p, stage, trial))
        if store:
            for k, v in model.latents(state, p, trial).items():
                kept.setdefault(k, []).append(v)
        new, errors = model.update(state, p, trial)
        if store:
            for k, v in errors.items():
                kept.setdefault(k, []).append(v)
        state = {k: _keep(valid[t], new[k], v) for k, v in state.items()} if mask_state else new
    # The choices' log-probabilities need no state: one vectorised pass over all trials.
    trial_ll = 0.0
    for stage, key in enumerate(model.choices):
        logits = np.stack(logits_seen[stage])  # (T, B, A)
        choice = np.asarray(trials[key])
        trial_ll = trial_ll + log_prob(
            logits.reshape(-1, logits.shape[-1]), choice.reshape(-1)
        ).reshape(num_trials, batch)
        if store:
            kept[f"policy_{stage}"] = list(softmax(logits))
        if store_logits:
            kept[f"logits_{stage}"] = list(logits)
    loglik = np.where(counted, trial_ll, 0.0).sum(axis=0)
    trial_ll = np.where(valid, trial_ll, 0.0) if store else None
    latents = {k: np.stack(v) for k, v in kept.items()}
    return RunResult(loglik, trial_ll, latents)
