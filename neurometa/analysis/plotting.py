"""Figures of the analyses (matplotlib, Agg); computing lives elsewhere.

Each function takes the output of one analysis and returns a ``Figure``;
:func:`save_figure` writes it atomically as PNG.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from neurometa.atomic import atomic_path  # noqa: E402

__all__ = [
    "save_figure",
    "plot_coding_fractions",
    "plot_stay_probabilities",
    "plot_regret_curves",
    "plot_rpe_decomposition",
    "plot_accuracy_by_trial",
    "plot_better_arm",
]


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 120) -> None:
    """Write ``fig`` as PNG to ``path`` atomically and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", bbox_inches="tight")
    plt.close(fig)


def plot_coding_fractions(fractions: xr.Dataset) -> Figure:
    """Fraction of coding units per regressor (intercept left out), CIs and shuffle chance."""
    fig, ax = plt.subplots(figsize=(5, 3))
    fractions = fractions.sel(term=[t for t in fractions["term"].values if t != "intercept"])
    terms = [str(t) for t in fractions["term"].values]
    x = np.arange(len(terms))
    frac = fractions["fraction"].values
    err = [frac - fractions["fraction_low"].values, fractions["fraction_high"].values - frac]
    ax.bar(x, frac, yerr=err, color="tab:blue", capsize=3, label="observed")
    for i in x:
        ax.fill_between(
            [i - 0.4, i + 0.4],
            fractions["chance_low"].values[i],
            fractions["chance_high"].values[i],
            color="grey",
            alpha=0.4,
        )
    ax.plot(x, fractions["chance"].values, "k_", markersize=20, label="shuffle chance")
    ax.set_xticks(x, terms, rotation=30)
    ax.set_ylabel("fraction of units")
    ax.set_ylim(0, 1)
    ax.legend(frameon=False)
    return fig


def plot_stay_probabilities(stay: pd.DataFrame, *, title: str = "") -> Figure:
    """Daw 2011 bar plot: P(stay) after rewarded/unrewarded × common/rare, with CIs."""
    fig, ax = plt.subplots(figsize=(3.5, 3))
    for j, trans in enumerate(("common", "rare")):
        rows = (
            stay[stay["transition"] == trans].set_index("outcome").loc[["rewarded", "unrewarded"]]
        )
        x = np.arange(2) + (j - 0.5) * 0.38
        p = rows["p_stay"].to_numpy()
        err = [p - rows["ci_low"].to_numpy(), rows["ci_high"].to_numpy() - p]
        ax.bar(
            x,
            p,
            width=0.38,
            yerr=err,
            capsize=3,
            label=trans,
            color="tab:blue" if trans == "common" else "tab:red",
        )
    ax.set_xticks([0, 1], ["rewarded", "unrewarded"])
    ax.set_ylabel("P(stay)")
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(frameon=False)
    return fig


def plot_regret_curves(curves: dict[str, xr.Dataset]) -> Figure:
    """Mean cumulative expected regret by trial (± SEM), one line per labelled recording."""
    fig, ax = plt.subplots(figsize=(4.5, 3))
    for label, curve in curves.items():
        t, m, s = curve["trial"].values, curve["mean"].values, curve["sem"].values
        ax.plot(t, m, label=label)
        ax.fill_between(t, m - s, m + s, alpha=0.3)
    ax.set_xlabel("trial")
    ax.set_ylabel("cumulative expected regret")
    ax.legend(frameon=False, fontsize="small")
    return fig


def plot_rpe_decomposition(result: xr.Dataset) -> Figure:
    """Coefficients (± SE) of the MF and MB−MF RPE regressors at each event (scalar signal)."""
    fig, ax = plt.subplots(figsize=(4, 3))
    terms = [t for t in result["term"].values if t != "intercept"]
    for j, event in enumerate(result["event"].values):
        sel = result.sel(event=event, term=terms)
        coef = np.ravel(sel["coef"].values)[: len(terms)]
        se = np.ravel(sel["se"].values)[: len(terms)]
        ax.bar(
            np.arange(len(terms)) + (j - 0.5) * 0.38,
            np.nan_to_num(coef),
            width=0.38,
            yerr=np.nan_to_num(se),
            capsize=3,
            label=str(event),
        )
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(terms)), terms)
    ax.set_ylabel("coefficient")
    ax.legend(frameon=False)
    return fig


def plot_accuracy_by_trial(acc: xr.Dataset) -> Figure:
    """Harlow accuracy by trial within episode (± SEM) with the 50 % chance line."""
    fig, ax = plt.subplots(figsize=(3.5, 3))
    t = acc["trial"].values
    ax.errorbar(t, acc["accuracy"].values, yerr=acc["sem"].values, marker="o")
    ax.axhline(0.5, color="grey", ls="--")
    ax.set_xlabel("trial")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.05)
    return fig


def plot_better_arm(table: pd.DataFrame) -> Figure:
    """P(choose the better arm) by difficulty bin, with Wilson intervals."""
    fig, ax = plt.subplots(figsize=(3.5, 3))
    mid = (table["bin_low"] + table["bin_high"]).to_numpy() / 2
    p = table["p_better"].to_numpy()
    err = [p - table["ci_low"].to_numpy(), table["ci_high"].to_numpy() - p]
    ax.errorbar(mid, p, yerr=err, marker="o")
    ax.axhline(0.5, color="grey", ls="--")
    ax.set_xlabel("|p_best − p_second|")
    ax.set_ylabel("P(better arm)")
    return fig
