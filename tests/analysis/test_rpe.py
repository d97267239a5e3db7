import numpy as np
import pandas as pd
import pytest
from _synthetic_recordings import hybrid_params, two_step_recording

from neurometa.analysis import rpe
from neurometa.analysis.two_step import two_step_trials
from neurometa.behaviour import fit, get_model

PARAM_NAMES = get_model("hybrid").parameters


def _fits(params: np.ndarray, subject: str = "synthetic") -> pd.DataFrame:
    """The true parameters as a one-subject 'fit' (all episodes share them)."""
    return pd.DataFrame([dict(zip(PARAM_NAMES, params[0], strict=True), subject=subject)])


def test_model_rpes_are_consistent():
    params = np.repeat(hybrid_params(1, np.random.default_rng(0)), 4, axis=0)
    ds, _ = two_step_recording(params, 80, 0)
    table = rpe.model_rpes(two_step_trials(ds), _fits(params))
    np.testing.assert_allclose(
        table["rpe_onset_mb"] - table["rpe_onset_mf"], table["q_mf"] - table["q_mb"]
    )
    np.testing.assert_allclose(table["rpe_outcome"], table["reward"] - table["q2"])
    assert table[["rpe_onset_mf", "rpe_onset_mb", "rpe_outcome"]].notna().all().all()


def test_planted_rpe_mixture_is_recovered_at_each_event():
    params = np.repeat(hybrid_params(1, np.random.default_rng(1)), 10, axis=0)
    ds, _ = two_step_recording(params, 100, 1)
    table = rpe.model_rpes(two_step_trials(ds), _fits(params))
    noise = np.random.default_rng(2).normal(0, 0.05, size=(2, len(table)))
    signal = np.zeros((10, 200))
    ep, tr = table["episode"].to_numpy(), table["trial_index"].to_numpy()
    diff = table["rpe_onset_mb"] - table["rpe_onset_mf"]
    signal[ep, 2 * tr] = 0.2 + 0.8 * table["rpe_onset_mf"] + 1.5 * diff + noise[0]
    signal[ep, 2 * tr + 1] = 1.2 * table["rpe_outcome"] + noise[1]
    ds["rpe"] = (("episode", "step"), signal.astype(np.float32))
    res = rpe.rpe_decomposition(ds, fits=_fits(params))
    onset = res["coef"].sel(event="second_stage_onset")
    np.testing.assert_allclose(onset.values, [0.2, 0.8, 1.5], atol=0.05)
    outcome = res["coef"].sel(event="outcome")
    assert outcome.sel(term="rpe_mf").item() == pytest.approx(1.2, abs=0.05)
    assert np.isnan(outcome.sel(term="rpe_mb_minus_mf").item())
    assert res["p"].sel(event="second_stage_onset", term="rpe_mb_minus_mf").item() < 1e-6


def test_unit_signals_are_fitted_unit_by_unit():
    params = np.repeat(hybrid_params(1, np.random.default_rng(3)), 4, axis=0)
    ds, _ = two_step_recording(params, 60, 3)
    table = rpe.model_rpes(two_step_trials(ds), _fits(params))
    h = np.random.default_rng(4).normal(size=(4, 120, 3))
    ep, tr = table["episode"].to_numpy(), table["trial_index"].to_numpy()
    h[ep, 2 * tr, 0] += 2.0 * table["rpe_onset_mf"]  # unit 0 carries the MF RPE at onset
    ds["h"] = (("episode", "step", "unit"), h.astype(np.float32))
    ds = ds.assign_coords(unit=np.arange(3))
    res = rpe.rpe_decomposition(ds, signal="h", fits=_fits(params))
    assert res["coef"].dims == ("event", "term", "unit")
    p = res["p"].sel(event="second_stage_onset", term="rpe_mf").values
    assert p[0] < 1e-6
    assert (p[1:] > 1e-3).all()


def test_prior_reaches_the_hybrid_fit():
    params = np.repeat(hybrid_params(1, np.random.default_rng(5)), 3, axis=0)
    ds, _ = two_step_recording(params, 40, 5)
    ds["rpe"] = (("episode", "step"), np.random.default_rng(6).normal(size=(3, 80)))
    trials = two_step_trials(ds)
    for prior in (None, "weak"):
        expected = fit(
            "hybrid",
            trials,
            family="two_step",
            num_restarts=2,
            seed=0,
            prior=prior,
            progress=False,
        )
        res = rpe.rpe_decomposition(ds, num_restarts=2, seed=0, prior=prior)
        assert res.attrs["fit_w"] == pytest.approx(float(expected["w"].mean()), abs=1e-12)
        assert res.attrs["fit_beta1"] == pytest.approx(float(expected["beta1"].mean()))


def test_num_obs_counts_the_trials_regressed_not_those_before_dropping():
    params = np.repeat(hybrid_params(1, np.random.default_rng(7)), 3, axis=0)
    ds, _ = two_step_recording(params, 50, 7)
    signal = np.random.default_rng(8).normal(size=(3, 100))
    signal[0, [0, 2, 4]] = np.nan  # first-stage signal missing on three trials
    signal[1, 1] = np.nan  # second-stage signal missing on one
    ds["rpe"] = (("episode", "step"), signal)
    res = rpe.rpe_decomposition(ds, fits=_fits(params))
    assert res.attrs["num_trials"] == 150
    assert res["num_obs"].sel(event="second_stage_onset").item() == 147
    assert res["num_obs"].sel(event="outcome").item() == 149
