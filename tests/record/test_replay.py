"""Agents on an animal's own trials: exact replays, lab labels, baselines, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from neurometa.agents.base import FrozenAgent
from neurometa.agents.baselines import make_baseline
from neurometa.analysis.trials import check_aligned, trial_predictors
from neurometa.cli import main
from neurometa.data.tables import read_bandit_csv, read_two_step_csv, table_to_recording
from neurometa.learn.config import NetworkConfig
from neurometa.learn.networks import build_network
from neurometa.record import record
from neurometa.record.replay import ReplayError, replay
from neurometa.tasks import MetaRLInputs, make

PRESETS = [
    "bandit/independent",
    "two_step/daw2011",
    "two_step/wang2018",
    "harlow/wang2018",
    "foraging/coupled_baiting",
    "contextual_bandit/ritter2018",
]


def _network_agent(task, kind: str = "pfc", seed: int = 0) -> FrozenAgent:
    options = {"context_dim": 10, "null_similarity": 0.9} if kind == "episodic_lstm" else {}
    config = NetworkConfig(kind=kind, num_units=8, options=options)
    net = build_network(
        config, task.obs_dim, task.num_actions, torch.Generator().manual_seed(seed)
    )
    return FrozenAgent(net, discount=0.9, greedy=False)


@pytest.mark.parametrize("preset", PRESETS, ids=[p.replace("/", "-") for p in PRESETS])
def test_replaying_an_agents_own_recording_reproduces_its_units(preset):
    kwargs = {} if preset.startswith("harlow") else {"num_trials": 12}
    task = MetaRLInputs(make(preset, 4, **kwargs))
    agent = _network_agent(task)
    own = record(agent, task, 8, seed=3, progress=False, preset=preset).load()
    again = replay(
        lambda _: agent, own, preset=preset, trial_index=True, batch_size=4, progress=False
    )
    for name in ("h", "c", "policy", "value"):
        np.testing.assert_array_equal(again[name].values, own[name].values, err_msg=name)
    np.testing.assert_array_equal(again["action"].values, own["action"].values)
    np.testing.assert_array_equal(again["reward"].values, own["reward"].values)
    expected = np.log(
        np.take_along_axis(own["policy"].values, own["action"].values[..., None], -1)
    )
    np.testing.assert_allclose(again["choice_loglik"].values, expected[..., 0], rtol=1e-6)


def test_replaying_an_episodic_agent_reproduces_its_units_and_reads():
    preset = "contextual_bandit/ritter2018"
    task = MetaRLInputs(make(preset, 2, num_trials=5))
    agent = _network_agent(task, kind="episodic_lstm")
    own = record(agent, task, 6, seed=1, progress=False, preset=preset).load()
    agent.network.reset_memory()  # a new life-time, as when the agent was loaded
    again = replay(
        lambda _: agent, own, preset=preset, trial_index=True, batch_size=2, progress=False
    )
    for name in own.data_vars:  # units, memory read-outs, task variables
        np.testing.assert_array_equal(again[name].values, own[name].values, err_msg=name)


def _lab_two_step(tmp_path, seed: int = 0) -> xr.Dataset:
    """A lab two-step table (two subjects, two sessions each), as the CSV import makes it."""
    rng = np.random.default_rng(seed)
    rows = []
    for subject in ("m1", "m2"):
        for session in (1, 2):
            for trial in range(30):
                c1 = int(rng.integers(2))
                s2 = c1 if rng.random() < 0.7 else 1 - c1
                rows.append((subject, session, trial, c1, s2, int(rng.integers(2)),
                             int(rng.random() < 0.5)))  # fmt: skip
    cols = ["subject", "session", "trial", "choice1", "state2", "choice2", "reward"]
    pd.DataFrame(rows, columns=cols).to_csv(tmp_path / "lab.csv", index=False)
    return table_to_recording(read_two_step_csv(tmp_path / "lab.csv"))


def test_hybrid_baseline_on_a_lab_two_step_table_keeps_the_lab_labels(tmp_path):
    lab = _lab_two_step(tmp_path)
    task_preset = "two_step/daw2011"
    ds = replay(
        lambda task: make_baseline("hybrid", task), lab, preset=task_preset, progress=False
    )
    check_aligned(lab, ds, names=("lab", "replay"))  # subjects, sessions, trial ids, choices
    assert list(ds["subject"].values) == list(lab["subject"].values)
    assert list(ds["session"].values) == list(lab["session"].values)
    np.testing.assert_array_equal(ds["trial_id"].values, lab["trial_id"].values)
    np.testing.assert_array_equal(ds["action"].values[:, 0::2], lab["choice1"].values[:, 0::2])
    np.testing.assert_array_equal(ds["action"].values[:, 1::2], lab["choice2"].values[:, 1::2])
    np.testing.assert_array_equal(ds["state2"].values, lab["state2"].values)
    assert np.all(np.isfinite(ds["choice_loglik"].values))  # both stages are choices
    assert np.all(ds["choice_loglik"].values <= 0)
    # the agent's units (here: its values) line up with a neural recording of these trials
    check_aligned(lab, trial_predictors(ds, ["value"]))


def test_rescorla_wagner_learns_from_the_animals_choices_and_outcomes(tmp_path):
    rng = np.random.default_rng(5)
    choice, reward = rng.integers(0, 2, 40), rng.integers(0, 2, 40)
    table = pd.DataFrame({"subject": "m1", "trial": range(40), "choice": choice, "reward": reward})
    table.to_csv(tmp_path / "lab.csv", index=False)
    lab = table_to_recording(read_bandit_csv(tmp_path / "lab.csv"))
    ds = replay(
        lambda task: make_baseline("rescorla_wagner", task), lab,
        preset="bandit/independent", progress=False,
    )  # fmt: skip
    q, expected = np.full(2, 0.5), []
    for a, r in zip(choice, reward, strict=True):  # learning rate 0.2, beta 10 (defaults)
        expected.append(np.exp(10 * q) / np.exp(10 * q).sum())
        q[a] += 0.2 * (r - q[a])
    np.testing.assert_allclose(ds["policy"].values[0], np.array(expected), rtol=1e-5)
    np.testing.assert_allclose(
        ds["choice_loglik"].values[0], np.log(np.array(expected)[np.arange(40), choice]), rtol=1e-5
    )


def test_padding_at_the_end_of_shorter_sessions_stays_missing(tmp_path):
    table = pd.DataFrame(
        {"subject": "m1", "session": [1] * 6 + [2] * 4, "trial": list(range(6)) + list(range(4)),
         "choice": [0, 1, 1, 0, 1, 0, 1, 1, 0, 0], "reward": [1, 0, 1, 1, 0, 1, 0, 1, 1, 0]}
    )  # fmt: skip
    table.to_csv(tmp_path / "lab.csv", index=False)
    lab = table_to_recording(read_bandit_csv(tmp_path / "lab.csv"))
    ds = replay(lambda t: make_baseline("thompson", t), lab, preset="bandit/independent",
                progress=False)  # fmt: skip
    assert ds["action"].values[1, 4:].tolist() == [-1, -1]
    assert np.isnan(ds["choice_loglik"].values[1, 4:]).all()
    assert np.isfinite(ds["choice_loglik"].values[1, :4]).all()


def test_a_behaviour_file_of_another_family_is_a_clear_error(tmp_path):
    lab = _lab_two_step(tmp_path)
    with pytest.raises(ReplayError, match="two_step recording .* but the agent plays 'bandit"):
        replay(lambda t: make_baseline("thompson", t), lab, preset="bandit/independent")


def test_missing_stimulus_and_missed_trials_are_clear_errors(tmp_path):
    lab = _lab_two_step(tmp_path)
    with pytest.raises(ReplayError, match=r"needs the variable\(s\) \['state2'\]"):
        replay(lambda t: make_baseline("hybrid", t), lab.drop_vars("state2"),
               preset="two_step/daw2011")  # fmt: skip
    holed = lab.copy(deep=True)
    holed["reward"][0, 9] = np.nan
    with pytest.raises(ReplayError, match=r"1 trial\(s\) without a choice .*episode 0, trial 4\)"):
        replay(lambda t: make_baseline("hybrid", t), holed, preset="two_step/daw2011")


def test_record_command_replays_a_baseline_on_a_lab_file(tmp_path, capsys):
    lab = _lab_two_step(tmp_path)
    lab.to_netcdf(tmp_path / "lab.nc", engine="h5netcdf")
    argv = ["record", "--agent", "hybrid", "--task", "two_step/daw2011", "--behaviour",
            str(tmp_path / "lab.nc"), "--out", str(tmp_path / "hybrid.nc"), "--json",
            "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["episodes"] == 4
    assert figures["choices"] == 4 * 30 * 2
    assert figures["mean_choice_loglik"] < 0
    assert main([*argv[:-4], "--out", str(tmp_path / "b.nc"), "--episodes", "3"]) == 2
    assert "drop --episodes" in capsys.readouterr().err
    bad = ["record", "--agent", "thompson", "--task", "bandit/independent", "--behaviour",
           str(tmp_path / "lab.nc"), "--out", str(tmp_path / "c.nc")]  # fmt: skip
    assert main(bad) == 2
    assert "the agent plays 'bandit/independent'" in capsys.readouterr().err
