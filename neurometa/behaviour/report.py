"""Fit, compare and label a recording in one call (what ``neurometa fit`` runs).

:func:`fit_report` fits each requested model to a recording, compares them (held-out
likelihood, BIC, iBIC), and adds the latents of the chosen model to the recording;
:func:`write_fit_report` writes the tables (NetCDF + CSV), the recording with latents and
the comparison figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xarray as xr

from neurometa.behaviour.compare import compare_models, plot_model_comparison
from neurometa.behaviour.data import behaviour_data
from neurometa.behaviour.latents import add_latents
from neurometa.behaviour.models import DEFAULT_MODELS, FAMILY_MODELS, get_model

__all__ = ["FitReport", "resolve_models", "fit_report", "write_fit_report"]


@dataclass
class FitReport:
    """Everything :func:`fit_report` computed for one recording."""

    fits: pd.DataFrame
    """One row per (model, subject): parameters, SEs, NLL, BIC (+ held-out columns)."""
    summary: pd.DataFrame
    """One row per model, best first (see :func:`~neurometa.behaviour.compare_models`)."""
    recording: xr.Dataset
    """The recording with the ``model_*`` latents of ``latent_model``."""
    latent_model: str
    """The model whose latents were added."""
    family: str
    """Task family of the recording."""


def resolve_models(spec: str | list[str], family: str) -> list[str]:
    """Model names from ``"all"``, ``"default"``, ``"a,b"`` or a list, checked for ``family``."""
    if isinstance(spec, str):
        if spec == "all":
            return list(FAMILY_MODELS[family])
        spec = [DEFAULT_MODELS[family] if s == "default" else s for s in spec.split(",") if s]
    names = list(spec)
    for name in names:
        model = get_model(name)
        if family not in model.families:
            raise ValueError(
                f"model {name!r} fits {'/'.join(model.families)} behaviour; this "
                f"recording is a {family!r} task (models for it: "
                f"{', '.join(FAMILY_MODELS[family])})"
            )
    return names


def fit_report(
    ds: xr.Dataset,
    models: str | list[str] = "default",
    *,
    prior: str | None = None,
    num_restarts: int = 5,
    num_folds: int = 5,
    by: str = "auto",
    seed: int = 0,
    latent_model: str | None = None,
    common_prob: float | None = None,
    family: str | None = None,
    progress: bool = True,
) -> FitReport:
    """Fit, compare and add latents (see the module docstring).

    Parameters
    ----------
    ds : xarray.Dataset
        A recording (agent or lab) of a family with models.
    models : str or list of str
        Names, ``"all"`` (the family's :data:`~neurometa.behaviour.models.FAMILY_MODELS`) or
        ``"default"``.
    latent_model : str, optional
        Whose latents to add (default: the best by held-out likelihood, or by BIC without
        folds; the only model when one is given).
    num_folds : int
        Cross-validation folds (0: BIC / iBIC only).
    family : str, optional
        Task family of a recording whose attrs do not name one (e.g. an NWB file imported
        without ``--task``).

    Returns
    -------
    FitReport
    """
    data = behaviour_data(ds, family, common_prob=common_prob)
    names = resolve_models(models, data.family)
    per_subject, summary = compare_models(
        names,
        data,
        num_folds=num_folds if len(names) > 1 or num_folds else 0,
        by=by,
        prior=prior,
        num_restarts=num_restarts,
        seed=seed,
        progress=progress,
    )
    chosen = latent_model or str(summary["model"].iloc[0])
    if chosen not in names:
        raise ValueError(f"latent model {chosen!r} is not among the fitted models {names}")
    fits = per_subject[per_subject["model"] == chosen]
    recording, _ = add_latents(ds, chosen, fits, common_prob=common_prob, family=family)
    return FitReport(per_subject, summary, recording, chosen, data.family)


def write_fit_report(report: FitReport, out: Path, name: str) -> dict[str, str]:
    """Write the tables, the recording with latents and the figure; return their paths.

    Files: ``fits_<name>`` and ``comparison_<name>`` (.nc + .csv), ``<name>_latents.nc``,
    ``comparison_<name>.png``.
    """
    from neurometa.analysis.report import write_figure, write_result
    from neurometa.record.io import save_recording

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fits = report.fits.rename_axis("fit")
    fits.attrs = {}  # per-model fit details (group priors, ...) stay in the Python object
    write_result(out, f"fits_{name}", fits)
    summary = report.summary.set_index("model")
    summary.attrs = {k: v for k, v in report.summary.attrs.items() if isinstance(v, str | int)}
    write_result(out, f"comparison_{name}", summary)
    latents = out / f"{name}_latents.nc"
    save_recording(report.recording, latents)
    files = {
        "fits": str(out / f"fits_{name}.csv"),
        "comparison": str(out / f"comparison_{name}.csv"),
        "recording": str(latents),
    }
    if "loglik_per_choice" in report.summary:
        write_figure(
            out, f"comparison_{name}", lambda: plot_model_comparison(report.summary).figure
        )
        files["figure"] = str(out / f"comparison_{name}.png")
    return files
