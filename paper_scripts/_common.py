"""Shared plumbing of the paper scripts: output folders, the result cache, argparse shape.

Every paper script has the same shape (``docs/architecture.md``; CONVENTIONS "Paper
scripts"): a frozen preset config (``QUICK`` and ``FULL``), ``compute(config, out_dir)``
that trains or loads a cached result keyed by a hash of the config, ``plot(ds)`` and
``main()``. This module holds only what they share: where results go
(``results/<script>/``), the cache (``results/<script>/cache/<hash>/``), training through
:func:`neurometa.learn.train` into a cached run folder, atomic writing of the figure, the
numbers CSV and the config, and the command line (``--quick``, ``--out``). It holds no
science: every computation is a library call made by the scripts themselves.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from neurometa.atomic import atomic_path, write_text_atomic
from neurometa.config import Config
from neurometa.learn import TrainConfig, train
from neurometa.netcdf import write_netcdf
from neurometa.record import open_recording, record

__all__ = [
    "RESULTS_ROOT",
    "config_hash",
    "cache_dir",
    "trained_run",
    "cached_dataset",
    "recorded",
    "write_csv",
    "save_figure",
    "run_script",
    "script_main",
]

#: Default root of every script's outputs (ignored by git).
RESULTS_ROOT = Path(__file__).resolve().parent.parent / "results"


def config_hash(config: Config | dict[str, Any], *, length: int = 12) -> str:
    """Hex digest of a config's canonical JSON (sorted keys), the key of the result cache.

    Parameters
    ----------
    config : Config or dict
        The configuration that fully determines a result.
    length : int
        Number of hex characters kept.

    Returns
    -------
    str
        ``length`` hex characters of the SHA-256 of ``json.dumps(config, sort_keys=True)``.
    """
    data = config.to_dict() if isinstance(config, Config) else config
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def cache_dir(out_dir: str | os.PathLike[str], config: Config | dict[str, Any]) -> Path:
    """The cache folder of ``config`` under ``out_dir``: ``out_dir/cache/<hash>`` (created).

    The hash covers the script config and every training preset's resolved settings, so a
    changed preset (which the script config only names) gets a new folder, not stale results.
    """
    from neurometa.learn import PRESETS

    presets = {name: preset.to_dict() for name, preset in PRESETS.items()}
    script = config.to_dict() if isinstance(config, Config) else config
    path = Path(out_dir) / "cache" / config_hash({"script": script, "presets": presets})
    path.mkdir(parents=True, exist_ok=True)
    return path


#: Fewest selection points a shortened training run keeps (see :func:`with_updates`).
MIN_EVALUATIONS = 10


def with_updates(config: TrainConfig, num_updates: int) -> TrainConfig:
    """``config`` trained for ``num_updates`` updates, still evaluated at least 10 times.

    A preset's evaluation interval is sized for its own budget (e.g. every 100 of 2,000 Harlow
    updates); a quick run of a few hundred updates would keep one or two candidates for
    ``best.pt``. The interval is shortened to ``num_updates // MIN_EVALUATIONS`` where it
    would give fewer evaluations, and left as it is otherwise (so full-budget runs keep their
    cache keys). A preset without evaluations (``eval.interval = 0``, the bandit presets:
    ``best.pt`` holds the last weights) keeps none at its own budget, but a run shortened
    below it is evaluated 10 times too: early in training checkpoints differ by far more than
    the selection set's noise (a 300-update quick run's last weights reached regret 7.9 on
    {0.1, 0.9} bandits where the selected ones reached 2.0).
    """
    from neurometa.config import replace_path

    shortened = num_updates < config.optim.num_updates
    config = replace_path(config, "optim.num_updates", num_updates)
    interval = config.eval.interval
    if (interval == 0 and shortened) or num_updates < MIN_EVALUATIONS * interval:
        config = replace_path(config, "eval.interval", max(1, num_updates // MIN_EVALUATIONS))
    return config


def trained_run(
    config: TrainConfig, out_dir: str | os.PathLike[str], *, seed: int, progress: bool = False
) -> Path:
    """Train ``config`` with ``seed`` into a run folder cached by the hash of both.

    A finished run is reused as it is; an interrupted one is resumed from its checkpoint
    (``train(..., resume=True)``), so a killed script loses at most one checkpoint interval.

    Returns
    -------
    Path
        ``out_dir/cache/runs/<hash of config and seed>`` holding the run folder.
    """
    key = config_hash({"train": config.to_dict(), "seed": seed})
    run_dir = Path(out_dir) / "cache" / "runs" / key
    return train(config, run_dir, seed=seed, resume=True, progress=progress)


def cached_dataset(path: Path, build: Callable[[], xr.Dataset]) -> xr.Dataset:
    """Load the NetCDF file ``path`` if present, else ``build()`` it and save it atomically."""
    if path.is_file():
        with xr.open_dataset(path) as ds:
            return ds.load()
    write_netcdf(build(), path, title=f"neurometa paper script result: {path.stem}")
    with xr.open_dataset(path) as ds:  # as a later call reads it (CF attributes included)
        return ds.load()


def recorded(
    path: Path, agent: Any, task: Any, num_episodes: int, *, seed: int, config: Any = None
) -> xr.Dataset:
    """Open the recording at ``path`` if present, else record it there (streamed, atomic).

    Parameters
    ----------
    path : Path
        ``.nc`` file of the recording.
    agent, task, num_episodes, seed, config
        Passed to :func:`neurometa.record.record` (``config`` goes into the attrs).

    Returns
    -------
    xarray.Dataset
        The recording, loaded into memory.
    """
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        record(agent, task, num_episodes, seed=seed, out=path, progress=False, config=config)
    with open_recording(path) as ds:
        return ds.load()


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """Write ``table`` (index included when named) to ``path`` atomically."""
    index = any(name is not None for name in table.index.names)
    write_text_atomic(path, table.to_csv(index=index))
    return path


def save_figure(fig: Any, path: Path, *, dpi: int = 110) -> Path:
    """Save a matplotlib figure as PNG atomically and close it."""
    import matplotlib.pyplot as plt

    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(fig)
    return path


def _parser(doc: str | None, name: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=name, description=(doc or "").split("\n\n")[0], allow_abbrev=False
    )
    parser.add_argument(
        "--quick", action="store_true", help="small training budget (minutes on 2 cores)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"output folder (default: results/{name}, or results/{name}-quick with --quick)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field of the script config, value as JSON (e.g. --set seeds=[0])",
    )
    return parser


def _overridden(config: Config, assignments: list[str]) -> Config:
    """``config`` with every ``KEY=VALUE`` (JSON value) of ``--set`` applied."""
    from neurometa.config import replace_path

    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set expects KEY=VALUE, got {item!r}")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value  # a bare string
        config = replace_path(config, key.strip(), parsed)
    return config


def script_main(
    *,
    name: str,
    doc: str | None,
    presets: dict[str, Config],
    compute: Callable[[Any, Path], xr.Dataset],
    tables: Callable[[xr.Dataset], dict[str, pd.DataFrame]],
    plot: Callable[[xr.Dataset], Any],
    argv: list[str] | None = None,
) -> int:
    """Run a paper script end to end: parse, compute (cached), write CSVs, config and figure.

    Parameters
    ----------
    name : str
        Script name (its output folder under ``results/``).
    doc : str
        The script's module docstring (the ``--help`` text).
    presets : dict
        ``{"quick": QUICK, "full": FULL}``.
    compute, tables, plot
        The script's functions: results Dataset from ``(config, out_dir)``, named CSV
        tables from the results, figure from the results.
    argv : list of str, optional
        Command-line arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status 0.
    """
    import matplotlib

    matplotlib.use("Agg")
    import torch

    torch.set_num_threads(1)
    args = _parser(doc, name).parse_args(argv)
    mode = "quick" if args.quick else "full"
    config = _overridden(presets[mode], args.set)
    out_dir = args.out or RESULTS_ROOT / (f"{name}-quick" if args.quick else name)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    ds = compute(config, out_dir)
    config.save(out_dir / "config.json")
    for stem, table in tables(ds).items():
        write_csv(table, out_dir / f"{stem}.csv")
    save_figure(plot(ds), out_dir / f"{name}.png")
    elapsed = time.perf_counter() - start
    print(f"{name} ({mode}): results in {out_dir} ({elapsed:.0f} s)")
    return 0


def run_script(module_name: str, argv: list[str] | None = None) -> int:
    """:func:`script_main` for a paper-script module that defines the standard names.

    The module (``sys.modules[module_name]``) must define ``NAME``, ``QUICK``, ``FULL``,
    ``compute``, ``tables`` and ``plot``; its docstring is the ``--help`` text.
    """
    module = sys.modules[module_name]
    return script_main(
        name=module.NAME,
        doc=module.__doc__,
        presets={"quick": module.QUICK, "full": module.FULL},
        compute=module.compute,
        tables=module.tables,
        plot=module.plot,
        argv=argv,
    )
