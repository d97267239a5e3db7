"""The agent-vs-neurons comparison pipeline: tables (NetCDF + CSV) and one figure.

:func:`run_comparison` runs :func:`neurometa.analysis.compare.compare_coding`,
:func:`neurometa.analysis.compare.compare_behaviour` and
:func:`neurometa.analysis.compare_rsa.compare_rsa` on an agent recording and a lab recording
and writes, into ``out_dir``:

- ``coding_comparison.csv`` / ``.nc``: fraction of coding units per term, side by side;
- ``behaviour_comparison.csv`` / ``.nc``: stay probabilities after reward / no reward;
- ``rsa.nc`` and ``rsa_summary.csv``: both RDMs, the similarity and its baselines;
- ``compare.png``: the three panels (plotting is separate: :func:`plot_comparison`).

Used by ``analyses/compare_agent_neurons.py`` and ``neurometa analyze compare``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from neurometa.analysis.compare import compare_behaviour, compare_coding
from neurometa.analysis.compare_rsa import compare_rsa
from neurometa.analysis.report import open_inputs, write_figure, write_result
from neurometa.atomic import atomic_open, atomic_path
from neurometa.config import Config, check_range

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
    """Permutations for the RSA null distribution."""
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
    rsa = compare_rsa(
        agent,
        neural,
        **acts,
        **stages,
        num_permutations=cfg.num_permutations,
        num_splits=cfg.num_splits,
        seed=cfg.seed,
    )
    summary = {k: float(v) for k, v in rsa.data_vars.items() if v.ndim == 0}
    summary.update({k: v for k, v in rsa.attrs.items() if isinstance(v, int | float)})
    files: list[str] = []
    if out_dir is not None:
        files = _write_all(Path(out_dir), coding, behaviour, rsa, summary)
    return {
        "coding": coding[["agent_fraction", "neural_fraction", "difference", "p_fisher"]]
        .to_dataframe()
        .to_dict(orient="index"),
        "behaviour": behaviour[["agent_fraction", "subjects_fraction", "p_fisher"]]
        .to_dataframe()
        .to_dict(orient="index"),
        "rsa": summary,
        "files": files,
    }


def _write_all(
    out: Path, coding: xr.Dataset, behaviour: xr.Dataset, rsa: xr.Dataset, summary: dict
) -> list[str]:
    """Write the three tables and the figure into ``out``; return the written paths."""
    out.mkdir(parents=True, exist_ok=True)
    write_result(out, "coding_comparison", coding)
    write_result(out, "behaviour_comparison", behaviour)
    with atomic_path(out / "rsa.nc") as tmp:
        rsa.to_netcdf(tmp, engine="h5netcdf")
    with atomic_open(out / "rsa_summary.csv") as fh:
        fh.write("quantity,value\n" + "".join(f"{k},{v}\n" for k, v in summary.items()))
    write_figure(out, "compare", lambda: plot_comparison(coding, behaviour, rsa))
    names = (
        "coding_comparison.csv",
        "coding_comparison.nc",
        "behaviour_comparison.csv",
        "behaviour_comparison.nc",
        "rsa.nc",
        "rsa_summary.csv",
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


def plot_comparison(coding: xr.Dataset, behaviour: xr.Dataset, rsa: xr.Dataset) -> Any:
    """Figure with coding fractions, stay probabilities and both RDMs.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(14, 3.8), layout="constrained")
    axes = fig.subplots(1, 4, width_ratios=[1.3, 0.9, 1, 1])
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
    axes[0].legend(fontsize=7)
    outcomes = [str(o) for o in behaviour["condition"].values]
    _bars(axes[1], outcomes, [("agent", behaviour, "agent"), ("subjects", behaviour, "subjects")])
    axes[1].set_ylabel("P(stay)")
    axes[1].set_ylim(0, 1)
    axes[1].legend(fontsize=7)
    for ax, key, title in (
        (axes[2], "rdm_agent", "agent RDM"),
        (axes[3], "rdm_neural", "neural RDM"),
    ):
        image = ax.imshow(rsa[key].values, cmap="viridis", vmin=0, vmax=2)
        ticks = np.arange(rsa.sizes["condition"])
        ax.set_xticks(ticks, rsa["condition"].values, rotation=90, fontsize=6)
        ax.set_yticks(ticks, rsa["condition"].values, fontsize=6)
        ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=axes[3], label="1 - r")
    fig.suptitle(
        f"RSA agent vs neurons: rho = {float(rsa['similarity']):.2f} "
        f"(permutation p = {float(rsa['p_permutation']):.3g}, null 95% = "
        f"{float(rsa['null_q95']):.2f}, noise ceiling = {float(rsa['noise_ceiling']):.2f})",
        fontsize=9,
    )
    return fig


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
