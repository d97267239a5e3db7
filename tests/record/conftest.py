"""Fixtures of the recording tests."""

from __future__ import annotations

import pytest
import xarray as xr
from record_toys import ToyAgent

from neurometa.record import record
from neurometa.tasks import make


@pytest.fixture
def bandit_recording() -> xr.Dataset:
    """7 episodes x 6 trials of the toy agent on bandit/independent, batches of 3."""
    task = make("bandit/independent", 3, num_trials=6)
    return record(ToyAgent(), task, 7, seed=11, progress=False, preset="bandit/independent")
