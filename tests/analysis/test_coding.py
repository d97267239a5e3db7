import numpy as np
import pytest
import statsmodels.api as sm
import xarray as xr
from _synthetic_recordings import agent_recording
from statsmodels.stats.proportion import proportion_confint

from neurometa.analysis import coding
from neurometa.analysis._common import AnalysisError


def _planted(num_coding: int = 30, num_null: int = 70, effect: float = 1.0, seed: int = 0):
    """Bandit recording whose first ``num_coding`` units code previous reward (±1 coded)."""
    rng = np.random.default_rng(seed)
    num_episodes, num_trials = 20, 50
    action = rng.integers(0, 2, (num_episodes, num_trials))
    reward = (rng.random((num_episodes, num_trials)) < 0.5).astype(float)
    value = rng.normal(size=(num_episodes, num_trials)).astype(np.float32)
    prev_r = np.zeros((num_episodes, num_trials))
    prev_r[:, 1:] = np.where(reward[:, :-1] > 0, 1.0, -1.0)
    h = rng.normal(size=(num_episodes, num_trials, num_coding + num_null))
    h[:, :, :num_coding] += effect * prev_r[:, :, None]
    ds = agent_recording(
        action,
        reward,
        variables={
            "value": (("episode", "step"), value),
            "h": (("episode", "step", "unit"), h.astype(np.float32)),
        },
    )
    return ds.assign_coords(unit=np.arange(num_coding + num_null))


def test_ols_matches_statsmodels_to_1e8():
    rng = np.random.default_rng(1)
    X = np.column_stack([np.ones(200), rng.normal(size=(200, 4))])
    Y = X @ rng.normal(size=(5, 6)) + rng.normal(size=(200, 6))
    res = coding.OLSDesign(X).fit(Y)
    for u in range(Y.shape[1]):
        ref = sm.OLS(Y[:, u], X).fit()
        np.testing.assert_allclose(res["coef"][:, u], ref.params, rtol=0, atol=1e-8)
        np.testing.assert_allclose(res["se"][:, u], ref.bse, rtol=0, atol=1e-8)
        np.testing.assert_allclose(res["t"][:, u], ref.tvalues, rtol=0, atol=1e-8)
        np.testing.assert_allclose(res["p"][:, u], ref.pvalues, rtol=0, atol=1e-8)


def test_coding_regression_matches_statsmodels_on_a_recording():
    ds = _planted(num_coding=2, num_null=2)
    fit = coding.coding_regression(ds)
    X, Y, _ = coding._coding_inputs(ds, "h", 0, None)
    for u in range(Y.shape[1]):
        ref = sm.OLS(Y[:, u].astype(np.float64), X).fit()
        np.testing.assert_allclose(fit["t"].values[:, u], ref.tvalues, atol=1e-8)
        np.testing.assert_allclose(fit["p"].values[:, u], ref.pvalues, atol=1e-8)
    assert fit.attrs["num_obs"] == 20 * 49  # the first trial of each episode has no past


def test_chunking_does_not_change_results():
    rng = np.random.default_rng(2)
    X = np.column_stack([np.ones(100), rng.normal(size=(100, 2))])
    Y = rng.normal(size=(100, 37))
    a, b = coding.ols_units(X, Y, chunk_units=5), coding.ols_units(X, Y, chunk_units=1000)
    for key in ("coef", "t", "p"):
        np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=1e-14)


def test_planted_previous_reward_units_are_found_and_null_units_sit_at_chance():
    ds = _planted()
    fit = coding.coding_regression(ds)
    sig = fit["significant"].sel(term="prev_reward").values
    assert sig[:30].all()
    frac = coding.coding_fractions(ds, num_shuffles=30, seed=3)
    # 30 planted + about alpha of the 70 null units.
    assert 0.3 <= float(frac["fraction"].sel(term="prev_reward")) <= 0.3 + 0.15
    chance = frac["chance"].sel(term="prev_reward").item()
    assert abs(chance - 0.05) < 0.03  # shuffled trials: about alpha of all units
    null = fit["significant"].sel(term=["prev_action", "interaction", "value"]).values
    assert null.mean() < 0.1  # no planted coding for these terms: near alpha = 0.05
    count, n = frac["num_coding"].values, frac.attrs["num_units"]
    ref_low, ref_high = proportion_confint(count, n, alpha=0.05, method="beta")
    np.testing.assert_allclose(frac["fraction_low"].values, ref_low, atol=1e-15)
    np.testing.assert_allclose(frac["fraction_high"].values, ref_high, atol=1e-15)


def test_fractions_fit_the_units_once_and_reuse_a_given_fit(monkeypatch):
    ds = _planted(num_coding=5, num_null=15)
    calls = []
    real = coding.ols_units
    monkeypatch.setattr(coding, "ols_units", lambda *a, **k: calls.append(1) or real(*a, **k))
    alone = coding.coding_fractions(ds, num_shuffles=4, seed=1)
    assert len(calls) == 1 + 4  # one fit, four shuffles
    fit = coding.coding_regression(ds)
    calls.clear()
    reused = coding.coding_fractions(ds, num_shuffles=4, seed=1, fit=fit)
    assert len(calls) == 4
    xr.testing.assert_identical(alone, reused)
    with pytest.raises(AnalysisError, match="fit= is not"):
        coding.coding_fractions(ds, num_shuffles=1, alpha=0.01, fit=fit)


def test_shuffle_chance_is_reproducible_with_the_seed():
    ds = _planted(num_coding=5, num_null=15)
    a = coding.coding_fractions(ds, num_shuffles=5, seed=7)
    b = coding.coding_fractions(ds, num_shuffles=5, seed=7)
    np.testing.assert_array_equal(a["chance"].values, b["chance"].values)


def test_missing_activity_is_a_clear_error():
    ds = _planted(num_coding=1, num_null=1).drop_vars("h")
    with pytest.raises(AnalysisError, match="missing variable.*'h'"):
        coding.coding_regression(ds)


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.ones((10, 2)), "rank deficient"),
        (np.ones((2, 3)), "more observations"),
        (np.full((10, 2), np.nan), "NaN"),
    ],
    ids=["collinear", "too-few-rows", "nan"],
)
def test_bad_designs_are_rejected(X, message):
    with pytest.raises(AnalysisError, match=message):
        coding.OLSDesign(X)


def test_non_binary_actions_are_rejected():
    with pytest.raises(AnalysisError, match="binary"):
        coding.coding_design(np.array([0, 2]), np.array([1, 0]), np.array([0.0, 1.0]))


def test_near_exact_fits_take_the_explicit_residual_path_and_still_match_statsmodels():
    rng = np.random.default_rng(4)
    X = np.column_stack([np.ones(300), rng.normal(size=(300, 2))])
    Y = np.column_stack(
        [X @ [50.0, 1.0, -2.0] + 1e-7 * rng.normal(size=300), rng.normal(size=300)]
    )
    res = coding.OLSDesign(X).fit(Y)
    for u in range(2):
        ref = sm.OLS(Y[:, u], X).fit()
        np.testing.assert_allclose(res["t"][:, u], ref.tvalues, rtol=1e-7)
        np.testing.assert_allclose(res["p"][:, u], ref.pvalues, atol=1e-8)


def test_lab_two_step_units_with_model_value():
    import pandas as pd
    from _synthetic_recordings import hybrid_params, two_step_recording

    from neurometa.analysis.rpe import model_value
    from neurometa.behaviour import get_model

    names = get_model("hybrid").parameters

    params = np.repeat(hybrid_params(1, np.random.default_rng(9)), 6, axis=0)
    ds, sim = two_step_recording(params, 60, 9)
    lab = ds.drop_vars(["action", "policy", "obs"]).assign_attrs(source="lab")
    lab = lab.assign_coords(subject=("episode", ["rat"] * 6), unit=np.arange(3))
    prev_r = np.zeros((6, 60))
    prev_r[:, 1:] = np.where(sim["reward"][:, :-1] > 0, 1.0, -1.0)
    act = np.random.default_rng(10).normal(size=(6, 120, 3))
    act[:, 0::2, 0] += 2.0 * prev_r  # unit 0 codes the previous reward at the first stage
    lab["activity"] = (("episode", "step", "unit"), act.astype(np.float32))
    fits = pd.DataFrame([dict(zip(names, params[0], strict=True), subject="rat")])
    value = model_value(lab, fits)
    assert np.isfinite(value.values).all()
    fit = coding.coding_regression(lab, activity="activity", stage="first", value=value)
    assert fit["significant"].sel(term="prev_reward").values.tolist()[0]
    assert fit["p"].sel(term="prev_reward").values[0] < 1e-10


def test_previous_trial_terms_skip_a_missed_trial_of_a_lab_table():
    import pandas as pd

    from neurometa.data.tables import table_to_recording

    # One subject, trials 1..8 with trial 4 missed (dropped on import): 7 trials kept,
    # 6 neighbouring columns, of which 3->5 is not a pair -> 5 design rows.
    trials = [1, 2, 3, 5, 6, 7, 8]
    table = pd.DataFrame(
        {"subject": "A", "trial": trials, "choice": [0, 1, 1, 0, 0, 1, 0],
         "reward": [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0]}
    )  # fmt: skip
    table.attrs.update(layout="bandit", num_missed=1)
    ds = table_to_recording(table)
    units = np.random.default_rng(0).normal(size=(1, ds.sizes["step"], 2))
    ds["activity"] = (("episode", "step", "unit"), units)
    ds["value"] = (("episode", "step"), np.zeros((1, ds.sizes["step"])))
    X, Y, _ = coding._coding_inputs(ds, "activity", 0, None)
    assert X.shape == (5, 5)
    assert Y.shape == (5, 2)
    # the previous-action column (+-1) of the kept pairs: trials 1, 2, 5, 6, 7
    np.testing.assert_array_equal(X[:, 1], [-1, 1, -1, -1, 1])


def test_constant_units_are_never_significant_and_leave_the_denominator():
    rng = np.random.default_rng(3)
    num_ep, num_trials = 40, 30
    action = rng.integers(0, 2, size=(num_ep, num_trials))
    reward = (rng.random((num_ep, num_trials)) < 0.5).astype(float)
    act = rng.normal(size=(num_ep, num_trials, 5))
    act[0, 3, 4] = np.nan  # unit 4 not recorded on one trial
    act[..., 1] = 1.0  # saturated (tanh at +1)
    act[..., 2] = 0.0  # silent
    act[..., 3] = 3.0
    ds = agent_recording(action, reward).assign_coords(unit=np.arange(5))
    ds["h"] = (("episode", "step", "unit"), act)
    ds["value"] = (("episode", "step"), rng.normal(size=(num_ep, num_trials)))
    fit = coding.coding_regression(ds)
    assert np.isnan(fit["p"].sel(unit=[1, 2, 3])).all()
    assert not fit["significant"].sel(unit=[1, 2, 3]).any()
    assert np.isfinite(fit["p"].sel(unit=0)).all()
    assert np.isnan(fit["coef"].sel(unit=4)).all()  # a NaN response: no fit, no crash
    frac = coding.coding_fractions(ds, num_shuffles=3)
    assert frac.attrs["num_units"] == 1
    assert frac.attrs["num_constant_units"] == 3
    assert frac.attrs["num_incomplete_units"] == 1
