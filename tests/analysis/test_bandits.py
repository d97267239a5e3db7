import numpy as np
import pytest
from _synthetic_recordings import agent_recording
from statsmodels.stats.proportion import proportion_confint

from neurometa.analysis import bandits


def _bandit(action: np.ndarray, probs: np.ndarray, reward: np.ndarray | None = None):
    reward = np.zeros(action.shape) if reward is None else reward
    var = {"arm_probs": (("episode", "step", "arm"), probs.astype(np.float32))}
    return agent_recording(action, reward, variables=var)


def test_regret_by_hand():
    # Episode 0: p = (0.2, 0.7) fixed; actions 0, 1, 0 -> regrets 0.5, 0, 0.5.
    # Episode 1: p = (0.9, 0.4); actions 0, 0, 1 -> regrets 0, 0, 0.5.
    probs = np.array([[[0.2, 0.7]] * 3, [[0.9, 0.4]] * 3])
    ds = _bandit(np.array([[0, 1, 0], [0, 0, 1]]), probs)
    regret = bandits.expected_regret(ds)
    np.testing.assert_allclose(regret.values, [[0.5, 0, 0.5], [0, 0, 0.5]], atol=1e-6)
    curve = bandits.regret_curve(ds)
    np.testing.assert_allclose(curve["mean"].values, [0.25, 0.25, 0.75], atol=1e-6)
    cum = np.cumsum(regret.values, axis=1)
    np.testing.assert_allclose(
        curve["sem"].values, cum.std(axis=0, ddof=1) / np.sqrt(2), atol=1e-6
    )
    summary = bandits.regret_summary(ds, at=(2, 1, 10))
    assert list(summary["trial"].values) == [1, 2, 3]  # sorted; 10 is past the end; 3 is last
    assert summary.attrs["num_trials"] == 3
    np.testing.assert_allclose(summary["mean"].values, [0.25, 0.25, 0.75], atol=1e-6)
    np.testing.assert_allclose(summary["sem"].values, curve["sem"].values, atol=1e-12)


def test_regret_split_finds_the_planted_stuck_episodes():
    # 10 episodes of 100 trials, p = (0.9, 0.3): episodes 0-1 play the worse arm 50 times
    # (regret 30 each), the other 8 play it 5 times (regret 3 each).
    num_episodes, num_trials = 10, 100
    probs = np.tile([0.9, 0.3], (num_episodes, num_trials, 1))
    action = np.zeros((num_episodes, num_trials), dtype=int)
    action[:2, :50] = 1
    action[2:, :5] = 1
    split = bandits.regret_split(_bandit(action, probs), threshold=10)
    assert split.attrs["num_episodes"] == 10
    np.testing.assert_allclose(split["regret"].values, [30] * 2 + [3] * 8, rtol=1e-5)
    assert split["stuck"].values.tolist() == [True] * 2 + [False] * 8
    assert float(split["mean_regret"]) == pytest.approx((2 * 30 + 8 * 3) / 10, rel=1e-5)
    assert float(split["stuck_fraction"]) == pytest.approx(0.2)
    assert float(split["stuck_share"]) == pytest.approx(60 / 84, rel=1e-5)
    assert float(split["mean_regret_not_stuck"]) == pytest.approx(3.0, rel=1e-5)
    with pytest.raises(bandits.AnalysisError, match="threshold"):
        bandits.regret_split(_bandit(action, probs), threshold=float("nan"))


def test_better_arm_choice_follows_planted_difficulty_curve():
    rng = np.random.default_rng(0)
    num_episodes, num_trials = 400, 50
    p1 = rng.random((num_episodes, 1)).repeat(num_trials, 1)
    probs = np.stack([p1, 1 - p1], axis=-1)
    gap = np.abs(2 * p1 - 1)
    p_best = 0.5 + 0.5 * gap  # planted: easier pairs -> better choices
    best = np.argmax(probs, axis=-1)
    action = np.where(rng.random(best.shape) < p_best, best, 1 - best)
    table = bandits.better_arm_by_difficulty(_bandit(action, probs), num_bins=4)
    mid = (table["bin_low"] + table["bin_high"]) / 2
    np.testing.assert_allclose(table["p_better"], 0.5 + 0.5 * mid, atol=0.03)
    assert table.index.name == "difficulty_bin"


def test_wilson_intervals_are_statsmodels_and_the_hand_formula():
    # 3 stays in 4 pairs after a win, 0 in 1 after a loss (one episode, 6 trials)
    action = np.array([[0, 0, 0, 1, 1, 0]])
    reward = np.array([[1, 1, 0, 1, 1, 0]], dtype=float)
    table = bandits.win_stay_lose_shift(_bandit(action, np.full((1, 6, 2), 0.5), reward))
    assert table["num_stays"].tolist() == [3, 0]
    assert table["num_trials"].tolist() == [4, 1]
    # Wilson 1927 by hand for 3/4: (p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)
    z, p, n = 1.959963984540054, 0.75, 4
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    row = table.loc["rewarded"]
    np.testing.assert_allclose([row["ci_low"], row["ci_high"]], [centre - half, centre + half])
    low, high = proportion_confint([3, 0], [4, 1], method="wilson")
    np.testing.assert_allclose(table["ci_low"], low, atol=1e-15)
    np.testing.assert_allclose(table["ci_high"], high, atol=1e-15)


def test_an_outcome_without_pairs_has_no_probability():
    action = np.array([[0, 0, 1]])
    table = bandits.win_stay_lose_shift(_bandit(action, np.full((1, 3, 2), 0.5)))
    assert table.loc["rewarded", "num_trials"] == 0
    assert np.isnan(table.loc["rewarded", ["p_stay", "ci_low", "ci_high"]].to_numpy(float)).all()
    assert table.loc["unrewarded", "p_stay"] == 0.5


def test_win_stay_lose_shift_counts():
    action = np.array([[0, 0, 1, 1, 0]])
    reward = np.array([[1, 0, 1, 1, 0]], dtype=float)
    table = bandits.win_stay_lose_shift(_bandit(action, np.full((1, 5, 2), 0.5), reward))
    # after rewards (trials 0, 2, 3): stay, stay, shift -> 2/3; after the loss (1): shift.
    assert table.loc["rewarded", "p_stay"] == pytest.approx(2 / 3)
    assert table.loc["unrewarded", "p_stay"] == 0.0


def test_harlow_accuracy_by_trial():
    correct = np.zeros((4, 6), dtype=bool)
    correct[:2, 0] = True  # trial 1: half the episodes correct
    correct[:, 1:] = True
    ds = agent_recording(
        np.zeros((4, 6), dtype=np.int64),
        np.zeros((4, 6)),
        preset="harlow/default",
        variables={"correct": (("episode", "step"), correct)},
    )
    acc = bandits.harlow_accuracy(ds)
    np.testing.assert_allclose(acc["accuracy"].values, [0.5, 1, 1, 1, 1, 1])
    assert list(acc["trial"].values) == [1, 2, 3, 4, 5, 6]


def test_win_stay_lose_shift_skips_pairs_across_a_missed_trial_of_a_lab_table(tmp_path):
    from neurometa.data.tables import read_bandit_csv, table_to_recording

    path = tmp_path / "bandit.csv"
    # Subject A misses trial 2: trials 1 and 3 are not "previous" and "next".
    path.write_text(
        "subject,trial,choice,reward\nA,1,0,1\nA,2,1,\nA,3,0,0\nA,4,0,1\nB,1,1,0\nB,2,1,1\n"
    )
    table = bandits.win_stay_lose_shift(table_to_recording(read_bandit_csv(path)))
    # Pairs: A 3->4 (after a loss: stay), B 1->2 (after a loss: stay); nothing after a win.
    assert table.loc["rewarded", "num_trials"] == 0
    assert table.loc["unrewarded", "num_trials"] == 2
    assert table.loc["unrewarded", "p_stay"] == 1.0
