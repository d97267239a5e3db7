"""The built-in train, record and analyse actions against the real trainer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurometa.sweep import (
    SweepSpec,
    open_results,
    run_sweep,
)
from neurometa.sweep.engine import prepare_tasks

# ---------------------------------------------------------------- the real trainer

TINY_TRAINING = {
    "optim.num_updates": 4,
    "optim.batch_size": 8,
    "eval.interval": 0,
    "eval.episodes": 8,
    "checkpoint_interval": 2,
}


def test_train_action_reports_the_trainers_final_figures(tmp_path):
    from neurometa.learn.evaluate import selection_score
    from neurometa.sweep.builtin import train_run

    spec = SweepSpec(action="train", base="bandit/independent", overrides=TINY_TRAINING)
    config = prepare_tasks(spec, tmp_path)[0][0].config
    results = train_run(config, tmp_path / "r", seed=5, resume=False)
    done = json.loads((tmp_path / "r" / "done.json").read_text())
    assert results["final_regret"] == done["final_eval"]["regret"]
    assert results["final_return"] == done["final_eval"]["return"]
    assert results["final_score"] == selection_score(done["final_eval"])
    assert results["env_steps"] == 4 * 8 * 100
    stamp = (tmp_path / "r" / "checkpoint.pt").stat().st_mtime_ns
    assert train_run(config, tmp_path / "r", seed=5, resume=True) == results  # no retraining
    assert (tmp_path / "r" / "checkpoint.pt").stat().st_mtime_ns == stamp


@pytest.mark.slow
def test_train_sweep_on_cluster_matches_direct_training(client, tmp_path):
    from neurometa.sweep.builtin import train_run

    spec = SweepSpec(
        action="train",
        base="bandit/independent",
        overrides=TINY_TRAINING,
        grid={"optim.learning_rate": (1e-3, 1e-2)},
        seeds=(3,),
        metric="final_regret",
    )
    report = run_sweep(spec, tmp_path / "sweep", client=client, progress=False)
    assert report.failed == {}
    ds = open_results(report.results_path)
    task = prepare_tasks(spec, tmp_path / "direct")[0][1]  # learning rate 1e-2
    direct = train_run(task.config, tmp_path / "direct-run", seed=3, resume=False)
    swept = ds.sel({"optim.learning_rate": 1e-2, "seed": 3})
    for name in ("final_regret", "final_return", "train_regret", "env_steps"):
        assert float(swept[name]) == pytest.approx(direct[name], rel=1e-6)
    assert report.summary["metric"] == "final_regret"


@pytest.mark.slow
def test_record_and_analyse_actions_report_figures_of_the_recording(tmp_path):
    from neurometa.analysis.coding import coding_fractions
    from neurometa.record import open_recording
    from neurometa.seeding import RunSeeds
    from neurometa.sweep.builtin import RECORD_EPISODES, analyse_run

    spec = SweepSpec(action="analyse", base="bandit/independent", overrides=TINY_TRAINING)
    config = prepare_tasks(spec, tmp_path)[0][0].config
    results = analyse_run(config, tmp_path / "r", seed=2, resume=False)
    with open_recording(tmp_path / "r" / "recording.nc") as ds:
        assert ds.sizes["episode"] == RECORD_EPISODES
        probs, actions = ds["arm_probs"].values, ds["action"].values
        chosen = np.take_along_axis(probs, actions[..., None], axis=-1)[..., 0]
        regret = (probs.max(-1) - chosen).sum(1).mean()
        assert results["record_regret"] == pytest.approx(regret, rel=1e-6)
        mean_return = float(ds["reward"].sum("step").mean())
        assert results["record_return"] == pytest.approx(mean_return, rel=1e-6)
        fractions = coding_fractions(ds.load(), seed=RunSeeds(2).int("extra") % 2**31)
    for term in ("prev_action", "prev_reward", "interaction", "value"):
        want = fractions.sel(term=term)
        assert results[f"coding_{term}"] == float(want["fraction"])
        assert results[f"coding_{term}_chance"] == float(want["chance"])


def test_sweep_runs_train_in_one_process_each():
    # Dask workers are daemonic and cannot start the two workers the bandit presets use
    # when trained alone; a sweep runs several runs at once instead.
    from neurometa.learn import PRESETS
    from neurometa.sweep.builtin import train_preset

    assert PRESETS["bandit/independent"].workers == 2
    config = train_preset("bandit/independent")
    assert config.workers == 1
    assert config.optim == PRESETS["bandit/independent"].optim
