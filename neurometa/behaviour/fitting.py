"""Fit any behavioural model to every subject at once: ML, MAP or empirical Bayes.

One engine for all models. Maximum likelihood and MAP maximise each subject's
log-likelihood (plus the weak priors of :data:`~neurometa.behaviour.params.PARAMETERS`
for MAP; Gershman 2016) within the parameters' bounds: each parameter is mapped onto the
real line by ``x = lo + (hi − lo) sigmoid(h)``, and all (subject, restart) problems run
together in :class:`~neurometa.behaviour.optimise.BatchedBFGS` with exact complex-step
gradients. Each restart starts every subject from a fresh uniform draw within the
parameters' ``start`` ranges (``w`` of the two-step models cycles through
:data:`W_STARTS`, so both sides of the model-based weight are tried); each subject keeps its
best restart. Standard errors come from the inverse Hessian of the objective (central
differences of the exact gradient) on the unbounded scale, mapped back by the delta
method; they are NaN for an estimate on a bound (where the curvature says nothing).

Empirical Bayes (``prior="empirical"``): :mod:`neurometa.behaviour.empirical_bayes`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from neurometa.behaviour.data import BehaviourData, BehaviourDataError, behaviour_data
from neurometa.behaviour.models import get_model
from neurometa.behaviour.objective import Objective
from neurometa.behaviour.optimise import BatchedBFGS, hessian
from neurometa.behaviour.params import PARAMETERS, to_unbounded
from neurometa.seeding import RunSeeds

__all__ = ["PRIORS", "W_STARTS", "fit", "fit_models", "start_points", "fits_table"]

#: Accepted ``prior`` values: maximum likelihood, MAP with weak priors, empirical Bayes.
PRIORS: tuple[str | None, ...] = (None, "weak", "empirical")

#: Starting values of ``w``, cycled over the restarts (restart i starts at W_STARTS[i % 3]).
W_STARTS: tuple[float, ...] = (0.5, 0.2, 0.8)

#: |h| beyond which an estimate counts as on its bound (sigmoid within 1.2e-4 of 0 or 1).
_ON_BOUND = 9.0


def start_points(
    names: tuple[str, ...], num_subjects: int, restart: int, rng: np.random.Generator
) -> np.ndarray:
    """Starting points ``(N, k)`` of restart ``restart``: uniform in each ``start`` range."""
    lows = np.array([PARAMETERS[n].start[0] for n in names])
    highs = np.array([PARAMETERS[n].start[1] for n in names])
    start = rng.uniform(lows, highs, size=(num_subjects, len(names)))
    if "w" in names:
        start[:, names.index("w")] = W_STARTS[restart % len(W_STARTS)]
    return start


def _check(prior: Any, num_restarts: int) -> None:
    if prior not in PRIORS:
        raise ValueError(
            f"unknown prior {prior!r}; choose None (maximum likelihood), "
            "'weak' (MAP) or 'empirical' (empirical Bayes)"
        )
    if num_restarts < 1:
        raise ValueError(f"num_restarts must be >= 1, got {num_restarts}")


def fits_table(
    model: Any, data: BehaviourData, x: np.ndarray, nll: np.ndarray, prior: str | None
) -> pd.DataFrame:
    """Per-subject result table: parameters ``x (N, k)`` (free), ``nll (N,)``.

    Columns: ``subject``, every parameter of the model (fixed ones at their value),
    ``nll``, ``num_params``, ``num_choices``, ``aic`` = 2k + 2 NLL, ``bic`` = k ln n + 2 NLL,
    ``model``, ``prior`` ("none", "weak" or "empirical").
    """
    k = len(model.parameters)
    num_choices = data.num_choices()
    out = pd.DataFrame({"subject": data.subjects})
    for j, name in enumerate(model.parameters):
        out[name] = x[:, j]
    for name, value in model.fixed.items():
        out[name] = value
    out["nll"] = nll
    out["num_params"] = k
    out["num_choices"] = num_choices.astype(np.int64)
    out["aic"] = 2 * k + 2 * nll
    out["bic"] = k * np.log(num_choices) + 2 * nll
    out["model"] = model.name
    out["prior"] = "none" if prior is None else prior
    return out


def _standard_errors(objective: Objective, h: np.ndarray) -> np.ndarray:
    """Delta-method SEs ``(N, k)`` on the natural scale; NaN on a bound or if not a minimum."""
    subjects = np.arange(h.shape[0])
    hess = hessian(objective, h, subjects)
    se = np.full(h.shape, np.nan)
    vals = np.linalg.eigvalsh(hess)
    ok = vals.min(axis=1) > 1e-9 * np.maximum(vals.max(axis=1), 1e-300)
    if ok.any():
        cov = np.linalg.inv(hess[ok])
        eps = 1e-6
        slope = (objective.natural(h[ok] + eps) - objective.natural(h[ok] - eps)) / (2 * eps)
        se[ok] = np.abs(slope) * np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    se[np.abs(h) > _ON_BOUND] = np.nan
    return se


def fit(
    model: Any,
    source: Any,
    *,
    prior: str | None = None,
    num_restarts: int = 5,
    seed: int = 0,
    family: str | None = None,
    common_prob: float | None = None,
    weight: np.ndarray | None = None,
    standard_errors: bool = True,
    progress: bool = True,
    **em_options: Any,
) -> pd.DataFrame:
    """Fit a behavioural model to every subject of a recording or trial table.

    Parameters
    ----------
    model : str or BehaviourModel
        A registered name (:data:`~neurometa.behaviour.models.MODELS`) or a model object.
    source : xarray.Dataset, pandas.DataFrame or BehaviourData
        The behaviour (see :func:`~neurometa.behaviour.data.behaviour_data`).
    prior : {None, "weak", "empirical"}
        Maximum likelihood, MAP under the weak priors, or empirical Bayes (EM over a
        Gaussian group prior, Huys et al. 2011; ``em_options``: ``max_iter``, ``tol``).
    num_restarts : int
        Random starts per subject (seeded by ``seed``).
    seed : int
    family : str, optional
        Task family of a trial table.
    common_prob : float, optional
        Two-step common-transition probability (default: the observed rate).
    weight : numpy.ndarray of bool, shape (S, T), optional
        Trials whose choices enter the likelihood (cross-validation); default all.
    standard_errors : bool
        Add ``se_<parameter>`` columns (ML and MAP).
    progress : bool
        Show a progress bar (stderr).

    Returns
    -------
    pandas.DataFrame
        One row per subject (see :func:`fits_table`), plus ``se_<parameter>`` and
        ``converged``; ``attrs``: ``model``, ``description``, ``num_restarts``, ``seed``,
        ``iterations``.

    Examples
    --------
    >>> from neurometa.behaviour import simulate
    >>> table = simulate("q_learning", {"alpha": [0.3], "beta": [5.0]}, "bandit/reversal", 500,
    ...                  seed=1)
    >>> fits = fit("q_learning", table, family="bandit", progress=False)
    >>> round(float(fits["alpha"].iloc[0]), 1), bool(fits["converged"].iloc[0])
    (0.3, True)
    """
    _check(prior, num_restarts)
    model = get_model(model)
    data = behaviour_data(source, family, common_prob=common_prob)
    if prior == "empirical":
        from neurometa.behaviour.empirical_bayes import fit_empirical_bayes

        return fit_empirical_bayes(
            model,
            data,
            num_restarts=num_restarts,
            seed=seed,
            weight=weight,
            progress=progress,
            **em_options,
        )
    if em_options:
        raise TypeError(f"options {sorted(em_options)} apply to prior='empirical' only")
    objective = Objective(model, data, scale="box", prior=prior, weight=weight)
    names, num_subjects = objective.names, len(data.subjects)
    if not names:
        raise BehaviourDataError(f"model {model.name!r} has no free parameters to fit")
    rng = RunSeeds(seed).numpy("extra")
    starts = np.concatenate(
        [
            to_unbounded(start_points(names, num_subjects, r, rng), names, "box")
            for r in range(num_restarts)
        ]
    )
    subjects = np.tile(np.arange(num_subjects), num_restarts)
    desc = f"fit {model.name}" + ("" if prior is None else f" ({prior})")
    res = BatchedBFGS(
        objective, curvature=objective.derivatives, progress=progress, desc=desc
    ).run(starts, subjects)
    f = res["f"].reshape(num_restarts, num_subjects)
    best = np.argmin(np.where(np.isfinite(f), f, np.inf), axis=0)
    pick = best * num_subjects + np.arange(num_subjects)
    h = res["h"][pick]
    x = objective.natural(h)
    nll = -np.real(objective.loglik(x[:, None], np.arange(num_subjects)))[:, 0]
    out = fits_table(model, data, x, nll, prior)
    if standard_errors:
        se = _standard_errors(objective, h)
        for j, name in enumerate(names):
            out[f"se_{name}"] = se[:, j]
    out["converged"] = res["converged"][pick]
    out.attrs.update(
        model=model.name,
        description=model.description,
        num_restarts=num_restarts,
        seed=seed,
        iterations=int(res["iterations"].max()),
    )
    return out


def fit_models(models: Any, source: Any, **kwargs: Any) -> pd.DataFrame:
    """Fit several models (arguments as :func:`fit`); one row per (model, subject).

    ``attrs`` maps each model name to that fit's ``attrs``.
    """
    names = [models] if isinstance(models, str) else list(models)
    data = behaviour_data(
        source, kwargs.pop("family", None), common_prob=kwargs.pop("common_prob", None)
    )
    fits = [fit(m, data, **kwargs) for m in names]
    out = pd.concat(fits, ignore_index=True)
    out.attrs = {str(f["model"].iloc[0]): dict(f.attrs) for f in fits}
    return out
