"""NWB import/export: plain-pynwb files, agent round trips, error messages, example dataset."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr
from pynwb import NWBHDF5IO, NWBFile, TimeSeries
from pynwb.file import Subject

from neurometa.cli import main
from neurometa.data import (
    NWBFormatError,
    dandi_issues,
    export_nwb,
    read_nwb,
)
from neurometa.record import record, save_recording, validate_recording
from neurometa.tasks import make

ROOT = Path(__file__).resolve().parents[2]


class ProjectionAgent:
    """Random policy; units are a fixed random projection of the observation plus noise."""

    name = "projection"
    discount = 0.9

    def __init__(self, num_units: int = 5):
        self.num_units = num_units

    def begin(self, task, generator: torch.Generator) -> None:
        self.generator, self.num_envs = generator, task.num_envs
        self.num_actions = task.num_actions
        self.weights = torch.randn(task.obs_dim, self.num_units, generator=generator)

    def act(self, obs, info):
        policy = torch.full((self.num_envs, self.num_actions), 1.0 / self.num_actions)
        action = torch.multinomial(policy, 1, generator=self.generator).squeeze(1)
        noise = torch.randn(self.num_envs, self.num_units, generator=self.generator)
        h = obs.float() @ self.weights + noise
        return action, {"policy": policy, "value": h[:, 0] * 0.1, "h": h, "c": 2 * h}

    def observe(self, action, reward, terminated, info):
        return {}


# ---------------------------------------------------------------- plain pynwb files


def _plain_nwb(path: Path, *, with_units: bool = True, with_trials: bool = True) -> dict:
    """Write a lab-style NWB file with pynwb only (not neurometa); return the ground truth."""
    rng = np.random.default_rng(5)
    nwb = NWBFile(
        session_description="plain pynwb session",
        identifier="plain-1",
        session_start_time=datetime(2023, 5, 1, tzinfo=UTC),
    )
    nwb.subject = Subject(subject_id="mouse7", species="Mus musculus", sex="F", age="P60D")
    num_trials = 12
    starts = 2.0 * np.arange(num_trials) + 1.0
    cues = starts + 0.3
    choices = np.array(["left", "right"])[rng.integers(0, 2, num_trials)]
    rewards = rng.integers(0, 2, num_trials).astype(float)
    if with_trials:
        nwb.add_trial_column("cue_time", "cue onset (s)")
        nwb.add_trial_column("choice", "chosen side")
        nwb.add_trial_column("reward", "reward delivered")
        nwb.add_trial_column("difficulty", "task difficulty")
        nwb.add_trial_column("block", "block (5 trials, then 7)")
        for k in range(num_trials):
            nwb.add_trial(
                start_time=starts[k],
                stop_time=starts[k] + 1.5,
                cue_time=cues[k],
                choice=choices[k],
                reward=rewards[k],
                difficulty=float(k % 3),
                block=int(k >= 5),
            )
    trains = [np.sort(rng.uniform(0, 2.0 * num_trials + 1, n)) for n in (40, 75, 10)]
    if with_units:
        nwb.add_unit_column("location", "brain area")
        nwb.add_unit_column("depth", "depth (um)")
        for train, loc, depth in zip(
            trains, ["OFC", "OFC", "mPFC"], [100.0, 250.0, 400.0], strict=True
        ):
            nwb.add_unit(spike_times=train, location=loc, depth=depth)
    nwb.add_acquisition(
        TimeSeries(
            name="dff",
            data=rng.random((500, 2)),
            unit="a.u.",
            rate=20.0,
            starting_time=0.0,
            description="fluorescence",
        )
    )
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return {
        "cues": cues,
        "choices": choices,
        "rewards": rewards,
        "trains": trains,
        "starts": starts,
    }


@pytest.fixture(scope="module")
def plain_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("plain") / "plain.nwb"
    return path, _plain_nwb(path)


def test_plain_pynwb_counts_match_brute_force(plain_file):
    path, truth = plain_file
    ds = read_nwb(path, event="cue_time", window=(0.0, 0.5), measure="count")
    validate_recording(ds)
    expected = np.array(
        [[np.sum((t >= c) & (t < c + 0.5)) for t in truth["trains"]] for c in truth["cues"]]
    )
    np.testing.assert_array_equal(ds["activity"].values[0], expected)
    assert ds["activity"].dims == ("episode", "step", "unit")
    assert ds.attrs["source"] == "lab"
    assert ds["subject"].values.tolist() == ["mouse7"]


def test_plain_pynwb_trial_variables_and_unit_coords(plain_file):
    path, truth = plain_file
    ds = read_nwb(path, event="cue_time", window=(0.0, 0.5))
    labels = json.loads(ds.attrs["action_labels"])
    assert labels == ["left", "right"]
    np.testing.assert_array_equal(
        ds["action"].values[0], [labels.index(c) for c in truth["choices"]]
    )
    np.testing.assert_array_equal(ds["reward"].values[0], truth["rewards"])
    np.testing.assert_array_equal(ds["difficulty"].values[0], np.arange(12) % 3)
    assert ds["unit_location"].values.tolist() == ["OFC", "OFC", "mPFC"]
    np.testing.assert_array_equal(ds["unit_depth"].values, [100.0, 250.0, 400.0])
    assert ds["activity"].attrs["units"] == "Hz"  # UDUNITS for spikes per second


def test_plain_pynwb_bins_sum_to_window_count(plain_file):
    path, _ = plain_file
    whole = read_nwb(path, event="cue_time", window=(-0.2, 0.6), measure="count")
    binned = read_nwb(path, event="cue_time", window=(-0.2, 0.6), bin_width=0.2, measure="count")
    assert binned["activity"].dims == ("episode", "step", "unit", "time_bin")
    np.testing.assert_allclose(binned["time_bin"].values, [-0.2, 0.0, 0.2, 0.4])
    np.testing.assert_array_equal(
        binned["activity"].sum("time_bin").values, whole["activity"].values
    )


def test_plain_pynwb_timeseries_mean(plain_file):
    path, _ = plain_file
    ds = read_nwb(path, event="start_time", window=(0.0, 0.5), timeseries="dff")
    with NWBHDF5IO(str(path), "r") as io:
        data = io.read().acquisition["dff"].data[:]
    start = int(round(1.0 * 20))  # trial 0 starts at 1.0 s; 20 Hz; window = 10 samples
    np.testing.assert_allclose(
        ds["activity"].values[0, 0], data[start : start + 10].mean(0), rtol=1e-6
    )


# ---------------------------------------------------------------- error messages


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"event": "cue_tme"}, "columns present: start_time, stop_time, cue_time, choice"),
        ({"reward_column": "juice"}, "'juice' (the outcome) is not in the trials table"),
        ({"event": "cue_time", "window": (0.0, 1.5)}, "falls outside 12 of 12 trials"),
        ({"timeseries": "fluo"}, "no TimeSeries named 'fluo' in the file; present: dff"),
        ({"columns": ("difficulty", "nope")}, "'nope' (requested with columns)"),
    ],
    ids=["unknown-event", "unknown-reward", "window-outside", "unknown-timeseries", "columns"],
)
def test_clear_errors(plain_file, kwargs, message):
    path, _ = plain_file
    with pytest.raises(NWBFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_nwb(path, **kwargs)


def test_window_outside_allowed_on_request(plain_file):
    path, _ = plain_file
    ds = read_nwb(path, event="cue_time", window=(0.0, 1.5), allow_outside_trial=True)
    assert ds.sizes["step"] == 12


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("units", "no units table .*TimeSeries present: dff"),
        ("trials", "no trials table"),
    ],
    ids=["no-units", "no-trials"],
)
def test_missing_tables(tmp_path, missing, message):
    path = tmp_path / "partial.nwb"
    _plain_nwb(path, with_units=missing != "units", with_trials=missing != "trials")
    with pytest.raises(NWBFormatError, match=message):
        read_nwb(path)


def test_behaviour_only_needs_no_units(tmp_path):
    path = tmp_path / "behaviour.nwb"
    truth = _plain_nwb(path, with_units=False)
    ds = read_nwb(path, behaviour_only=True)
    validate_recording(ds)
    assert "unit" not in ds.dims
    assert "activity" not in ds
    np.testing.assert_array_equal(ds["reward"].values[0], truth["rewards"])


def test_not_an_nwb_file(tmp_path):
    bad = tmp_path / "bad.nwb"
    bad.write_text("not hdf5")
    with pytest.raises(NWBFormatError, match="not a readable NWB file"):
        read_nwb(bad)


# ---------------------------------------------------------------- agent round trips


@pytest.fixture(scope="module")
def bandit_recording() -> xr.Dataset:
    task = make("bandit/independent", 4, num_trials=15)
    return record(ProjectionAgent(), task, 6, seed=3, progress=False)


def test_round_trip_one_step_per_trial(bandit_recording, tmp_path):
    ds = bandit_recording
    path = export_nwb(ds, tmp_path / "agent.nwb", rate=10.0)
    assert dandi_issues(path) == []
    back = read_nwb(path, timeseries="h", window=(0.0, 0.1), activity_name="h")
    validate_recording(back)
    np.testing.assert_array_equal(back["h"].values, ds["h"].values)
    for name in ("action", "reward", "value", "arm_probs", "best_arm"):
        np.testing.assert_array_equal(back[name].values, ds[name].values, err_msg=name)
        assert back[name].dtype == ds[name].dtype, name
    assert back["arm_probs"].dims == ds["arm_probs"].dims
    np.testing.assert_array_equal(back["episode"].values, ds["episode"].values)
    assert back.attrs["preset"] == ds.attrs["preset"]
    assert back.attrs["origin_seed"] == ds.attrs["seed"]


def test_round_trip_two_step_stages(tmp_path):
    task = make("two_step/daw2011", 2, num_trials=8)
    ds = record(ProjectionAgent(), task, 2, seed=1, progress=False)
    path = export_nwb(ds, tmp_path / "two_step.nwb", rate=4.0)
    back = read_nwb(
        path,
        timeseries="h",
        window=(0.0, 0.5),
        bin_width=0.25,
        choice_column="action_first",
        reward_column="reward_second",
        activity_name="h",
    )
    for k, stage in enumerate(("first", "second")):
        expected = ds["h"].isel(step=slice(k, None, 2)).values
        np.testing.assert_array_equal(back["h"].isel(time_bin=k).values, expected)
        np.testing.assert_array_equal(
            back[f"choice1_{stage}"].values, ds["choice1"].isel(step=slice(k, None, 2)).values
        )
    np.testing.assert_array_equal(back["action"].values, ds["action"].values[:, ::2])


def test_episode_column_groups_trials(plain_file):
    path, _ = plain_file
    ds = read_nwb(path, episode_column="difficulty", event="cue_time")
    assert ds.sizes["episode"] == 3
    assert ds.sizes["step"] == 4
    np.testing.assert_array_equal(ds["start_time"].values[1], 2.0 * np.array([1, 4, 7, 10]) + 1)


def test_unequal_episodes_are_padded_like_the_csv_import(plain_file):
    path, truth = plain_file
    ds = read_nwb(path, episode_column="block", event="cue_time", measure="count")
    validate_recording(ds)
    assert (ds.sizes["episode"], ds.sizes["step"]) == (2, 7)  # blocks of 5 and 7 trials
    np.testing.assert_array_equal(ds["trial_id"].values[0], [0, 1, 2, 3, 4, -1, -1])
    np.testing.assert_array_equal(ds["action"].values[0, 5:], [-1, -1])
    assert np.isnan(ds["reward"].values[0, 5:]).all()
    assert np.isnan(ds["activity"].values[0, 5:]).all()
    expected = [
        np.sum((t >= truth["cues"][5]) & (t < truth["cues"][5] + 0.5)) for t in truth["trains"]
    ]
    np.testing.assert_array_equal(ds["activity"].values[1, 0], expected)


def test_text_episode_labels_are_kept(tmp_path):
    sessions = ["sessA"] * 3 + ["sessB"] * 2
    path = _write_nwb(_trials_file([0, 1, 0, 1, 0], session=sessions), tmp_path / "s.nwb")
    ds = read_nwb(path, event="cue_time", episode_column="session", behaviour_only=True)
    assert ds["episode_label"].values.tolist() == ["sessA", "sessB"]
    np.testing.assert_array_equal(ds["action"].values, [[0, 1, 0], [1, 0, -1]])


# ---------------------------------------------------------------- command line


def test_cli_export_then_json(bandit_recording, tmp_path, capsys):
    nc = save_recording(bandit_recording, tmp_path / "agent.nc")
    out = tmp_path / "agent.nwb"
    assert main(["export", "nwb", str(nc), "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["inspected"]
    assert summary["units"] == 5
    assert read_nwb(out, timeseries="c", window=(0, 0.1))["activity"].shape == (6, 15, 5)


def test_cli_export_bad_input(tmp_path, capsys):
    missing = tmp_path / "none.nc"
    assert main(["export", "nwb", str(missing), "--out", str(tmp_path / "x.nwb")]) == 2
    assert "none.nc" in capsys.readouterr().err


# ---------------------------------------------------------------- example dataset


def _example_module():
    spec = importlib.util.spec_from_file_location(
        "make_example_nwb", ROOT / "datasets" / "make_example_nwb.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_example_nwb", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    mod = _example_module()
    cfg = mod.ExampleConfig(num_trials=250, num_units=160)
    path = mod.write_example(tmp_path_factory.mktemp("example") / "example.nwb", cfg, seed=0)
    return path, cfg


@pytest.fixture(scope="module")
def example(example_file) -> tuple[xr.Dataset, object]:
    path, cfg = example_file
    return read_nwb(path, event="cue_time", window=(0.0, 0.5)), cfg


def test_example_dataset_passes_nwbinspector(example_file):
    path, _ = example_file
    assert dandi_issues(path) == []


def test_example_dataset_imports_and_validates(example):
    ds, cfg = example
    validate_recording(ds)
    assert ds.sizes["unit"] == cfg.num_units
    assert ds.sizes["step"] == cfg.num_trials
    classes, counts = np.unique(ds["unit_planted_coding"].values, return_counts=True)
    planted = dict(zip(classes.tolist(), counts.tolist(), strict=True))
    assert planted["prev_action"] == int(0.25 * cfg.num_units)
    assert planted["value"] == int(0.2 * cfg.num_units)


@pytest.mark.parametrize("term", ["prev_action", "prev_reward", "interaction", "value"])
def test_example_coding_finds_planted_fractions(example, term):
    from neurometa.analysis.coding import coding_fractions, coding_regression
    from neurometa.analysis.compare import false_positive_corrected

    ds, cfg = example
    alpha = 0.05
    planted = cfg.fractions[["prev_action", "prev_reward", "interaction", "value"].index(term)]
    fr = coding_fractions(ds, activity="activity", alpha=alpha, num_shuffles=5).sel(term=term)
    # detected = planted + false positives of the other units at the test level
    expected_detected = planted + alpha * (1 - planted)
    assert fr["fraction_low"] <= expected_detected <= fr["fraction_high"]
    low, high = false_positive_corrected([fr["fraction_low"], fr["fraction_high"]], alpha)
    assert low <= planted <= high
    # the planted units themselves are found, and non-coding units sit near the test level
    sig = coding_regression(ds, activity="activity").sel(term=term)["significant"].values
    is_planted = ds["unit_planted_coding"].values == term
    assert sig[is_planted].mean() >= 0.95
    assert sig[~is_planted].mean() <= 0.1


def _file_with_missing(path: Path) -> None:
    nwb = NWBFile(
        session_description="missed trials",
        identifier="missing-1",
        session_start_time=datetime(2023, 5, 1, tzinfo=UTC),
    )
    nwb.add_trial_column("choice", "choice (NaN: no response)")
    nwb.add_trial_column("reward", "reward (NaN: missed)")
    nwb.add_trial_column("cue_time", "cue (NaN: aborted)")
    rows = [(0.0, 1.0, 0.2), (1.0, np.nan, 1.2), (np.nan, 0.0, 2.2), (1.0, 1.0, np.nan)]
    for k, (choice, reward, cue) in enumerate(rows):
        nwb.add_trial(
            start_time=float(k), stop_time=k + 0.9, choice=choice, reward=reward, cue_time=cue
        )
    nwb.add_unit(spike_times=[0.25, 1.25, 2.25, 3.25])
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


def test_missing_values_marked_per_schema(tmp_path):
    path = tmp_path / "missing.nwb"
    _file_with_missing(path)
    with pytest.raises(NWBFormatError, match="'cue_time' is missing in 1 trials"):
        read_nwb(path, event="cue_time", window=(0.0, 0.1))
    kept = read_nwb(path, event="start_time", window=(0.0, 0.5))  # cue not needed here
    np.testing.assert_array_equal(kept["action"].values[0], [0, 1, -1, 1])
    np.testing.assert_array_equal(kept["reward"].values[0], [1.0, np.nan, 0.0, 1.0])
    dropped = read_nwb(path, event="cue_time", window=(0.0, 0.1), drop_missing=True)
    np.testing.assert_array_equal(dropped["action"].values[0], [0])
    assert dropped.attrs["num_dropped_trials"] == 3


def test_import_nwb_command_writes_recording(plain_file, tmp_path, capsys):
    from neurometa.record import open_recording

    path, truth = plain_file
    out = tmp_path / "lab.nc"
    argv = ["import", "nwb", str(path), "--out", str(out), "--event", "cue_time"]
    assert main([*argv, "--window", "0", "0.5", "--measure", "count", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["trials"] == 12
    assert summary["units"] == 3
    ds = open_recording(out)
    expected = [
        np.sum((truth["trains"][1] >= c) & (truth["trains"][1] < c + 0.5)) for c in truth["cues"]
    ]
    np.testing.assert_array_equal(ds["activity"].values[0, :, 1], expected)


def test_import_nwb_command_reports_bad_column(plain_file, tmp_path, capsys):
    path, _ = plain_file
    argv = ["import", "nwb", str(path), "--out", str(tmp_path / "x.nc"), "--event", "go_cue"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "'go_cue' (the alignment event) is not in the trials table" in err
    assert "columns present: start_time, stop_time, cue_time" in err
    assert not (tmp_path / "x.nc").exists()


def test_data_package_imports_without_torch_or_pynwb():
    import subprocess

    code = "import sys, neurometa.data; print('torch' in sys.modules, 'pynwb' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


def _trials_file(choices: list, **columns: list) -> NWBFile:
    """A file with one trial per choice: trial k spans [2k, 2k + 1.5] s, cue at 2k + 0.5 s,
    reward k % 2, and one value per trial of each extra column."""
    nwb = NWBFile(
        session_description="lab session",
        identifier="lab",
        session_start_time=datetime(2023, 5, 1, tzinfo=UTC),
    )
    for name in ("cue_time", "choice", "reward", *columns):
        nwb.add_trial_column(name, name)
    for k, choice in enumerate(choices):
        nwb.add_trial(
            start_time=2.0 * k, stop_time=2.0 * k + 1.5, cue_time=2.0 * k + 0.5,
            choice=choice, reward=float(k % 2), **{n: v[k] for n, v in columns.items()},
        )  # fmt: skip
    return nwb


def _write_nwb(nwb: NWBFile, path: Path) -> Path:
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def _lab_nwb(path: Path, choices: list, *, obs_intervals: bool = False) -> None:
    """Trials with the given choices; 10 spikes/s for 12 s, one unit observed only in [0, 7] s."""
    nwb = _trials_file(choices)
    train = np.arange(0.05, 12.0, 0.1)
    if obs_intervals:
        nwb.add_unit(spike_times=train, obs_intervals=[[0.0, 12.0]])
        nwb.add_unit(spike_times=train[train < 7.0], obs_intervals=[[0.0, 7.0]])
    else:
        nwb.add_unit(spike_times=train)
    _write_nwb(nwb, path)


def test_text_choices_with_empty_cells_are_missed_trials(tmp_path):
    # pandas 3 reads text as its "str" dtype: "" must still mean a missed trial.
    path = tmp_path / "f.nwb"
    _lab_nwb(path, ["left", "right", "", "right", "left", "left"])
    ds = read_nwb(path, event="cue_time", window=(0.0, 0.5))
    assert json.loads(ds.attrs["action_labels"]) == ["left", "right"]
    np.testing.assert_array_equal(ds["action"].values[0], [0, 1, -1, 1, 0, 0])
    np.testing.assert_array_equal(ds["trial_id"].values[0], np.arange(6))
    dropped = read_nwb(path, event="cue_time", window=(0.0, 0.5), drop_missing=True)
    np.testing.assert_array_equal(dropped["trial_id"].values[0], [0, 1, 3, 4, 5])
    # the gap is respected: the pair (trial 1, trial 3) is not a stay pair
    from neurometa.analysis._common import consecutive_trials

    np.testing.assert_array_equal(consecutive_trials(dropped)[0], [True, False, True, True])


def test_negative_choice_codes_are_refused(tmp_path):
    path = tmp_path / "ibl.nwb"
    _lab_nwb(path, [-1.0, 1.0, 1.0, -1.0, 1.0, -1.0])
    with pytest.raises(NWBFormatError, match=r"negative codes \(-1.0\)"):
        read_nwb(path, event="cue_time", window=(0.0, 0.5))


def test_bins_outside_a_units_obs_intervals_are_nan(tmp_path):
    path = tmp_path / "obs.nwb"
    _lab_nwb(path, ["left", "right"] * 3, obs_intervals=True)
    counts = read_nwb(path, event="cue_time", window=(0.0, 0.5), measure="count")
    act = counts["activity"].values[0]  # (trial, unit); windows [2k + 0.5, 2k + 1)
    np.testing.assert_array_equal(act[:, 0], np.full(6, 5.0))
    np.testing.assert_array_equal(act[:4, 1], np.full(4, 5.0))  # windows end by 7 s
    assert np.isnan(act[4:, 1]).all()  # [8.5, 9) and [10.5, 11): not recorded, not silent


def test_timeseries_named_twice_is_picked_by_its_container(tmp_path):
    # e.g. RoiResponseSeries under both Fluorescence and DfOverF in ophys files
    nwb = _trials_file([0, 1, 0, 1])
    raw = TimeSeries(name="signal", data=np.full((250, 2), 3.0), unit="a.u.", rate=25.0)
    nwb.add_acquisition(raw)
    module = nwb.create_processing_module("dff", "normalised")
    module.add(TimeSeries(name="signal", data=np.tile([0.25, 0.5], (250, 1)), unit="1", rate=25.0))
    path = _write_nwb(nwb, tmp_path / "twice.nwb")
    with pytest.raises(NWBFormatError, match="name one as PARENT/signal"):
        read_nwb(path, event="cue_time", window=(0.0, 0.5), timeseries="signal")
    ds = read_nwb(path, event="cue_time", window=(0.0, 0.5), timeseries="dff/signal")
    np.testing.assert_allclose(ds["activity"].values[0], np.tile([0.25, 0.5], (4, 1)))


def test_units_and_trials_tables_outside_their_usual_places(tmp_path):
    # e.g. spike sorter output in processing/ecephys and trials in intervals/behavior_trials
    from pynwb.epoch import TimeIntervals
    from pynwb.misc import Units

    path = tmp_path / "elsewhere.nwb"
    nwb = NWBFile(
        session_description="elsewhere", identifier="e-1",
        session_start_time=datetime(2023, 5, 1, tzinfo=UTC),
    )  # fmt: skip
    trials = TimeIntervals(name="behavior_trials", description="trials")
    for name in ("cue_time", "choice", "reward"):
        trials.add_column(name, name)
    for k in range(4):
        trials.add_row(start_time=2.0 * k, stop_time=2.0 * k + 1.5, cue_time=2.0 * k + 0.5,
                       choice=k % 2, reward=1.0)  # fmt: skip
    nwb.add_time_intervals(trials)
    units = Units(name="kilosort_units", description="sorted units")
    units.add_unit(spike_times=np.arange(0.05, 8.0, 0.1))
    nwb.create_processing_module("ecephys", "sorting").add(units)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    with pytest.raises(NWBFormatError, match="behavior_trials \\(choose one with trials_table"):
        read_nwb(path, event="cue_time")
    with pytest.raises(NWBFormatError, match="Units tables at ecephys/kilosort_units"):
        read_nwb(path, event="cue_time", trials_table="behavior_trials")
    ds = read_nwb(
        path, event="cue_time", measure="count",
        trials_table="behavior_trials", units_table="ecephys/kilosort_units",
    )  # fmt: skip
    np.testing.assert_array_equal(ds["activity"].values[0, :, 0], [5, 5, 5, 5])


def test_import_nwb_command_summary_lines(plain_file, tmp_path, capsys):
    path, _ = plain_file
    argv = ["import", "nwb", str(path), "--event", "cue_time"]
    assert main([*argv, "--out", str(tmp_path / "a.nc"), "--measure", "count"]) == 0
    assert "1 episode(s) x 12 trials, 3 units (activity in count); 0 trial(s) dropped" in (
        capsys.readouterr().err
    )
    assert main([*argv, "--out", str(tmp_path / "b.nc"), "--behaviour-only"]) == 0
    assert "12 trials, behaviour only (no activity)" in capsys.readouterr().err
