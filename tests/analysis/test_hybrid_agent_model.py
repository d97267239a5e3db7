"""The torch hybrid agent (``neurometa record --agent hybrid``) is the model the fit assumes.

Two links: (1) on the agent's own choices, the fit's likelihood (the behaviour engine's
objective) gives exactly the log-probabilities of the policies the agent sampled from;
(2) the NumPy simulator (``neurometa.behaviour.simulate``) and the agent on the
``two_step/daw2011`` task produce the same choice statistics, so recovery figures from
either simulator are about the same model.
"""

import numpy as np
import pytest
import torch
from _synthetic_recordings import simulate_hybrid

from neurometa.agents.baselines import make_baseline
from neurometa.behaviour import get_model, run_model
from neurometa.record.recorder import play_batch
from neurometa.tasks import make

PARAMS = {"alpha1": 0.5, "alpha2": 0.6, "lam": 0.6, "beta1": 5.0, "beta2": 4.0,
          "perseveration": 0.2, "w": 0.7}  # fmt: skip
PARAM_NAMES = get_model("hybrid").parameters


def _agent_run(num_envs: int, num_trials: int, seed: int) -> dict[str, np.ndarray]:
    """Arrays (B, T) of the agent's choices, states, rewards, transitions and policies."""
    task = make("two_step/daw2011", num_envs, num_trials=num_trials)
    agent = make_baseline("hybrid", task, **PARAMS)
    steps, _, _ = play_batch(agent, task, torch.Generator().manual_seed(seed), seed)
    chosen = np.take_along_axis(steps["policy"], steps["action"][..., None], 2)[..., 0]
    first, second = slice(0, None, 2), slice(1, None, 2)
    return {
        "choice1": steps["action"][:, first], "choice2": steps["action"][:, second],
        "p_chosen1": chosen[:, first], "p_chosen2": chosen[:, second],
        "state2": steps["state2"][:, first], "common": steps["common_transition"][:, first],
        "reward_probs": steps["reward_probs"][:, first], "reward": steps["reward"][:, second],
    }  # fmt: skip


def _stay_table(choice1: np.ndarray, reward: np.ndarray, common: np.ndarray) -> np.ndarray:
    """P(repeat first choice) after (rewarded, unrewarded) x (common, rare): shape (2, 2)."""
    stay = choice1[:, 1:] == choice1[:, :-1]
    rewarded, com = reward[:, :-1] > 0, common[:, :-1].astype(bool)
    return np.array([[stay[(rewarded == r) & (com == c)].mean() for c in (True, False)]
                     for r in (True, False)])  # fmt: skip


def test_fit_likelihood_is_the_log_probability_the_agent_sampled_from():
    run = _agent_run(8, 60, seed=1)
    p = {k: np.full(8, v) for k, v in PARAMS.items()}
    trials = {k: run[k].T for k in ("choice1", "state2", "choice2")}
    trials["reward"] = run["reward"].T.astype(np.float64)
    res = run_model(
        get_model("hybrid"),
        p,
        trials,
        np.ones((60, 8), dtype=bool),
        {"common_prob": 0.7, "num_choice2": 2},
        store=True,
    )
    # per-trial log-likelihood (both stages) = log of the product of the sampled policies;
    # float32 policies: agreement to ~1e-6 relative per choice
    expected = np.log(run["p_chosen1"]) + np.log(run["p_chosen2"])
    np.testing.assert_allclose(res.trial_loglik.T, expected, atol=4e-6)


def test_numpy_simulator_and_agent_make_the_same_choices_statistically():
    # 600 sessions x 100 trials each. Every stay cell holds >= ~8,000 trials (rare ones),
    # so its SE is <= 0.006; tolerance 0.025 (about 4 SE). P(choose the better second-stage
    # option) likewise (SE ~0.002, tolerance 0.01).
    run = _agent_run(600, 100, seed=2)
    params = np.tile([PARAMS[n] for n in PARAM_NAMES], (600, 1))
    sim = simulate_hybrid(params, 100, np.random.default_rng(3))
    agent_stay = _stay_table(run["choice1"], run["reward"], run["common"])
    numpy_stay = _stay_table(sim["choice1"], sim["reward"], sim["common"])
    np.testing.assert_allclose(agent_stay, numpy_stay, atol=0.025)
    # the model-based signature is present in both (reward x transition interaction)
    for stay in (agent_stay, numpy_stay):
        assert (stay[0, 0] - stay[0, 1]) - (stay[1, 0] - stay[1, 1]) > 0.1
    assert _p_better(run) == pytest.approx(_p_better(sim), abs=0.01)
    assert _p_better(sim) > 0.55


def _p_better(run: dict[str, np.ndarray]) -> float:
    """P(second-stage choice is the option with the higher reward probability)."""
    probs = run["reward_probs"]  # (B, T, state, choice)
    b, t = np.indices(run["state2"].shape)
    better = probs[b, t, run["state2"], 1] > probs[b, t, run["state2"], 0]
    return float(np.mean(run["choice2"] == better))
