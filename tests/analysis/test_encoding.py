"""Encoding models: the ridge engine against scikit-learn, planted neurons, nulls, ceilings."""

import numpy as np
import pytest
import xarray as xr
from _encoding_data import LATENTS, planted_session
from sklearn.model_selection import GroupKFold

from neurometa.analysis._common import AnalysisError
from neurometa.analysis.encoding import encoding_models, trial_groups
from neurometa.analysis.encoding_ridge import fold_ids, fold_stats, ridge_cv, sklearn_ridge_cv
from neurometa.analysis.noise_ceiling import noise_ceiling
from neurometa.analysis.trials import trial_predictors, union_predictors


@pytest.mark.parametrize("constant_feature", [False, True], ids=["plain", "constant-feature"])
def test_ridge_cv_equals_scikit_learn_nested_grid_search(constant_feature):
    rng = np.random.default_rng(3)
    sizes = rng.integers(15, 45, 9)  # unequal groups
    groups = np.repeat(np.arange(9), sizes)
    n = len(groups)
    X = rng.normal(size=(n, 5)) * rng.uniform(0.5, 3, 5) + 4.0
    if constant_feature:
        X[:, 2] = 1.5
    Y = 0.4 * X @ rng.normal(size=(5, 4)) + rng.normal(size=(n, 4)) * 2 + 7.0
    penalties = np.logspace(-2, 4, 7)
    folds = fold_ids(groups, 4)
    res = ridge_cv(fold_stats(X - X.mean(0), Y - Y.mean(0), folds, 4), penalties)
    r2, chosen = sklearn_ridge_cv(X, Y, folds, penalties)
    np.testing.assert_allclose(res.r2, r2, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(res.penalty_index, chosen)


def test_fold_ids_are_group_kfold_and_never_split_a_group():
    groups = np.repeat(np.arange(7), 10)
    folds = fold_ids(groups, 3)
    for k, (_, test) in enumerate(GroupKFold(3).split(groups, groups=groups)):
        assert np.all(folds[test] == k)
    for g in range(7):
        assert np.unique(folds[groups == g]).size == 1
    with pytest.raises(ValueError, match="num_folds must lie in"):
        fold_ids(groups, 8)


@pytest.fixture(scope="module")
def planted():
    ds, is_planted = planted_session(seed=0)
    sets = {
        "latents": trial_predictors(ds, list(LATENTS)),
        "task": trial_predictors(ds, ["action"], previous=["action", "reward"]),
    }
    sets["union"] = union_predictors(sets["latents"], sets["task"])
    return ds, is_planted, sets, encoding_models(ds, sets, num_null=99, seed=1)


def test_planted_neurons_are_explained_and_noise_neurons_at_the_test_level(planted):
    _, is_planted, _, res = planted
    explained = res["explained"].sel(predictor_set="latents").values
    assert explained[is_planted].mean() >= 0.9
    # 200 noise neurons tested at level 0.05: at most the level plus two binomial SDs.
    assert explained[~is_planted].mean() <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 200)
    assert res["fraction_explained"].sel(predictor_set="latents") > 0.3
    r2 = res["r2"].sel(predictor_set="latents").values
    assert np.all(r2[is_planted] > res["null_q95"].sel(predictor_set="latents").values[is_planted])


def test_planted_neurons_are_best_explained_by_their_own_latents(planted):
    _, is_planted, _, res = planted
    best = res["best_set"].values[is_planted]
    assert np.mean(np.isin(best, ["latents", "union"])) >= 0.9
    assert np.mean(res["best_set"].values[~is_planted] == "none") >= 0.85


def _first_neuron(ds, sets):
    """Predictors and activity of neuron 0 on the trials every set has (not the first)."""
    # the task set has the previous trial's action and reward: no first trial of a session
    x = sets["latents"].values[:, 1:].reshape(-1, len(LATENTS))
    y = ds["activity"].values[:, 1:, :1].reshape(-1, 1)
    groups = np.repeat(np.arange(ds.sizes["episode"]), ds.sizes["step"] - 1)
    return x, y, fold_ids(groups, 5)


def test_encoding_r2_of_one_neuron_equals_scikit_learn(planted):
    ds, _, sets, res = planted
    x, y, folds = _first_neuron(ds, sets)
    z = (x - x.mean(0)) / x.std(0)  # standardize="all": z-scored over all trials first
    r2, _ = sklearn_ridge_cv(z, y, folds, res["penalty"].values, standardize=False)
    np.testing.assert_allclose(res["r2"].sel(predictor_set="latents").values[:1], r2, atol=1e-9)


def test_per_fold_standardisation_equals_the_scikit_learn_pipeline(planted):
    ds, _, sets, _ = planted
    res = encoding_models(
        ds.isel(unit=[0]), {"latents": sets["latents"]}, num_null=1, standardize="fold",
        conditions=None,
    )  # fmt: skip
    x, y, _ = _first_neuron(ds, sets)
    groups = np.repeat(np.arange(ds.sizes["episode"]), ds.sizes["step"])
    x = sets["latents"].values.reshape(-1, len(LATENTS))
    y = ds["activity"].values[..., :1].reshape(-1, 1)
    r2, _ = sklearn_ridge_cv(x, y, fold_ids(groups, 5), res["penalty"].values)
    np.testing.assert_allclose(res["r2"].values[0], r2, atol=1e-9)


def test_a_predictor_nearly_constant_in_the_training_folds_does_not_blow_up():
    """A saturated agent unit: flat in most sessions, varying in one."""
    ds, _ = planted_session(num_sessions=6, num_trials=60, num_planted=0, num_noise=4)
    rng = np.random.default_rng(0)
    unit = np.full((6, 60), 0.999) + 1e-7 * rng.normal(size=(6, 60))
    unit[5] = rng.uniform(-1, 1, 60)
    ds["saturated"] = (("episode", "step"), unit)
    sets = {"unit": trial_predictors(ds, ["saturated"])}
    kw = {"num_null": 5, "num_folds": 6, "conditions": None}
    robust = encoding_models(ds, sets, **kw)["r2"].values
    assert np.all(robust > -0.1)
    fragile = encoding_models(ds, sets, standardize="fold", **kw)["r2"].values
    assert np.min(fragile) < robust.min() - 0.1  # the pipeline's scaler extrapolates


def test_noise_ceiling_recovers_the_variance_of_condition_means():
    rng = np.random.default_rng(0)
    cond = np.repeat(np.arange(6), 300)
    means = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 1.5])
    signal = means.var()  # equal trials per condition
    y = np.column_stack([means[cond] + rng.normal(size=cond.size) * s for s in (0.5, 1.0, 2.0)])
    ceiling, reliability = noise_ceiling(y, cond, num_splits=50, seed=2)
    truth = signal / (signal + np.array([0.25, 1.0, 4.0]))
    np.testing.assert_allclose(ceiling, truth, atol=0.03)
    assert np.all(np.diff(reliability) < 0)
    assert reliability[0] > 0.99


def test_a_condition_model_reaches_the_noise_ceiling():
    ds, _ = planted_session(seed=2, num_planted=0, num_noise=20, drift=0.0)
    cond = (ds["action"].values * 2 + ds["reward"].values).astype(float)
    ds["activity"] = ds["activity"] + 0.8 * cond[..., None] * np.linspace(0, 1, 20)
    ds["cond"] = (("episode", "step"), cond.astype(np.int64))
    sets = {"conditions": trial_predictors(ds, ["cond"], categorical=["cond"])}
    res = encoding_models(ds, sets, num_null=19, conditions=["cond"])
    r2 = res["r2"].sel(predictor_set="conditions").values
    np.testing.assert_allclose(r2[5:], res["noise_ceiling"].values[5:], atol=0.03)


def _relabel(ds, **coords):
    return ds.assign_coords({k: ("episode", v) for k, v in coords.items()})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda ds: ds.isel(episode=slice(1, None)), "do not line up trial for trial"),
        (lambda ds: _relabel(ds, subject=["m2"] * ds.sizes["episode"]), "different subjects"),
        (lambda ds: ds.assign(action=1 - ds["action"]), "choices differ on"),
        (lambda ds: ds.assign(trial_id=ds["trial_id"] + 1), "trial numbers differ"),
    ],
    ids=["episodes", "subjects", "choices", "trial-numbers"],
)
def test_predictors_from_other_trials_are_an_error(change, message):
    ds, _ = planted_session(num_planted=2, num_noise=2)
    other = trial_predictors(change(ds), ["q_chosen"])
    with pytest.raises(AnalysisError, match=message):
        encoding_models(ds, {"model": other}, num_null=5)


def test_session_null_needs_sessions_of_equal_length():
    ds, _ = planted_session(num_planted=2, num_noise=2)
    ds["activity"][0, -5:] = np.nan
    with pytest.raises(AnalysisError, match="same number of usable trials"):
        encoding_models(ds, {"m": trial_predictors(ds, ["rpe"])}, null="session", num_null=5)


def test_groups_by_block_variable_and_contiguous_blocks():
    ds, _ = planted_session(num_sessions=2, num_trials=40, num_planted=2, num_noise=2)
    ds["block"] = (("episode", "step"), np.repeat([[0, 1, 1, 0]], 2, 0).repeat(10, 1))
    by_block = trial_groups(ds, group_by="block")
    assert np.unique(by_block).size == 6  # runs 0,1,0 within each of the 2 sessions
    assert np.all(by_block[0, :10] == by_block[0, 0])
    assert by_block[0, 30] != by_block[0, 0]
    chunks = trial_groups(ds, block_length=15)
    assert np.unique(chunks).size == 6
    assert np.all(chunks[1, :15] == chunks[1, 0])
    res = encoding_models(
        ds, {"m": trial_predictors(ds, ["rpe"])}, group_by="block", num_folds=3, num_null=5
    )
    assert res.attrs["num_groups"] == 6


def test_result_is_labelled_and_round_trips(planted, tmp_path):
    *_, res = planted
    for name in res.variables:
        assert {"long_name", "units"} <= set(res[name].attrs), name
    res.to_netcdf(tmp_path / "enc.nc", engine="h5netcdf")
    xr.testing.assert_identical(
        xr.open_dataset(tmp_path / "enc.nc", engine="h5netcdf").load(), res
    )


def test_incomplete_neurons_are_left_out_and_counted():
    ds, _ = planted_session(num_planted=3, num_noise=3)
    ds["activity"][2, 7, 1] = np.nan
    res = encoding_models(ds, {"m": trial_predictors(ds, list(LATENTS))}, num_null=9)
    assert res.attrs["num_incomplete_neurons"] == 1
    assert res.attrs["num_neurons"] == 5
    assert np.isnan(res["r2"].values[0, 1])
    assert not res["explained"].values[0, 1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"penalties": [0.0, 1.0]}, "penalties must be positive"),
        ({"num_folds": 2}, "num_folds must lie in"),
        ({"null": "random"}, "null must be 'circular' or 'session'"),
        ({"alpha": 1.5}, "alpha must lie in"),
    ],
    ids=["penalty", "folds", "null", "alpha"],
)
def test_bad_settings_are_clear_errors(kwargs, message):
    ds, _ = planted_session(num_planted=1, num_noise=1)
    with pytest.raises((AnalysisError, ValueError), match=message):
        encoding_models(ds, {"m": trial_predictors(ds, ["rpe"])}, num_null=5, **kwargs)


def test_figures_take_an_axes_and_state_n(planted):
    import matplotlib.pyplot as plt

    from neurometa.analysis.encoding_plots import plot_encoding_fractions, plot_encoding_scatter

    *_, res = planted
    fig, axes = plt.subplots(1, 2)
    assert plot_encoding_fractions(res, ax=axes[0]) is axes[0]
    assert plot_encoding_scatter(res, "latents", "task", ax=axes[1]) is axes[1]
    assert "n = 300 neurons" in axes[0].get_title()
    assert "CI" in axes[0].get_title()
    plt.close(fig)


def test_analyze_encoding_command_writes_results(tmp_path, capsys):
    import json

    from neurometa.cli import main

    ds, _ = planted_session(num_sessions=4, num_trials=60, num_planted=5, num_noise=5)
    path = tmp_path / "neural.nc"
    ds.to_netcdf(path, engine="h5netcdf")
    argv = ["analyze", "encoding", str(path), "--out", str(tmp_path / "o"), "--json"]
    opts = ["--set", "latents=0:q_chosen,q_diff,rpe", "--set", "task=0:action,prev_reward"]
    assert (
        main([*argv, *opts, "--union", "latents+task", "--null-draws", "9", "--folds", "4"]) == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert set(summary["sets"]) == {"latents", "task", "latents+task"}
    assert summary["num_neurons"] == 10
    for name in ("encoding.nc", "encoding_neurons.csv", "encoding.png"):
        assert (tmp_path / "o" / name).is_file()
    assert main([*argv, "--set", "bad=3:h"]) == 2
    assert "input 3 does not exist" in capsys.readouterr().err
