"""``neurometa record`` and ``neurometa info`` end to end (in-process CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from neurometa.cli import main
from neurometa.record import open_recording, save_recording, validate_recording


def _json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out)


def test_record_baseline_then_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ucb1.nc"
    argv = ["record", "--agent", "ucb1", "--task", "bandit/independent", "--task-set",
            "num_trials=5", "--episodes", "6", "--batch-size", "4", "--seed", "3", "--out",
            str(out), "--no-progress", "--json"]  # fmt: skip
    assert main(argv) == 0
    figures = _json(capsys)
    assert (figures["episodes"], figures["steps_per_episode"], figures["units"]) == (6, 5, 0)
    assert figures["bytes"] == out.stat().st_size
    with open_recording(out) as ds:
        validate_recording(ds)
        assert ds.attrs["agent"] == figures["agent"]
        assert ds.attrs["seed"] == 3
        config = json.loads(ds.attrs["config_json"])
        assert config["agent"]["baseline"] == "ucb1"
        assert config["task_overrides"] == {"num_trials": 5}
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "preset bandit/independent" in text
    assert "arm_probs  (episode, step, arm)" in text
    assert "valid     yes" in text


def test_record_trained_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from neurometa.config import replace_path
    from neurometa.learn import get_preset, train

    config = replace_path(get_preset("bandit/independent"), "optim.num_updates", 1)
    config = replace_path(config, "optim.batch_size", 2)
    config = replace_path(config, "task.overrides", {"num_trials": 4})
    run_dir = train(config, tmp_path / "run", seed=0, progress=False)
    out = tmp_path / "pfc.zarr"
    argv = ["record", "--run", str(run_dir), "--episodes", "3", "--out", str(out),
            "--no-progress", "--json"]  # fmt: skip
    assert main(argv) == 0
    assert _json(capsys)["units"] == config.network.num_units
    with open_recording(out) as ds:
        validate_recording(ds)
        assert ds.h.dims == ("episode", "step", "unit")
        assert ds.attrs["preset"] == "bandit/independent"
        assert json.loads(ds.attrs["config_json"])["train"]["optim"]["num_updates"] == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--agent", "thompsen", "--task", "bandit/independent"], "did you mean 'thompson'"),
        (["--agent", "hybrid", "--task", "bandit/independent"], "plays two_step tasks"),
        (["--agent", "thompson"], "--agent needs --task"),
        (["--agent", "thompson", "--task", "bandit/nope"], "unknown task preset"),
        (["--run", "no/such/run"], "config file not found"),
    ],
    ids=["unknown_baseline", "wrong_family", "no_task", "unknown_task", "missing_run"],
)
def test_record_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    out = tmp_path / "x.nc"
    assert main(["record", *argv, "--episodes", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not out.exists()


def test_info_json_reports_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bandit_recording: xr.Dataset
) -> None:
    ds = bandit_recording.copy(deep=True)
    ds["value"][0, 0] = np.nan
    path = save_recording(ds, tmp_path / "nan.nc", validate=False)
    assert main(["info", str(path), "--json"]) == 1
    summary = _json(capsys)
    assert summary["valid"] is False
    assert len(summary["problems"]) == 1
    assert "'value' contains NaN" in summary["problems"][0]
    assert summary["sizes"]["episode"] == 7
    assert summary["variables"]["h"] == {
        "dims": ["episode", "step", "unit"], "dtype": "float32",
        "long_name": "LSTM hidden state (prefrontal unit activity)",
    }  # fmt: skip
    assert main(["info", str(path), "--structure-only"]) == 0


def test_info_on_truncated_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bandit_recording: xr.Dataset
) -> None:
    path = save_recording(bandit_recording, tmp_path / "cut.nc")
    path.write_bytes(path.read_bytes()[:1000])
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"neurometa info: error: {path}: cannot be read as a NetCDF-4/HDF5")
    assert "\n" not in err
