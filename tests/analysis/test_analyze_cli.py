import argparse
import dataclasses
import importlib
import inspect
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from _synthetic_recordings import agent_recording, hybrid_params, simulate_hybrid

from neurometa.analysis.bandits import regret_curve, regret_summary
from neurometa.analysis.two_step import stay_probabilities, two_step_trials
from neurometa.cli import main
from neurometa.commands.analyze import ANALYSES, add_options, chosen_options, load_function
from neurometa.record.io import open_recording, save_recording


def _json(capsys) -> dict:
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    return json.loads(out[0])


@pytest.fixture
def bandit_file(tmp_path):
    rng = np.random.default_rng(0)
    probs = rng.random((30, 1, 2)).repeat(60, axis=1)
    action = rng.integers(0, 2, (30, 60))
    ds = agent_recording(
        action,
        np.zeros((30, 60)),
        variables={"arm_probs": (("episode", "step", "arm"), probs.astype(np.float32))},
    )
    path = tmp_path / "bandit.nc"
    save_recording(ds, path)
    return path


def test_regret_json_matches_the_library(bandit_file, capsys):
    assert main(["analyze", "regret", str(bandit_file), "--json"]) == 0
    got = _json(capsys)
    ref = regret_summary(open_recording(bandit_file).load())
    assert got["num_trials"] == ref.attrs["num_trials"] == 60
    assert got["final"]["mean"] == pytest.approx(float(ref["mean"].sel(trial=60)))
    assert got["final"]["sem"] == pytest.approx(float(ref["sem"].sel(trial=60)))
    assert got["at"]["25"]["mean"] == pytest.approx(float(ref["mean"].sel(trial=25)))
    assert set(got["at"]) == {"10", "25", "50"}


def test_regret_writes_netcdf_csv_and_png(bandit_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(
            ["analyze", "regret", str(bandit_file), str(bandit_file), "--out", str(out), "--json"]
        )
        == 0
    )
    assert len(_json(capsys)["results"]) == 2
    curves = xr.open_dataset(out / "regret_curves.nc").load()
    assert curves["mean"].dims == ("input", "trial")
    ref = regret_curve(open_recording(bandit_file).load())
    np.testing.assert_allclose(curves["mean"].values, [ref["mean"].values] * 2)
    table = pd.read_csv(out / "regret_curves.csv", index_col=["input", "trial"])
    np.testing.assert_allclose(table["sem"].to_numpy(), np.tile(ref["sem"].values, 2))
    assert (out / "regret_curves.png").read_bytes()[:4] == b"\x89PNG"


def test_import_then_analyze_two_step_lab_behaviour(tmp_path, capsys):
    params = hybrid_params(3, np.random.default_rng(1), w=np.full(3, 0.8))
    sim = simulate_hybrid(params, 150, np.random.default_rng(2))
    table = pd.DataFrame({k: sim[k].ravel() for k in ("choice1", "state2", "choice2", "reward")})
    table.insert(0, "trial", np.tile(np.arange(150), 3))
    table.insert(0, "subject", np.repeat(["a", "b", "c"], 150))
    table.loc[7, "choice2"] = np.nan  # one missed trial
    table.to_csv(tmp_path / "lab.csv", index=False)
    nc = tmp_path / "lab.nc"
    assert (
        main(["import", "two-step-csv", str(tmp_path / "lab.csv"), "--out", str(nc), "--json"])
        == 0
    )
    assert _json(capsys)["num_missed_trials"] == 1
    out = tmp_path / "res"
    argv = [
        "analyze",
        "two-step",
        str(nc),
        "--out",
        str(out),
        "--boot",
        "50",
        "--lags",
        "2",
        "--json",
    ]
    assert main(argv) == 0
    got = _json(capsys)["lab"]
    ref = stay_probabilities(two_step_trials(open_recording(nc).load()), num_boot=50)
    assert got["p_stay"]["common_rewarded"] == pytest.approx(ref.loc["common/rewarded", "p_stay"])
    assert got["num_trials"] == 449
    for name in (
        "stay_probabilities_lab.nc",
        "stay_probabilities_lab.csv",
        "stay_probabilities_lab.png",
        "stay_regression_lab.csv",
        "model_indices_lab.csv",
    ):
        assert (out / name).is_file()


def test_import_reports_every_bad_row_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("subject,trial,choice1,state2,choice2,reward\ns,0,3,0,0,1\ns,1,0,y,0,1\n")
    assert main(["import", "two-step-csv", str(bad), "--out", str(tmp_path / "x.nc")]) == 2
    err = capsys.readouterr().err
    assert "line 2: column 'choice1'" in err
    assert "line 3: column 'state2'" in err
    assert not (tmp_path / "x.nc").exists()


def test_missing_variable_is_a_one_line_error(bandit_file, capsys):
    assert main(["analyze", "coding", str(bandit_file)]) == 2
    assert "value" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(ANALYSES), ids=sorted(ANALYSES))
def test_every_option_reaches_a_keyword_of_the_analysis_function(name):
    analysis = ANALYSES[name]
    function = load_function(name)
    params = inspect.signature(function).parameters
    if analysis.config is not None:  # a function taking **options: the config's fields
        module, _, attr = analysis.config.partition(":")
        accepted = {
            f.name for f in dataclasses.fields(getattr(importlib.import_module(module), attr))
        }
    else:
        accepted = {n for n, p in params.items() if p.kind is p.KEYWORD_ONLY}
    assert set(analysis.options) <= accepted
    assert list(params)[:2] == ["inputs", "out"]
    parser = argparse.ArgumentParser()
    add_options(parser, analysis)
    given = parser.parse_args(["--target", "x"] if "target" in analysis.options else [])
    assert chosen_options(given, analysis) == ({"target": "x"} if name == "decode" else {})


def test_options_given_on_the_command_line_reach_the_function(bandit_file, monkeypatch, capsys):
    import neurometa.analysis.runners as runners

    seen = {}
    monkeypatch.setattr(runners, "run_regret", lambda inputs, out, **kw: seen.update(kw) or {})
    assert main(["analyze", "regret", str(bandit_file), "--at", "3", "7", "--json"]) == 0
    assert seen == {"at": [3, 7]}
    capsys.readouterr()


def test_analysis_package_imports_without_torch():
    code = (
        "import sys\n"
        "import neurometa.analysis, neurometa.analysis.coding, neurometa.analysis.two_step\n"
        "import neurometa.behaviour.fitting, neurometa.behaviour.empirical_bayes\n"
        "import neurometa.analysis.rpe, neurometa.behaviour.latents, neurometa.commands.fit\n"
        "import neurometa.analysis.bandits\n"
        "import neurometa.analysis.population, neurometa.analysis.plotting\n"
        "import neurometa.analysis.runners, neurometa.commands.analyze\n"
        "import xarray\n"
        "from neurometa.analysis._common import _schema_problems\n"
        "assert _schema_problems(xarray.Dataset())  # runs the project's validator\n"
        "print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(("prior", "expected"), [("none", "none"), ("weak", "weak")])
def test_hybrid_cli_prior_option_selects_ml_or_map(tmp_path, capsys, prior, expected):
    params = hybrid_params(2, np.random.default_rng(3), w=np.full(2, 0.5))
    sim = simulate_hybrid(params, 60, np.random.default_rng(4))
    table = pd.DataFrame({k: sim[k].ravel() for k in ("choice1", "state2", "choice2", "reward")})
    table.insert(0, "trial", np.tile(np.arange(60), 2))
    table.insert(0, "subject", np.repeat(["a", "b"], 60))
    table.to_csv(tmp_path / "lab.csv", index=False)
    nc = tmp_path / "lab.nc"
    assert main(["import", "two-step-csv", str(tmp_path / "lab.csv"), "--out", str(nc)]) == 0
    capsys.readouterr()
    out = tmp_path / "res"
    argv = ["analyze", "hybrid", str(nc), "--out", str(out), "--restarts", "1", "--prior", prior]
    assert main(argv) == 0
    fits = pd.read_csv(out / "hybrid_fits_lab.csv")
    assert set(fits["prior"]) == {expected}
    assert set(fits["model"]) == {"hybrid", "model_free", "model_based"}


def test_printed_figures_are_rounded_and_json_keeps_full_precision(bandit_file, capsys):
    assert main(["analyze", "regret", str(bandit_file)]) == 0
    printed = capsys.readouterr().out
    tokens = printed.replace(",", " ").replace("[", " ").replace("]", " ").split()
    numbers = [tok for tok in tokens if tok.replace(".", "").replace("-", "").isdigit()]
    assert numbers
    for tok in numbers:
        digits = tok.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
        assert len(digits) <= 4, tok
    assert main(["analyze", "regret", str(bandit_file), "--json"]) == 0
    full = _json(capsys)
    assert full == json.loads(json.dumps(full))  # unrounded floats survive in JSON


def test_rank_deficient_coding_design_names_the_regressor_the_reason_and_the_file(
    tmp_path, capsys
):
    from neurometa.data.frames import from_dataframe

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"subject": "m1", "session": np.repeat([1, 2], 50), "trial": np.tile(np.arange(50), 2),
         "choice": rng.integers(0, 2, 100), "reward": 1}
    )  # fmt: skip
    ds = from_dataframe(frame, "bandit")
    ds["activity"] = (("episode", "step", "unit"), rng.normal(size=(2, 50, 3)))
    ds["value"] = (("episode", "step"), rng.random((2, 50)))
    path = tmp_path / "all_rewarded.nc"
    save_recording(ds.assign_coords(unit=np.arange(3)), path, validate=False)
    assert main(["analyze", "coding", str(path), "--activity", "activity"]) == 2
    err = capsys.readouterr().err
    assert "regressor 'prev_reward' is constant" in err
    assert "every trial used was rewarded" in err
    assert "all_rewarded.nc" in err
    assert err.count("\n") == 1


def test_collinear_regressor_is_named():
    from neurometa.analysis.coding import OLSDesign, RankDeficientError

    a = np.array([1.0, -1, 1, -1, 1, 1])
    X = np.column_stack([np.ones(6), a, 2 * a])
    with pytest.raises(RankDeficientError, match="'double' is a linear combination of") as err:
        OLSDesign(X, ("intercept", "a", "double"))
    assert err.value.regressor == "double"


def test_compare_help_says_which_input_is_the_agent_and_which_the_neurons(capsys):
    with pytest.raises(SystemExit):
        main(["analyze", "compare", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "AGENT.nc, the agent's recording" in text
    assert "then NEURONS.nc, the lab recording with the neurons" in text
