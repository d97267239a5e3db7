"""The agent-vs-neurons comparison pipeline: tables (NetCDF + CSV) and one figure.

:func:`run_comparison` runs :func:`neurometa.analysis.compare.compare_coding`,
:func:`neurometa.analysis.compare.compare_behaviour` and
:func:`neurometa.analysis.compare_rsa.compare_geometry` on an agent recording and a lab
recording of any task family and writes, into ``out_dir``:

- ``coding_comparison.csv`` / ``.nc``: fraction of coding units per term, side by side;
- ``behaviour_comparison.csv`` / ``.nc``: stay probabilities after reward / no reward (two-step:
  by transition x outcome);
- ``geometry.nc`` and ``geometry_summary.csv``: both RDMs; RSA, debiased linear CKA and the
  Procrustes shape distance with their permutation p-values; the RSA noise ceiling;
- ``compare.png``: the panels (plotting is separate: :func:`plot_comparison`).

Used by ``analyses/compare_agent_neurons.py`` and ``neurometa analyze compare``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurometa.analysis.compare import compare_behaviour, compare_coding
from neurometa.analysis.compare_rsa import compare_geometry
from neurometa.analysis.report import open_inputs, write_figure, write_result
from neurometa.analysis.result_attrs import describe_result
from neurometa.atomic import atomic_open
from neurometa.config import Config, check_range
from neurometa.netcdf import write_netcdf

__all__ = ["CompareConfig", "run_comparison", "run_compare", "plot_comparison"]


@dataclass(frozen=True)
class CompareConfig(Config):
    """Options of the comparison pipeline."""

    agent_activity: str = "h"
    """Unit-activity variable of the agent recording."""
    neural_activity: str = "activity"
    """Unit-activity variable of the lab recording (``neurometa import nwb`` writes
    ``activity``)."""
    agent_stage: str = "0"
    """Stage (name or index) of the agent's trial at which activity is taken."""
    neural_stage: str = "0"
    """Stage (name or index) of the lab recording's trial."""
    alpha: float = 0.05
    """Test level of the coding regression."""
    ci: float = 0.95
    """Coverage of every confidence interval."""
    num_shuffles: int = 20
    """Shuffles for the chance level of the coding fractions."""
    num_permutations: int = 1000
    """Permutations for the null distributions of RSA, CKA and Procrustes."""
    num_splits: int = 20
    """Random split halves for the RSA noise ceiling."""
    seed: int = 0
    """Seed of every shuffle, permutation and split."""

    def __post_init__(self) -> None:
        check_range(self, "alpha", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
        check_range(self, "ci", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
        for name in ("num_shuffles", "num_permutations", "num_splits"):
            check_range(self, name, low=1)
        check_range(self, "seed", low=0)


def run_comparison(
    agent: xr.Dataset,
    neural: xr.Dataset,
    out_dir: str | Path | None,
    config: CompareConfig | None = None,
) -> dict[str, Any]:
    """Run the three comparisons, write the tables and the figure.

    Parameters
    ----------
    agent, neural : xarray.Dataset
        An agent recording and a lab recording (schema of ``docs/schema.md``).
    out_dir : path-like or None
        Output folder (created); ``None`` computes without writing anything.
    config : CompareConfig, optional

    Returns
    -------
    dict
        Headline figures (fractions, differences and p-values per term, RSA similarity,
        its permutation p and the noise ceiling) and the written paths.
    """
    cfg = config or CompareConfig()
    stages = {"agent_stage": cfg.agent_stage, "neural_stage": cfg.neural_stage}
    acts = {"agent_activity": cfg.agent_activity, "neural_activity": cfg.neural_activity}
    coding = compare_coding(
        agent,
        neural,
        **acts,
        **stages,
        alpha=cfg.alpha,
        num_shuffles=cfg.num_shuffles,
        seed=cfg.seed,
        ci=cfg.ci,
    )
    behaviour = compare_behaviour(agent, neural, ci=cfg.ci)
    geometry = compare_geometry(
        agent,
        neural,
        **acts,
        **stages,
        num_permutations=cfg.num_permutations,
        num_splits=cfg.num_splits,
        seed=cfg.seed,
    )
    summary = {
        str(m): {
            "statistic": float(geometry["statistic"].sel(measure=m)),
            "p_value": float(geometry["p_value"].sel(measure=m)),
            "null_mean": float(geometry["null_mean"].sel(measure=m)),
        }
        for m in geometry["measure"].values
    }
    rsa = {
        "similarity": summary["rsa"]["statistic"],
        "p_permutation": summary["rsa"]["p_value"],
        **{k: float(v) for k, v in geometry.data_vars.items() if v.ndim == 0},
        **{k: v for k, v in geometry.attrs.items() if isinstance(v, int | float)},
    }
    files: list[str] = []
    if out_dir is not None:
        files = _write_all(Path(out_dir), coding, behaviour, geometry, summary)
    return {
        "coding": coding[["agent_fraction", "neural_fraction", "difference", "p_fisher"]]
        .to_dataframe()
        .to_dict(orient="index"),
        "behaviour": behaviour[["agent_fraction", "subjects_fraction", "p_fisher"]]
        .to_dataframe()
        .to_dict(orient="index"),
        "rsa": rsa,
        "geometry": summary,
        "files": files,
    }


def _write_all(
    out: Path, coding: xr.Dataset, behaviour: xr.Dataset, geometry: xr.Dataset, summary: dict
) -> list[str]:
    """Write the three tables and the figure into ``out``; return the written paths."""
    out.mkdir(parents=True, exist_ok=True)
    write_result(out, "coding_comparison", coding)
    write_result(out, "behaviour_comparison", behaviour)
    described = describe_result(geometry.copy(deep=False))
    title = "neurometa agent-neuron comparison: representational geometry"
    write_netcdf(described, out / "geometry.nc", title=title)
    with atomic_open(out / "geometry_summary.csv") as fh:
        fh.write("measure,statistic,p_value,null_mean\n")
        for name, row in summary.items():
            fh.write(f"{name},{row['statistic']},{row['p_value']},{row['null_mean']}\n")
    write_figure(out, "compare", lambda: plot_comparison(coding, behaviour, geometry)[0])
    names = (
        "coding_comparison.csv",
        "coding_comparison.nc",
        "behaviour_comparison.csv",
        "behaviour_comparison.nc",
        "geometry.nc",
        "geometry_summary.csv",
        "compare.png",
    )
    return [str(out / name) for name in names]


def _bars(ax: Any, labels: list[str], groups: list[tuple[str, xr.Dataset, str]]) -> None:
    """Grouped bars with CI whiskers (``fraction``, ``low``, ``high`` per group)."""
    x = np.arange(len(labels))
    width = 0.8 / len(groups)
    for i, (name, ds, prefix) in enumerate(groups):
        frac = ds[f"{prefix}_fraction"].values
        err = np.vstack([frac - ds[f"{prefix}_low"].values, ds[f"{prefix}_high"].values - frac])
        ax.bar(
            x + (i - (len(groups) - 1) / 2) * width, frac, width, yerr=err, capsize=3, label=name
        )
    ax.set_xticks(x, labels, rotation=20)


def _geometry_panel(ax: Any, geometry: xr.Dataset) -> None:
    """Each measure against its permutation null (5-95 % range and median)."""
    measures = [str(m) for m in geometry["measure"].values]
    for i, name in enumerate(measures):
        null = geometry["null"].sel(measure=name).values
        low, mid, high = np.nanquantile(null, [0.05, 0.5, 0.95])
        ax.errorbar(i, mid, yerr=[[mid - low], [high - mid]], fmt="_", color="grey", capsize=4)
        ax.plot(i, float(geometry["statistic"].sel(measure=name)), "o", color="tab:red")
        p = float(geometry["p_value"].sel(measure=name))
        ax.annotate(
            f"p={p:.2g}",
            (i, high),
            textcoords="offset points",
            xytext=(0, 4),
            ha="center",
            fontsize=7,
        )
    ax.set_xticks(
        range(len(measures)),
        ["RSA rho", "CKA (debiased)", "Procrustes (rad)"],
        rotation=20,
        fontsize=7,
    )
    ax.set_title(
        f"{geometry.attrs['num_conditions']} conditions; grey: permutation null 5-95%",
        fontsize=8,
    )


def plot_comparison(
    coding: xr.Dataset, behaviour: xr.Dataset, geometry: xr.Dataset, *, ax: Any = None
) -> Any:
    """Figure with coding fractions, stay probabilities, both RDMs and the geometry measures.

    Parameters
    ----------
    coding, behaviour, geometry : xarray.Dataset
        From :func:`neurometa.analysis.compare.compare_coding`,
        :func:`~neurometa.analysis.compare.compare_behaviour` and
        :func:`neurometa.analysis.compare_rsa.compare_geometry`.
    ax : sequence of 5 matplotlib.axes.Axes, optional
        The five panels (default: a new figure of five panels in a row).

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        The five panels. Error bars: 95 % intervals (Clopper-Pearson for coding
        fractions, Wilson for stay probabilities); the geometry panel shows each
        permutation null's 5-95 % range.
    """
    from neurometa.analysis.plotting import OUTSIDE

    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(
            1, 5, figsize=(19, 4), width_ratios=[1.3, 0.9, 1, 1, 0.9], layout="constrained"
        )
    axes = np.asarray(ax).ravel()
    if axes.size != 5:
        raise ValueError(f"plot_comparison draws 5 panels; got {axes.size} axes")
    fig = axes[0].figure
    terms = [str(t) for t in coding["term"].values]
    _bars(axes[0], terms, [("agent", coding, "agent"), ("neurons", coding, "neural")])
    for prefix, style in (("agent", "--"), ("neural", ":")):
        axes[0].plot(
            np.arange(len(terms)),
            coding[f"{prefix}_chance"].values,
            "k" + style,
            lw=1,
            label=f"chance ({prefix})",
        )
    axes[0].set_ylabel("fraction of coding units")
    axes[0].set_title(
        f"n = {int(coding['agent_total'][0])} agent units, "
        f"{int(coding['neural_total'][0])} neurons; 95% CI",
        fontsize=8,
    )
    axes[0].legend(**OUTSIDE, fontsize=7)
    outcomes = [str(o) for o in behaviour["condition"].values]
    _bars(axes[1], outcomes, [("agent", behaviour, "agent"), ("subjects", behaviour, "subjects")])
    axes[1].set_ylabel("P(stay)")
    axes[1].set_ylim(0, 1)
    axes[1].set_title(
        f"n = {int(behaviour['agent_total'].sum())} agent, "
        f"{int(behaviour['subjects_total'].sum())} subject trial pairs; 95% Wilson CI",
        fontsize=8,
    )
    axes[1].legend(**OUTSIDE, fontsize=7)
    for panel, key, title in (
        (axes[2], "rdm_agent", "agent RDM"),
        (axes[3], "rdm_neural", "neural RDM"),
    ):
        image = panel.imshow(geometry[key].values, cmap="viridis", vmin=0, vmax=2)
        ticks = np.arange(geometry.sizes["condition"])
        panel.set_xticks(ticks, geometry["condition"].values, rotation=90, fontsize=6)
        panel.set_yticks(ticks, geometry["condition"].values, fontsize=6)
        panel.set_title(title, fontsize=9)
    fig.colorbar(image, ax=axes[3], label="1 - r")
    _geometry_panel(axes[4], geometry)
    fig.suptitle(
        f"agent vs neurons on matched conditions; RSA noise ceiling = "
        f"{float(geometry['noise_ceiling']):.2f}",
        fontsize=9,
    )
    return axes


def run_compare(
    inputs: list[str | Path], out: str | Path | None = None, **options: Any
) -> dict[str, Any]:
    """:func:`run_comparison` of two recording files, ``AGENT`` and ``NEURAL``.

    Parameters
    ----------
    inputs : list of path-like, length 2
        The agent recording and the lab recording.
    out : path-like, optional
        Output folder.
    **options
        Fields of :class:`CompareConfig`.

    Returns
    -------
    dict
        As :func:`run_comparison`.
    """
    if len(inputs) != 2:
        raise ValueError(f"compare needs two inputs (AGENT NEURAL), got {len(inputs)}")
    agent, neural = open_inputs([Path(p) for p in inputs])
    return run_comparison(agent, neural, out, CompareConfig(**options))
