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


def plot_settings(table: pd.DataFrame, top: int = 20):  # noqa: ANN201 - matplotlib Figure
    """Mean ± sem of the metric for the ``top`` first settings of :func:`summary_table`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = table.head(top)
    params = [c for c in rows.columns if c not in ("mean", "std", "sem", "n_done", "n_failed")]
    labels = [", ".join(f"{p}={r[p]}" for p in params) or "all" for _, r in rows.iterrows()]
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(rows) + 1.2))
    ax.errorbar(rows["mean"], range(len(rows)), xerr=rows["sem"].fillna(0), fmt="o", capsize=3)
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    goal = table.attrs.get("goal", "min")
    ax.set_xlabel(f"{table.attrs.get('metric', '')} (mean ± sem over seeds; best: {goal})")
    fig.tight_layout()
    return fig


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
