"""Training metrics: one row per logging window, written to ``metrics.csv``.

Columns: ``update``, ``episodes``, ``env_steps``, ``train_seconds`` (cumulative time in
updates), ``steps_per_s`` (environment steps per wall-clock second over the window, backward
pass included), ``steps_per_cpu_s`` (per second of this process's CPU time, which is less
sensitive to other load on the machine), the window means of ``lr``, ``entropy_cost``,
``loss``, ``pg_loss``, ``value_loss``, ``entropy``, ``grad_norm``, ``train_return`` and
``train_regret`` (sampled actions, cumulative per episode), and after an evaluation
``eval_return``/``eval_regret`` (with ``_sem``) on the selection episodes.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from neurometa.atomic import write_text_atomic

__all__ = ["METRICS", "COLUMNS", "summarise_window", "write_metrics"]

METRICS = "metrics.csv"
_MEANS = (
    "lr",
    "entropy_cost",
    "loss",
    "pg_loss",
    "value_loss",
    "entropy",
    "grad_norm",
    "train_return",
    "train_regret",
)
_EVAL = ("eval_return", "eval_return_sem", "eval_regret", "eval_regret_sem")
COLUMNS = (
    "update",
    "episodes",
    "env_steps",
    "train_seconds",
    "steps_per_s",
    "steps_per_cpu_s",
    *_MEANS,
    *_EVAL,
)


def summarise_window(state: Any, window: list[dict[str, float]], result: dict | None) -> dict:
    """One metrics row from the per-update stats of ``window`` and an evaluation result.

    Parameters
    ----------
    state : object
        Has ``update``, ``episodes``, ``env_steps``, ``train_seconds``.
    window : list of dict
        Stats of the updates since the last row (keys as in ``Trainer.step``).
    result : dict or None
        Output of :func:`neurometa.learn.evaluate.evaluate` at this update.
    """
    row: dict[str, float] = {
        "update": state.update,
        "episodes": state.episodes,
        "env_steps": state.env_steps,
        "train_seconds": round(state.train_seconds, 3),
    }
    if window:
        steps = sum(w["steps"] for w in window)
        row["steps_per_s"] = steps / max(sum(w["wall"] for w in window), 1e-9)
        row["steps_per_cpu_s"] = steps / max(sum(w["cpu"] for w in window), 1e-9)
        for key in _MEANS:
            if key in window[0]:
                row[key] = sum(w[key] for w in window) / len(window)
    if result is not None:
        for key in ("return", "return_sem", "regret", "regret_sem"):
            if key in result:
                row[f"eval_{key}"] = result[key]
    return row


def write_metrics(run_dir: str | Path, rows: list[dict[str, float]]) -> Path:
    """Write every row to ``run_dir/metrics.csv`` atomically (columns in :data:`COLUMNS`)."""
    present = [c for c in COLUMNS if any(c in r for r in rows)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=present, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    path = Path(run_dir) / METRICS
    write_text_atomic(path, buffer.getvalue())
    return path
