"""``neurometa record --agent mfec|nec|box2``: online episodic learners recorded via the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from neurometa.cli import main
from neurometa.record import open_recording, validate_recording


def _record(out: Path, agent: str, episodes: int, *extra: str) -> int:
    argv = ["record", "--agent", agent, "--task", "gridworld/5x5", "--task-set", "num_steps=10",
            "--episodes", str(episodes), "--out", str(out), "--no-progress", "--json",
            *extra]  # fmt: skip
    return main(argv)


@pytest.mark.parametrize("agent", ["mfec", "nec", "box2"], ids=["mfec", "nec", "box2"])
def test_record_episodic_agent_carries_memory_readouts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], agent: str
) -> None:
    out = tmp_path / f"{agent}.nc"
    assert _record(out, agent, 4, "--batch-size", "2") == 0
    assert json.loads(capsys.readouterr().out)["agent"] == f"episodic_control/{agent}"
    with open_recording(out) as ds:
        validate_recording(ds)
        for name in ("q_values", "memory_size", "nearest_distance"):
            assert ds[name].dims == ("episode", "step", "action_id")
        size = ds["memory_size"].values
        distance = ds["nearest_distance"].values
        # batch 1 (episodes 0-1) acts on empty stores; batch 2 on the first batch's writes
        assert (size[:2] == 0).all()
        assert np.isinf(distance[:2]).all()
        assert (ds["q_values"].values[:2] == 0).all()
        assert int(size[2:, 0].sum()) > 0
        stored = size > 0
        assert np.isfinite(distance[stored]).all()
        assert np.isinf(distance[~stored]).all()
        np.testing.assert_allclose(ds["value"].values, ds["q_values"].max("action_id").values)
        config = json.loads(ds.attrs["config_json"])
        assert config["agent"]["episodic_control"] == agent
        assert config["agent"]["config"]["method"] == agent


def test_same_seed_same_recording_and_default_batch(tmp_path: Path, capsys) -> None:
    first, second = tmp_path / "a.nc", tmp_path / "b.nc"
    assert _record(first, "mfec", 9, "--param", "epsilon=0.3", "--seed", "4") == 0
    assert _record(second, "mfec", 9, "--param", "epsilon=0.3", "--seed", "4") == 0
    capsys.readouterr()
    with open_recording(first) as a, open_recording(second) as b:
        # the same data; only the history line (time, --out path) tells them apart
        xr.testing.assert_identical(a.load(), b.load().assign_attrs(history=a.history))
        config = json.loads(a.attrs["config_json"])
        assert config["agent"]["config"]["epsilon"] == 0.3
        assert config["recording"]["batch_size"] == 8  # it learns between batches of 8
        assert int(a["memory_size"][8].sum()) > 0  # the 9th episode reads the first 8


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--param", "capacity=0"], "capacity"), (["--param", "kernel=cosine"], "kernel")],
    ids=["out_of_range", "unknown_field"],
)
def test_bad_episodic_param_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert _record(tmp_path / "x.nc", "nec", 2, *extra) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.nc").exists()
