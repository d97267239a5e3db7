"""The runnable pipelines in analyses/: agent recordings and imported lab behaviour."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from _synthetic_recordings import agent_recording, hybrid_params, two_step_recording

from neurometa.analysis.bandits import regret_summary, win_stay_lose_shift
from neurometa.analysis.coding import coding_fractions
from neurometa.cli import main as cli_main
from neurometa.record.io import open_recording, save_recording

ROOT = Path(__file__).resolve().parents[2]


def _pipeline(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "analyses" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


@pytest.fixture(scope="module")
def two_step_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("rec") / "agent.nc"
    ds, _ = two_step_recording(hybrid_params(3, np.random.default_rng(0)), 80, 0)
    rng = np.random.default_rng(1)
    ds["rpe"] = (("episode", "step"), rng.normal(size=(3, 160)).astype(np.float32))
    ds["value"] = (("episode", "step"), rng.normal(size=(3, 160)).astype(np.float32))
    h = rng.normal(size=(3, 160, 4)).astype(np.float32)
    ds["h"] = (("episode", "step", "unit"), h)
    save_recording(ds.assign_coords(unit=np.arange(4)), path)
    return path


@pytest.fixture(scope="module")
def lab_two_step_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lab")
    ds, sim = two_step_recording(hybrid_params(2, np.random.default_rng(2)), 100, 2)
    table = pd.DataFrame({k: sim[k].ravel() for k in ("choice1", "state2", "choice2", "reward")})
    table.insert(0, "trial", np.tile(np.arange(100), 2))
    table.insert(0, "subject", np.repeat(["m1", "m2"], 100))
    table.to_csv(folder / "lab.csv", index=False)
    assert (
        cli_main(
            ["import", "two-step-csv", str(folder / "lab.csv"), "--out", str(folder / "lab.nc")]
        )
        == 0
    )
    return folder / "lab.nc"


def test_two_step_pipeline_on_agent_and_lab(two_step_file, lab_two_step_file, tmp_path, capsys):
    argv = [str(two_step_file), str(lab_two_step_file), "--out", str(tmp_path)]
    assert (
        _pipeline("two_step_behaviour")([*argv, "--boot", "20", "--lags", "1", "--restarts", "1"])
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert set(summary["hybrid_fits"]) == {"agent", "lab"}
    assert summary["hybrid_fits"]["lab"]["num_subjects"] == 2
    for name in (
        "stay_probabilities_agent.png",
        "hybrid_fits_lab.nc",
        "akam_regression_agent.csv",
    ):
        assert (tmp_path / name).is_file()
    assert not (tmp_path / "akam_regression_lab.csv").exists()  # lab data: no probabilities


def test_rpe_pipeline(two_step_file, tmp_path, capsys):
    assert (
        _pipeline("rpe_decomposition")(
            [str(two_step_file), "--out", str(tmp_path), "--restarts", "1"]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["agent"]["outcome"]["rpe_mb_minus_mf"]["coef"] is None  # identically zero
    assert (tmp_path / "rpe_decomposition_agent.nc").is_file()


def test_coding_pipeline(two_step_file, tmp_path, capsys):
    argv = [str(two_step_file), "--out", str(tmp_path), "--stage", "first", "--shuffles", "2"]
    assert _pipeline("single_unit_coding")(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    ds = open_recording(two_step_file).load()
    ref = coding_fractions(ds, stage="first", num_shuffles=2)
    for term in ref["term"].values:
        assert summary["agent"][term]["fraction"] == float(ref["fraction"].sel(term=term))
        assert summary["agent"][term]["chance"] == float(ref["chance"].sel(term=term))
    written = xr.open_dataset(tmp_path / "coding_fractions_agent.nc").load()
    np.testing.assert_array_equal(written["num_coding"], ref["num_coding"])
    assert written.attrs["num_units"] == ref.attrs["num_units"] == 4
    assert (tmp_path / "coding_fractions_agent.png").is_file()


def test_bandit_pipeline_on_agent_and_lab(tmp_path, capsys):
    rng = np.random.default_rng(3)
    probs = rng.random((20, 1, 2)).repeat(30, axis=1).astype(np.float32)
    ds = agent_recording(
        rng.integers(0, 2, (20, 30)),
        np.zeros((20, 30)),
        variables={"arm_probs": (("episode", "step", "arm"), probs)},
    )
    save_recording(ds, tmp_path / "agent.nc")
    lab = pd.DataFrame(
        {
            "subject": "r",
            "trial": np.arange(40),
            "choice": rng.integers(0, 2, 40),
            "reward": rng.integers(0, 2, 40),
        }
    )
    lab.to_csv(tmp_path / "lab.csv", index=False)
    assert (
        cli_main(
            ["import", "bandit-csv", str(tmp_path / "lab.csv"), "--out", str(tmp_path / "lab.nc")]
        )
        == 0
    )
    capsys.readouterr()
    out = tmp_path / "out"
    assert (
        _pipeline("bandit_behaviour")(
            [str(tmp_path / "agent.nc"), str(tmp_path / "lab.nc"), "--out", str(out)]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)["bandit"]
    assert set(summary) == {"agent", "lab", "regret"}
    lab_stays = win_stay_lose_shift(open_recording(tmp_path / "lab.nc"))
    assert summary["lab"]["p_stay_after"] == lab_stays["p_stay"].to_dict()
    written = pd.read_csv(out / "win_stay_lose_shift_lab.csv", index_col="after")
    pd.testing.assert_frame_equal(written, lab_stays, check_dtype=False)
    assert "p_better_by_difficulty" not in summary["lab"]  # lab table: no arm probabilities
    (regret,) = summary["regret"]  # only the agent has arm probabilities
    ref = regret_summary(ds)
    assert regret["final"]["mean"] == pytest.approx(float(ref["mean"].sel(trial=30)))
    assert (out / "regret_curves.png").is_file()
