"""``neurometa fit`` and ``analyze coding`` on a recording without a value."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from neurometa.behaviour.synthetic import bandit_recording
from neurometa.record.io import open_recording, save_recording


@pytest.fixture(scope="module")
def lab_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("fit") / "lab.nc"
    save_recording(bandit_recording(num_trials=150, num_units=5, seed=2), path)
    return path


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "neurometa", *args], capture_output=True, text=True, check=False
    )


def test_fit_writes_tables_figure_and_latents(lab_file, tmp_path):
    res = _cli(
        "fit",
        "q_learning,q_forgetting",
        str(lab_file),
        "--out",
        str(tmp_path),
        "--folds",
        "2",
        "--restarts",
        "1",
        "--json",
        "--no-progress",
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)["lab"]
    assert summary["family"] == "bandit"
    assert set(summary["models"]) == {"q_learning", "q_forgetting"}
    fits = pd.read_csv(tmp_path / "fits_lab.csv")
    assert {"alpha", "beta", "se_alpha", "nll", "bic", "loglik_per_choice"} <= set(fits)
    assert (tmp_path / "comparison_lab.png").exists()
    ds = open_recording(tmp_path / "lab_latents.nc")
    assert ds["model_chosen_value"].attrs["model"] == summary["latents_from"]


def test_fit_errors_are_one_line(lab_file, tmp_path):
    res = _cli("fit", "hybrid", str(lab_file), "--out", str(tmp_path))
    assert res.returncode == 2
    assert "fits two_step behaviour" in res.stderr
    assert "Traceback" not in res.stderr


def test_analyze_coding_fits_the_default_model_and_says_so(lab_file):
    res = _cli(
        "analyze",
        "coding",
        str(lab_file),
        "--activity",
        "activity_choice",
        "--shuffles",
        "2",
        "--json",
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)["lab"]
    assert "q_learning model fitted" in summary["value_regressor"]
    assert "value" in summary
    res = _cli(
        "analyze",
        "coding",
        str(lab_file),
        "--activity",
        "activity_choice",
        "--shuffles",
        "2",
        "--json",
        "--value",
        "none",
    )
    summary = json.loads(res.stdout)["lab"]
    assert "value" not in summary
    assert summary["value_regressor"].startswith("none")
