"""Behaviour tables read from NWB trials tables (``neurometa import two-step-nwb``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from pynwb import NWBHDF5IO, NWBFile
from pynwb.file import Subject

from neurometa.agents.baselines import make_baseline
from neurometa.analysis.bandits import win_stay_lose_shift
from neurometa.analysis.two_step import two_step_trials
from neurometa.cli import main
from neurometa.data import NWBFormatError, export_nwb, read_nwb
from neurometa.data.nwb_behaviour import read_nwb_behaviour
from neurometa.data.tables import (
    TableError,
    read_bandit_csv,
    read_two_step_csv,
    table_to_recording,
)
from neurometa.record import open_recording, record, validate_recording
from neurometa.tasks import make

TRIAL_COLUMNS = ["subject", "episode", "trial", "choice1", "state2", "choice2", "reward", "common"]


def _lab_two_step(path: Path, rows: list[dict], *, subject_id: str | None = "rat7") -> Path:
    """A lab-style NWB file: one trial per row (trial k spans [2k, 2k + 1.5] s)."""
    nwb = NWBFile(
        session_description="two-step session",
        identifier="lab-two-step",
        session_start_time=datetime(2024, 3, 1, tzinfo=UTC),
        subject=None if subject_id is None else Subject(subject_id=subject_id, species="Rattus"),
    )
    for name in rows[0]:
        nwb.add_trial_column(name, name)
    for k, row in enumerate(rows):
        nwb.add_trial(start_time=2.0 * k, stop_time=2.0 * k + 1.5, **row)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def _rows(num: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    c1 = rng.integers(0, 2, num)
    common = rng.random(num) < 0.7
    s2 = np.where(common, c1, 1 - c1)
    return [
        {
            "choice1": float(c1[k]), "state2": float(s2[k]),
            "choice2": float(rng.integers(0, 2)), "reward": float(rng.integers(0, 2)),
            "block": float(k // 10),
        }
        for k in range(num)
    ]  # fmt: skip


def test_exported_two_step_agent_gives_the_same_trial_table(tmp_path):
    task = make("two_step/daw2011", 3, num_trials=40)
    agent = make_baseline("hybrid", task, w=0.6)
    ds = record(agent, task, 3, seed=2, progress=False)
    path = export_nwb(ds, tmp_path / "agent.nwb")
    table = read_nwb_behaviour(path, "two_step")
    back = table_to_recording(table)
    validate_recording(back)
    want = two_step_trials(ds)
    got = two_step_trials(back)
    # the exported agent is one subject; its episodes become sessions, in order
    assert got["episode"].tolist() == want["episode"].tolist()
    for col in ("trial", "choice1", "state2", "choice2", "reward", "common"):
        np.testing.assert_array_equal(got[col].to_numpy(), want[col].to_numpy(), err_msg=col)
    assert table.attrs["num_missed_trials"] == 0
    assert len(set(back["subject"].values)) == 1


def test_exported_bandit_agent_keeps_choices_rewards_and_best_arm(tmp_path):
    task = make("bandit/independent", 2, num_trials=30)
    ds = record(make_baseline("thompson", task), task, 2, seed=4, progress=False)
    path = export_nwb(ds, tmp_path / "bandit.nwb")
    back = table_to_recording(read_nwb_behaviour(path, "bandit"))
    validate_recording(back)
    for name in ("action", "reward", "best_arm"):
        np.testing.assert_array_equal(back[name].values, ds[name].values, err_msg=name)
    assert back["action"].dtype == back["best_arm"].dtype == np.int64
    want, got = win_stay_lose_shift(ds), win_stay_lose_shift(back)
    np.testing.assert_allclose(got["p_stay"].values, want["p_stay"].values)


def test_lab_file_subject_missed_trials_and_extras(tmp_path):
    rows = _rows(30)
    rows[4]["choice2"] = float("nan")  # a missed trial
    path = _lab_two_step(tmp_path / "lab.nwb", rows)
    table = read_nwb_behaviour(path, "two_step")
    assert table.attrs["num_missed_trials"] == 1
    assert len(table) == 29
    assert 4 not in table["trial"].tolist()
    assert set(table["subject"]) == {"rat7"}
    np.testing.assert_array_equal(
        table["block"], [r["block"] for i, r in enumerate(rows) if i != 4]
    )
    expected_common = [r["state2"] == r["choice1"] for i, r in enumerate(rows) if i != 4]
    np.testing.assert_array_equal(table["common"], expected_common)


def test_lab_file_without_subject_uses_the_file_name(tmp_path):
    path = _lab_two_step(tmp_path / "session3.nwb", _rows(5), subject_id=None)
    assert set(read_nwb_behaviour(path, "two_step")["subject"]) == {"session3"}


def test_bad_values_are_named_by_trials_table_row(tmp_path):
    rows = _rows(8)
    rows[2]["state2"] = 2.0
    rows[6]["choice1"] = 0.5
    path = _lab_two_step(tmp_path / "bad.nwb", rows)
    with pytest.raises(TableError) as err:
        read_nwb_behaviour(path, "two_step")
    text = str(err.value)
    assert "trials-table row 2: column 'state2' must be 0 or 1" in text
    assert "trials-table row 6: column 'choice1' must be 0 or 1" in text


def test_missing_behaviour_column_lists_what_the_file_has(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "state2"} for r in _rows(4)]
    path = _lab_two_step(tmp_path / "nostate.nwb", rows)
    with pytest.raises(NWBFormatError, match=r"no 'state2' column .*state2, state2_second.*block"):
        read_nwb_behaviour(path, "two_step")


def test_cli_two_step_nwb_then_analysis(tmp_path, capsys):
    path = _lab_two_step(tmp_path / "lab.nwb", _rows(60))
    out = tmp_path / "lab.nc"
    assert main(["import", "two-step-nwb", str(path), "--out", str(out), "--json"]) == 0
    assert '"num_trials": 60' in capsys.readouterr().out
    trials = two_step_trials(open_recording(out))
    assert len(trials) == 60
    bad = tmp_path / "missing.nwb"
    assert main(["import", "two-step-nwb", str(bad), "--out", str(tmp_path / "x.nc")]) != 0
    assert "no such NWB file" in capsys.readouterr().err


def _csv(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_exported_lab_bandit_keeps_trial_gaps_and_drops_padding(tmp_path):
    # subject a: trial 3 missed (a gap in trial_id); subject b: a shorter session (padding)
    text = "subject,trial,choice,reward\n" + "".join(
        f"a,{t},{(t // 2) % 2},{t % 2}\n" for t in range(10) if t != 3
    )
    text += "".join(f"b,{t},{t % 2},1\n" for t in range(4))
    ds = table_to_recording(read_bandit_csv(_csv(tmp_path, text, "lab.csv")))
    path = export_nwb(ds, tmp_path / "lab.nwb")
    back = table_to_recording(read_nwb_behaviour(path, "bandit"))
    for name in ("trial_id", "action", "reward"):
        np.testing.assert_array_equal(back[name].values, ds[name].values, err_msg=name)
    np.testing.assert_array_equal(
        win_stay_lose_shift(back)["p_stay"].values, win_stay_lose_shift(ds)["p_stay"].values
    )
    # the trial-level import (`neurometa import nwb`) also skips the padding, keeps the gaps
    trial_level = read_nwb(path, behaviour_only=True)
    for name in ("trial_id", "action"):
        np.testing.assert_array_equal(trial_level[name].values, ds[name].values, err_msg=name)
    assert trial_level.attrs["num_dropped_trials"] == 0


def test_exported_lab_two_step_comes_back(tmp_path):
    text = "subject,trial,choice1,state2,choice2,reward,rt\n" + "".join(
        f"s{s},{t},{t % 2},{(t // 2) % 2},{(t // 3) % 2},{(t + s) % 2},{0.1 * t}\n"
        for s in (1, 2)
        for t in range(12 + 4 * s)
        if (s, t) != (1, 5)  # a missed trial: a gap in the trial numbers
    )
    ds = table_to_recording(read_two_step_csv(_csv(tmp_path, text, "lab.csv")))
    path = export_nwb(ds, tmp_path / "lab.nwb")
    back = table_to_recording(read_nwb_behaviour(path, "two_step"))
    np.testing.assert_array_equal(back["rt"].values, ds["rt"].values)  # one column again
    assert "session" not in back.coords  # the export's episodes are the subjects here
    got, want = two_step_trials(back), two_step_trials(ds)
    for col in ("subject", "trial", "choice1", "state2", "choice2", "reward", "common"):
        np.testing.assert_array_equal(got[col].to_numpy(), want[col].to_numpy(), err_msg=col)


def test_trial_numbers_follow_start_time_within_each_session(tmp_path):
    rows = _rows(8)
    for k, row in enumerate(rows):
        row["session"] = float(k // 4)  # two sessions whose clocks both start at 0
        row.pop("block")
    path = tmp_path / "clock.nwb"
    nwb = NWBFile(
        session_description="s",
        identifier="s",
        session_start_time=datetime(2024, 1, 1, tzinfo=UTC),
    )
    for name in rows[0]:
        nwb.add_trial_column(name, name)
    for k, row in enumerate(rows):
        nwb.add_trial(start_time=2.0 * (k % 4), stop_time=2.0 * (k % 4) + 1.0, **row)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    table = read_nwb_behaviour(path, "two_step")
    assert table["trial"].tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    assert table["session"].tolist() == ["0"] * 4 + ["1"] * 4  # whole floats as integers


def test_a_transition_column_is_checked(tmp_path):
    rows = _rows(6)
    for row in rows:
        row["transition"] = "common" if row["state2"] == row["choice1"] else "rare"
    read_nwb_behaviour(_lab_two_step(tmp_path / "ok.nwb", rows), "two_step")
    rows[3]["transition"] = "rare" if rows[3]["transition"] == "common" else "common"
    with pytest.raises(TableError, match="trials-table row 3: transition .* contradicts"):
        read_nwb_behaviour(_lab_two_step(tmp_path / "bad.nwb", rows), "two_step")


def test_repeated_trial_numbers_point_to_the_session_column(tmp_path):
    rows = _rows(6)
    for k, row in enumerate(rows):
        row["trial"] = float(k % 3)
        row["day"] = float(k // 3)
    path = _lab_two_step(tmp_path / "days.nwb", rows)
    with pytest.raises(NWBFormatError, match="repeat within a subject.*--session-column"):
        read_nwb_behaviour(path, "two_step")
    table = read_nwb_behaviour(path, "two_step", session_column="day")
    assert table["session"].tolist() == ["0", "0", "0", "1", "1", "1"]


def test_cli_refuses_a_column_that_does_not_fit_its_schema_type(tmp_path, capsys):
    path = _csv(tmp_path, "subject,trial,choice,reward,best_arm\na,0,1,1,left\n", "t.csv")
    assert main(["import", "bandit-csv", str(path), "--out", str(tmp_path / "t.nc")]) != 0
    assert "column 'best_arm' is named like the recording variable" in capsys.readouterr().err


def test_a_lab_files_trial_id_column_is_not_taken_for_padding(tmp_path):
    """Only files written by `neurometa export nwb` have padding rows and trial numbers to keep."""
    rows = _rows(6)
    for k, row in enumerate(rows):
        row["trial_id"] = float(k - 3)  # e.g. warm-up trials numbered -3..-1
    path = _lab_two_step(tmp_path / "warmup.nwb", rows)
    assert read_nwb_behaviour(path, "two_step")["trial"].tolist() == [0, 1, 2, 3, 4, 5]
    nwb = _trials_file_with_choice(tmp_path / "bandit.nwb", trial_id=[-1.0, -1.0, 0.5, 7.0])
    trial_level = read_nwb(nwb, behaviour_only=True, event="start_time")
    np.testing.assert_array_equal(trial_level["trial_id"].values, [[0, 1, 2, 3]])
    np.testing.assert_array_equal(trial_level["action"].values, [[0, 1, 0, 1]])


def _trials_file_with_choice(path: Path, **columns: list) -> Path:
    nwb = NWBFile(
        session_description="s",
        identifier="s",
        session_start_time=datetime(2024, 1, 1, tzinfo=UTC),
    )
    for name in ("choice", "reward", *columns):
        nwb.add_trial_column(name, name)
    for k in range(len(next(iter(columns.values())))):
        extra = {n: v[k] for n, v in columns.items()}
        nwb.add_trial(start_time=float(k), stop_time=k + 0.5, choice=k % 2, reward=1.0, **extra)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def test_an_exported_recording_of_padding_only_is_a_clear_error(tmp_path):
    ds = table_to_recording(
        read_bandit_csv(_csv(tmp_path, "subject,trial,choice,reward\na,0,1,1\na,1,0,0\n", "t.csv"))
    )
    ds["trial_id"][:] = -1  # every row padding
    path = export_nwb(ds, tmp_path / "pad.nwb")
    with pytest.raises(NWBFormatError, match="holds no trials"):
        read_nwb_behaviour(path, "bandit")
    with pytest.raises(NWBFormatError, match="holds no trials"):
        read_nwb(path, behaviour_only=True)


def test_cli_trial_level_import_of_an_exported_two_step_agent(tmp_path, capsys):
    task = make("two_step/daw2011", 2, num_trials=12)
    ds = record(make_baseline("hybrid", task), task, 2, seed=5, progress=False)
    path = export_nwb(ds, tmp_path / "agent.nwb")
    out = tmp_path / "trials.nc"
    args = ["import", "nwb", str(path), "--out", str(out), "--behaviour-only"]
    args += ["--choice-column", "action_first", "--reward-column", "reward_second"]
    assert main(args) == 0, capsys.readouterr().err
    back = open_recording(out)
    np.testing.assert_array_equal(back["choice1"].values, ds["action"].values[:, ::2])
    np.testing.assert_array_equal(back["state2"].values, ds["state2"].values[:, 1::2])
    np.testing.assert_array_equal(
        back["common_transition"].values, ds["common_transition"].values[:, 1::2]
    )
