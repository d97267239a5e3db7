import math

import numpy as np
import pandas as pd
import pytest
from _synthetic_recordings import hybrid_params
from scipy import stats

from neurometa.analysis import hybrid_fit
from neurometa.analysis._common import AnalysisError
from neurometa.analysis.hybrid_model import PARAM_NAMES, hybrid_recursion, simulate_hybrid


def _slow_loglik(p, choice1, state2, choice2, reward, common_prob=0.7):
    """Daw 2011 likelihood written out trial by trial with dicts (obviously correct)."""
    a1_lr, a2_lr, lam, b1, b2, pers, w = p
    q_mf = {0: 0.0, 1: 0.0}
    q2 = {(s, b): 0.0 for s in (0, 1) for b in (0, 1)}
    prev, total = None, 0.0
    for a1, s, a2, r in zip(choice1, state2, choice2, reward, strict=True):
        q_mb = {
            a: common_prob * max(q2[(a, 0)], q2[(a, 1)])
            + (1 - common_prob) * max(q2[(1 - a, 0)], q2[(1 - a, 1)])
            for a in (0, 1)
        }
        util = {a: w * q_mb[a] + (1 - w) * q_mf[a] + pers * (a == prev) for a in (0, 1)}
        total += b1 * util[a1] - math.log(sum(math.exp(b1 * util[a]) for a in (0, 1)))
        total += b2 * q2[(s, a2)] - math.log(sum(math.exp(b2 * q2[(s, b)]) for b in (0, 1)))
        d1 = q2[(s, a2)] - q_mf[a1]
        d2 = r - q2[(s, a2)]
        q_mf[a1] += a1_lr * d1 + a1_lr * lam * d2
        q2[(s, a2)] += a2_lr * d2
        prev = a1
    return total


def _table(params: np.ndarray, trials: int, seed: int) -> pd.DataFrame:
    sim = simulate_hybrid(params, trials, np.random.default_rng(seed))
    num = params.shape[0]
    table = pd.DataFrame({k: sim[k].ravel() for k in ("choice1", "state2", "choice2", "reward")})
    table["common"] = sim["common"].ravel()
    table["subject"] = np.repeat([f"s{i:02d}" for i in range(num)], trials)
    table["episode"] = 0
    table["trial"] = np.tile(np.arange(trials), num)
    return table


def test_vectorised_likelihood_equals_the_slow_loop():
    rng = np.random.default_rng(0)
    params = hybrid_params(3, rng)
    sim = simulate_hybrid(params, 60, rng)
    valid = np.ones((3, 60), dtype=bool)
    trace = hybrid_recursion(
        params, sim["choice1"], sim["state2"], sim["choice2"], sim["reward"], valid
    )
    for i in range(3):
        ref = _slow_loglik(
            params[i], *(sim[k][i] for k in ("choice1", "state2", "choice2", "reward"))
        )
        assert (trace.loglik1[i] + trace.loglik2[i]).sum() == pytest.approx(ref, abs=1e-10)


def test_invalid_trials_neither_count_nor_update():
    rng = np.random.default_rng(1)
    params = hybrid_params(1, rng)
    sim = simulate_hybrid(params, 30, rng)
    keep = np.ones(30, dtype=bool)
    keep[[5, 17]] = False
    args = [sim[k] for k in ("choice1", "state2", "choice2", "reward")]
    full = hybrid_recursion(params, *args, keep[None])
    ref = _slow_loglik(params[0], *(a[0][keep] for a in args))
    assert (full.loglik1 + full.loglik2).sum() == pytest.approx(ref, abs=1e-10)


@pytest.mark.parametrize("prior", [None, "weak"], ids=["ml", "map_weak"])
def test_fit_reaches_at_least_the_objective_of_the_true_parameters(prior):
    params = hybrid_params(3, np.random.default_rng(2))
    table = _table(params, 150, seed=3)
    fit = hybrid_fit.fit_hybrid(table, num_restarts=1, seed=0, prior=prior)
    data = hybrid_fit.trial_arrays(table)
    fitted = fit[list(PARAM_NAMES)].to_numpy()
    true_obj = hybrid_fit._objective(data, "hybrid", params[:, None], data.common_prob, prior)
    fit_obj = hybrid_fit._objective(data, "hybrid", fitted[:, None], data.common_prob, prior)
    assert (fit_obj[:, 0] <= true_obj[:, 0] + 1e-3).all()
    # the nll column is the likelihood alone, also for a MAP fit
    true_nll = hybrid_fit._subject_nll(data, fitted[:, None], data.common_prob)[:, 0]
    np.testing.assert_allclose(fit["nll"], true_nll, rtol=1e-12)
    assert list(fit["subject"]) == [f"s{i:02d}" for i in range(3)]
    assert set(fit["prior"]) == {"none" if prior is None else prior}
    k, n = 7, 300
    np.testing.assert_allclose(fit["aic"], 2 * k + 2 * fit["nll"])
    np.testing.assert_allclose(fit["bic"], k * np.log(n) + 2 * fit["nll"])
    for name in PARAM_NAMES:
        low, high = hybrid_fit.BOUNDS[name]
        assert fit[name].between(low, high).all()


def test_prior_none_is_the_maximum_likelihood_fit():
    table = _table(hybrid_params(2, np.random.default_rng(9)), 80, seed=10)
    default = hybrid_fit.fit_hybrid(table, num_restarts=2, seed=3)
    explicit = hybrid_fit.fit_hybrid(table, num_restarts=2, seed=3, prior=None)
    pd.testing.assert_frame_equal(default, explicit)
    data = hybrid_fit.trial_arrays(table)
    free = np.random.default_rng(0).uniform(0.2, 0.8, size=(2, 4, 7))
    np.testing.assert_array_equal(
        hybrid_fit._objective(data, "hybrid", free, 0.7, None),
        hybrid_fit._subject_nll(data, free, 0.7),
    )


def test_log_prior_matches_scipy_densities():
    free = np.array([[0.3, 0.9, 0.05, 4.0, 0.7, -0.4, 0.6], [0.5, 0.5, 0.5, 12.0, 2.5, 1.3, 0.01]])
    expected = (
        stats.beta.logpdf(free[:, [0, 1, 2, 6]], 1.1, 1.1).sum(axis=1)
        + stats.gamma.logpdf(free[:, [3, 4]], 1.2, scale=5.0).sum(axis=1)
        + stats.norm.logpdf(free[:, 5], 0.0, 1.0)
    )
    np.testing.assert_allclose(hybrid_fit._log_prior(free, "hybrid", "weak"), expected)
    # nested models: only their free parameters carry a prior (model_based: a2, b1, b2, p)
    mb = free[:, [1, 3, 4, 5]]
    expected_mb = (
        stats.beta.logpdf(mb[:, 0], 1.1, 1.1)
        + stats.gamma.logpdf(mb[:, 1:3], 1.2, scale=5.0).sum(axis=1)
        + stats.norm.logpdf(mb[:, 3], 0.0, 1.0)
    )
    np.testing.assert_allclose(hybrid_fit._log_prior(mb, "model_based", "weak"), expected_mb)
    np.testing.assert_array_equal(hybrid_fit._log_prior(free, "hybrid", None), 0.0)


def test_map_fit_stays_off_the_bounds_where_ml_sits_on_them():
    # 25 trials: too few to pin seven parameters, so ML estimates hit bounds, while the
    # Beta/Gamma priors vanish at 0 (and 1), making the posterior mode interior.
    table = _table(hybrid_params(6, np.random.default_rng(11)), 25, seed=12)
    ml = hybrid_fit.fit_hybrid(table, num_restarts=1, seed=0)
    post = hybrid_fit.fit_hybrid(table, num_restarts=1, seed=0, prior="weak")
    edge = ["alpha1", "alpha2", "lam", "w"]
    on_bound_ml = ((ml[edge] <= 1e-9) | (ml[edge] >= 1 - 1e-9)).to_numpy().sum()
    assert on_bound_ml > 0
    assert ((post[edge] > 0) & (post[edge] < 1)).to_numpy().all()
    assert (post[["beta1", "beta2"]] > 0).to_numpy().all()
    # the MAP estimate trades likelihood for prior: never a better likelihood than ML
    assert (post["nll"].to_numpy() >= ml["nll"].to_numpy() - 1e-3).all()


def test_nested_models_fix_their_parameters_and_fit_no_better_than_the_hybrid():
    params = hybrid_params(2, np.random.default_rng(4))
    fits = hybrid_fit.fit_nested(_table(params, 120, seed=5), num_restarts=1, seed=0)
    by_model = {m: f.set_index("subject") for m, f in fits.groupby("model")}
    assert (by_model["model_free"]["w"] == 0).all()
    assert (by_model["model_based"]["w"] == 1).all()
    assert set(by_model["model_based"]["num_params"]) == {4}
    assert (by_model["hybrid"]["nll"] <= by_model["model_free"]["nll"] + 1e-2).all()
    assert (by_model["hybrid"]["nll"] <= by_model["model_based"]["nll"] + 1e-2).all()


@pytest.mark.slow
def test_w_is_recovered_across_subjects():
    params = hybrid_params(40, np.random.default_rng(6))
    fit = hybrid_fit.fit_hybrid(_table(params, 200, seed=7), num_restarts=2, seed=0)
    assert np.corrcoef(params[:, 6], fit["w"])[0, 1] > 0.8


@pytest.mark.slow
def test_map_recovers_planted_parameters_at_least_as_well_as_ml():
    params = hybrid_params(40, np.random.default_rng(13))
    table = _table(params, 200, seed=14)
    scale = np.array([hi - lo for lo, hi in hybrid_fit.BOUNDS.values()])
    errors = {}
    for prior in (None, "weak"):
        fit = hybrid_fit.fit_hybrid(table, num_restarts=2, seed=0, prior=prior)
        errors[prior] = np.abs(fit[list(PARAM_NAMES)].to_numpy() - params) / scale
    # mean range-normalised absolute error over all parameters, and w's on its own
    assert errors["weak"].mean() <= errors[None].mean()
    assert errors["weak"][:, 6].mean() <= errors[None][:, 6].mean() + 0.01


def test_bad_model_and_empty_table_are_rejected():
    table = _table(hybrid_params(1, np.random.default_rng(0)), 10, seed=0)
    with pytest.raises(AnalysisError, match="unknown model"):
        hybrid_fit.fit_hybrid(table, model="mixed")
    with pytest.raises(AnalysisError, match="empty"):
        hybrid_fit.fit_hybrid(table.iloc[:0])
    with pytest.raises(AnalysisError, match="lacks column"):
        hybrid_fit.fit_hybrid(table.drop(columns="state2"))
    with pytest.raises(AnalysisError, match="unknown prior 'flat'"):
        hybrid_fit.fit_hybrid(table, prior="flat")
    with pytest.raises(AnalysisError, match="common_prob must lie in"):
        hybrid_fit.fit_hybrid(table, common_prob=1.3)


def test_rewards_outside_zero_one_are_warned_about():
    table = _table(hybrid_params(1, np.random.default_rng(0)), 30, seed=0)
    table["reward"] = 2.0 * table["reward"] - 1.0  # a +-1 coding
    with pytest.warns(UserWarning, match=r"rewards outside \[0, 1\]"):
        hybrid_fit.fit_hybrid(table, num_restarts=1)


def test_nested_fits_use_the_given_common_probability():
    table = _table(hybrid_params(1, np.random.default_rng(2)), 150, seed=3)
    observed = table["common"].mean()
    nested = hybrid_fit.fit_nested(table, num_restarts=1, seed=0, common_prob=0.7)
    for model in hybrid_fit.MODELS:
        direct = hybrid_fit.fit_hybrid(table, model=model, num_restarts=1, common_prob=0.7)
        row = nested[nested["model"] == model].iloc[0]
        assert row["nll"] == pytest.approx(direct["nll"].iloc[0])
    default = hybrid_fit.fit_hybrid(table, num_restarts=1)
    hybrid = nested[nested["model"] == "hybrid"].iloc[0]
    assert observed != pytest.approx(0.7, abs=1e-3)
    assert hybrid["w"] != pytest.approx(default["w"].iloc[0], abs=1e-4)


def test_likelihood_agrees_with_the_baseline_agents_model_equations():
    from neurometa.agents.baselines.hybrid import HybridParams, hybrid_log_likelihood

    rng = np.random.default_rng(8)
    params = hybrid_params(2, rng)
    sim = simulate_hybrid(params, 50, rng)
    trace = hybrid_recursion(
        params,
        sim["choice1"],
        sim["state2"],
        sim["choice2"],
        sim["reward"],
        np.ones((2, 50), dtype=bool),
    )
    for i in range(2):
        values = dict(zip(PARAM_NAMES, params[i], strict=True))
        values["perseveration"] = values.pop("pers")
        p = HybridParams(**values)
        ref = hybrid_log_likelihood(
            sim["choice1"][i], sim["state2"][i], sim["choice2"][i], sim["reward"][i], p
        )
        assert (trace.loglik1[i] + trace.loglik2[i]).sum() == pytest.approx(float(ref), abs=1e-9)
