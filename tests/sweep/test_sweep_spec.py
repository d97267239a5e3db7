"""Sweep specs: expansion into runs, validation, loading, presets."""

from __future__ import annotations

import pytest
from sweep_toys import toy_spec

from neurometa.atomic import write_json_atomic
from neurometa.config import ConfigError
from neurometa.sweep import (
    load_spec,
    plan_runs,
    run_sweep,
)
from neurometa.sweep.engine import prepare_tasks
from neurometa.sweep.presets import SWEEP_PRESETS


def test_plan_runs_grid_times_seeds():
    spec = toy_spec(grid={"x": (0.5, 1.5), "steps": (1, 2, 3)}, seeds=(0, 4))
    runs = plan_runs(spec)
    assert spec.num_runs == len(runs) == 12
    assert len({r.run_id for r in runs}) == 12
    assert runs[0].overrides == {"x": 0.5, "steps": 1}
    assert runs[0].seed == 0
    assert runs[-1].overrides == {"x": 1.5, "steps": 3}
    assert runs[-1].seed == 4
    assert runs[-1].index == (1, 2)
    assert runs[0].run_id == "steps=1__x=0.5__seed=0"


def test_plan_runs_settings_cross_grid():
    spec = toy_spec(grid={"x": (0.0, 1.0)}, settings=({"steps": 1}, {"steps": 5, "fail": True}))
    runs = plan_runs(spec)
    assert len(runs) == 2 * 2 * 2
    assert runs[4].overrides == {"steps": 5, "fail": True, "x": 0.0}
    assert runs[4].index == (1, 0)


def test_fixed_overrides_apply_to_every_run_but_are_not_swept():
    spec = toy_spec(overrides={"steps": 7}, grid={"x": (0.0, 1.0)}, seeds=(0,))
    runs = plan_runs(spec)
    assert [r.overrides for r in runs] == [{"steps": 7, "x": 0.0}, {"steps": 7, "x": 1.0}]
    assert [r.run_id for r in runs] == ["x=0.0__seed=0", "x=1.0__seed=0"]
    with pytest.raises(ConfigError, match="overrides fixes \\['x'\\]"):
        toy_spec(overrides={"x": 1.0})


@pytest.mark.parametrize("name", sorted(SWEEP_PRESETS), ids=sorted(SWEEP_PRESETS))
def test_sweep_presets_resolve_every_run(name, tmp_path):
    spec = SWEEP_PRESETS[name]
    tasks, done = prepare_tasks(spec, tmp_path)
    assert (len(tasks), done) == (spec.num_runs, 0)
    for task, run in zip(tasks, plan_runs(spec), strict=True):
        for key, value in run.overrides.items():
            node = task.config
            for part in key.split("."):
                node = getattr(node, part)
            assert node == value


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"seeds": (1, 1)}, "duplicates"),
        ({"seeds": ()}, "at least one seed"),
        ({"grid": {"x": ()}}, "no values"),
        ({"grid": {"x": (1.0, 1.0)}}, "duplicate values"),
        ({"settings": ({"x": 3.0},)}, "grid also sweeps"),
        ({"goal": "best"}, "goal"),
        ({"threads_per_run": 0}, "threads_per_run"),
        ({"grid": {"seed": (1, 2)}}, "swept key 'seed' is a reserved name"),
        ({"settings": ({"status": 1},)}, "swept key 'status' is a reserved name"),
    ],
    ids=[
        "dup-seeds",
        "no-seeds",
        "empty-grid",
        "dup-grid",
        "clash",
        "goal",
        "threads",
        "grid-seed",
        "settings-status",
    ],  # fmt: skip
)
def test_spec_rejects_bad_input(changes, message):
    with pytest.raises(ConfigError, match=message):
        toy_spec(**changes)


def test_load_spec_file_is_strict(tmp_path):
    path = tmp_path / "spec.json"
    write_json_atomic(path, {"action": "toy", "base": "toy", "seed": [0]})
    with pytest.raises(ConfigError, match="unknown key 'seed'.*did you mean 'seeds'"):
        load_spec(path)
    with pytest.raises(ConfigError, match="neither a file nor a preset; presets: demo"):
        load_spec(tmp_path / "missing.json", presets={"demo": toy_spec()})


def test_bad_override_fails_before_any_cluster(tmp_path):
    spec = toy_spec(grid={"xx": (1.0,)})
    with pytest.raises(ConfigError, match="override xx=1.0: ToyConfig: unknown key 'xx'"):
        run_sweep(spec, tmp_path, scheduler="tcp://127.0.0.1:9", progress=False)
    assert not (tmp_path / "runs").exists()


def test_cli_lists_presets_and_actions(capsys):
    from neurometa.cli import main

    assert main(["sweep", "--list"]) == 0
    out = capsys.readouterr().out
    assert "quick/bandit: train bandit/independent, 4 runs" in out
    for action in ("train", "record", "analyse", "toy"):
        assert f"\n  {action}: " in out
