"""Figures: drawn into a given Axes, n and error bars stated, NaN never drawn as zero."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neurometa.analysis import plotting
from neurometa.sweep.report import plot_settings

ROOT = Path(__file__).resolve().parents[2]


def _coding() -> xr.Dataset:
    terms = ["intercept", "prev_action", "prev_reward", "interaction", "value"]
    frac = np.array([0.9, 0.8, 0.5, 0.3, 0.7])
    return xr.Dataset(
        {
            "fraction": ("term", frac),
            "fraction_low": ("term", frac - 0.1),
            "fraction_high": ("term", frac + 0.05),
            "chance": ("term", np.full(5, 0.05)),
            "chance_low": ("term", np.full(5, 0.02)),
            "chance_high": ("term", np.full(5, 0.09)),
        },
        coords={"term": terms},
        attrs={"num_units": 48, "num_obs": 2000, "num_shuffles": 20, "alpha": 0.05, "ci": 0.95},
    )


def _stay() -> pd.DataFrame:
    stay = pd.DataFrame(
        {
            "transition": ["common", "common", "rare", "rare"],
            "outcome": ["rewarded", "unrewarded", "rewarded", "unrewarded"],
            "p_stay": [0.9, 0.6, 0.6, 0.9],
            "ci_low": [0.85, 0.55, 0.5, 0.8],
            "ci_high": [0.95, 0.65, 0.7, 0.95],
            "num_trials": [70, 70, 30, 30],
        }
    )
    stay.attrs.update(resampled="subject", averaged="subjects", num_subjects=12, ci=0.9)
    return stay


def _rpe() -> xr.Dataset:
    return xr.Dataset(
        {
            "coef": (("event", "term"), [[0.1, 0.8, 0.7], [0.0, 0.9, np.nan]]),
            "se": (("event", "term"), [[0.01, 0.02, 0.02], [0.01, 0.02, np.nan]]),
        },
        coords={
            "event": ["second_stage_onset", "outcome"],
            "term": ["intercept", "rpe_mf", "rpe_mb_minus_mf"],
        },
        attrs={"num_obs": 1000, "signal": "rpe"},
    )


def _curve() -> xr.Dataset:
    return xr.Dataset(
        {"mean": ("trial", np.linspace(0, 2, 10)), "sem": ("trial", np.full(10, 0.1))},
        coords={"trial": np.arange(1, 11)},
        attrs={"num_episodes": 500},
    )


def _accuracy() -> xr.Dataset:
    return xr.Dataset(
        {"accuracy": ("trial", [0.5, 0.9]), "sem": ("trial", [0.05, 0.03])},
        coords={"trial": [1, 2]},
        attrs={"num_episodes": 100},
    )


def _better() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "bin_low": [0.0, 0.5],
            "bin_high": [0.5, 1.0],
            "p_better": [0.6, 0.9],
            "ci_low": [0.55, 0.87],
            "ci_high": [0.65, 0.93],
            "num_trials": [400, 600],
        }
    )


def _settings() -> pd.DataFrame:
    table = pd.DataFrame(
        {"lr": [1e-3, 3e-3], "mean": [1.1, 1.3], "std": [0.1, 0.2], "sem": [0.06, 0.12],
         "n_done": [3, 3], "n_failed": [0, 0]}
    )  # fmt: skip
    table.attrs.update(metric="regret", goal="min")
    return table


CASES = {
    "coding": (plotting.plot_coding_fractions, _coding, ("n = 48 units", "Clopper-Pearson")),
    "stay": (plotting.plot_stay_probabilities, _stay, ("n = 200 trials", "12 subjects", "90 %")),
    "regret": (
        lambda c, **kw: plotting.plot_regret_curves({"agent": c}, **kw),
        _curve,
        ("n = 500 episodes", "± 1 SEM"),
    ),
    "rpe": (plotting.plot_rpe_decomposition, _rpe, ("n = 1000 trials", "± 1 SE")),
    "accuracy": (plotting.plot_accuracy_by_trial, _accuracy, ("n = 100 episodes", "SEM")),
    "better_arm": (plotting.plot_better_arm, _better, ("n = 1000 trials", "Wilson")),
    "sweep": (plot_settings, _settings, ("n = 3 seeds", "± 1 SEM")),
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("name", CASES)
def test_draws_into_the_given_axes_and_returns_it(name):
    plot, data, _ = CASES[name]
    fig, (left, right) = plt.subplots(1, 2)
    assert plot(data(), ax=right) is right
    assert right.has_data()
    assert not left.has_data()
    assert plt.get_fignums() == [fig.number]  # no second figure was opened


@pytest.mark.parametrize("name", CASES)
def test_title_states_n_and_the_error_bars(name):
    plot, data, needles = CASES[name]
    title = plot(data()).get_title()
    for needle in needles:
        assert needle in title


@pytest.mark.parametrize(
    "name", [n for n in CASES if n not in ("accuracy", "better_arm", "sweep")]
)
def test_legend_lies_outside_the_data(name):
    plot, data, _ = CASES[name]
    ax = plot(data())
    ax.figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1


def test_rpe_nan_coefficient_is_no_bar_but_marked():
    ax = plotting.plot_rpe_decomposition(_rpe())
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 3  # 2 onset bars + 1 outcome bar; the undefined one is absent
    assert 0.0 not in heights
    assert [t.get_text() for t in ax.texts] == ["n/a"]
    assert "undefined" in ax.get_title()


def test_rpe_with_a_unit_dimension_asks_for_one_unit():
    res = _rpe().expand_dims(unit=[0, 1])
    with pytest.raises(ValueError, match="select one first"):
        plotting.plot_rpe_decomposition(res)


def test_coding_chance_is_a_marker_beside_each_bar_not_a_stacked_band():
    ax = plotting.plot_coding_fractions(_coding())
    assert len(ax.patches) == 4  # the four observed bars, nothing stacked on them
    assert not ax.collections or all(
        type(c).__name__ != "FillBetweenPolyCollection" for c in ax.collections
    )
    chance_line = [ln for ln in ax.lines if ln.get_marker() == "D"]
    assert len(chance_line) == 1
    bar_x = [p.get_x() + p.get_width() for p in ax.patches]
    assert np.all(chance_line[0].get_xdata() > np.array(bar_x))  # right of each bar


def test_save_figure_takes_an_axes(tmp_path):
    ax = plotting.plot_better_arm(_better())
    plotting.save_figure(ax, tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 1000
    assert plt.get_fignums() == []


def test_no_backend_switch_anywhere_in_the_library():
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "neurometa").rglob("*.py")
        if "matplotlib.use(" in p.read_text()
    ]
    assert offenders == []


def test_importing_the_figure_modules_keeps_the_notebook_backend():
    code = (
        "import matplotlib\n"
        "matplotlib.use('svg')\n"
        "import neurometa.analysis.plotting, neurometa.sweep.report\n"
        "import neurometa.analysis.compare_report\n"
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
