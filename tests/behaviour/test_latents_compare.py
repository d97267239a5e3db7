"""Latents land in the recording aligned with its trials; model comparison and its figure."""

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest

from neurometa import behaviour
from neurometa.behaviour.compare import fold_ids
from neurometa.behaviour.objective import param_dict
from neurometa.behaviour.synthetic import bandit_recording, bandit_session
from neurometa.record.validate import validate_recording


@pytest.fixture(scope="module")
def recording():
    return bandit_recording(num_trials=200, num_units=6, seed=3)


def test_latents_are_the_true_ones_at_the_true_parameters(recording):
    fits = behaviour.fit("q_learning", recording, progress=False, num_restarts=1)
    fits[["alpha", "beta"]] = [0.3, 5.0]  # the simulated subject's parameters
    lat = behaviour.model_latents("q_learning", recording, fits)
    session = bandit_session(200, 6, seed=3)
    np.testing.assert_allclose(lat["model_chosen_value"].values[0], session["chosen_value"])
    np.testing.assert_allclose(lat["model_rpe"].values[0], session["rpe"])
    q = lat["model_option_value"].values[0]
    np.testing.assert_allclose(lat["model_value_difference"].values[0], q[:, 1] - q[:, 0])
    np.testing.assert_allclose(lat["model_policy"].values[0].sum(-1), 1.0)
    attrs = lat["model_rpe"].attrs
    assert attrs["units"] == "1"
    assert attrs["model"] == "q_learning"
    assert json.loads(attrs["model_parameters"])["sim01"]["alpha"] == 0.3


def test_add_latents_keeps_a_valid_recording_and_replaces_old_latents(recording):
    out, fits = behaviour.add_latents(recording, progress=False, num_restarts=1)
    validate_recording(out)
    assert fits["model"].iloc[0] == "q_learning"  # the bandit default
    again, _ = behaviour.add_latents(out, "q_forgetting", progress=False, num_restarts=1)
    assert again["model_rpe"].attrs["model"] == "q_forgetting"


def test_two_step_latents_on_both_stages():
    table = behaviour.simulate(
        "hybrid",
        {
            n: [v]
            for n, v in zip(
                behaviour.get_model("hybrid").parameters,
                (0.5, 0.5, 0.5, 4, 4, 0.1, 0.5),
                strict=True,
            )
        },
        "two_step/daw2011",
        60,
        seed=1,
    )
    from neurometa.data.tables import check_table, table_to_recording

    table = table.assign(subject="s1")[
        ["subject", "trial", "choice1", "state2", "choice2", "reward"]
    ]
    checked = check_table(table.astype(str), "two_step", source="test")
    checked["common"] = checked["state2"] == checked["choice1"]
    ds = table_to_recording(checked)
    out, _ = behaviour.add_latents(ds, "hybrid", progress=False, num_restarts=1)
    mf = out["model_q_mf"].values[0]
    assert np.isfinite(mf[0::2]).all()
    assert np.isnan(mf[1::2]).all()
    assert np.isfinite(out["model_rpe"].values[0]).all()  # onset and outcome RPEs


def test_compare_models_table_and_figure():
    rng = np.random.default_rng(1)
    table = behaviour.simulate(
        "q_forgetting",
        {"alpha": rng.uniform(0.2, 0.6, 6), "beta": rng.uniform(3, 8, 6), "forgetting": [0.4] * 6},
        "bandit/reversal",
        250,
        seed=2,
    )
    per, summary = behaviour.compare_models(
        ["q_learning", "q_forgetting"],
        table,
        family="bandit",
        num_folds=2,
        num_restarts=1,
        progress=False,
    )
    assert summary["model"].iloc[0] == "q_forgetting"
    assert set(per["model"]) == {"q_learning", "q_forgetting"}
    assert (per["heldout_choices"] == 250).all()
    assert summary.attrs["folds_by"] == "block"
    fig, ax = plt.subplots()
    assert behaviour.plot_model_comparison(summary, ax=ax) is ax
    assert "n = 6" in ax.get_title()
    plt.close(fig)


def test_folds_by_session_hold_out_whole_sessions():
    table = behaviour.simulate(
        "q_learning",
        {"alpha": [0.3, 0.4], "beta": [5, 5]},
        "bandit/reversal",
        40,
        num_sessions=3,
        seed=4,
    )
    data = behaviour.behaviour_data(table, "bandit")
    folds, rule = fold_ids(data, 5)
    assert rule == "session"
    for row in range(data.num_sequences):
        assert len(np.unique(folds[row][data.valid[row]])) == 1


def test_given_policy_joins_the_comparison():
    table = behaviour.simulate(
        "q_learning", {"alpha": [0.3] * 3, "beta": [5.0] * 3}, "bandit/reversal", 150, seed=5
    )
    data = behaviour.behaviour_data(table, "bandit")
    truth = behaviour.get_model("q_learning")
    x = np.tile([0.3, 5.0], (data.num_sequences, 1))
    res = behaviour.run_model(
        truth,
        param_dict(truth, x),
        {k: data.arrays[k].T for k in truth.inputs},
        data.valid.T,
        data.info,
        store=True,
    )
    logits = np.log(np.swapaxes(res.latents["policy_0"], 0, 1))
    given = behaviour.GivenPolicy(logits, name="oracle")
    _, summary = behaviour.compare_models(
        [given, "q_learning"], data, num_folds=2, num_restarts=1, progress=False
    )
    assert set(summary["model"]) == {"oracle", "q_learning"}
    oracle = summary.set_index("model").loc["oracle"]
    assert oracle["num_params"] == 2


def test_given_policy_from_a_recordings_policy_variable(recording):
    out, fits = behaviour.add_latents(recording, "q_learning", progress=False, num_restarts=1)
    policy = out["model_policy"].rename(option="action_id")
    model = behaviour.GivenPolicy(policy, kind="probabilities", parameters=("beta",))
    refit = behaviour.fit(model, recording, progress=False, num_restarts=1)
    assert refit["beta"].iloc[0] == pytest.approx(1.0, abs=1e-3)  # the policy is the fit's own
    assert refit["nll"].iloc[0] == pytest.approx(fits["nll"].iloc[0], abs=1e-3)
