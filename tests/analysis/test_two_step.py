import numpy as np
import pandas as pd
import pytest
from _synthetic_recordings import hybrid_params, two_step_recording

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
    table = _table(0.5, num=5, trials=200)
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
    assert res.attrs["resampled"] == "episode"


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
