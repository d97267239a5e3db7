"""The Daw 2011 hybrid agent: hand-derived updates, agent = replay, the textbook stay pattern."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from neurometa.agents.base import Agent
from neurometa.agents.baselines import make_baseline
from neurometa.agents.baselines.hybrid import (
    HybridParams,
    hybrid_log_likelihood,
    hybrid_q_values,
    hybrid_update,
    model_based_values,
)
from neurometa.record.recorder import play_batch
from neurometa.tasks import make


def test_update_matches_hand_derivation() -> None:
    params = HybridParams(alpha1=0.5, alpha2=0.5, lam=0.5)
    q1, q2 = np.zeros((1, 2)), np.zeros((1, 2, 2))
    one = np.array([1])
    # Trial 1 (c1=0, s2=1, c2=1, r=1): delta1 = 0 - 0 = 0; delta2 = 1 - 0 = 1;
    # Q2[1,1] = 0.5 * 1 = 0.5; Q1[0] = 0 + 0.5 * 0.5 * 1 = 0.25.
    d1, d2 = hybrid_update(q1, q2, np.array([0]), one, one, np.array([1.0]), params)
    assert (d1[0], d2[0]) == (0.0, 1.0)
    np.testing.assert_allclose(q1, [[0.25, 0.0]])
    np.testing.assert_allclose(q2, [[[0.0, 0.0], [0.0, 0.5]]])
    # Q_MB = 0.7 * max Q2[a] + 0.3 * max Q2[1-a] = [0.3 * 0.5, 0.7 * 0.5].
    np.testing.assert_allclose(model_based_values(q2, 0.7), [[0.15, 0.35]])
    # Trial 2 (c1=1, s2=1, c2=1, r=0): delta1 = 0.5 - 0 = 0.5 -> Q1[1] = 0.25;
    # delta2 = 0 - 0.5 = -0.5 -> Q2[1,1] = 0.25; Q1[1] = 0.25 + 0.5 * 0.5 * (-0.5) = 0.125.
    d1, d2 = hybrid_update(q1, q2, one, one, one, np.array([0.0]), params)
    assert (d1[0], d2[0]) == (0.5, -0.5)
    np.testing.assert_allclose(q1, [[0.25, 0.125]])
    np.testing.assert_allclose(q2, [[[0.0, 0.0], [0.0, 0.25]]])


def _run(task, agent, seed: int) -> dict[str, np.ndarray]:
    """Play one batch; return per-stage arrays ``[T, B]`` (policies ``[T, B, 2]``)."""
    steps, _, _ = play_batch(agent, task, torch.Generator().manual_seed(seed), seed)
    keys = {"choice": "action", "policy": "policy", "rpe": "rpe", "reward": "reward",
            "common": "common_transition", "state2": "state2"}  # fmt: skip
    return {
        name + str(stage + 1): steps[key][:, stage::2].swapaxes(0, 1)
        for name, key in keys.items()
        for stage in (0, 1)
    }


@pytest.mark.parametrize("preset", ["two_step/daw2011", "two_step/wang2018"], ids=["daw", "wang"])
def test_agent_equals_replay_of_its_own_choices(preset: str) -> None:
    params = {"alpha1": 0.3, "alpha2": 0.6, "lam": 0.7, "beta1": 4.0, "beta2": 3.0,
              "perseveration": 0.2, "w": 0.4}  # fmt: skip
    task = make(preset, 32, num_trials=40)
    agent = make_baseline("hybrid", task, **params)
    assert isinstance(agent, Agent)
    run = _run(task, agent, seed=3)
    c1, s2, c2, r = run["choice1"].T, run["state21"].T, run["choice2"].T, run["reward2"].T
    common = task.config.common_prob
    replay = hybrid_q_values(c1, s2, c2, r, HybridParams(**params), common)
    softmax = lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(
        softmax(replay["logits1"]), run["policy1"].transpose(1, 0, 2), atol=1e-6
    )
    np.testing.assert_allclose(
        softmax(replay["logits2"]), run["policy2"].transpose(1, 0, 2), atol=1e-6
    )
    np.testing.assert_allclose(replay["delta2"], run["rpe2"].T, atol=1e-6)
    chosen = np.take_along_axis(run["policy1"], run["choice1"][..., None], 2)[..., 0]
    chosen2 = np.take_along_axis(run["policy2"], run["choice2"][..., None], 2)[..., 0]
    expected = np.log(chosen).sum(0) + np.log(chosen2).sum(0)
    got = hybrid_log_likelihood(c1, s2, c2, r, HybridParams(**params), common)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def _stay_effects(run: dict[str, np.ndarray]) -> tuple[float, float]:
    """Reward main effect and reward x transition interaction on P(repeat first choice)."""
    stay = run["choice1"][1:] == run["choice1"][:-1]
    rewarded, common = run["reward2"][:-1] > 0, run["common1"][:-1]
    p = {(r, c): stay[(rewarded == r) & (common == c)].mean()
         for r in (True, False) for c in (True, False)}  # fmt: skip
    main = (p[True, True] + p[True, False] - p[False, True] - p[False, False]) / 2
    interaction = (p[True, True] - p[True, False]) - (p[False, True] - p[False, False])
    return float(main), float(interaction)


@pytest.mark.parametrize(
    ("name", "params", "main_range", "interaction_range"),
    [
        # Model-free TD(1): the outcome alone moves Q1, whatever the transition.
        ("model_free", {"lam": 1.0}, (0.15, 1.0), (-0.03, 0.03)),
        # Model-based: a reward after a rare transition favours the *other* first choice.
        ("model_based", {}, (-0.03, 0.03), (0.25, 1.0)),
    ],
    ids=["w0", "w1"],
)
def test_textbook_stay_pattern(name, params, main_range, interaction_range) -> None:
    # 1000 sessions x 201 trials (Daw 2011 settings). Measured over seeds 11-16 (mean, SD):
    # w=0, lam=1: main 0.253 (0.001), interaction 0.014 (0.004) -- the small spurious
    # interaction of model-free learners that Akam et al. 2015 describe; w=1: main 0.000
    # (0.003), interaction 0.383 (0.006). The ranges sit > 4 SD from these values.
    task = make("two_step/daw2011", 1000)
    main, interaction = _stay_effects(_run(task, make_baseline(name, task, **params), seed=11))
    assert main_range[0] < main < main_range[1]
    assert interaction_range[0] < interaction < interaction_range[1]


def test_equations_module_does_not_import_torch() -> None:
    code = (
        "import sys; import neurometa.agents.baselines.hybrid as h; "
        "assert 'torch' not in sys.modules, 'torch imported'; print(h.HybridParams().w)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0.5"


@pytest.mark.parametrize(
    ("choices1", "rewards", "message"),
    [([0, 2, 1], [1.0, 0.0, 1.0], "choices1 must hold only 0 and 1"),
     ([0, 1, 1], [1.0, 0.0], "must share a shape")],
    ids=["non-binary", "shape"],
)  # fmt: skip
def test_replay_rejects_bad_input(choices1, rewards, message) -> None:
    with pytest.raises(ValueError, match=message):
        hybrid_q_values(np.array(choices1), np.zeros(3, int), np.zeros(3, int),
                        np.array(rewards), HybridParams())  # fmt: skip
