"""Presets of every task family, and the ``neurometa train`` command."""

from __future__ import annotations

import json

import pytest

from neurometa.cli import main
from neurometa.config import replace_paths
from neurometa.learn import PRESETS, TrainConfig, train
from neurometa.learn.presets import get_preset


@pytest.mark.parametrize("name", list(PRESETS), ids=list(PRESETS))
def test_every_preset_trains_one_small_update(name, tmp_path):
    cfg = PRESETS[name]
    assert TrainConfig.from_json(cfg.to_json()) == cfg
    small = replace_paths(
        cfg,
        {
            "optim.batch_size": 2,
            "optim.num_updates": 1,
            "eval.episodes": 2,
            "workers": 1,  # several workers: tests/learn/test_parallel.py
        },
    )
    run = train(small, tmp_path / "run", seed=0, progress=False)
    done = json.loads((run / "done.json").read_text())
    assert done["updates"] == 1
    assert done["env_steps"] > 0


def test_wang2018_preset_keeps_the_published_hyperparameters():
    opt = PRESETS["bandit/independent/published"].optim
    assert (opt.discount, opt.value_cost, opt.entropy_cost, opt.learning_rate) == (
        0.9,
        0.05,
        0.05,
        7e-4,
    )
    assert opt.entropy_final == opt.entropy_cost  # no anneal
    assert PRESETS["bandit/independent/published"].network.num_units == 48


@pytest.mark.parametrize("old", ["wang2018", "wang2018/two_step", "wang2018/harlow"])
def test_the_earlier_names_of_the_published_presets_are_named_errors(old):
    with pytest.raises(KeyError, match=f"{old!r} is now called '.*/published'"):
        get_preset(old)


def test_bandit_presets_differ_from_the_default_only_where_documented():
    default = PRESETS["bandit/fixed_0.4_0.6"]  # the shared bandit default, unchanged
    optim = default.optim
    assert (optim.discount, optim.entropy_cost, optim.learning_rate) == (1.0, 0.05, 3e-3)
    changed = {
        "bandit/independent": {"optim.learning_rate": 8e-3},
        "bandit/fixed_0.1_0.9": {"optim.discount": 0.9},
        "bandit/fixed_0.25_0.75": {"optim.discount": 0.9},
        "bandit/correlated": {"optim.discount": 0.9, "optim.entropy_cost": 0.1},
    }
    for name, changes in changed.items():
        assert replace_paths(default, changes).optim == PRESETS[name].optim


@pytest.mark.parametrize(
    "family", ["bandit/", "harlow/", "two_step/", "foraging/"], ids=lambda f: f.strip("/")
)
def test_each_task_family_has_a_preset(family):
    assert any(name.startswith(family) for name in PRESETS)


def test_unknown_preset_names_the_closest():
    with pytest.raises(KeyError, match="bandit/independent"):
        get_preset("bandit/independant")


def test_cli_train_and_resume(tmp_path, capsys):
    out = tmp_path / "run"
    args = [
        "train",
        "bandit/independent",
        "--out",
        str(out),
        "--seed",
        "3",
        "--updates",
        "2",
        "--set",
        "optim.batch_size=4",
        "--set",
        "eval.episodes=5",
        "--set",
        'task.overrides={"num_trials": 6}',
        "--no-progress",
        "--json",
    ]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["updates"] == 2
    assert report["env_steps"] == 2 * 4 * 6
    assert report["seed"] == 3
    assert TrainConfig.load(out / "config.json").optim.batch_size == 4
    assert main(args) == 0  # a finished run of the same config: returned as it is
    assert json.loads(capsys.readouterr().out) == report
    assert main([*args, "--resume"]) == 0
    capsys.readouterr()
    other = [*args, "--set", "optim.learning_rate=0.01"]
    assert main(other) == 2  # another config: a new folder, please
    assert "optim.learning_rate" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "optim.lr=1"], "unknown key 'lr'"),
        (["--set", "optim.discount=2"], "discount"),
        (["--set", "nonsense"], "KEY=VALUE"),
    ],
    ids=["misspelt_key", "out_of_range", "no_equals"],
)
def test_cli_bad_overrides_are_one_line_errors(tmp_path, capsys, extra, message):
    code = main(["train", "bandit/independent", "--out", str(tmp_path / "r"), *extra])
    assert code == 2
    assert message in capsys.readouterr().err
