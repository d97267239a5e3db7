"""Maximum-likelihood, MAP and empirical-Bayes fits of the Daw et al. 2011 hybrid model.

The likelihood is that of both stages' choices under :func:`hybrid_recursion`. Subjects
are independent, so all subjects are fitted in one bounded L-BFGS-B problem whose objective
is the sum of per-subject negative log-likelihoods (minus the log prior for a MAP fit); the
gradient is by forward differences, all perturbed parameter sets evaluated in one vectorised
pass. Each restart starts every subject from a fresh uniform draw within
:data:`START_RANGES`, except w, which restart ``i`` starts at ``W_STARTS[i % 3]`` (a small
grid, so that both the model-free and the model-based side of the w axis are tried); each
subject keeps its best restart. Nested models: ``model_free`` (w = 0, 6 parameters) and
``model_based`` (w = 1; α1 and λ then do not enter; 4 parameters).

MAP fits (``prior="weak"``) add the weakly informative priors of :data:`PRIORS`:
Beta(1.1, 1.1) on α1, α2, λ and w, Gamma(shape 1.2, scale 5) on β1 and β2, Normal(0, 1) on
the perseveration p: weakly informative priors of the kind commonly used to regularise
per-subject two-step fits. Gershman (2016, "Empirical priors for reinforcement learning
models", J Math Psychol 71:1-6) shows that priors improve the reliability and predictive
accuracy of such estimates. These are nearly flat inside the range and only keep estimates
away from degenerate corners (β → 0, where w is unidentified; α or w pinned on a bound).

Empirical-Bayes fits (``prior="empirical"``) fit a Gaussian group prior on transformed
parameters by EM with the Laplace approximation (Huys et al. 2011); they live in
:mod:`neurometa.analysis.hybrid_em`, which reuses this module's likelihood and optimiser.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, gammaln
from tqdm.auto import tqdm

from neurometa.analysis._common import AnalysisError
from neurometa.analysis.hybrid_model import BOUNDS, PARAM_NAMES, hybrid_recursion
from neurometa.seeding import RunSeeds

__all__ = [
    "MODELS",
    "PRIORS",
    "START_RANGES",
    "W_STARTS",
    "TrialArrays",
    "trial_arrays",
    "fit_hybrid",
    "fit_nested",
    "fit_table",
    "minimise_subjects",
]

#: Free parameters and fixed values of each model.
MODELS: dict[str, tuple[tuple[str, ...], dict[str, float]]] = {
    "hybrid": (PARAM_NAMES, {}),
    "model_free": (("alpha1", "alpha2", "lam", "beta1", "beta2", "pers"), {"w": 0.0}),
    "model_based": (("alpha2", "beta1", "beta2", "pers"), {"w": 1.0, "alpha1": 0.0, "lam": 0.0}),
}

#: Ranges of the random restarts (inside the bounds, away from flat saturated regions).
START_RANGES: dict[str, tuple[float, float]] = {
    "alpha1": (0.1, 0.9),
    "alpha2": (0.1, 0.9),
    "lam": (0.1, 0.9),
    "beta1": (1.0, 8.0),
    "beta2": (1.0, 8.0),
    "pers": (-0.5, 0.5),
    "w": (0.1, 0.9),
}

#: Starting values of w, cycled over the restarts (restart i starts at W_STARTS[i % 3]).
W_STARTS: tuple[float, ...] = (0.5, 0.2, 0.8)

#: Priors of the MAP fits: name -> parameter -> (family, a, b); "beta": Beta(a, b);
#: "gamma": Gamma(shape a, scale b); "normal": Normal(mean a, SD b).
PRIORS: dict[str, dict[str, tuple[str, float, float]]] = {
    "weak": {
        "alpha1": ("beta", 1.1, 1.1),
        "alpha2": ("beta", 1.1, 1.1),
        "lam": ("beta", 1.1, 1.1),
        "beta1": ("gamma", 1.2, 5.0),
        "beta2": ("gamma", 1.2, 5.0),
        "pers": ("normal", 0.0, 1.0),
        "w": ("beta", 1.1, 1.1),
    },
}

#: Forward-difference step of the gradient.
_STEP = 1e-6

_TABLE_COLUMNS = ("subject", "episode", "choice1", "state2", "choice2", "reward")


class TrialArrays:
    """A trial table as padded ``(S, T)`` arrays, one row per (subject, episode) sequence.

    Attributes
    ----------
    choice1, state2, choice2, reward : numpy.ndarray, shape (S, T)
    valid : numpy.ndarray of bool, shape (S, T)
    seq_subject : numpy.ndarray of int, shape (S,)
        Index into ``subjects`` of each sequence.
    subjects : numpy.ndarray
        Subject labels.
    row_index : numpy.ndarray of int, shape (S, T)
        Row of the trial table at each valid position (−1 for padding).
    """

    def __init__(self, trials: pd.DataFrame) -> None:
        missing = [c for c in _TABLE_COLUMNS if c not in trials.columns]
        if missing:
            raise AnalysisError(f"the trial table lacks column(s) {', '.join(missing)}")
        if len(trials) == 0:
            raise AnalysisError("the trial table is empty")
        reward = trials["reward"].to_numpy(dtype=np.float64)
        if ((reward < 0) | (reward > 1)).any():
            warnings.warn(
                f"rewards outside [0, 1] (range {reward.min():g} to {reward.max():g}): the Daw "
                "2011 model is written for 0/1 rewards; other codings rescale what the "
                "fitted learning rates and inverse temperatures mean",
                UserWarning,
                stacklevel=3,
            )
        table = trials.reset_index(drop=True)
        groups = table.groupby(["subject", "episode"], sort=True).indices
        subj_codes, self.subjects = pd.factorize(pd.Series([key[0] for key in groups]))
        self.subjects = np.asarray(self.subjects)
        num_trials = max(len(idx) for idx in groups.values())
        shape = (len(groups), num_trials)
        self.row_index = np.full(shape, -1, dtype=np.int64)
        for i, idx in enumerate(groups.values()):
            self.row_index[i, : len(idx)] = np.sort(idx)
        self.valid = self.row_index >= 0
        self.seq_subject = subj_codes
        take = np.where(self.valid, self.row_index, 0)
        for name in ("choice1", "state2", "choice2"):
            setattr(self, name, table[name].to_numpy(dtype=np.int64)[take])
        self.reward = table["reward"].to_numpy(dtype=np.float64)[take]
        self.common_prob = float(np.mean(table["common"])) if "common" in table else 0.7
        self.num_choice2 = 2 if trials.attrs.get("second_stage_choice", True) else 1


def trial_arrays(trials: pd.DataFrame) -> TrialArrays:
    """Convert a two-step trial table (see :func:`two_step_trials`) to padded arrays."""
    return TrialArrays(trials)


def _full_params(free: np.ndarray, model: str) -> np.ndarray:
    """Free parameters ``(..., k)`` -> all seven ``(..., 7)`` with the model's fixed values."""
    names, fixed = MODELS[model]
    full = np.zeros(free.shape[:-1] + (len(PARAM_NAMES),))
    for j, name in enumerate(PARAM_NAMES):
        full[..., j] = free[..., names.index(name)] if name in names else fixed[name]
    return full


def _subject_nll(data: TrialArrays, params: np.ndarray, common_prob: float) -> np.ndarray:
    """Negative log-likelihood per subject and parameter set: (N_subj, M, 7) -> (N_subj, M)."""
    num_sets = params.shape[1]
    seq_params = params[data.seq_subject].reshape(-1, len(PARAM_NAMES))

    def rep(a: np.ndarray) -> np.ndarray:
        return np.repeat(a, num_sets, axis=0)

    trace = hybrid_recursion(
        seq_params,
        rep(data.choice1),
        rep(data.state2),
        rep(data.choice2),
        rep(data.reward),
        rep(data.valid),
        common_prob=common_prob,
        num_choice2=data.num_choice2,
    )
    seq_nll = -(trace.loglik1 + trace.loglik2).sum(axis=1).reshape(-1, num_sets)
    out = np.zeros((len(data.subjects), num_sets))
    np.add.at(out, data.seq_subject, seq_nll)
    return out


def _log_prior(free: np.ndarray, model: str, prior: str | None) -> np.ndarray:
    """Log prior density of free parameters ``(..., k)`` -> ``(...)`` (0 when ``prior`` is None).

    Beta(a, b): ``(a-1) ln x + (b-1) ln(1-x) - ln B(a, b)``; Gamma(shape a, scale b):
    ``(a-1) ln x - x/b - ln Γ(a) - a ln b``; Normal(a, b): ``-(x-a)²/(2b²) - ln(b √(2π))``.
    """
    out = np.zeros(free.shape[:-1])
    if prior is None:
        return out
    for j, name in enumerate(MODELS[model][0]):
        family, a, b = PRIORS[prior][name]
        x = free[..., j]
        if family == "beta":
            out += (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - betaln(a, b)
        elif family == "gamma":
            out += (a - 1) * np.log(x) - x / b - gammaln(a) - a * np.log(b)
        else:
            out += -0.5 * ((x - a) / b) ** 2 - np.log(b * np.sqrt(2 * np.pi))
    return out


def _objective(
    data: TrialArrays, model: str, free: np.ndarray, common_prob: float, prior: str | None
) -> np.ndarray:
    """NLL minus log prior per subject and parameter set: (N_subj, M, k) -> (N_subj, M)."""
    nll = _subject_nll(data, _full_params(free, model), common_prob)
    return nll - _log_prior(free, model, prior) if prior is not None else nll


def _fit_bounds(names: tuple[str, ...], prior: str | None) -> list[tuple[float, float]]:
    """Optimiser bounds: :data:`BOUNDS`, pulled inside where a MAP prior vanishes on the edge.

    The forward-difference gradient evaluates up to ``_STEP`` above a point, so the upper
    edge is pulled in by twice that to keep every evaluation in the prior's support.
    """
    bounds = []
    for name in names:
        low, high = BOUNDS[name]
        if prior is not None and PRIORS[prior][name][0] == "beta":
            low, high = low + _STEP, high - 2 * _STEP
        elif prior is not None and PRIORS[prior][name][0] == "gamma":
            low = low + _STEP
        bounds.append((low, high))
    return bounds


def minimise_subjects(
    value_fn: Callable[[np.ndarray], np.ndarray],
    start: np.ndarray,
    bounds: list[tuple[float, float]],
) -> np.ndarray:
    """Minimise independent per-subject objectives jointly with one bounded L-BFGS-B run.

    Parameters
    ----------
    value_fn : callable
        Objective per subject and parameter set: ``(N_subj, M, k) -> (N_subj, M)``.
    start : numpy.ndarray, shape (N_subj, k)
    bounds : list of (low, high)
        Bounds of the ``k`` parameters (the same for every subject).

    Returns
    -------
    numpy.ndarray, shape (N_subj, k)
        The optimum. The objective is the sum over subjects; its gradient is by forward
        differences (step ``_STEP``), all ``k + 1`` parameter sets of every subject
        evaluated in one vectorised call of ``value_fn``.
    """
    num_subj, k = start.shape
    offsets = np.concatenate([np.zeros((1, k)), _STEP * np.eye(k)])

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        value = value_fn(flat.reshape(num_subj, 1, k) + offsets[None])
        grad = (value[:, 1:] - value[:, :1]) / _STEP
        return float(value[:, 0].sum()), grad.ravel()

    res = minimize(
        objective,
        start.ravel(),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds * num_subj,
        options={"maxiter": 5000, "ftol": 1e-8, "gtol": 1e-4},
    )
    return res.x.reshape(num_subj, k)


def _fit_once(
    data: TrialArrays, model: str, start: np.ndarray, common_prob: float, prior: str | None
) -> np.ndarray:
    """One joint L-BFGS-B run from ``start`` (N_subj, k); returns the optimum (N_subj, k)."""

    def value_fn(free: np.ndarray) -> np.ndarray:
        return _objective(data, model, free, common_prob, prior)

    return minimise_subjects(value_fn, start, _fit_bounds(MODELS[model][0], prior))


def _starts(
    names: tuple[str, ...], num_subj: int, restart: int, rng: np.random.Generator
) -> np.ndarray:
    """Starting points (N_subj, k) of restart ``restart``: uniform in START_RANGES, w on a grid."""
    lows = np.array([START_RANGES[n][0] for n in names])
    highs = np.array([START_RANGES[n][1] for n in names])
    start = rng.uniform(lows, highs, size=(num_subj, len(names)))
    if "w" in names:
        start[:, names.index("w")] = W_STARTS[restart % len(W_STARTS)]
    return start


def fit_table(
    data: TrialArrays, full: np.ndarray, nll: np.ndarray, model: str, prior: str
) -> pd.DataFrame:
    """The per-subject result table of a fit: parameters ``full (N_subj, 7)``, ``nll (N_subj,)``.

    Columns: ``subject``, the seven parameters, ``nll``, ``num_params``, ``num_choices``,
    ``aic`` = 2k + 2 NLL, ``bic`` = k ln n + 2 NLL, ``model``, ``prior``.
    """
    k = len(MODELS[model][0])
    num_choices = np.bincount(data.seq_subject, weights=data.valid.sum(axis=1))
    num_choices = num_choices * (2 if data.num_choice2 > 1 else 1)
    out = pd.DataFrame(full, columns=list(PARAM_NAMES))
    out.insert(0, "subject", data.subjects)
    out["nll"] = nll
    out["num_params"] = k
    out["num_choices"] = num_choices.astype(np.int64)
    out["aic"] = 2 * k + 2 * nll
    out["bic"] = k * np.log(num_choices) + 2 * nll
    out["model"] = model
    out["prior"] = prior
    return out


def fit_hybrid(
    trials: pd.DataFrame,
    *,
    model: str = "hybrid",
    num_restarts: int = 5,
    seed: int = 0,
    common_prob: float | None = None,
    prior: str | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Fit the hybrid model (or a nested model) to each subject by ML, MAP or empirical Bayes.

    Parameters
    ----------
    trials : pandas.DataFrame
        Two-step trial table (columns ``subject, episode, choice1, state2, choice2,
        reward`` and optionally ``common``); ``trials.attrs["second_stage_choice"]`` False
        drops the second stage from the likelihood.
    model : {"hybrid", "model_free", "model_based"}
    num_restarts : int
        Starts per subject (uniform within :data:`START_RANGES`, w cycling through
        :data:`W_STARTS`; seeded by ``seed``).
    seed : int
    common_prob : float, optional
        Common-transition probability the model-based system assumes; default the observed
        common rate of the whole table. Daw et al. 2011 fixed it at the task's true 0.7;
        the two give the same likelihood up to a rescaling of ``w`` and ``beta1`` (for one
        subject with an observed rate of 0.665, w moved from 0.675 to 0.715), so pass
        ``common_prob=0.7`` to compare with fits made that way.
    prior : {None, "weak", "empirical"}
        None: maximum likelihood. "weak": maximum a posteriori under :data:`PRIORS`.
        "empirical": a Gaussian group prior on the transformed parameters fitted by EM
        (Huys et al. 2011; :func:`neurometa.analysis.hybrid_em.fit_hybrid_em`, with its
        default ``max_iter`` and ``tol``), which adds the columns ``log_evidence`` and
        ``ibic`` and the group prior in ``attrs``.
    progress : bool
        A progress bar over the restarts on stderr (maximum likelihood and MAP).

    Returns
    -------
    pandas.DataFrame
        One row per subject: the seven parameters (fixed ones at their fixed value),
        ``nll`` (negative log-likelihood at the estimate, without the prior),
        ``num_params``, ``num_choices``, ``aic`` = 2k + 2 NLL, ``bic`` = k ln n + 2 NLL,
        ``model`` and ``prior`` ("none" or the prior's name).

    Examples
    --------
    >>> import neurometa as nm
    >>> task = nm.make_task("two_step/daw2011", 20, num_trials=100)
    >>> agent = nm.make_baseline("hybrid", task, w=0.8)
    >>> ds = nm.record_agent(agent, task, 20, seed=0, progress=False)
    >>> trials = nm.two_step_trials(ds)
    >>> fits = nm.fit_hybrid(trials, num_restarts=1, seed=0)
    >>> len(fits), "w" in fits
    (1, True)
    """
    if model not in MODELS:
        raise AnalysisError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
    if prior == "empirical":
        from neurometa.analysis.hybrid_em import fit_hybrid_em

        return fit_hybrid_em(
            trials, model=model, num_restarts=num_restarts, seed=seed, common_prob=common_prob
        )
    if prior is not None and prior not in PRIORS:
        raise AnalysisError(
            f"unknown prior {prior!r}; choose None, 'empirical' or {', '.join(map(repr, PRIORS))}"
        )
    if num_restarts < 1:
        raise AnalysisError(f"num_restarts must be >= 1, got {num_restarts}")
    if common_prob is not None and not 0.0 <= common_prob <= 1.0:
        raise AnalysisError(f"common_prob must lie in [0, 1], got {common_prob}")
    data = trial_arrays(trials)
    c = data.common_prob if common_prob is None else float(common_prob)
    names = MODELS[model][0]
    rng = RunSeeds(seed).numpy("extra")
    best, best_obj = None, None
    restarts = tqdm(
        range(num_restarts),
        desc=f"fit {model} ({len(data.subjects)} subjects)",
        unit="restart",
        disable=not progress,
        leave=False,
    )
    for restart in restarts:
        start = _starts(names, len(data.subjects), restart, rng)
        opt = _fit_once(data, model, start, c, prior)
        obj = _objective(data, model, opt[:, None], c, prior)[:, 0]
        if best is None:
            best, best_obj = opt, obj
        else:
            better = obj < best_obj
            best[better], best_obj[better] = opt[better], obj[better]
    full = _full_params(best, model)
    best_nll = _subject_nll(data, full[:, None], c)[:, 0]
    return fit_table(data, full, best_nll, model, "none" if prior is None else prior)


def fit_nested(
    trials: pd.DataFrame,
    *,
    num_restarts: int = 5,
    seed: int = 0,
    prior: str | None = None,
    common_prob: float | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Fit the hybrid, model-free and model-based models; one row per (model, subject).

    Arguments as :func:`fit_hybrid`. With ``prior="empirical"`` each model has its own group
    prior; ``attrs`` then maps each model name to that fit's ``attrs`` (group prior, iBIC,
    EM iterations).
    """
    fits = [
        fit_hybrid(
            trials,
            model=m,
            num_restarts=num_restarts,
            seed=seed,
            prior=prior,
            common_prob=common_prob,
            progress=progress,
        )
        for m in MODELS
    ]
    out = pd.concat(fits, ignore_index=True)
    out.attrs = {m: dict(f.attrs) for m, f in zip(MODELS, fits, strict=True) if f.attrs}
    return out
