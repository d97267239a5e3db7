"""``neurometa analyze sweep RESULTS.nc``: the summary of a sweep's results file.

For each input (a ``results.nc`` written by :func:`neurometa.sweep.run_sweep`) this prints
the run counts by status and the best setting by the mean of the metric over seeds; with
``--out`` it writes the per-setting table (``<stem>_settings.nc``/``.csv``: mean, std with
ddof = 1, sem, finished and failed seeds) and a figure of the mean ± sem of every setting,
best first (``<stem>_settings.png``). Torch-free.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from neurometa.analysis.report import stem, write_figure, write_result
from neurometa.sweep.results import open_results, summarize_sweep, summary_table

__all__ = ["run_sweep_report", "plot_settings"]


def plot_settings(table: pd.DataFrame, top: int = 20, *, ax: Any = None) -> Any:
    """Mean ± 1 SEM over seeds of the metric for the ``top`` best settings, best first.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`neurometa.sweep.results.summary_table` (best first).
    top : int
        Settings drawn.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"lr": [1e-3, 3e-3], "mean": [1.1, 1.3], "std": [0.1, 0.2],
    ...                       "sem": [0.06, 0.12], "n_done": [3, 3], "n_failed": [0, 0]})
    >>> table.attrs.update(metric="regret", goal="min")
    >>> plot_settings(table).get_title()
    'n = 3 seeds per setting; error bars: ± 1 SEM over seeds'
    """
    from neurometa.analysis.plotting import describe, new_axes

    rows = table.head(top)
    params = [c for c in rows.columns if c not in ("mean", "std", "sem", "n_done", "n_failed")]
    labels = [", ".join(f"{p}={r[p]}" for p in params) or "all" for _, r in rows.iterrows()]
    ax = new_axes(ax, (6, 0.35 * len(rows) + 1.4))
    ax.errorbar(rows["mean"], range(len(rows)), xerr=rows["sem"], fmt="o", capsize=3)
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(f"{table.attrs.get('metric', '')} (best: {table.attrs.get('goal', 'min')})")
    done = sorted({int(n) for n in rows["n_done"]})
    n = f"n = {done[0]} seeds per setting" if len(done) == 1 else (
        f"n = {done[0]}–{done[-1]} seeds per setting"
    )  # fmt: skip
    return describe(ax, f"{n}; error bars: ± 1 SEM over seeds")


def run_sweep_report(
    inputs: list[str | Path],
    out: str | Path | None = None,
    *,
    metric: str | None = None,
    goal: str | None = None,
    top: int = 10,
) -> dict[str, Any]:
    """Summaries of sweep results files; with ``out``, each setting table and its figure.

    Parameters
    ----------
    inputs : list of path-like
        ``results.nc`` files written by :func:`neurometa.sweep.run_sweep`.
    out : path-like, optional
        Output folder for ``<stem>_settings.nc/.csv/.png``.
    metric, goal : str, optional
        Result to rank by and whether lower (``"min"``) or higher (``"max"``) is better
        (default: the spec's).
    top : int
        Settings listed in each summary.

    Returns
    -------
    dict
        :func:`~neurometa.sweep.results.summarize_sweep` of the input (one input) or per
        input path.
    """
    summaries = {}
    for path in inputs:
        ds = open_results(path)
        summary = summarize_sweep(ds, metric, goal)
        summary["settings"] = summary["settings"][:top]
        if summary["num_done"]:
            table = summary_table(ds, metric, goal)
            write_result(out, f"{stem(path)}_settings", table)
            write_figure(out, f"{stem(path)}_settings", lambda t=table: plot_settings(t))
        summaries[str(path)] = summary
    return summaries if len(summaries) > 1 else next(iter(summaries.values()))
