"""The Daw 2011 hybrid agent runs the behavioural model: hand-derived update, agent = replay."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from neurometa.agents.base import Agent
from neurometa.agents.baselines import make_baseline
from neurometa.behaviour import get_model, run_model
from neurometa.record.recorder import play_batch
from neurometa.tasks import make


def test_update_matches_hand_derivation() -> None:
    model = get_model("hybrid")
    p = {
        k: np.array([v])
        for k, v in dict(
            alpha1=0.5, alpha2=0.5, lam=0.5, beta1=1.0, beta2=1.0, perseveration=0.0, w=0.5
        ).items()
    }
    state = model.initial_state(p, 1, {"common_prob": 0.7, "num_choice2": 2})
    one, zero = np.array([1]), np.array([0])
    # Trial 1 (c1=0, s2=1, c2=1, r=1): delta1 = 0 - 0 = 0; delta2 = 1 - 0 = 1;
    # Q2[1,1] = 0.5 * 1 = 0.5; Q1[0] = 0 + 0.5 * (0 + 0.5 * 1) = 0.25.
    trial = {"choice1": zero, "state2": one, "choice2": one, "reward": np.array([1.0])}
    state, err = model.update(state, p, trial)
    assert (err["rpe"][0], err["rpe_outcome"][0]) == (0.0, 1.0)
    assert (state["mf0"][0], state["mf1"][0], state["q11"][0]) == (0.25, 0.0, 0.5)
    # Q_MB = 0.7 * max Q2[a] + 0.3 * max Q2[1-a] = [0.3 * 0.5, 0.7 * 0.5].
    mb = model.latents(state, p, trial)["q_mb"]
    np.testing.assert_allclose(mb, [[0.15, 0.35]])
    # Trial 2 (c1=1, s2=1, c2=1, r=0): delta1 = 0.5 - 0 = 0.5; delta2 = 0 - 0.5 = -0.5;
    # Q1[1] = 0 + 0.5 * (0.5 + 0.5 * (-0.5)) = 0.125; Q2[1,1] = 0.25.
    trial = {"choice1": one, "state2": one, "choice2": one, "reward": np.array([0.0])}
    state, err = model.update(state, p, trial)
    assert (err["rpe"][0], err["rpe_outcome"][0]) == (0.5, -0.5)
    assert (state["mf1"][0], state["q11"][0]) == (0.125, 0.25)


def _run(task, agent, seed: int) -> dict[str, np.ndarray]:
    """Play one batch; return per-stage arrays ``[T, B]`` (policies ``[T, B, 2]``)."""
    steps, _, _ = play_batch(agent, task, torch.Generator().manual_seed(seed), seed)
    keys = {
        "choice": "action",
        "policy": "policy",
        "rpe": "rpe",
        "reward": "reward",
        "state2": "state2",
    }
    return {
        name + str(stage + 1): steps[key][:, stage::2].swapaxes(0, 1)
        for name, key in keys.items()
        for stage in (0, 1)
    }


@pytest.mark.parametrize("preset", ["two_step/daw2011", "two_step/wang2018"], ids=["daw", "wang"])
def test_agent_equals_replay_of_its_own_choices(preset: str) -> None:
    params = {
        "alpha1": 0.3,
        "alpha2": 0.6,
        "lam": 0.7,
        "beta1": 4.0,
        "beta2": 3.0,
        "perseveration": 0.2,
        "w": 0.4,
    }
    task = make(preset, 16, num_trials=40)
    agent = make_baseline("hybrid", task, **params)
    assert isinstance(agent, Agent)
    run = _run(task, agent, seed=3)
    model = get_model("hybrid")
    p = {k: np.full(16, v) for k, v in params.items()}
    trials = {
        "choice1": run["choice1"],
        "state2": run["state21"],
        "choice2": run["choice2"],
        "reward": run["reward2"].astype(np.float64),
    }
    common = float(task.config.common_prob)
    res = run_model(
        model,
        p,
        trials,
        np.ones((40, 16), bool),
        {"common_prob": common, "num_choice2": 2},
        store=True,
    )
    np.testing.assert_allclose(run["policy1"], res.latents["policy_0"], atol=1e-6)
    np.testing.assert_allclose(run["policy2"], res.latents["policy_1"], atol=1e-6)
    np.testing.assert_allclose(run["rpe2"], res.latents["rpe_outcome"], atol=1e-6)


def test_model_free_and_model_based_agents_show_the_textbook_stay_pattern() -> None:
    task = make("two_step/daw2011", 400, num_trials=100)
    effects = {}
    for name in ("model_free", "model_based"):
        run = _run(task, make_baseline(name, task, beta1=5.0, beta2=5.0), seed=1)
        stay = run["choice1"][1:] == run["choice1"][:-1]
        rewarded = run["reward2"][:-1] > 0
        common = run["choice1"][:-1] == run["state21"][:-1]
        p = {(r, c): stay[(rewarded == r) & (common == c)].mean() for r in (0, 1) for c in (0, 1)}
        effects[name] = (p[1, 1] - p[1, 0]) - (p[0, 1] - p[0, 0])  # reward x transition
    assert effects["model_based"] > 0.1
    assert abs(effects["model_free"]) < effects["model_based"] / 2


def test_behaviour_models_import_without_torch() -> None:
    code = (
        "import sys; import neurometa.behaviour as b; b.get_model('hybrid'); "
        "import neurometa.behaviour.fitting, neurometa.behaviour.compare; "
        "assert 'torch' not in sys.modules, 'torch imported'; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
