"""The bad-input battery: malformed files, arguments and faults end in a clear message.

Every case runs the command a user would type (in-process through ``neurometa.cli.main``,
or as a subprocess where a signal is involved) and requires: a non-zero exit without a
traceback, a message naming the file / row / variable and the problem, no partial output
and nothing of the user's lost. Cases that must *succeed* despite an odd input check that
the result is right, not merely that something was written.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neurometa.cli import main
from neurometa.record import RecordingError, open_recording, validate_recording

BANDIT = ["--agent", "thompson", "--task", "bandit/independent", "--task-set", "num_trials=10"]


def _fails(capsys: pytest.CaptureFixture[str], *argv: object, code: int = 2) -> str:
    """Run the CLI; require exit ``code`` and a one-line error (no traceback); return stderr."""
    assert main([str(a) for a in argv]) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "error" in err
    return err


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def bandit_nc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "bandit.nc"
    assert main(["record", *BANDIT, "--episodes", "6", "--out", str(path), "--no-progress"]) == 0
    return path


@pytest.fixture(scope="module")
def two_step_nc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "two_step.nc"
    argv = ["record", "--agent", "hybrid", "--task", "two_step/daw2011", "--task-set",
            "num_trials=20", "--episodes", "4", "--out", str(path), "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    return path


# ------------------------------------------------------------------ data lost / overwritten


@pytest.mark.parametrize("command", ["record", "import"])
def test_an_existing_folder_as_out_is_refused_and_kept(command, tmp_path, capsys) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep")
    if command == "record":
        argv = ["record", *BANDIT, "--episodes", 2, "--out", folder, "--no-progress"]
    else:
        csv = tmp_path / "b.csv"
        csv.write_text("subject,trial,choice,reward\nm1,0,1,1\nm1,1,0,0\n")
        argv = ["import", "bandit-csv", csv, "--out", folder]
    err = _fails(capsys, *argv)
    assert str(folder) in err
    assert (folder / "notes.txt").read_text() == "keep"
    assert _files(folder) == ["notes.txt"]


def test_import_out_dot_is_refused(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("b.csv").write_text("subject,trial,choice,reward\nm1,0,1,1\n")
    err = _fails(capsys, "import", "bandit-csv", "b.csv", "--out", ".")
    assert "unknown recording format" in err
    assert _files(tmp_path) == ["b.csv"]


def test_analyze_inputs_sharing_a_file_name_keep_every_result(bandit_nc, tmp_path, capsys):
    a, b = tmp_path / "a" / "rec.nc", tmp_path / "b" / "rec.nc"
    for path, seed in ((a, 1), (b, 2)):
        path.parent.mkdir()
        argv = [*BANDIT, "--episodes", 4, "--seed", seed, "--out", path, "--no-progress"]
        assert main(["record", *map(str, argv)]) == 0
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(["analyze", "bandit", str(a), str(b), "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {"a-rec", "b-rec"} <= set(summary)
    assert summary["a-rec"] != summary["b-rec"]
    for label in ("a-rec", "b-rec"):
        assert (out / f"win_stay_lose_shift_{label}.nc").is_file()


# ------------------------------------------------------------------ wrong kind of recording


def test_analyze_bandit_on_a_two_step_recording_is_an_error(two_step_nc, capsys) -> None:
    err = _fails(capsys, "analyze", "bandit", two_step_nc)
    assert "one choice per trial" in err


def test_a_bandit_recording_labelled_two_step_is_invalid(bandit_nc) -> None:
    ds = open_recording(bandit_nc).load().assign_attrs(preset="two_step/daw2011")
    with pytest.raises(RecordingError, match="missing variable 'choice1'.*preset"):
        validate_recording(ds)


def test_a_zero_episode_recording_is_invalid(bandit_nc) -> None:
    ds = open_recording(bandit_nc).load().isel(episode=slice(0, 0))
    with pytest.raises(RecordingError, match="holds no episodes"):
        validate_recording(ds)


def test_import_with_a_preset_of_another_family_is_an_error(tmp_path, capsys) -> None:
    csv = tmp_path / "b.csv"
    csv.write_text("subject,trial,choice,reward\nm1,0,1,1\nm1,1,0,0\n")
    err = _fails(capsys, "import", "bandit-csv", csv, "--out", tmp_path / "b.nc",
                 "--preset", "two_step/daw2011")  # fmt: skip
    assert "choice1" in err
    assert not (tmp_path / "b.nc").exists()


# ------------------------------------------------------------------ malformed CSV tables


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"subject,trial,choice,reward\nm1,0,1,1\nm1,1,0\n", "line 3: 3 fields, too few"),
        (b"subject,trial,choice,reward\nm1,0,1,1,7\n", "line 2: 5 fields, too many"),
        (
            b"subject,trial,choice,reward\nm1,99999999999999999999999,0,1\n",
            "line 2: column 'trial'",
        ),
        ("subject,trial,choice,reward\nm\xe9,0,1,1\n".encode("latin-1"), "line 2: byte 0xe9"),
        (bytes(range(256)), "binary data"),
        (b"", "empty"),
    ],
    ids=["too-few-fields", "too-many-fields", "int64-overflow", "latin-1", "binary", "empty"],
)
def test_malformed_csv_is_a_clear_error(content, message, tmp_path, capsys) -> None:
    csv = tmp_path / "t.csv"
    csv.write_bytes(content)
    err = _fails(capsys, "import", "bandit-csv", csv, "--out", tmp_path / "t.nc")
    assert str(csv) in err
    assert message in err
    assert _files(tmp_path) == ["t.csv"]


# ------------------------------------------------------------------ arguments


@pytest.mark.parametrize("seed", ["-1", "100000000000000000000000", "1e23"])
def test_a_bad_seed_is_refused_before_any_work(seed, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["record", *BANDIT, "--episodes", "2", "--out", str(tmp_path / "r.nc"),
              "--seed", seed])  # fmt: skip
    assert exit_info.value.code == 2
    assert "seed" in capsys.readouterr().err
    assert _files(tmp_path) == []


def test_out_below_a_file_is_a_clear_error(bandit_nc, tmp_path, capsys) -> None:
    blocker = tmp_path / "f.txt"
    blocker.write_text("x")
    err = _fails(capsys, "analyze", "regret", bandit_nc, "--out", blocker)
    assert str(blocker) in err
    err = _fails(capsys, "analyze", "regret", bandit_nc, "--out", blocker / "sub")
    assert "Not a directory" in err
    assert blocker.read_text() == "x"


@pytest.mark.parametrize("option", ["--updates", "--episodes"])
def test_demo_with_zero_updates_or_episodes_fails_before_training(option, tmp_path, capsys):
    err = _fails(capsys, "demo", option, 0, "--out", tmp_path / "demo")
    assert f"{option} must be positive" in err
    assert not (tmp_path / "demo").exists()


def test_a_huge_learning_rate_names_the_parameter(tmp_path, capsys) -> None:
    err = _fails(capsys, "train", "bandit/independent", "--out", tmp_path / "run",
                 "--set", "optim.learning_rate=1e38")  # fmt: skip
    assert "learning_rate" in err


def test_nan_activity_is_not_called_constant(bandit_nc, tmp_path, capsys) -> None:
    from neurometa.analysis._common import AnalysisError
    from neurometa.analysis.coding import coding_fractions

    rng = np.random.default_rng(0)
    ds = open_recording(bandit_nc).load()
    ds["value"] = ds["reward"] * 0 + rng.random(ds["reward"].shape)
    ds["h"] = (("episode", "step", "unit"), np.full((*ds["reward"].shape, 3), np.nan))
    with pytest.raises(AnalysisError, match="missing values"):
        coding_fractions(ds.assign_coords(unit=[0, 1, 2]), num_shuffles=1)


def test_decoding_one_episode_says_why(bandit_nc) -> None:
    from neurometa.analysis._common import AnalysisError
    from neurometa.analysis.population import decode

    ds = open_recording(bandit_nc).load().isel(episode=[0])
    ds["h"] = (("episode", "step", "unit"), np.ones((1, ds.sizes["step"], 2)))
    with pytest.raises(AnalysisError, match="at least 2 episodes"):
        decode(ds.assign_coords(unit=[0, 1]), "action")


# ------------------------------------------------------------------ analyses that cannot say


def test_analyze_hybrid_names_no_best_model_when_every_fit_failed(tmp_path, capsys) -> None:
    csv = tmp_path / "ts.csv"
    csv.write_text("subject,trial,choice1,state2,choice2,reward\nm1,0,1,1,0,1\n")
    assert main(["import", "two-step-csv", str(csv), "--out", str(tmp_path / "ts.nc")]) == 0
    capsys.readouterr()
    err = _fails(capsys, "analyze", "hybrid", tmp_path / "ts.nc", "--restarts", 1, "--json")
    assert "every fit failed" in err
    assert capsys.readouterr().out == ""


def test_analyze_hybrid_leaves_out_failed_fits_and_counts_them(tmp_path, capsys) -> None:
    rng = np.random.default_rng(0)
    n = 80
    choice1 = rng.integers(0, 2, n)
    frame = pd.DataFrame(
        {"subject": ["ok"] * n + ["short"], "trial": [*range(n), 0],
         "choice1": [*choice1, 1], "state2": [*choice1, 1],
         "choice2": [*rng.integers(0, 2, n), 0], "reward": [*rng.integers(0, 2, n), 1]}
    )  # fmt: skip
    frame.to_csv(tmp_path / "ts.csv", index=False)
    assert main(["import", "two-step-csv", str(tmp_path / "ts.csv"), "--out",
                 str(tmp_path / "ts.nc")]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["analyze", "hybrid", str(tmp_path / "ts.nc"), "--restarts", "1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)["ts"]
    assert summary["num_failed_fits"] == 3  # the one-trial subject, in each of 3 models
    assert summary["num_subjects"] == 1


def test_shared_stem_labels_are_distinct() -> None:
    from neurometa.analysis.report import input_labels

    paths = [Path("runs/x/recording.nc"), Path("runs/y/recording.nc"), Path("runs/x/recording.nc")]
    assert input_labels(paths) == ["x-recording", "y-recording", "x-recording-2"]


def test_results_of_a_sweep_are_not_a_recording(tmp_path) -> None:
    ds = xr.Dataset({"status": ("seed", ["done"])}, attrs={"source": "sweep"})
    with pytest.raises(RecordingError):
        validate_recording(ds)


# ------------------------------------------------------------------ run folders


def _tiny(**changes):  # noqa: ANN202
    from neurometa.learn import TrainConfig
    from neurometa.learn.config import EvalConfig, NetworkConfig, OptimConfig, TaskConfig

    config = TrainConfig(
        task=TaskConfig(overrides={"num_trials": 5}),
        network=NetworkConfig(num_units=4),
        optim=OptimConfig(num_updates=2, batch_size=2),
        eval=EvalConfig(interval=2, episodes=4),
        workers=1,
    )
    return config.replace(**changes)


def test_a_start_that_failed_before_its_first_checkpoint_does_not_block_the_next(tmp_path):
    from neurometa.learn import train

    run = tmp_path / "run"
    run.mkdir()
    _tiny().save(run / "config.json")  # all a failed start (e.g. a worker error) leaves
    assert train(_tiny(), run, seed=0, progress=False) == run
    assert (run / "done.json").is_file()


def test_a_config_only_folder_of_another_config_names_the_differences(tmp_path):
    from neurometa.learn import train

    run = tmp_path / "run"
    run.mkdir()
    _tiny().save(run / "config.json")
    other = _tiny(workers=1).replace(optim=_tiny().optim.replace(learning_rate=0.5))
    with pytest.raises(FileExistsError, match="optim.learning_rate"):
        train(other, run, seed=0, progress=False)


def test_resume_of_a_missing_folder_is_an_error(tmp_path, capsys) -> None:
    err = _fails(capsys, "train", "bandit/independent", "--out", tmp_path / "nothere", "--resume")
    assert "holds no run to continue" in err
    assert not (tmp_path / "nothere").exists()


def test_a_second_trainer_in_the_same_folder_is_locked_out(tmp_path) -> None:
    from neurometa.learn import train
    from neurometa.learn.run_folder import run_lock

    run = tmp_path / "run"
    with run_lock(run), pytest.raises(FileExistsError, match="being trained by another"):
        train(_tiny(), run, seed=0, resume=True, progress=False)
    assert not (run / ".lock").exists()  # released and removed
    train(_tiny(), run, seed=0, resume=True, progress=False)  # free again


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    return int(child.stdout)


def test_leftovers_of_killed_writers_are_removed(tmp_path, capsys) -> None:
    from neurometa.atomic import remove_stale_temps

    dead, alive = _dead_pid(), __import__("os").getpid()
    stale = tmp_path / f".rec.nc.{dead}.abcd.tmp.nc"
    live = tmp_path / f".rec.nc.{alive}.efgh.tmp.nc"  # a concurrent writer: kept
    rendezvous = tmp_path / f".rendezvous-{dead}-x1y2"
    for path in (stale, live, rendezvous):
        path.write_text("partial")
    assert main(["record", *BANDIT, "--episodes", "2", "--out", str(tmp_path / "rec.nc"),
                 "--no-progress"]) == 0  # fmt: skip
    assert not stale.exists()
    assert live.exists()
    assert remove_stale_temps(tmp_path / "rendezvous", prefix=".rendezvous-") == [rendezvous]


def test_sigint_to_a_two_worker_train_stops_it_at_once(tmp_path) -> None:
    """``kill -INT <pid>`` (not the whole group): the workers stop too, the checkpoint stays."""
    import os
    import signal
    import subprocess
    import sys
    import time

    run = tmp_path / "run"
    argv = [sys.executable, "-m", "neurometa", "train", "bandit/independent", "--out", str(run),
            "--updates", "100000", "--set", "workers=2", "--set", "optim.batch_size=4",
            "--set", "network.num_units=4", "--set", 'task.overrides={"num_trials": 5}',
            "--set", "eval.interval=0", "--set", "checkpoint_interval=1",
            "--no-progress"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not (run / "checkpoint.pt").is_file() and proc.poll() is None:
        assert time.monotonic() < deadline, "training did not start"
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the trainer went on after SIGINT")
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert "Traceback" not in err
    from neurometa.learn.checkpoint import load_checkpoint

    assert load_checkpoint(run / "checkpoint.pt")["update"] < 100000
    assert not list(run.glob(".rendezvous-*"))
    assert not (run / "done.json").exists()


def test_a_misspelt_sweep_metric_is_refused_before_any_run(tmp_path) -> None:
    from neurometa.config import ConfigError
    from neurometa.sweep import SweepSpec, run_sweep

    spec = SweepSpec.from_dict({"action": "train", "base": "bandit/independent",
                                "grid": {"optim.learning_rate": [1e-3]}, "seeds": [0],
                                "metric": "final_regrte"})  # fmt: skip
    with pytest.raises(ConfigError, match="did you mean 'final_regret'"):
        run_sweep(spec, tmp_path / "out", progress=False)
    assert not (tmp_path / "out" / "runs").exists()


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from neurometa.learn import train

    return train(_tiny(), tmp_path_factory.mktemp("run") / "run", seed=0, progress=False)


@pytest.mark.parametrize("damage", ["truncated", "random"])
def test_a_damaged_checkpoint_is_named(tiny_run, damage, tmp_path, capsys) -> None:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    (run / "best.pt").unlink(missing_ok=True)
    data = (run / "checkpoint.pt").read_bytes()
    damaged = data[: len(data) // 3] if damage == "truncated" else bytes(range(256)) * 4
    (run / "checkpoint.pt").write_bytes(damaged)
    err = _fails(capsys, "record", "--run", run, "--episodes", 2, "--out", tmp_path / "r.nc")
    assert f"{run / 'checkpoint.pt'}: not a readable checkpoint" in err
    assert not (tmp_path / "r.nc").exists()


def test_recording_an_unfinished_run_says_which_update_it_used(tiny_run, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    (run / "done.json").unlink()  # stopped (or diverged) before the end
    (run / "best.pt").unlink(missing_ok=True)
    out = tmp_path / "r.nc"
    assert main(["record", "--run", str(run), "--episodes", "2", "--out", str(out),
                 "--no-progress"]) == 0  # fmt: skip
    assert "unfinished" in capsys.readouterr().err
    weights = json.loads(open_recording(out).attrs["config_json"])["weights"]
    assert weights == {"file": "checkpoint.pt", "update": 2, "num_updates": 2,
                       "run_finished": False}  # fmt: skip
