"""The README main job end to end, at a tiny budget: every output exists and is consistent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from neurometa.demo import BASELINES, run_demo


def test_demo_writes_report_figures_and_recordings_on_shared_episodes(tmp_path):
    result = run_demo(tmp_path, seed=3, updates=4, episodes=40, progress=False)
    for name in ("report.md", "regret.csv", "regret_curves.png", "example_episodes.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert (tmp_path / "run" / "done.json").is_file()
    agent = xr.open_dataset(tmp_path / "agent.nc")
    optimal = xr.open_dataset(tmp_path / "bayes_optimal.nc")
    # Agent and baselines are tested on the very same episodes.
    np.testing.assert_array_equal(agent["arm_probs"].values, optimal["arm_probs"].values)
    assert agent.sizes["episode"] == 40
    assert set(result.regret) == {"meta-RL agent", *BASELINES}
    # The regret table's final row per agent matches the summary the report uses.
    table = pd.read_csv(tmp_path / "regret.csv").set_index(["agent", "trial"])
    for label, final in result.regret.items():
        assert np.isclose(table.loc[(label, 100), "mean"], final["mean"])
    # Bayes-optimal is the lower bound in expectation; on 40 shared episodes it beats UCB1.
    assert result.regret["bayes_optimal"]["mean"] < result.regret["ucb1"]["mean"]
    assert "ratio to Bayes-optimal" in result.report.read_text()
