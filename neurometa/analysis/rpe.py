"""RPE decomposition: how much of a prediction-error signal is model-free or model-based.

Daw et al. 2011 (Neuron 69:1204) and Wang et al. 2018 (Nat Neurosci 21:860, Box 4) regress
a prediction-error signal on the model-free RPE and on the difference between the
model-based and model-free RPEs, both computed from the hybrid model
(:mod:`neurometa.behaviour.models.two_step`) fitted to the same behaviour:

- second-stage onset: ``δ_MF = Q2(s, a2) - Q_MF(a1)``, ``δ_MB = Q2(s, a2) - Q_MB(a1)``;
  ``y = b0 + b_MF δ_MF + b_diff (δ_MB - δ_MF) + e``;
- outcome: ``δ = r - Q2(s, a2)`` for both systems (shared second-stage values), so the
  difference is identically zero there: ``y = b0 + b_MF δ + e`` and ``b_diff`` is NaN.

A positive ``b_diff`` means the signal carries model-based information beyond the
model-free RPE. The signal is the agent's ``rpe`` or any per-step variable (e.g. unit
activity ``h``, fitted unit by unit in one solve).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from neurometa.analysis._common import by_trial, check_recording
from neurometa.analysis.coding import OLSDesign, ols_attrs
from neurometa.analysis.two_step import two_step_trials

__all__ = ["RPE_TERMS", "model_rpes", "model_value", "rpe_decomposition"]

#: Regressors of the decomposition, in design order.
RPE_TERMS: tuple[str, ...] = ("intercept", "rpe_mf", "rpe_mb_minus_mf")


def model_rpes(
    trials: pd.DataFrame, fits: pd.DataFrame, *, common_prob: float | None = None
) -> pd.DataFrame:
    """Per-trial model prediction errors under each subject's fitted parameters.

    Parameters
    ----------
    trials : pandas.DataFrame
        Two-step trial table.
    fits : pandas.DataFrame
        One row per subject with a ``subject`` column and the hybrid model's parameters
        (as returned by ``neurometa.behaviour.fit("hybrid", ...)``).
    common_prob : float, optional
        Default: the observed common-transition rate.

    Returns
    -------
    pandas.DataFrame
        ``trials`` with ``rpe_onset_mf``, ``rpe_onset_mb``, ``rpe_outcome``, ``q_mf``,
        ``q_mb`` (of the chosen first-stage option) and ``q2`` (of the chosen second-stage
        option) added (same row order).
    """
    from neurometa.behaviour.latents import trial_latents

    table = trials.reset_index(drop=True)
    lat = trial_latents(
        "hybrid",
        table.assign(source_row=np.arange(len(table))),
        fits,
        family="two_step",
        common_prob=common_prob,
    )
    out = table.copy()
    names = {
        "rpe": "rpe_onset_mf",
        "rpe_mb": "rpe_onset_mb",
        "rpe_outcome": "rpe_outcome",
        "q_mf_chosen": "q_mf",
        "q_mb_chosen": "q_mb",
        "chosen_value2": "q2",
    }
    for src, dst in names.items():
        col = np.full(len(out), np.nan)
        col[lat["source_row"].to_numpy()] = lat[src].to_numpy()
        out[dst] = col
    out.attrs.update(trials.attrs)
    return out


def _fit_event(y: np.ndarray, mf: np.ndarray, diff: np.ndarray | None) -> dict[str, np.ndarray]:
    """OLS of ``y (n, m)`` on ``[1, mf, diff]`` (diff omitted when None); NaN-filled to 3 terms."""
    cols = [np.ones_like(mf), mf] + ([diff] if diff is not None else [])
    res = OLSDesign(np.column_stack(cols), RPE_TERMS[: len(cols)]).fit(y)
    if diff is None:
        res = {
            k: np.vstack([v, np.full((1, v.shape[1]), np.nan)])
            for k, v in res.items()
            if k != "rss"
        }
    return res


def rpe_decomposition(
    ds: xr.Dataset,
    *,
    signal: str = "rpe",
    fits: pd.DataFrame | None = None,
    onset_stage: str | int = 0,
    outcome_stage: str | int = 1,
    num_restarts: int = 5,
    seed: int = 0,
    prior: str | None = None,
    common_prob: float | None = None,
) -> xr.Dataset:
    """Regress a signal on model-free and (model-based − model-free) RPEs.

    Parameters
    ----------
    ds : xarray.Dataset
        Two-step recording holding ``signal`` over ``(episode, step[, unit])``.
    signal : str
        The regressed variable. For the agent's ``rpe`` (δ_t = r_t + γ V_{t+1} − V_t) the
        TD error of the first-stage step spans the appearance of the second-stage state
        (hence ``onset_stage=0``), and that of the second-stage step spans the outcome.
    fits : pandas.DataFrame, optional
        Hybrid-model fits per subject; fitted here (``num_restarts``, ``seed``, ``prior``)
        if omitted.
    onset_stage, outcome_stage : str or int
        Stage whose signal is taken at second-stage onset and at outcome.
    prior : {None, "weak", "empirical"}
        Prior of the hybrid fit when ``fits`` is omitted (see :func:`neurometa.behaviour.fit`).
    common_prob : float, optional
        Common-transition probability of the model-based system, for the fit and the RPEs
        (default: the observed rate).

    Returns
    -------
    xarray.Dataset
        ``coef``, ``se``, ``t``, ``p`` with dims (event, term[, unit]); event is
        ``second_stage_onset`` / ``outcome``; ``num_obs`` (event): the trials regressed
        (completed trials whose signal is finite at that event, in every unit); attrs
        ``num_trials`` (completed trials) and ``fit_<parameter>``: the mean over subjects
        of the hybrid-model parameters that gave the RPEs.

    Examples
    --------
    >>> import neurometa as nm
    >>> task = nm.make_task("two_step/daw2011", 20, num_trials=100)
    >>> agent = nm.make_baseline("hybrid", task, w=0.8)
    >>> ds = nm.record_agent(agent, task, 20, seed=0, progress=False)
    >>> trials = nm.two_step_trials(ds)
    >>> res = nm.rpe_decomposition(ds, num_restarts=1)
    >>> res["coef"].dims, [str(e) for e in res["event"].values]
    (('event', 'term'), ['second_stage_onset', 'outcome'])
    """
    from neurometa.behaviour import fit, get_model

    check_recording(ds, [signal], analysis="RPE decomposition")
    trials = two_step_trials(ds)
    if fits is None:
        fits = fit(
            "hybrid",
            trials,
            family="two_step",
            num_restarts=num_restarts,
            seed=seed,
            prior=prior,
            common_prob=common_prob,
            progress=False,
        )
    table = model_rpes(trials, fits, common_prob=common_prob)
    ep, tr = table["episode"].to_numpy(), table["trial_index"].to_numpy()
    results, num_obs = {}, []
    for event, stage in (("second_stage_onset", onset_stage), ("outcome", outcome_stage)):
        sig = by_trial(ds[signal], ds, stage).transpose("episode", "trial", ...).values
        y = sig[ep, tr].reshape(len(table), -1).astype(np.float64)
        mf = table["rpe_outcome" if event == "outcome" else "rpe_onset_mf"].to_numpy()
        diff = None if event == "outcome" else table["rpe_onset_mb"].to_numpy() - mf
        ok = np.all(np.isfinite(y), axis=1)  # trials where the signal was recorded
        num_obs.append(int(ok.sum()))
        results[event] = _fit_event(y[ok], mf[ok], None if diff is None else diff[ok])
    extra = tuple(d for d in ds[signal].dims if d not in ("episode", "step"))
    dims = ("event", "term") + extra
    shape = (2, len(RPE_TERMS)) + tuple(ds.sizes[d] for d in extra)
    data = {
        k: (dims, np.stack([results[e][k] for e in results]).reshape(shape), attrs)
        for k, attrs in ols_attrs(ds[signal].attrs.get("units", "1")).items()
    }
    data["num_obs"] = (
        "event",
        num_obs,
        {"long_name": "trials in the regression (signal finite at the event)", "units": "1"},
    )
    coords = {"event": list(results), "term": list(RPE_TERMS)}
    coords.update({d: ds[signal][d].values for d in extra if d in ds[signal].coords})
    out = xr.Dataset(data, coords=coords)
    out.attrs.update(
        signal=signal,
        num_trials=len(table),
        note="at outcome the MB and MF RPEs coincide (shared second-stage values): b_diff is NaN",
    )
    for name in get_model("hybrid").parameters:
        out.attrs[f"fit_{name}"] = float(fits[name].mean())
    return out


def model_value(ds: xr.Dataset, fits: pd.DataFrame) -> xr.DataArray:
    """The fitted hybrid model's value of the chosen option at each step (for lab data).

    First-stage step: ``Q_net(a1) = w Q_MB(a1) + (1 - w) Q_MF(a1)`` before the choice;
    second-stage step: ``Q2(s, a2)`` (the ``model_chosen_value`` latent of
    :func:`neurometa.behaviour.model_latents`). Use it as the value regressor of the coding
    regression when a recording has no ``value`` of its own.

    Returns
    -------
    xarray.DataArray, dims (episode, step)
        NaN on missed trials.
    """
    from neurometa.behaviour.latents import model_latents

    return model_latents("hybrid", ds, fits)["model_chosen_value"].rename("value")
