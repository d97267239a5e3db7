from pathlib import Path

import numpy as np
import pytest

from neurometa.analysis.two_step import two_step_trials
from neurometa.data.tables import (
    TableError,
    read_bandit_csv,
    read_two_step_csv,
    table_to_recording,
)
from neurometa.record.validate import validate_recording

GOOD = """subject,trial,choice1,state2,choice2,reward,transition,rt
s1,0,0,0,1,1,common,0.5
s1,1,0,1,0,0,rare,0.4
s1,2,,1,0,0,,0.3
s1,3,1,1,1,1,common,0.2
s2,0,1,1,0,0,common,0.6
s2,1,1,0,0,1,rare,0.1
"""


def _write(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_two_step_table_drops_and_counts_missed_trials_and_keeps_extras(tmp_path):
    table = read_two_step_csv(_write(tmp_path, GOOD))
    assert table.attrs["num_missed_trials"] == 1
    assert list(table["trial"]) == [0, 1, 3, 0, 1]
    assert list(table["common"]) == [True, False, True, True, False]
    np.testing.assert_allclose(table["rt"], [0.5, 0.4, 0.2, 0.6, 0.1])


def test_recording_validates_and_round_trips_to_the_trial_table(tmp_path):
    table = read_two_step_csv(_write(tmp_path, GOOD))
    ds = table_to_recording(table)
    validate_recording(ds)
    assert list(ds["subject"].values) == ["s1", "s2"]
    assert ds.attrs["num_missed_trials"] == 1
    back = two_step_trials(ds)
    for col in ("trial", "choice1", "state2", "choice2", "reward", "common"):
        np.testing.assert_array_equal(back[col].to_numpy(), table[col].to_numpy())
    assert list(back["subject"]) == list(table["subject"])


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("s1,4,2,0,1,1,,0.1", "line 8: column 'choice1' must be 0 or 1, got '2'"),
        ("s1,4,0,abc,1,1,,0.1", "line 8: column 'state2' is not a number: 'abc'"),
        ("s1,4,0,0,1,inf,,0.1", "line 8: column 'reward' must be finite"),
        ("s1,-1,0,0,1,1,,0.1", "line 8: column 'trial' must be an integer >= 0"),
        ("s1,4,0,0,1,1,sideways,0.1", "line 8: column 'transition' must be common or rare"),
        ("s1,4,0,1,1,1,common,0.1", "line 8: transition 'common' contradicts choice1=0, state2=1"),
        ("s1,3,0,0,1,1,,0.1", "line 5: duplicate trial 3 of subject 's1'"),
        (",4,0,0,1,1,,0.1", "line 8: empty subject"),
    ],
    ids=[
        "choice-range",
        "non-numeric",
        "inf-reward",
        "negative-trial",
        "bad-transition",
        "transition-clash",
        "duplicate",
        "no-subject",
    ],
)
def test_malformed_rows_are_named_with_their_line(tmp_path, row, message):
    with pytest.raises(TableError) as err:
        read_two_step_csv(_write(tmp_path, GOOD + row + "\n"))
    assert message in str(err.value)


def test_every_problem_is_listed_in_one_error(tmp_path):
    bad = GOOD + "s1,4,2,0,1,1,,0.1\ns1,5,0,x,1,1,,0.1\n"
    with pytest.raises(TableError) as err:
        read_two_step_csv(_write(tmp_path, bad))
    assert len(err.value.problems) == 2
    assert "line 8" in str(err.value)
    assert "line 9" in str(err.value)


def test_missing_columns_are_named(tmp_path):
    with pytest.raises(TableError, match=r"missing column\(s\) state2 \(columns"):
        read_two_step_csv(_write(tmp_path, "subject,trial,choice1,reward\ns,0,1,1\n"))


def test_bandit_table(tmp_path):
    text = "subject,trial,choice,reward\na,0,2,1\na,1,,0\na,2,0,0\nb,0,1,1\n"
    table = read_bandit_csv(_write(tmp_path, text))
    assert table.attrs["num_missed_trials"] == 1
    assert list(table["choice"]) == [2, 0, 1]
    ds = table_to_recording(table)
    validate_recording(ds)
    np.testing.assert_array_equal(ds["action"].values, [[2, 0], [1, -1]])
    assert np.isnan(ds["reward"].values[1, 1])
    with pytest.raises(TableError, match="'choice' must be an integer >= 0"):
        read_bandit_csv(_write(tmp_path, "subject,trial,choice,reward\na,0,1.5,1\n", "b.csv"))


def test_sessions_become_episodes_and_duplicates_are_per_session(tmp_path):
    text = (
        "subject,session,trial,choice,reward\n"
        "a,1,0,0,1\na,1,1,1,0\na,2,0,1,1\na,2,1,1,1\na,2,1,0,0\n"
    )
    with pytest.raises(TableError, match="line 6: duplicate trial 1"):
        read_bandit_csv(_write(tmp_path, text))
    table = read_bandit_csv(_write(tmp_path, text.rsplit("a,2,1,0,0", 1)[0], "ok.csv"))
    ds = table_to_recording(table)
    validate_recording(ds)
    assert ds.sizes["episode"] == 2
    assert list(ds["session"].values) == ["1", "2"]
    np.testing.assert_array_equal(ds["action"].values, [[0, 1], [1, 1]])


def test_two_step_table_without_a_second_stage_choice(tmp_path):
    # The Miller et al. 2017 rat task: no choice at the second stage.
    rows = "".join(
        f"r1,{t},{t % 2},{(t // 2) % 2},{(t // 3) % 2}\n" for t in range(40)
    )  # choice1, state2, reward
    table = read_two_step_csv(_write(tmp_path, "subject,trial,choice1,state2,reward\n" + rows))
    assert "choice2" not in table
    ds = table_to_recording(table)
    validate_recording(ds)
    assert "choice2" not in ds
    trials = two_step_trials(ds)
    assert trials.attrs["second_stage_choice"] is False
    np.testing.assert_array_equal(trials["choice1"], [t % 2 for t in range(40)])


def test_a_common_column_is_checked_like_transition(tmp_path):
    head = "subject,trial,choice1,state2,choice2,reward,common\n"
    good = read_two_step_csv(_write(tmp_path, head + "s,0,0,0,1,1,1\ns,1,1,0,0,0,false\n"))
    assert list(good["common"]) == [True, False]
    with pytest.raises(TableError, match="line 3: common '1' contradicts choice1=1, state2=0"):
        read_two_step_csv(_write(tmp_path, head + "s,0,0,0,1,1,1\ns,1,1,0,0,0,1\n"))
    with pytest.raises(TableError, match="column 'common' must be 1 or 0 or true or false"):
        read_two_step_csv(_write(tmp_path, head + "s,0,0,0,1,1,yes\n"))


@pytest.mark.parametrize("name", ["episode", "stage", "trial_id", "action"])
def test_extra_columns_with_the_recordings_own_names_are_refused(tmp_path, name):
    text = f"subject,trial,choice1,state2,choice2,reward,{name}\ns,0,0,0,1,1,3\n"
    with pytest.raises(TableError, match=f"column\\(s\\) {name} clash with names"):
        read_two_step_csv(_write(tmp_path, text))


def test_numbered_sessions_are_episodes_in_numeric_order(tmp_path):
    rows = "".join(f"a,{s},{t},{(s + t) % 2},1\n" for s in (10, 2, 1) for t in range(2))
    ds = table_to_recording(
        read_bandit_csv(_write(tmp_path, "subject,session,trial,choice,reward\n" + rows))
    )
    assert list(ds["session"].values) == ["1", "2", "10"]
    np.testing.assert_array_equal(ds["action"].values, [[1, 0], [0, 1], [0, 1]])


def test_extra_columns_named_like_schema_variables_take_their_type(tmp_path):
    head = "subject,trial,choice,reward,best_arm\n"
    ds = table_to_recording(read_bandit_csv(_write(tmp_path, head + "a,0,1,1,1\na,1,0,0,\n")))
    validate_recording(ds)
    assert ds["best_arm"].dtype == np.int64
    np.testing.assert_array_equal(ds["best_arm"].values, [[1, -1]])  # empty cell: -1
    bad = read_bandit_csv(_write(tmp_path, head + "a,0,1,1,0.5\n", "bad.csv"))
    with pytest.raises(ValueError, match="column 'best_arm' is named like the recording variable"):
        table_to_recording(bad)


def test_a_table_without_completed_trials_is_a_clear_error(tmp_path):
    table = read_bandit_csv(_write(tmp_path, "subject,trial,choice,reward\na,0,,1\n"))
    with pytest.raises(ValueError, match=r"no completed trials \(1 missed trial"):
        table_to_recording(table)
