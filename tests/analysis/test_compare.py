"""Agent-vs-neurons comparison: proportion statistics, coding comparison, RSA, behaviour."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

from neurometa.analysis._common import AnalysisError
from neurometa.analysis.compare import (
    compare_behaviour,
    compare_coding,
    false_positive_corrected,
    proportion_comparison,
    stay_counts,
)
from neurometa.analysis.compare_report import CompareConfig, run_comparison
from neurometa.analysis.compare_rsa import (
    _permutation_null,
    compare_rsa,
    rdm,
    rdm_similarity,
)
from neurometa.analysis.trials import condition_codes

ROOT = Path(__file__).resolve().parents[2]
TERMS = ("prev_action", "prev_reward", "interaction", "value")


def lab_recording(
    fractions: dict[str, float],
    *,
    num_units: int = 120,
    num_trials: int = 300,
    num_episodes: int = 1,
    noise: float = 1.0,
    seed: int = 0,
    stay_bias: float = 0.0,
) -> xr.Dataset:
    """A schema-valid lab recording from a Q-learner with planted linear unit coding."""
    rng = np.random.default_rng(seed)
    shape = (num_episodes, num_trials)
    action, reward, value = np.zeros(shape, np.int64), np.zeros(shape), np.zeros(shape)
    for e in range(num_episodes):
        q, probs, prev = np.zeros(2), rng.random(2), 0
        for t in range(num_trials):
            pi = np.exp(4 * q) / np.exp(4 * q).sum()
            a = prev if rng.random() < stay_bias else int(rng.random() < pi[1])
            r = float(rng.random() < probs[a])
            value[e, t] = pi @ q
            q[a] += 0.3 * (r - q[a])
            action[e, t], reward[e, t], prev = a, r, a
    pa = np.pad(2.0 * action[:, :-1] - 1, ((0, 0), (1, 0)), constant_values=-1)
    pr = np.pad(2.0 * reward[:, :-1] - 1, ((0, 0), (1, 0)), constant_values=-1)
    x = {"prev_action": pa, "prev_reward": pr, "interaction": pa * pr, "value": value * 4}
    act = noise * rng.standard_normal((*shape, num_units)) + 5.0
    start = 0
    for term, frac in fractions.items():
        n = int(round(frac * num_units))
        act[..., start : start + n] += x[term][..., None]
        start += n
    steps = np.arange(num_trials)
    ds = xr.Dataset(
        {
            "action": (("episode", "step"), action),
            "reward": (("episode", "step"), reward.astype(np.float32)),
            "value": (("episode", "step"), value.astype(np.float32)),
            "activity": (("episode", "step", "unit"), act.astype(np.float32)),
        },
        coords={
            "episode": np.arange(num_episodes),
            "step": steps,
            "trial": ("step", steps),
            "stage": ("step", np.full(num_trials, "cue")),
            "unit": np.arange(num_units),
            "subject": ("episode", np.full(num_episodes, "s1")),
        },
        attrs={
            "schema_version": 1,
            "source": "lab",
            "task": "bandit",
            "preset": "bandit/lab",
            "config_json": "{}",
            "neurometa_version": "test",
        },
    )
    return ds


# ---------------------------------------------------------------- proportion statistics


#: Newcombe (1998, Stat Med 17:873) Table II, method 10: k1/n1 - k2/n2 and the published
#: 95 % limits (four decimals).
NEWCOMBE_1998 = [
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (0, 10, 0, 10, -0.2775, 0.2775),
]


def test_newcombe_interval_reproduces_newcombe_1998_table_ii():
    k1, n1, k2, n2, low, high = map(np.array, zip(*NEWCOMBE_1998, strict=True))
    out = proportion_comparison(k1, n1, k2, n2)
    np.testing.assert_allclose(out["difference_low"], low, atol=5e-5)
    np.testing.assert_allclose(out["difference_high"], high, atol=5e-5)


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2"),
    [(12, 48, 54, 200), (30, 40, 5, 60), (0, 20, 3, 20), (20, 20, 1, 5)],
    ids=["close", "far", "zero", "all"],
)
def test_z_is_the_pooled_two_proportion_ztest(k1, n1, k2, n2):
    out = proportion_comparison(k1, n1, k2, n2)
    z_ref, p_ref = proportions_ztest([k1, k2], [n1, n2])  # pooled-variance z (statsmodels)
    np.testing.assert_allclose([out["z"][0], out["p_z"][0]], [z_ref, p_ref], rtol=1e-10)
    ref = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    np.testing.assert_allclose([out["difference_low"][0], out["difference_high"][0]], ref)


def test_equal_degenerate_proportions_are_not_different():
    out = proportion_comparison([0, 5], [10, 5], [0, 7], [20, 7])  # both all-0, both all-1
    np.testing.assert_array_equal(out["z"], [0.0, 0.0])
    np.testing.assert_array_equal(out["p_z"], [1.0, 1.0])
    np.testing.assert_array_equal(out["p_fisher"], [1.0, 1.0])
    with pytest.raises(AnalysisError, match="count <= total"):
        proportion_comparison([3], [2], [0], [1])


def test_fisher_hand_value():
    # table [[3, 1], [1, 3]]: margins 4/4, P(a) = C(4,a)C(4,4-a)/C(8,4) = (1,16,36,16,1)/70;
    # two-sided p sums tables as unlikely as a=3: (1 + 16 + 16 + 1)/70 = 34/70
    out = proportion_comparison([3], [4], [1], [4])
    np.testing.assert_allclose(out["p_fisher"], [34 / 70], rtol=1e-12)
    np.testing.assert_allclose(out["difference"], [0.5])


def test_false_positive_correction_inverts_detection():
    planted = np.array([0.0, 0.1, 0.25, 1.0])
    detected = planted + 0.05 * (1 - planted)
    np.testing.assert_allclose(false_positive_corrected(detected, 0.05), planted, atol=1e-12)


# ---------------------------------------------------------------- coding comparison


@pytest.fixture(scope="module")
def agent_like() -> xr.Dataset:
    fr = {"prev_action": 0.2, "prev_reward": 0.6, "interaction": 0.1, "value": 0.1}
    return lab_recording(fr, num_units=60, num_trials=100, num_episodes=6, seed=1)


@pytest.fixture(scope="module")
def neurons() -> xr.Dataset:
    fr = {"prev_action": 0.2, "prev_reward": 0.2, "interaction": 0.1, "value": 0.2}
    return lab_recording(fr, num_units=150, num_trials=300, seed=2, stay_bias=0.3)


def test_compare_coding_detects_planted_difference(agent_like, neurons):
    out = compare_coding(agent_like, neurons, agent_activity="activity", num_shuffles=3)
    assert list(out["term"].values) == list(TERMS)
    diff = out.sel(term="prev_reward")
    assert diff["p_fisher"] < 0.001
    assert diff["difference_low"] > 0.2
    np.testing.assert_allclose(
        diff["difference"], diff["agent_fraction"] - diff["neural_fraction"]
    )
    # the same planted fraction (prev_action 0.2 in both) is not called different
    assert out.sel(term="prev_action")["p_fisher"] > 0.05
    assert int(out["agent_total"][0]) == 60
    assert int(out["neural_total"][0]) == 150
    np.testing.assert_allclose(out["neural_corrected"].sel(term="value"), 0.2, atol=0.08)


# ---------------------------------------------------------------- behaviour


def test_stay_counts_hand_count():
    ds = lab_recording({}, num_units=2, num_trials=6, seed=0)
    ds["action"][:] = [[0, 0, 1, 1, 1, 0]]
    ds["reward"][:] = [[1, 0, 0, 1, 1, 0]]
    out = stay_counts(ds)
    # pairs (prev reward -> stay): (1->stay), (0->switch), (0->stay), (1->stay), (1->switch)
    np.testing.assert_array_equal(out["count"].values, [2, 1])
    np.testing.assert_array_equal(out["total"].values, [3, 2])
    low, high = proportion_confint([2, 1], [3, 2], method="wilson")
    np.testing.assert_allclose(out["low"].values, low, atol=1e-15)
    np.testing.assert_allclose(out["high"].values, high, atol=1e-15)


def test_compare_behaviour_sees_stay_bias():
    agent = lab_recording({}, num_units=2, num_trials=200, num_episodes=3, seed=3)
    sticky = lab_recording({}, num_units=2, num_trials=300, seed=4, stay_bias=0.8)
    out = compare_behaviour(agent, sticky)
    assert out["subjects_fraction"].sel(condition="unrewarded") > out["agent_fraction"].sel(
        condition="unrewarded"
    )
    assert out["p_z"].sel(condition="unrewarded") < 0.01


class RandomAgent:
    """Uniform random choices (a stand-in for an agent or a subject without memory)."""

    name = "random"
    discount = 1.0

    def begin(self, task, generator):
        self.generator, self.num_envs, self.num_actions = (
            generator,
            task.num_envs,
            task.num_actions,
        )

    def act(self, obs, info):
        import torch

        policy = torch.full((self.num_envs, self.num_actions), 1.0 / self.num_actions)
        action = torch.multinomial(policy, 1, generator=self.generator).squeeze(1)
        return action, {"policy": policy}

    def observe(self, action, reward, terminated, info):
        return {}


def test_two_step_behaviour_uses_transition_by_outcome():
    from neurometa.record import record
    from neurometa.tasks import make

    agent = record(
        RandomAgent(), make("two_step/daw2011", 8, num_trials=60), 8, seed=0, progress=False
    )
    other = record(
        RandomAgent(), make("two_step/daw2011", 8, num_trials=60), 8, seed=1, progress=False
    )
    out = compare_behaviour(agent, other)
    assert list(out["condition"].values) == [
        "common/rewarded",
        "rare/rewarded",
        "common/unrewarded",
        "rare/unrewarded",
    ]
    assert int(out["agent_total"].sum()) == 8 * 59
    # random choices: every stay probability is 0.5, inside its interval
    assert bool(((out["agent_low"] <= 0.5) & (out["agent_high"] >= 0.5)).all())
    bandit = lab_recording({}, num_units=2, num_trials=50, seed=0)
    with pytest.raises(AnalysisError, match="same task family"):
        compare_behaviour(agent, bandit)


# ---------------------------------------------------------------- RSA


def test_permutation_null_matches_spearman_loop():
    rng = np.random.default_rng(4)
    a = rdm(rng.standard_normal((7, 30)))
    b = rdm(rng.standard_normal((7, 30)))
    fast = _permutation_null(a, b, 50, np.random.default_rng(9))
    perms = np.argsort(np.random.default_rng(9).random((50, 7)), axis=1)
    slow = [rdm_similarity(a[np.ix_(p, p)], b) for p in perms]
    np.testing.assert_allclose(fast, slow, atol=1e-12)


def test_rdm_similarity_against_scipy():
    rng = np.random.default_rng(0)
    a, b = rdm(rng.standard_normal((5, 9))), rdm(rng.standard_normal((5, 9)))
    iu = np.triu_indices(5, 1)
    assert rdm_similarity(a, b) == pytest.approx(stats.spearmanr(a[iu], b[iu]).statistic)


def test_rsa_shared_code_is_similar_and_unrelated_is_not(agent_like, neurons):
    same = compare_rsa(
        agent_like, neurons, agent_activity="activity", num_permutations=300, num_splits=5
    )
    assert float(same["similarity"]) > 0.5
    assert float(same["p_permutation"]) < 0.01
    noise = lab_recording({}, num_units=60, num_trials=100, num_episodes=6, seed=7)
    unrelated = compare_rsa(
        noise, neurons, agent_activity="activity", num_permutations=300, num_splits=5
    )
    assert float(unrelated["p_permutation"]) > 0.05
    assert float(unrelated["agent_reliability"]) < float(same["agent_reliability"])


def test_noise_ceiling_is_one_for_noiseless_neurons(agent_like):
    # every neuron fires a fixed rate per condition (a(t-1), r(t-1), a(t)), plus 1e-6 noise
    clean = lab_recording({}, num_units=60, num_trials=300, seed=2)
    codes, _ = condition_codes(clean)
    rng = np.random.default_rng(0)
    rates = rng.normal(size=(9, 60))[codes]  # code -1 (first trial) gets a row too
    clean["activity"][:] = rates + 1e-6 * rng.normal(size=rates.shape)
    out = compare_rsa(agent_like, clean, agent_activity="activity", num_permutations=10)
    assert float(out["neural_reliability"]) == pytest.approx(1.0, abs=1e-9)
    assert float(out["noise_ceiling"]) == pytest.approx(1.0, abs=1e-9)


# ---------------------------------------------------------------- pipeline


def test_run_comparison_writes_table_and_figure(agent_like, neurons, tmp_path):
    cfg = CompareConfig(
        agent_activity="activity", num_shuffles=2, num_permutations=100, num_splits=3
    )
    summary = run_comparison(agent_like, neurons, tmp_path, cfg)
    table = pd.read_csv(tmp_path / "coding_comparison.csv", index_col="term")
    assert list(table.index) == list(TERMS)
    np.testing.assert_allclose(
        table.loc["prev_reward", "difference"], summary["coding"]["prev_reward"]["difference"]
    )
    assert (tmp_path / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    back = xr.open_dataset(tmp_path / "geometry.nc", engine="h5netcdf")
    rho = back["statistic"].sel(measure="rsa").item()
    assert rho == pytest.approx(summary["rsa"]["similarity"])
    assert rho == pytest.approx(summary["geometry"]["rsa"]["statistic"])


def test_analyze_compare_command(agent_like, neurons, tmp_path, capsys):
    import json

    from neurometa.cli import main

    agent_path, neural_path = tmp_path / "agent.nc", tmp_path / "neural.nc"
    agent_like.to_netcdf(agent_path, engine="h5netcdf")
    neurons.to_netcdf(neural_path, engine="h5netcdf")
    argv = ["analyze", "compare", str(agent_path), str(neural_path), "--out", str(tmp_path / "o")]
    opts = ["--agent-activity", "activity", "--shuffles", "2", "--permutations", "50", "--json"]
    assert main([*argv, *opts]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["coding"]["prev_reward"]["p_fisher"] < 0.001
    assert (tmp_path / "o" / "coding_comparison.csv").is_file()
    assert main(["analyze", "compare", str(agent_path), "--out", str(tmp_path / "o")]) == 2
    assert "compare needs two inputs" in capsys.readouterr().err


@pytest.mark.slow
def test_pipeline_script_runs(agent_like, neurons, tmp_path):
    agent_path, neural_path = tmp_path / "agent.nc", tmp_path / "neural.nc"
    agent_like.to_netcdf(agent_path, engine="h5netcdf")
    neurons.to_netcdf(neural_path, engine="h5netcdf")
    script = ROOT / "analyses" / "compare_agent_neurons.py"
    result = subprocess.run(
        [
            sys.executable,
            str(script),
            str(agent_path),
            str(neural_path),
            "--out",
            str(tmp_path / "out"),
            "--agent-activity",
            "activity",
            "--quick",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "coding_comparison.csv").is_file()
    assert (tmp_path / "out" / "compare.png").is_file()
    assert "prev_reward" in result.stdout


def test_compare_modules_import_without_torch():
    code = (
        "import sys\n"
        "import neurometa.analysis.compare, neurometa.analysis.compare_rsa\n"
        "import neurometa.analysis.compare_report\n"
        "print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
