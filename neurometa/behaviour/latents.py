"""Latent regressors: a fitted model's per-trial values and prediction errors in the recording.

:func:`model_latents` replays every subject's trials through the model at its fitted
parameters (the same recursion as the fit) and returns the latents as variables over
``(episode, step[, option])``, aligned with the recording, NaN where a trial was missed.
:func:`add_latents` fits the model first when no fits are given and merges the variables
into a copy of the recording, so that ``analyze coding --value model_chosen_value``,
``compare`` and ``rpe`` run on any lab recording.

Variables (prefix ``model_``, so an agent's own ``value``/``rpe`` are never overwritten):

- ``model_option_value`` (episode, step, option): ``Q(a)`` before the choice; two-step:
  ``Q_net(a)`` on the first step, ``Q2(s, b)`` of the state reached on the second;
- ``model_chosen_value``: ``Q(c_t)``; two-step ``Q_net(a1)`` / ``Q2(s, a2)``;
- ``model_value``: ``Σ_a π(a) Q(a)`` (per stage); ``model_value_difference``:
  ``Q(1) − Q(0)`` (two options);
- ``model_policy`` (episode, step, option): the model's choice probabilities;
- ``model_rpe``: ``r − Q(c_t)``; two-step ``δ1 = Q2(s, a2) − Q_MF(a1)`` on the first step
  (second-stage onset), ``δ2 = r − Q2(s, a2)`` on the second (outcome);
- two-step only, first step: ``model_q_mf``, ``model_q_mb`` (option values of each system)
  and ``model_rpe_mb`` = ``Q2(s, a2) − Q_MB(a1)``.

Each variable's attrs: ``long_name``, ``units`` ("1": values in reward units, probabilities
unitless), ``model``, ``fit_prior`` and ``model_parameters`` (JSON: subject -> parameters).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from neurometa.behaviour.data import BehaviourDataError, behaviour_data
from neurometa.behaviour.model import run_model
from neurometa.behaviour.models import DEFAULT_MODELS, get_model
from neurometa.behaviour.objective import check_model, param_dict

__all__ = ["LATENT_NAMES", "model_latents", "add_latents", "subject_parameters", "trial_latents"]

#: Latent variables and what they are (``long_name`` without the model's name).
LATENT_NAMES: dict[str, str] = {
    "model_option_value": "value of each option before the choice",
    "model_chosen_value": "value of the chosen option",
    "model_value": "policy-weighted value (sum over options of P(a) Q(a))",
    "model_value_difference": "value difference Q(1) - Q(0)",
    "model_policy": "choice probabilities",
    "model_rpe": "reward prediction error",
    "model_q_mf": "model-free first-stage values",
    "model_q_mb": "model-based first-stage values",
    "model_rpe_mb": "model-based prediction error at second-stage onset Q2(s,a2) - Q_MB(a1)",
}


def subject_parameters(model: Any, fits: pd.DataFrame, subjects: np.ndarray) -> np.ndarray:
    """Free parameters ``(N, k)`` of ``subjects`` from a fits table (one row per subject)."""
    table = fits[fits["model"] == model.name] if "model" in fits else fits
    by_subject = table.assign(subject=table["subject"].astype(str)).set_index("subject")
    missing = sorted(set(map(str, subjects)) - set(by_subject.index))
    if missing:
        raise BehaviourDataError(
            f"no fitted {model.name!r} parameters for subject(s) {', '.join(missing[:5])}"
        )
    absent = [n for n in model.parameters if n not in by_subject]
    if absent:
        raise BehaviourDataError(f"the fits table lacks parameter column(s) {absent}")
    return by_subject.loc[list(map(str, subjects)), list(model.parameters)].to_numpy(float)


def _replay(model: Any, data: Any, fits: pd.DataFrame) -> tuple[Any, dict[str, np.ndarray]]:
    """Run every sequence at its subject's fitted parameters, keeping the latents."""
    check_model(model, data)
    x = subject_parameters(model, fits, data.subjects)[data.seq_subject]
    p = param_dict(model, x)
    arrays = dict(data.arrays)
    arrays.update(model.extra_inputs(data))
    trials = {k: np.swapaxes(arrays[k], 0, 1) for k in model.inputs}
    return run_model(model, p, trials, data.valid.T, data.info, store=True), p


def _per_stage(model: Any, lat: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> list[dict]:
    """The latents of each stage of a trial, under the unified names (arrays (T, S, ...))."""
    if "q_mf" not in lat:
        stage = {k: lat[k] for k in ("option_value", "chosen_value", "value", "rpe") if k in lat}
        stage["policy"] = lat["policy_0"]
        if "value_difference" in lat:
            stage["value_difference"] = lat["value_difference"]
        return [stage]
    w = p["w"][None, :, None]
    net = w * lat["q_mb"] + (1 - w) * lat["q_mf"]
    first = {
        "option_value": net,
        "chosen_value": lat["chosen_value"],
        "policy": lat["policy_0"],
        "rpe": lat["rpe"],
        "q_mf": lat["q_mf"],
        "q_mb": lat["q_mb"],
        "rpe_mb": lat["rpe_mb"],
    }
    second = {
        "option_value": lat["q2"],
        "chosen_value": lat["chosen_value2"],
        "policy": lat["policy_1"],
        "rpe": lat["rpe_outcome"],
    }
    for stage in (first, second):
        stage["value"] = (stage["policy"] * stage["option_value"]).sum(-1)
        if stage["option_value"].shape[-1] == 2:
            stage["value_difference"] = (
                stage["option_value"][..., 1] - stage["option_value"][..., 0]
            )
    return [first, second]


def model_latents(
    model: Any,
    ds: xr.Dataset,
    fits: pd.DataFrame,
    *,
    common_prob: float | None = None,
    family: str | None = None,
) -> xr.Dataset:
    """The fitted model's latents for every step of a recording.

    Parameters
    ----------
    model : str or BehaviourModel
    ds : xarray.Dataset
        The recording the model was fitted to.
    fits : pandas.DataFrame
        One row per subject with the model's parameters (from :func:`~neurometa.behaviour.fit`).
    common_prob : float, optional
        Two-step common-transition probability (default: the observed rate, as the fit).
    family : str, optional
        Task family of a recording whose attrs do not name one.

    Returns
    -------
    xarray.Dataset
        The variables of the module docstring over ``(episode, step[, option])``.
    """
    model = get_model(model)
    data = behaviour_data(ds, family, common_prob=common_prob)
    res, p = _replay(model, data, fits)
    stages = _per_stage(model, res.latents, p)
    num_ep, num_steps = ds.sizes["episode"], ds.sizes["step"]
    spt = len(stages)
    valid = data.valid.T  # (T, S)
    ep = np.broadcast_to(data.episode_position[None, :], valid.shape)[valid]
    params_json = json.dumps(
        {
            str(s): dict(zip(model.parameters, map(float, row), strict=True))
            for s, row in zip(
                data.subjects, subject_parameters(model, fits, data.subjects), strict=True
            )
        }
    )
    prior = str(fits["prior"].iloc[0]) if "prior" in fits else "none"
    out = xr.Dataset(coords={"episode": ds["episode"].values})
    names = sorted(
        {k for stage in stages for k in stage},
        key=lambda k: list(LATENT_NAMES).index(f"model_{k}"),
    )
    for key in names:
        shape = next(np.shape(st[key])[2:] for st in stages if key in st)
        grid = np.full((num_ep, num_steps, *shape), np.nan)
        for s, stage in enumerate(stages):
            if key not in stage:
                continue
            step = (data.trial_position.T * spt + s)[valid]
            grid[ep, step] = np.real(stage[key])[valid]
        dims = ("episode", "step", "option")[: 2 + len(shape)]
        name = f"model_{key}"
        out[name] = xr.DataArray(
            grid,
            dims=dims,
            attrs={
                "long_name": f"{model.name} model: {LATENT_NAMES[name]}",
                "units": "1",
                "model": model.name,
                "fit_prior": prior,
                "model_parameters": params_json,
            },
        )
    return out


def add_latents(
    ds: xr.Dataset,
    model: Any = None,
    fits: pd.DataFrame | None = None,
    **fit_options: Any,
) -> tuple[xr.Dataset, pd.DataFrame]:
    """A copy of ``ds`` with the fitted model's latents (fitting it first if needed).

    Parameters
    ----------
    ds : xarray.Dataset
        A recording of any family with models.
    model : str or BehaviourModel, optional
        Default: the family's :data:`~neurometa.behaviour.models.DEFAULT_MODELS` entry.
    fits : pandas.DataFrame, optional
        The model's fits; fitted here with ``fit_options`` (see
        :func:`~neurometa.behaviour.fit`) when omitted.

    Returns
    -------
    (xarray.Dataset, pandas.DataFrame)
        The recording with the ``model_*`` variables (replacing earlier ones), and the fits.

    Examples
    --------
    >>> from neurometa.behaviour.synthetic import bandit_recording
    >>> ds = bandit_recording(num_trials=100, num_units=3, seed=0)
    >>> with_latents, fits = add_latents(ds, "q_learning", progress=False)
    >>> with_latents["model_chosen_value"].dims
    ('episode', 'step')
    """
    from neurometa.behaviour.fitting import fit

    family = fit_options.pop("family", None)
    common_prob = fit_options.pop("common_prob", None)
    data = behaviour_data(ds, family, common_prob=common_prob)
    model = get_model(model if model is not None else DEFAULT_MODELS[data.family])
    if fits is None:
        fits = fit(model, data, **fit_options)
    latents = model_latents(model, ds, fits, common_prob=common_prob, family=data.family)
    old = [v for v in ds.data_vars if str(v).startswith("model_")]
    out = ds.drop_vars(old).assign(latents.data_vars)
    return out, fits


def trial_latents(
    model: Any,
    source: Any,
    fits: pd.DataFrame,
    *,
    family: str | None = None,
    common_prob: float | None = None,
) -> pd.DataFrame:
    """The fitted model's latents per trial of a trial table (one column per latent).

    Parameters
    ----------
    model : str or BehaviourModel
    source : pandas.DataFrame or xarray.Dataset
        A trial table (as for :func:`~neurometa.behaviour.behaviour_data`) or a recording.
    fits : pandas.DataFrame
        One row per subject with the model's parameters.

    Returns
    -------
    pandas.DataFrame
        The completed trials in the table's order (what :func:`behaviour_data` keeps) with
        the model's scalar latents added as columns (e.g. ``chosen_value``, ``rpe``; for
        the hybrid model also ``q_mf_chosen``, ``q_mb_chosen``, ``chosen_value2``,
        ``rpe_mb``, ``rpe_outcome``), NaN-free.
    """
    model = get_model(model)
    data = behaviour_data(source, family, common_prob=common_prob)
    res, _ = _replay(model, data, fits)
    out = data.table.drop(columns=[c for c in data.table if c.startswith("_")]).copy()
    valid = data.valid.T
    rows = data.row_index.T[valid]
    for key, values in res.latents.items():
        values = np.real(values)
        if values.ndim == 2:
            col = np.full(len(out), np.nan)
            col[rows] = values[valid]
            out[key] = col
        elif key in ("q_mf", "q_mb"):
            first = np.swapaxes(data.arrays["choice1"], 0, 1)
            chosen = np.take_along_axis(values, first[..., None], axis=-1)[..., 0]
            col = np.full(len(out), np.nan)
            col[rows] = chosen[valid]
            out[f"{key}_chosen"] = col
    return out
