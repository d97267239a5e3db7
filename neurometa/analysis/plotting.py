"""Figures of the analyses; computing lives elsewhere.

Every function draws one analysis' output into a matplotlib ``Axes`` and returns it:
pass ``ax=`` to draw into a panel of your own figure (a notebook, a multi-panel paper
figure), or leave it out for a new figure. Each figure states its ``n`` and what its error
bars are in the axes title, keeps its legend outside the data, and never draws an
undefined (NaN) value as zero. The module never switches the matplotlib backend: notebooks
keep ``%matplotlib inline``; command-line tools choose a file backend themselves.
:func:`save_figure` writes a figure atomically as PNG.

Examples
--------
>>> import xarray as xr
>>> from neurometa.analysis.plotting import plot_accuracy_by_trial
>>> acc = xr.Dataset(
...     {"accuracy": ("trial", [0.5, 0.9, 0.95]), "sem": ("trial", [0.05, 0.03, 0.02])},
...     coords={"trial": [1, 2, 3]}, attrs={"num_episodes": 100},
... )
>>> ax = plot_accuracy_by_trial(acc)
>>> ax.get_title().splitlines()[-1]
'n = 100 episodes; error bars: ± 1 SEM over episodes'
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from neurometa.atomic import atomic_path

__all__ = [
    "save_figure",
    "plot_coding_fractions",
    "plot_stay_probabilities",
    "plot_regret_curves",
    "plot_rpe_decomposition",
    "plot_accuracy_by_trial",
    "plot_better_arm",
]

#: Display labels of the coding regressors (Tsutsui et al. 2016; Wang et al. 2018).
TERM_LABELS = {
    "prev_action": "a(t−1)",
    "prev_reward": "r(t−1)",
    "interaction": "a×r",
    "value": "V(t)",
}
#: Legend placement outside the axes (right of the data).
OUTSIDE = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "frameon": False}


def new_axes(ax: Any = None, figsize: tuple[float, float] = (4.5, 3.2)) -> Any:
    """``ax`` itself, or the axes of a new figure of ``figsize`` inches."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def describe(ax: Any, caption: str, title: str = "") -> Any:
    """Put ``title`` and the figure's ``n`` / error-bar ``caption`` in the axes title."""
    ax.set_title(f"{title}\n{caption}" if title else caption, fontsize="small")
    return ax


def save_figure(fig: Any, path: str | os.PathLike[str], *, dpi: int = 120) -> None:
    """Write a figure (or the figure of an ``Axes``) as PNG to ``path`` atomically; close it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "f.png"
    >>> save_figure(ax, path)
    >>> path.stat().st_size > 0
    True
    """
    import matplotlib.pyplot as plt

    fig = getattr(fig, "figure", fig) if not hasattr(fig, "savefig") else fig
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png", bbox_inches="tight")
    plt.close(fig)


def _interval(value: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Asymmetric error-bar lengths ``[[below], [above]]``; NaN bounds give no bar."""
    return np.nan_to_num(np.vstack([value - low, high - value]), nan=0.0).clip(min=0)


def plot_coding_fractions(fractions: xr.Dataset, *, ax: Any = None, title: str = "") -> Any:
    """Fraction of units coding each regressor beside its shuffle chance level.

    Bars: the observed fraction of units with p < α, with its Clopper-Pearson interval.
    Grey diamonds beside each bar: the chance level (mean fraction over shuffles of the
    trials) with the central interval of the shuffled fractions. The intercept is left out.

    Parameters
    ----------
    fractions : xarray.Dataset
        From :func:`neurometa.analysis.coding.coding_fractions`.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    title : str
        First line of the title (the second states n and the intervals).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import xarray as xr
    >>> terms = ["intercept", "prev_action", "prev_reward", "interaction", "value"]
    >>> f = xr.Dataset(
    ...     {k: ("term", [0.9, 0.8, 0.5, 0.3, 0.7]) for k in ("fraction", "fraction_high")}
    ...     | {k: ("term", [0.05] * 5) for k in ("chance", "chance_low", "chance_high")}
    ...     | {"fraction_low": ("term", [0.8, 0.7, 0.4, 0.2, 0.6])},
    ...     coords={"term": terms},
    ...     attrs={"num_units": 48, "num_obs": 2000, "num_shuffles": 20, "alpha": 0.05},
    ... )
    >>> ax = plot_coding_fractions(f)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['a(t−1)', 'r(t−1)', 'a×r', 'V(t)']
    """
    ax = new_axes(ax)
    sub = fractions.sel(term=[t for t in fractions["term"].values if t != "intercept"])
    terms = [str(t) for t in sub["term"].values]
    x = np.arange(len(terms))
    frac = sub["fraction"].values
    ax.bar(
        x - 0.12, frac, width=0.5, color="tab:blue", label="units coding (p < α)",
        yerr=_interval(frac, sub["fraction_low"].values, sub["fraction_high"].values),
        capsize=3,
    )  # fmt: skip
    chance = sub["chance"].values
    ax.errorbar(
        x + 0.28, chance, fmt="D", color="0.45", markersize=4, capsize=2, lw=1,
        yerr=_interval(chance, sub["chance_low"].values, sub["chance_high"].values),
        label="shuffle chance",
    )  # fmt: skip
    ax.set_xticks(x, [TERM_LABELS.get(t, t) for t in terms])
    ax.set_ylabel("fraction of units")
    ax.set_ylim(0, 1.02)
    ax.legend(**OUTSIDE, fontsize="small")
    attrs = fractions.attrs
    ci = int(round(100 * float(attrs.get("ci", 0.95))))
    caption = (
        f"n = {attrs.get('num_units', '?')} units, {attrs.get('num_obs', '?')} trials; "
        f"α = {attrs.get('alpha', 0.05)}\nerror bars: {ci} % Clopper-Pearson (units), "
        f"central {ci} % of {attrs.get('num_shuffles', '?')} shuffles (chance)"
    )
    return describe(ax, caption, title)


def plot_stay_probabilities(stay: pd.DataFrame, *, ax: Any = None, title: str = "") -> Any:
    """P(stay) after rewarded / unrewarded trials, common vs rare transitions (Daw 2011).

    Grouped as in Daw et al. (2011, Fig. 2): outcome on the x axis, the common (blue) and
    rare (red) transitions side by side within each outcome. A model-free learner repeats
    rewarded choices whatever the transition; a model-based one shows the interaction.

    Parameters
    ----------
    stay : pandas.DataFrame
        From :func:`neurometa.analysis.two_step.stay_probabilities`.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    title : str
        First line of the title.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> stay = pd.DataFrame({
    ...     "transition": ["common", "common", "rare", "rare"],
    ...     "outcome": ["rewarded", "unrewarded", "rewarded", "unrewarded"],
    ...     "p_stay": [0.9, 0.6, 0.6, 0.9], "ci_low": [0.85, 0.55, 0.5, 0.8],
    ...     "ci_high": [0.95, 0.65, 0.7, 0.95], "num_trials": [70, 70, 30, 30],
    ... })
    >>> ax = plot_stay_probabilities(stay)
    >>> ax.get_title()
    'n = 200 trials; error bars: 95 % bootstrap interval over trials'
    """
    ax = new_axes(ax, (4.2, 3.2))
    width = 0.38
    for j, trans in enumerate(("common", "rare")):
        rows = (
            stay[stay["transition"] == trans].set_index("outcome").loc[["rewarded", "unrewarded"]]
        )
        p = rows["p_stay"].to_numpy(dtype=float)
        ax.bar(
            np.arange(2) + (j - 0.5) * width, np.where(np.isfinite(p), p, 0.0), width=width,
            yerr=_interval(p, rows["ci_low"].to_numpy(), rows["ci_high"].to_numpy()),
            capsize=3, label=trans, color="tab:blue" if trans == "common" else "tab:red",
        )  # fmt: skip
        for k in np.flatnonzero(~np.isfinite(p)):
            ax.text(k + (j - 0.5) * width, 0.02, "no\ntrials", ha="center", fontsize="x-small")
    ax.set_xticks([0, 1], ["rewarded", "unrewarded"])
    ax.set_ylabel("P(stay)")
    ax.set_ylim(0, 1.02)
    ax.legend(title="transition", **OUTSIDE, fontsize="small")
    ci = int(round(100 * float(stay.attrs.get("ci", 0.95))))
    resampled = stay.attrs.get("resampled", "trial")
    averaged = stay.attrs.get("averaged", "trials")
    subjects = stay.attrs.get("num_subjects")
    n = f"n = {int(stay['num_trials'].sum())} trials"
    if averaged == "subjects" and subjects:
        n += f", {subjects} subjects (mean of subjects)"
    caption = f"{n}; error bars: {ci} % bootstrap interval over {resampled}s"
    return describe(ax, caption, title)


def plot_regret_curves(curves: dict[str, xr.Dataset], *, ax: Any = None, title: str = "") -> Any:
    """Mean cumulative expected regret by trial, one line per labelled recording.

    Parameters
    ----------
    curves : dict of str to xarray.Dataset
        Label -> :func:`neurometa.analysis.bandits.regret_curve` of one recording.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    title : str
        First line of the title.

    Returns
    -------
    matplotlib.axes.Axes
        Bands are ± 1 SEM over episodes.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> curve = xr.Dataset(
    ...     {"mean": ("trial", np.linspace(0, 2, 10)), "sem": ("trial", np.full(10, 0.1))},
    ...     coords={"trial": np.arange(1, 11)}, attrs={"num_episodes": 500},
    ... )
    >>> ax = plot_regret_curves({"agent": curve})
    >>> ax.get_title()
    'n = 500 episodes per line; bands: ± 1 SEM over episodes'
    """
    ax = new_axes(ax)
    for label, curve in curves.items():
        t, m, s = curve["trial"].values, curve["mean"].values, curve["sem"].values
        (line,) = ax.plot(t, m, label=label)
        ax.fill_between(t, m - s, m + s, alpha=0.3, color=line.get_color(), lw=0)
    ax.set_xlabel("trial")
    ax.set_ylabel("cumulative expected regret")
    ax.legend(**OUTSIDE, fontsize="small")
    counts = [str(c.attrs.get("num_episodes", "?")) for c in curves.values()]
    n = f"n = {counts[0]} episodes per line" if len(set(counts)) == 1 else (
        f"n = {' / '.join(counts)} episodes"
    )  # fmt: skip
    return describe(ax, f"{n}; bands: ± 1 SEM over episodes", title)


def plot_rpe_decomposition(result: xr.Dataset, *, ax: Any = None, title: str = "") -> Any:
    """Coefficients of the model-free and (MB − MF) RPE regressors at each event.

    An undefined coefficient (NaN: at outcome the model-based and model-free RPEs coincide,
    so the difference regressor is zero and has no coefficient) gets no bar but an "n/a"
    mark, never a bar of height zero.

    Parameters
    ----------
    result : xarray.Dataset
        From :func:`neurometa.analysis.rpe.rpe_decomposition` of one signal (no unit
        dimension: select a unit first, ``result.sel(unit=u)``).
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    title : str
        First line of the title.

    Returns
    -------
    matplotlib.axes.Axes
        Error bars: ± 1 standard error of the OLS coefficient.

    Raises
    ------
    ValueError
        If ``result`` has dimensions beyond ``event`` and ``term``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> res = xr.Dataset(
    ...     {"coef": (("event", "term"), [[0.1, 0.8, 0.7], [0.0, 0.9, np.nan]]),
    ...      "se": (("event", "term"), [[0.01, 0.02, 0.02], [0.01, 0.02, np.nan]])},
    ...     coords={"event": ["second_stage_onset", "outcome"],
    ...             "term": ["intercept", "rpe_mf", "rpe_mb_minus_mf"]},
    ...     attrs={"num_obs": 1000, "signal": "rpe"},
    ... )
    >>> ax = plot_rpe_decomposition(res)
    >>> len(ax.patches), any(t.get_text() == "n/a" for t in ax.texts)
    (3, True)
    """
    extra = [d for d in result["coef"].dims if d not in ("event", "term")]
    if extra:
        raise ValueError(
            f"plot_rpe_decomposition draws one signal; the result also has dims {extra}: "
            f"select one first, e.g. result.isel({extra[0]}=0)"
        )
    ax = new_axes(ax)
    terms = [str(t) for t in result["term"].values if t != "intercept"]
    events = [str(e) for e in result["event"].values]
    width = 0.8 / len(events)
    for j, event in enumerate(events):
        sel = result.sel(event=event, term=terms)
        coef, se = sel["coef"].values.astype(float), sel["se"].values.astype(float)
        x = np.arange(len(terms)) + (j - (len(events) - 1) / 2) * width
        ok = np.isfinite(coef)
        bars = ax.bar(
            x[ok], coef[ok], width=width, yerr=np.nan_to_num(se[ok]), capsize=3,
            label=event.replace("_", " "),
        )  # fmt: skip
        for k in np.flatnonzero(~ok):
            ax.text(x[k], 0, "n/a", ha="center", va="bottom", fontsize="small",
                    color=bars.patches[0].get_facecolor() if bars.patches else "k")  # fmt: skip
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlim(-0.5, len(terms) - 0.5)  # "n/a" marks are text, which autoscaling ignores
    ax.set_xticks(np.arange(len(terms)), [t.replace("rpe_", "").replace("_", " ") for t in terms])
    ax.set_ylabel(f"coefficient on {result.attrs.get('signal', 'signal')}")
    ax.legend(title="event", **OUTSIDE, fontsize="small")
    caption = f"n = {result.attrs.get('num_obs', '?')} trials; error bars: ± 1 SE (OLS)" + (
        "; n/a: undefined (MB = MF)" if not np.isfinite(result["coef"].values).all() else ""
    )
    return describe(ax, caption, title)


def plot_accuracy_by_trial(acc: xr.Dataset, *, ax: Any = None, title: str = "") -> Any:
    """Harlow accuracy by trial within an episode (± 1 SEM) with the 50 % chance line.

    Parameters
    ----------
    acc : xarray.Dataset
        From :func:`neurometa.analysis.bandits.harlow_accuracy`.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    title : str
        First line of the title.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    See the module's example.
    """
    ax = new_axes(ax, (3.8, 3.2))
    ax.errorbar(acc["trial"].values, acc["accuracy"].values, yerr=acc["sem"].values, marker="o")
    ax.axhline(0.5, color="grey", ls="--", lw=1)
    ax.set_xlabel("trial within episode")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.05)
    caption = (
        f"n = {acc.attrs.get('num_episodes', '?')} episodes; error bars: ± 1 SEM over episodes"
    )
    return describe(ax, caption, title)


def plot_better_arm(table: pd.DataFrame, *, ax: Any = None, title: str = "") -> Any:
    """P(choose the better arm) by difficulty (the gap between the two best arms).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`neurometa.analysis.bandits.better_arm_by_difficulty`.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).
    title : str
        First line of the title.

    Returns
    -------
    matplotlib.axes.Axes
        Error bars: 95 % Wilson intervals over trials.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({
    ...     "bin_low": [0.0, 0.5], "bin_high": [0.5, 1.0], "p_better": [0.6, 0.9],
    ...     "ci_low": [0.55, 0.87], "ci_high": [0.65, 0.93], "num_trials": [400, 600],
    ... })
    >>> plot_better_arm(table).get_title()
    'n = 1000 trials; error bars: 95 % Wilson interval'
    """
    ax = new_axes(ax, (3.8, 3.2))
    mid = (table["bin_low"] + table["bin_high"]).to_numpy() / 2
    p = table["p_better"].to_numpy(dtype=float)
    ax.errorbar(
        mid, p, yerr=_interval(p, table["ci_low"].to_numpy(), table["ci_high"].to_numpy()),
        marker="o",
    )  # fmt: skip
    ax.axhline(0.5, color="grey", ls="--", lw=1)
    ax.set_xlabel("|p_best − p_second|")
    ax.set_ylabel("P(better arm)")
    caption = f"n = {int(table['num_trials'].sum())} trials; error bars: 95 % Wilson interval"
    return describe(ax, caption, title)
