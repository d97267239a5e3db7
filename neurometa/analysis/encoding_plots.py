"""Figures of the encoding models and the representational geometry (computing lives elsewhere).

Each function draws into ``ax`` (a new figure when ``ax`` is None), returns the axes, states
the number of neurons and trials it shows and what its error bars are, and never changes the
matplotlib backend.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

__all__ = ["plot_encoding_fractions", "plot_encoding_scatter"]


def _axes(ax: Any, size: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=size, layout="constrained")[1]


def plot_encoding_fractions(result: xr.Dataset, *, ax: Any = None) -> Any:
    """Fraction of neurons each predictor set explains beyond its null, and where it is best.

    Parameters
    ----------
    result : xarray.Dataset
        From :func:`neurometa.analysis.encoding.encoding_models`.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Bars: fraction explained (error bars: Wilson 95 % intervals); dots: fraction of
        neurons best explained by the set; dashed line: the test level (the fraction a
        set unrelated to the neurons would reach).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> res = xr.Dataset(
    ...     {"fraction_explained": ("predictor_set", [0.6, 0.3]),
    ...      "fraction_low": ("predictor_set", [0.5, 0.2]),
    ...      "fraction_high": ("predictor_set", [0.7, 0.4]),
    ...      "fraction_best": ("predictor_set", [0.5, 0.1])},
    ...     coords={"predictor_set": ["agent", "hybrid"]},
    ...     attrs={"alpha": 0.05, "num_neurons": 100, "num_trials": 2000, "null": "circular"})
    >>> ax = plot_encoding_fractions(res)
    """
    ax = _axes(ax, (4.0, 3.0))
    names = [str(n) for n in result["predictor_set"].values]
    x = np.arange(len(names))
    frac = result["fraction_explained"].values
    err = np.vstack([frac - result["fraction_low"].values, result["fraction_high"].values - frac])
    ax.bar(x, frac, yerr=err, capsize=3, color="tab:blue", label="explained beyond null")
    ax.plot(x, result["fraction_best"].values, "o", color="k", label="best set")
    ax.axhline(result.attrs["alpha"], color="grey", ls="--", lw=1, label="test level")
    ax.set_xticks(x, names, rotation=20)
    ax.set_ylim(0, 1)
    ax.set_ylabel("fraction of neurons")
    ax.set_title(
        f"n = {result.attrs['num_neurons']} neurons, {result.attrs['num_trials']} trials;\n"
        f"{result.attrs['null']} null; bars: Wilson 95% CI",
        fontsize=8,
    )
    ax.legend(fontsize=7, frameon=False)
    return ax


def plot_encoding_scatter(
    result: xr.Dataset, x_set: str | None = None, y_set: str | None = None, *, ax: Any = None
) -> Any:
    """Held-out R² of every neuron under two predictor sets, coloured by the best set.

    Parameters
    ----------
    result : xarray.Dataset
        From :func:`neurometa.analysis.encoding.encoding_models` (at least two sets).
    x_set, y_set : str, optional
        The sets on each axis (default: the first two).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One dot per neuron (no error bars); the diagonal marks equal R².

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> res = xr.Dataset(
    ...     {"r2": (("predictor_set", "unit"), [[0.2, 0.0], [0.1, 0.05]]),
    ...      "best_set": ("unit", ["agent", "none"])},
    ...     coords={"predictor_set": ["agent", "hybrid"]},
    ...     attrs={"num_neurons": 2, "num_trials": 500})
    >>> ax = plot_encoding_scatter(res)
    """
    names = [str(n) for n in result["predictor_set"].values]
    if len(names) < 2 and (x_set is None or y_set is None):
        raise ValueError("plot_encoding_scatter needs two predictor sets")
    x_set, y_set = x_set or names[0], y_set or names[1]
    ax = _axes(ax, (3.6, 3.4))
    rx, ry = (
        result["r2"].sel(predictor_set=x_set).values,
        result["r2"].sel(predictor_set=y_set).values,
    )
    best = result["best_set"].values.astype(str)
    colours = {name: f"C{i}" for i, name in enumerate(names)}
    for label in [*names, "none"]:
        mask = best == label
        if mask.any():
            ax.scatter(
                rx[mask],
                ry[mask],
                s=8,
                color=colours.get(label, "lightgrey"),
                label=f"best: {label} ({mask.sum()})",
            )
    finite = np.isfinite(rx) & np.isfinite(ry)
    low = min(0.0, np.min(rx[finite], initial=0.0), np.min(ry[finite], initial=0.0))
    high = max(np.max(rx[finite], initial=0.1), np.max(ry[finite], initial=0.1))
    ax.plot([low, high], [low, high], color="grey", lw=1)
    ax.set_xlabel(f"held-out R², {x_set}")
    ax.set_ylabel(f"held-out R², {y_set}")
    ax.set_title(
        f"n = {result.attrs['num_neurons']} neurons, {result.attrs['num_trials']} trials",
        fontsize=8,
    )
    ax.legend(fontsize=7, frameon=False)
    return ax
