"""An in-memory DataFrame becomes the same recording as the CSV written from it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neurometa.data.frames import from_dataframe
from neurometa.data.tables import (
    TableError,
    read_bandit_csv,
    read_two_step_csv,
    table_to_recording,
)
from neurometa.record.validate import validate_recording


def _two_step_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 40
    choice1 = rng.integers(0, 2, n)
    common = rng.random(n) < 0.7
    return pd.DataFrame(
        {
            "subject": np.repeat(["r1", "r2"], n // 2),
            "trial": np.tile(np.arange(1, n // 2 + 1), 2),
            "choice1": choice1,
            "state2": np.where(common, choice1, 1 - choice1),
            "choice2": rng.integers(0, 2, n),
            "reward": rng.integers(0, 2, n).astype(float),
            "rt_ms": rng.normal(300, 20, n),
        }
    )


def test_two_step_frame_equals_its_csv(tmp_path):
    frame = _two_step_frame()
    frame.loc[3, "choice2"] = np.nan  # a missed trial
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    from_csv = table_to_recording(read_two_step_csv(path))
    from_frame = from_dataframe(frame, "two_step")
    validate_recording(from_frame)
    assert from_frame.attrs["num_missed_trials"] == 1
    xr.testing.assert_allclose(from_frame.drop_attrs(), from_csv.drop_attrs())
    # The attrs differ only in where the table came from.
    assert json.loads(from_frame.attrs.pop("config_json"))["path"] == "DataFrame"
    assert json.loads(from_csv.attrs.pop("config_json"))["path"] == str(path)
    assert from_frame.attrs == from_csv.attrs


def test_bandit_frame_with_sessions(tmp_path):
    frame = pd.DataFrame(
        {
            "subject": ["m1"] * 6,
            "session": ["a", "a", "a", "b", "b", "b"],
            "trial": [1, 2, 3, 1, 2, 3],
            "choice": [0, 1, 1, 2, 2, 0],
            "reward": [1.0, 0.0, 1.0, 1.0, 0.0, 0.0],
        }
    )
    path = tmp_path / "b.csv"
    frame.to_csv(path, index=False)
    ds = from_dataframe(frame, "bandit")
    assert ds.sizes["episode"] == 2
    np.testing.assert_array_equal(ds["action"].values, [[0, 1, 1], [2, 2, 0]])
    xr.testing.assert_identical(
        ds.drop_attrs(), table_to_recording(read_bandit_csv(path)).drop_attrs()
    )


def test_problems_are_named_by_row():
    frame = _two_step_frame().head(4).astype({"reward": object})
    frame.loc[2, "choice1"] = 3
    frame.loc[1, "reward"] = "lots"
    with pytest.raises(TableError, match=r"my session: 2 problem") as err:
        from_dataframe(frame, "two_step", name="my session")
    assert "row 1: column 'reward' is not a number: 'lots'" in str(err.value)
    assert "row 2: column 'choice1' must be 0 or 1" in str(err.value)


def test_missing_columns_and_unknown_layout_are_clear_errors():
    with pytest.raises(TableError, match="missing column"):
        from_dataframe(pd.DataFrame({"subject": ["a"], "trial": [1]}), "bandit")
    with pytest.raises(ValueError, match="unknown layout 'bandits'"):
        from_dataframe(pd.DataFrame(), "bandits")
    with pytest.raises(TypeError, match="needs a pandas DataFrame"):
        from_dataframe({"subject": ["a"]}, "bandit")
