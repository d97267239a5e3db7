"""Strict JSON from results: numpy to Python, NaN and infinities to null."""

from __future__ import annotations

import json

import numpy as np

from neurometa.jsonable import jsonable


def test_numpy_values_and_non_finite_floats_become_strict_json():
    obj = {1: np.float32(0.5), "a": (np.int64(2), float("inf")), "b": np.array([[1.0, np.nan]])}
    got = jsonable(obj)
    assert got == {"1": 0.5, "a": [2, None], "b": [[1.0, None]]}
    assert json.loads(json.dumps(got, allow_nan=False)) == got
