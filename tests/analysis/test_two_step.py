import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from _synthetic_recordings import hybrid_params, two_step_recording
from scipy import stats

from neurometa.analysis import two_step
from neurometa.analysis._common import AnalysisError


def _table(w: float, num: int = 20, trials: int = 250, seed: int = 0) -> pd.DataFrame:
    params = hybrid_params(num, np.random.default_rng(seed), w=np.full(num, w))
    ds, _ = two_step_recording(params, trials, seed)
    return two_step.two_step_trials(ds)


def test_trial_table_reproduces_the_simulated_trials():
    params = hybrid_params(3, np.random.default_rng(0))
    ds, sim = two_step_recording(params, 40, 0)
    table = two_step.two_step_trials(ds)
    assert len(table) == 3 * 40
    for name in ("choice1", "state2", "choice2", "reward", "common"):
        np.testing.assert_array_equal(table[name].to_numpy(), sim[name].ravel())
    state_value = sim["reward_probs"].max(axis=-1)
    better = np.where(state_value[..., 1] > state_value[..., 0], 1, 0)
    np.testing.assert_array_equal(table["better_choice1"].to_numpy(), better.ravel())


def test_missing_choices_are_dropped_and_break_stay_pairs():
    params = hybrid_params(1, np.random.default_rng(0))
    ds, _ = two_step_recording(params, 10, 0)
    lab = ds.drop_vars(["action", "policy", "obs"]).assign_attrs(source="lab")
    lab = lab.assign_coords(subject=("episode", ["rat1"]))
    choice1 = lab["choice1"].values.copy()
    choice1[0, 8:10] = -1
    lab["choice1"] = (("episode", "step"), choice1)
    table = two_step.two_step_trials(lab)  # trial 4 missed (no first-stage choice)
    assert list(table["trial"]) == [0, 1, 2, 3, 5, 6, 7, 8, 9]
    stays = two_step.stay_table(table)
    assert 5 not in set(stays["trial"])  # its predecessor (trial 4) was missed


def test_stay_probabilities_match_direct_counts_and_cis_cover_them():
    table = _table(0.5, num=12, trials=100)
    stays = two_step.stay_table(table)
    res = two_step.stay_probabilities(table, num_boot=200, seed=1)
    for row in res.itertuples():
        sel = stays[
            (stays["common"] == (row.transition == "common"))
            & (stays["rewarded"] == (row.outcome == "rewarded"))
        ]
        assert row.p_stay == pytest.approx(sel["stay"].mean())
        assert row.num_trials == len(sel)
        assert row.ci_low <= row.p_stay <= row.ci_high
    assert res.attrs["resampled"] == "episode"  # one subject, 12 sessions
    assert res.attrs["averaged"] == "trials"


def test_stay_probabilities_average_subjects_not_trials():
    # Subjects with 60 and 300 trials: each counts once (Daw 2011 Fig. 2), not by its trials.
    first, second = _table(0.0, num=1, trials=60, seed=1), _table(1.0, num=1, trials=300)
    table = pd.concat([first.assign(subject="a"), second.assign(subject="b")])
    stays = two_step.stay_table(table)
    res = two_step.stay_probabilities(table, num_boot=50, seed=0)
    assert res.attrs["averaged"] == "subjects"
    assert res.attrs["resampled"] == "trial"  # 2 subjects are too few clusters
    for row in res.itertuples():
        sel = stays[
            (stays["common"] == (row.transition == "common"))
            & (stays["rewarded"] == (row.outcome == "rewarded"))
        ]
        per_subject = sel.groupby("subject")["stay"].mean()
        assert row.p_stay == pytest.approx(per_subject.mean())
        assert row.p_stay != pytest.approx(sel["stay"].mean())
        assert row.num_trials == len(sel)


def test_too_few_sessions_are_not_used_as_clusters():
    # One subject, 3 sessions: a cluster-robust covariance of rank <= 2 for 4 coefficients
    # gave SEs 100x too small (z = 65 for no effect); the ordinary ML SEs are used instead.
    table = _table(0.5, num=3, trials=200)
    reg = two_step.stay_regression(table)
    assert reg.attrs["cov_type"] == "nonrobust"
    assert reg.attrs["num_clusters"] == 0
    assert (reg.attrs["reference"], reg.attrs["df"]) == ("normal", np.inf)
    stays = two_step.stay_table(table)
    r, c = np.where(stays["rewarded"], 1.0, -1.0), np.where(stays["common"], 1.0, -1.0)
    X = np.column_stack([np.ones_like(r), r, c, r * c])
    ref = sm.Logit(stays["stay"].to_numpy(float), X).fit(disp=0)
    np.testing.assert_allclose(reg["se"].to_numpy(), ref.bse, rtol=1e-6)
    assert two_step.stay_probabilities(table, num_boot=20).attrs["resampled"] == "trial"


def test_clustered_fit_matches_statsmodels_with_a_t_reference():
    table = _table(0.5, num=12, trials=100)
    reg = two_step.stay_regression(table)
    stays = two_step.stay_table(table)
    r, c = np.where(stays["rewarded"], 1.0, -1.0), np.where(stays["common"], 1.0, -1.0)
    X = np.column_stack([np.ones_like(r), r, c, r * c])
    groups = stays["episode"].to_numpy()
    ref = sm.Logit(stays["stay"].to_numpy(float), X).fit(
        disp=0, cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )
    assert reg.attrs["num_clusters"] == 12
    assert reg.attrs["df"] == 11
    np.testing.assert_allclose(reg["coef"].to_numpy(), ref.params, rtol=1e-8)
    np.testing.assert_allclose(reg["se"].to_numpy(), ref.bse, rtol=1e-8)
    np.testing.assert_allclose(reg["p"].to_numpy(), ref.pvalues, rtol=1e-8)
    np.testing.assert_allclose(reg["statistic"], reg["coef"] / reg["se"], rtol=1e-12)
    np.testing.assert_allclose(reg["p"], 2 * stats.t.sf(np.abs(reg["statistic"]), 11), rtol=1e-8)
    assert reg.attrs["reference"] == "t"


@pytest.mark.parametrize(
    ("w", "reward_effect", "interaction"),
    [(0.0, True, False), (1.0, False, True)],
    ids=["model-free", "model-based"],
)
def test_daw_signatures_of_model_free_and_model_based_learners(w, reward_effect, interaction):
    reg = two_step.stay_regression(_table(w))
    assert (reg.loc["reward", "p"] < 0.01) == reward_effect
    assert (reg.loc["reward:transition", "p"] < 0.01) == interaction
    assert reg.attrs["cov_type"] == "cluster"


def test_planted_logistic_coefficients_are_recovered():
    rng = np.random.default_rng(5)
    n = 20000
    planted = np.array([0.3, 0.8, -0.2, 0.5])  # intercept, reward, transition, interaction
    rewarded = rng.random(n) < 0.5
    common = rng.random(n) < 0.7
    r, c = np.where(rewarded, 1.0, -1.0), np.where(common, 1.0, -1.0)
    logit = planted @ np.vstack([np.ones(n), r, c, r * c])
    stay = rng.random(n) < 1 / (1 + np.exp(-logit))
    choice1 = np.zeros(n, dtype=np.int64)
    for t in range(1, n):
        choice1[t] = choice1[t - 1] if stay[t] else 1 - choice1[t - 1]
    table = pd.DataFrame(
        {
            "subject": "s",
            "episode": 0,
            "trial": np.arange(n),
            "choice1": choice1,
            "state2": 0,
            "choice2": 0,
            "reward": rewarded.astype(float),
            "common": common,
        }
    )
    # Trial t's stay depends on trial t-1's reward and transition: shift by one.
    table["reward"] = np.roll(table["reward"], -1)
    table["common"] = np.roll(table["common"], -1)
    reg = two_step.stay_regression(table)
    np.testing.assert_allclose(reg["coef"].to_numpy(), planted, atol=4 * reg["se"].max())


@pytest.mark.parametrize(
    ("w", "index", "other"),
    [(0.0, "model_free", "model_based"), (1.0, "model_based", "model_free")],
    ids=["model-free", "model-based"],
)
def test_miller_indices_separate_model_free_from_model_based(w, index, other):
    _, indices = two_step.lagged_regression(_table(w), num_lags=3)
    assert indices.loc[index, "estimate"] > 0
    assert indices.loc[index, "p"] < 0.001
    assert indices.loc[index, "estimate"] > 3 * abs(indices.loc[other, "estimate"])


def test_akam_regression_has_the_correct_predictor_and_needs_probabilities():
    table = _table(0.0, num=10)
    reg = two_step.akam_regression(table)
    assert list(reg.index) == ["intercept", "correct", "reward", "transition", "reward:transition"]
    assert reg.loc["correct", "coef"] > 0  # a learner repeats the choice that pays best
    with pytest.raises(AnalysisError, match="reward probabilities"):
        two_step.akam_regression(table.drop(columns="better_choice1"))


def test_a_subject_drawn_twice_counts_twice_in_a_bootstrap_replicate():
    # two subjects, one condition column used: p = 0.2 and 0.8
    counts = np.zeros((1, 2, 4))
    totals = np.zeros((1, 2, 4))
    counts[0, :, 0], totals[0, :, 0] = (2, 8), (10, 10)
    once = two_step._per_subject_mean(counts, totals, np.array([[1.0, 1.0]]))
    twice = two_step._per_subject_mean(counts, totals, np.array([[2.0, 1.0]]))
    assert once[0, 0] == pytest.approx(0.5)
    assert twice[0, 0] == pytest.approx((2 * 0.2 + 0.8) / 3)
    assert np.isnan(once[0, 1])  # no subject had a trial in that condition


def test_subject_bootstrap_interval_covers_the_spread_of_subjects():
    # 12 subjects with different stay tendencies: the interval resamples subjects
    tables = [_table(w, num=1, trials=120, seed=s).assign(subject=f"s{s}")
              for s, w in enumerate(np.linspace(0, 1, 12))]  # fmt: skip
    res = two_step.stay_probabilities(pd.concat(tables), num_boot=300, seed=2)
    assert res.attrs["resampled"] == "subject"
    assert ((res["ci_low"] < res["p_stay"]) & (res["p_stay"] < res["ci_high"])).all()


def test_model_indices_are_wald_tests_of_coefficient_sums_with_the_fit_covariance():
    # 20 sessions, 2 lags (9 coefficients): clustered by session, t reference with 19 df.
    table = _table(0.5, num=20, trials=150)
    _, indices = two_step.lagged_regression(table, num_lags=2)
    assert indices.index.name == "contrast"
    assert (indices.attrs["reference"], indices.attrs["df"]) == ("t", 19)
    y, X, rows = two_step._lagged_design(table, 2)
    groups = rows["episode"].to_numpy()
    fit = sm.Logit(y.astype(float), X).fit(
        disp=0, cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )
    cov = fit.cov_params().to_numpy()
    for name, signs in (("model_based", (1, -1, -1, 1)), ("model_free", (1, -1, 1, -1))):
        w = np.array([0.0] + list(signs) * 2)  # intercept, then lags 1 and 2 by trial type
        estimate, se = w @ fit.params.to_numpy(), np.sqrt(w @ cov @ w)
        row = indices.loc[name]
        np.testing.assert_allclose([row["estimate"], row["se"]], [estimate, se], rtol=1e-10)
        np.testing.assert_allclose(row["statistic"], estimate / se, rtol=1e-10)
        np.testing.assert_allclose(row["p"], 2 * stats.t.sf(abs(estimate / se), 19), rtol=1e-8)
        half = stats.t.ppf(0.975, 19) * se
        np.testing.assert_allclose([row["ci_low"], row["ci_high"]], [estimate - half,
                                   estimate + half], rtol=1e-8)  # fmt: skip
