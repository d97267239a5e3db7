"""The synthetic NWB bandit session: fitted learning rate and planted coding recovered."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from neurometa import behaviour
from neurometa.analysis.coding import coding_fractions

pytest.importorskip("pynwb")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def nwb_file(tmp_path_factory):
    spec = importlib.util.spec_from_file_location(
        "make_bandit_nwb", ROOT / "datasets" / "make_bandit_nwb.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_bandit_nwb", module)
    spec.loader.exec_module(module)
    return module.write_bandit_nwb(tmp_path_factory.mktemp("nwb") / "bandit.nwb", seed=0)


@pytest.mark.parametrize(
    ("event", "latent", "planted"),
    [("choice_time", "model_chosen_value", "chosen_value"), ("outcome_time", "model_rpe", "rpe")],
    ids=["chosen_value", "rpe"],
)
def test_fitted_value_recovers_learning_rate_and_planted_fractions(
    nwb_file, event, latent, planted
):
    from neurometa.data import read_nwb

    ds = read_nwb(nwb_file, event=event, window=(0.0, 0.5), task="bandit/lab")
    out, fits = behaviour.add_latents(ds, "q_learning", progress=False)
    assert abs(float(fits["alpha"].iloc[0]) - 0.3) < 0.08
    frac = coding_fractions(out, activity="activity", value=out[latent], num_shuffles=2)
    p = float(np.mean(ds["unit_planted_coding"].values == planted))
    expected = p + 0.05 * (1 - p)  # every planted unit plus the false positives of the rest
    low, high = (float(frac[k].sel(term="value")) for k in ("fraction_low", "fraction_high"))
    assert low <= expected <= high
