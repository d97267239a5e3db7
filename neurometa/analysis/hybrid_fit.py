"""Maximum-likelihood fits of the Daw et al. 2011 hybrid model to two-step behaviour.

The likelihood is that of both stages' choices under :func:`hybrid_recursion`. Subjects
are independent, so all subjects are fitted in one bounded L-BFGS-B problem whose objective
is the sum of per-subject negative log-likelihoods; the gradient is by forward differences,
all perturbed parameter sets evaluated in one vectorised pass. Each restart starts every
subject from a fresh uniform draw within the bounds, and each subject keeps its best
restart. Nested models: ``model_free`` (w = 0, 6 parameters) and ``model_based`` (w = 1;
α1 and λ then do not enter; 4 parameters).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from neurometa.analysis._common import AnalysisError
from neurometa.analysis.hybrid_model import BOUNDS, PARAM_NAMES, hybrid_recursion
from neurometa.seeding import RunSeeds

__all__ = ["MODELS", "START_RANGES", "TrialArrays", "trial_arrays", "fit_hybrid", "fit_nested"]

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


def _fit_once(data: TrialArrays, model: str, start: np.ndarray, common_prob: float) -> np.ndarray:
    """One joint L-BFGS-B run from ``start`` (N_subj, k); returns the optimum (N_subj, k)."""
    names = MODELS[model][0]
    num_subj, k = start.shape
    step = 1e-6
    offsets = np.concatenate([np.zeros((1, k)), step * np.eye(k)])

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        free = flat.reshape(num_subj, 1, k) + offsets[None]
        nll = _subject_nll(data, _full_params(free, model), common_prob)
        grad = (nll[:, 1:] - nll[:, :1]) / step
        return float(nll[:, 0].sum()), grad.ravel()

    bounds = [BOUNDS[name] for name in names] * num_subj
    res = minimize(
        objective,
        start.ravel(),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 5000, "ftol": 1e-8, "gtol": 1e-4},
    )
    return res.x.reshape(num_subj, k)


def fit_hybrid(
    trials: pd.DataFrame,
    *,
    model: str = "hybrid",
    num_restarts: int = 5,
    seed: int = 0,
    common_prob: float | None = None,
) -> pd.DataFrame:
    """Fit the hybrid model (or a nested model) to each subject by maximum likelihood.

    Parameters
    ----------
    trials : pandas.DataFrame
        Two-step trial table (columns ``subject, episode, choice1, state2, choice2,
        reward`` and optionally ``common``); ``trials.attrs["second_stage_choice"]`` False
        drops the second stage from the likelihood.
    model : {"hybrid", "model_free", "model_based"}
    num_restarts : int
        Random starts per subject (uniform within :data:`START_RANGES`; seeded by ``seed``).
    seed : int
    common_prob : float, optional
        Common-transition probability; default the observed common rate.

    Returns
    -------
    pandas.DataFrame
        One row per subject: the seven parameters (fixed ones at their fixed value),
        ``nll``, ``num_params``, ``num_choices``, ``aic`` = 2k + 2 NLL,
        ``bic`` = k ln n + 2 NLL, ``model``.
    """
    if model not in MODELS:
        raise AnalysisError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
    if num_restarts < 1:
        raise AnalysisError(f"num_restarts must be >= 1, got {num_restarts}")
    data = trial_arrays(trials)
    c = data.common_prob if common_prob is None else float(common_prob)
    names = MODELS[model][0]
    lows = np.array([START_RANGES[n][0] for n in names])
    highs = np.array([START_RANGES[n][1] for n in names])
    rng = RunSeeds(seed).numpy("extra")
    best, best_nll = None, None
    for _ in range(num_restarts):
        start = rng.uniform(lows, highs, size=(len(data.subjects), len(names)))
        opt = _fit_once(data, model, start, c)
        nll = _subject_nll(data, _full_params(opt[:, None], model), c)[:, 0]
        if best is None:
            best, best_nll = opt, nll
        else:
            better = nll < best_nll
            best[better], best_nll[better] = opt[better], nll[better]
    full = _full_params(best, model)
    num_choices = np.bincount(data.seq_subject, weights=data.valid.sum(axis=1))
    num_choices = num_choices * (2 if data.num_choice2 > 1 else 1)
    out = pd.DataFrame(full, columns=list(PARAM_NAMES))
    out.insert(0, "subject", data.subjects)
    out["nll"] = best_nll
    out["num_params"] = len(names)
    out["num_choices"] = num_choices.astype(np.int64)
    out["aic"] = 2 * len(names) + 2 * best_nll
    out["bic"] = len(names) * np.log(num_choices) + 2 * best_nll
    out["model"] = model
    return out


def fit_nested(trials: pd.DataFrame, *, num_restarts: int = 5, seed: int = 0) -> pd.DataFrame:
    """Fit the hybrid, model-free and model-based models; one row per (model, subject)."""
    fits = [fit_hybrid(trials, model=m, num_restarts=num_restarts, seed=seed) for m in MODELS]
    return pd.concat(fits, ignore_index=True)
