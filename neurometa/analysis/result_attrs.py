"""CF ``long_name`` and ``units`` for the variables of analysis results, in one vocabulary.

The analyses name their outputs with a small vocabulary (``coef``, ``se``, ``p``,
``ci_low``, ``num_trials``, ``p_stay``, the hybrid model's parameters...). Where an analysis
has not described a variable itself, :func:`describe_result` fills its ``long_name`` and
``units`` from :data:`RESULT_ATTRS`, with two composition rules:

- ``<x>_low`` / ``<x>_high``: the bounds of the confidence interval of ``x`` (``ci_low`` /
  ``ci_high``: of the estimate), in the units of ``x``;
- ``agent_<x>`` / ``neural_<x>`` / ``subjects_<x>``: ``x`` of the agent, the recorded
  neurons or the subjects (the agent-neuron comparison).

Every statistic here is dimensionless (probabilities, fractions, counts, test statistics,
information criteria, the hybrid model's parameters), hence ``units = "1"``; text labels get a
``long_name`` only (CF gives text no units). Attributes an analysis set itself are kept.

Examples
--------
>>> import xarray as xr
>>> ds = describe_result(xr.Dataset({"ci_low": ("condition", [0.6])}))
>>> ds["ci_low"].attrs["long_name"]
'lower bound of the confidence interval of the estimate'
"""

from __future__ import annotations

import xarray as xr

__all__ = ["RESULT_ATTRS", "describe_result", "result_attrs"]

#: name -> (long_name, units); units None for text labels.
RESULT_ATTRS: dict[str, tuple[str, str | None]] = {
    # regressions and tests
    "coef": ("regression coefficient", "1"),
    "se": ("standard error of the estimate", "1"),
    "statistic": ("test statistic (z or t) of the estimate", "1"),
    "t": ("t statistic", "1"),
    "z": ("z statistic of the two-proportion test", "1"),
    "p": ("two-sided p-value", "1"),
    "p_z": ("p-value of the two-proportion z-test", "1"),
    "p_fisher": ("p-value of Fisher's exact test", "1"),
    "estimate": ("estimate of the contrast", "1"),
    "ci": ("the estimate", "1"),
    "low": ("lower bound of the confidence interval of the fraction", "1"),
    "high": ("upper bound of the confidence interval of the fraction", "1"),
    # proportions and counts
    "p_stay": ("probability of repeating the previous choice", "1"),
    "p_better": ("probability of choosing the better arm", "1"),
    "fraction": ("fraction of units coding the term", "1"),
    "difference": ("difference of the fractions (agent - neural)", "1"),
    "chance": ("chance fraction (shuffled regressors)", "1"),
    "corrected": ("fraction above chance", "1"),
    "count": ("number of units or trials counted", "1"),
    "total": ("number of units or trials in all", "1"),
    "num_trials": ("number of trials", "1"),
    "num_stays": ("number of trials repeating the previous choice", "1"),
    "num_choices": ("number of choices fitted", "1"),
    "num_params": ("number of free parameters", "1"),
    "num_coding": ("number of units coding the term", "1"),
    # model fits (Daw et al. 2011 hybrid model)
    "nll": ("negative log-likelihood of the fitted choices", "1"),
    "aic": ("Akaike information criterion", "1"),
    "bic": ("Bayesian information criterion", "1"),
    "alpha1": ("first-stage learning rate alpha1", "1"),
    "alpha2": ("second-stage learning rate alpha2", "1"),
    "lam": ("eligibility trace lambda", "1"),
    "beta1": ("first-stage inverse temperature beta1", "1"),
    "beta2": ("second-stage inverse temperature beta2", "1"),
    "converged": ("whether the optimiser converged", "1"),
    "log_evidence": ("Laplace log evidence of the subject's choices", "1"),
    "ibic": ("integrated Bayesian information criterion", "1"),
    "heldout_loglik": ("held-out log-likelihood of the choices", "1"),
    "heldout_choices": ("number of held-out choices", "1"),
    "loglik_per_choice": ("held-out log-likelihood per choice", "1"),
    "choice_probability": ("geometric-mean probability of a held-out choice", "1"),
    "w": ("model-based weight w", "1"),
    "fit": ("index of the fit (subject)", "1"),
    "model": ("model fitted", None),
    "prior": ("prior of the fit", None),
    # labels and indexes
    "term": ("regression term", None),
    "contrast": ("contrast of the regression terms", None),
    "condition": ("condition", None),
    "condition_b": ("condition (second of the pair)", None),
    "outcome": ("outcome of the previous trial", None),
    "transition": ("transition of the previous trial", None),
    "after": ("outcome of the previous trial", None),
    "event": ("event the prediction error is taken at", None),
    "input": ("input recording", None),
    "fold": ("cross-validation fold", "1"),
    "difficulty_bin": ("index of the difficulty bin", "1"),
    "bin_low": ("lower edge of the difficulty bin |p1 - p2|", "1"),
    "bin_high": ("upper edge of the difficulty bin |p1 - p2|", "1"),
    "trial_index": ("trial index within the episode", "1"),
    "completed_trial": ("index among the completed trials", "1"),
    "common": ("whether the transition was the common one", "1"),
    "choice1": ("first-stage choice", "1"),
    "choice2": ("second-stage choice", "1"),
    "state2": ("second-stage state reached", "1"),
}
_WHO = {"agent_": "agent", "neural_": "recorded neurons", "subjects_": "subjects"}
_BOUND = {"_low": "lower", "_high": "upper"}


def result_attrs(name: str) -> dict[str, str] | None:
    """``long_name`` and ``units`` of a result variable ``name``, or None if unknown.

    Examples
    --------
    >>> result_attrs("neural_fraction_high")["long_name"]
    'recorded neurons: upper bound of the confidence interval of fraction of units coding the term'
    """
    for prefix, who in _WHO.items():
        if name.startswith(prefix):
            inner = result_attrs(name[len(prefix) :])
            return (
                None if inner is None else {**inner, "long_name": f"{who}: {inner['long_name']}"}
            )
    for suffix, bound in _BOUND.items():
        if name.endswith(suffix) and name[: -len(suffix)] in RESULT_ATTRS:
            base, units = RESULT_ATTRS[name[: -len(suffix)]]
            attrs = {"long_name": f"{bound} bound of the confidence interval of {base}"}
            return {**attrs, "units": units} if units else attrs
    from neurometa.behaviour.params import PARAMETERS  # the models' parameter vocabulary

    if name.startswith("se_") and name[3:] in PARAMETERS:
        return {
            "long_name": f"standard error of the {PARAMETERS[name[3:]].long_name}",
            "units": "1",
        }
    if name in PARAMETERS and name not in RESULT_ATTRS:
        return {"long_name": PARAMETERS[name].long_name, "units": "1"}
    if name not in RESULT_ATTRS:
        return None
    long_name, units = RESULT_ATTRS[name]
    return {"long_name": long_name, "units": units} if units else {"long_name": long_name}


def describe_result(ds: xr.Dataset) -> xr.Dataset:
    """Fill missing ``long_name``/``units`` of ``ds``'s variables and coordinates, in place.

    Parameters
    ----------
    ds : xarray.Dataset
        An analysis result.

    Returns
    -------
    xarray.Dataset
        ``ds`` itself.
    """
    for name, var in ds.variables.items():
        attrs = result_attrs(str(name))
        if attrs is None:
            continue
        var.attrs.setdefault("long_name", attrs["long_name"])
        if "units" in attrs and var.dtype.kind in "biuf":
            var.attrs.setdefault("units", attrs["units"])
    return ds
