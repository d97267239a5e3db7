"""Sweep specifications: a base preset, a grid and/or list of overrides, and seeds.

A :class:`SweepSpec` is a frozen config (strict JSON round-trip, see
:mod:`neurometa.config`). :func:`plan_runs` expands it into one :class:`RunPlan` per
(setting, seed): the settings are the Cartesian product of ``grid`` crossed with each entry of
``settings`` (an empty ``settings`` counts as one empty setting), on top of the fixed
``overrides``; every override is a dotted key applied with
:func:`neurometa.config.replace_path`.

Examples
--------
>>> spec = SweepSpec(action="train", base="bandit/independent",
...                  grid={"optim.learning_rate": (1e-3, 7e-4)}, seeds=(0, 1, 2))
>>> spec.num_settings, spec.num_runs
(2, 6)
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurometa.config import Config, ConfigError, check_choice, check_range

__all__ = [
    "RESERVED_NAMES",
    "SweepSpec",
    "RunPlan",
    "plan_runs",
    "setting_overrides",
    "load_spec",
    "run_id",
]

#: Names of the results' own dims and variables, which a grid key may not take.
RESERVED_NAMES = ("seed", "setting", "status", "wall_time_s", "attempts", "run_id")
_SAFE = re.compile(r"[^A-Za-z0-9_.+-]")
_MAX_ID = 120


@dataclass(frozen=True)
class SweepSpec(Config):
    """What a sweep runs: base preset x overrides x seeds, and the metric that ranks settings.

    Every field has the JSON key of the same name in a spec file.

    Examples
    --------
    >>> import neurometa as nm
    >>> spec = nm.SweepSpec(action="train", base="bandit/independent",
    ...                     grid={"optim.learning_rate": (0.003, 0.008)}, seeds=(0, 1, 2))
    >>> from neurometa.sweep import plan_runs
    >>> len(plan_runs(spec))  # 2 settings x 3 seeds
    6
    """

    action: str = "train"
    """Name of the per-run action in :data:`neurometa.sweep.ACTIONS` (train, record, analyse)."""
    base: str = ""
    """Name of the base preset the action resolves (e.g. a trainer preset)."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Dotted key -> value applied to every run (fixed, not swept; not part of run ids)."""
    grid: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    """Dotted key -> values; every combination is one setting (Cartesian product)."""
    settings: tuple[dict[str, Any], ...] = ()
    """Explicit list of override mappings (dotted keys), each crossed with the grid."""
    seeds: tuple[int, ...] = (0,)
    """Seeds run for every setting (one run per setting and seed)."""
    metric: str = ""
    """Result variable that ranks settings in the summary (empty: the action's default)."""
    goal: str = "min"
    """Whether the best setting has the smallest ('min') or largest ('max') mean metric."""
    threads_per_run: int = 1
    """CPU threads (torch and BLAS) each run may use; also the cores a worker gives a run."""
    retries: int = 2
    """Times Dask re-submits a run whose task raised outside the action (Dask ``retries=``)."""
    name: str = "sweep"
    """Label stored in the results' attributes."""

    def __post_init__(self) -> None:
        if not self.action:
            raise ConfigError("SweepSpec.action must name a run action")
        check_choice(self, "goal", ("min", "max"))
        check_range(self, "threads_per_run", low=1)
        check_range(self, "retries", low=0)
        if not self.seeds:
            raise ConfigError("SweepSpec.seeds must hold at least one seed")
        if len(set(self.seeds)) != len(self.seeds):
            raise ConfigError(f"SweepSpec.seeds has duplicates: {list(self.seeds)}")
        if any(s < 0 for s in self.seeds):
            raise ConfigError(f"SweepSpec.seeds must be non-negative, got {list(self.seeds)}")
        for key in set(self.grid).union(*map(set, self.settings)) & set(RESERVED_NAMES):
            reserved = ", ".join(RESERVED_NAMES)
            raise ConfigError(f"SweepSpec: swept key {key!r} is a reserved name ({reserved})")
        for key, values in self.grid.items():
            if not values:
                raise ConfigError(f"SweepSpec.grid[{key!r}] has no values")
            if len({_canonical(v) for v in values}) != len(values):
                raise ConfigError(f"SweepSpec.grid[{key!r}] has duplicate values: {list(values)}")
        for i, setting in enumerate(self.settings):
            clash = set(setting) & set(self.grid)
            if clash:
                raise ConfigError(
                    f"SweepSpec.settings[{i}] sets {sorted(clash)}, which the grid also sweeps"
                )
        swept = set(self.grid).union(*map(set, self.settings))
        if swept & set(self.overrides):
            raise ConfigError(
                f"SweepSpec.overrides fixes {sorted(swept & set(self.overrides))}, which the "
                "sweep also varies"
            )

    @property
    def num_settings(self) -> int:
        """Number of distinct override sets (grid combinations x listed settings)."""
        grid = 1
        for values in self.grid.values():
            grid *= len(values)
        return grid * max(1, len(self.settings))

    @property
    def num_runs(self) -> int:
        """Number of runs: settings x seeds."""
        return self.num_settings * len(self.seeds)


@dataclass(frozen=True)
class RunPlan:
    """One run of a sweep: its id, overrides, seed, and its index in the result grid."""

    run_id: str
    """Folder name of the run, stable across invocations (built from overrides and seed)."""
    overrides: dict[str, Any]
    """Dotted key -> value applied to the base config (fixed and swept ones)."""
    seed: int
    """The run's seed."""
    index: tuple[int, ...]
    """Position along the result dims: (setting index if listed settings, grid indices...)."""


def _canonical(value: Any) -> str:
    """A stable text form of a JSON value (used for ids and duplicate checks)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def run_id(overrides: dict[str, Any], seed: int) -> str:
    """Folder name for a run: ``key=value__...__seed=N``, or a hash when that is unsafe/long.

    Parameters
    ----------
    overrides : dict
        Dotted key -> JSON-compatible value.
    seed : int
        The run's seed.

    Returns
    -------
    str
        A file-system safe name that depends only on ``overrides`` (order-free) and ``seed``.
    """
    parts = [f"{k}={_canonical(v).strip(chr(34))}" for k, v in sorted(overrides.items())]
    readable = "__".join([*parts, f"seed={seed}"])
    if len(readable) <= _MAX_ID and not _SAFE.search(readable.replace("=", "")):
        return readable
    digest = hashlib.sha1(_canonical([overrides, seed]).encode()).hexdigest()[:12]
    return f"run-{digest}__seed={seed}"


def setting_overrides(spec: SweepSpec) -> list[tuple[tuple[int, ...], dict[str, Any]]]:
    """All settings of ``spec`` as ``(index, swept overrides)`` in result-grid order.

    ``index`` is ``(setting,)`` + one index per grid key when ``spec.settings`` is not empty,
    else one index per grid key.
    """
    keys = list(spec.grid)
    listed = list(spec.settings) or [{}]
    out = []
    for s_idx, base in enumerate(listed):
        ranges = [range(len(spec.grid[k])) for k in keys]
        for combo in itertools.product(*ranges):
            overrides = dict(base)
            overrides.update({k: spec.grid[k][i] for k, i in zip(keys, combo, strict=True)})
            index = ((s_idx,) if spec.settings else ()) + tuple(combo)
            out.append((index, overrides))
    return out


def plan_runs(spec: SweepSpec) -> list[RunPlan]:
    """Expand ``spec`` into runs, settings-major then seed.

    Raises
    ------
    ConfigError
        If two runs would share a folder (identical overrides listed twice).
    """
    runs = [
        RunPlan(run_id(swept, seed), {**spec.overrides, **swept}, seed, index)
        for index, swept in setting_overrides(spec)
        for seed in spec.seeds
    ]
    seen: dict[str, RunPlan] = {}
    for run in runs:
        if run.run_id in seen:
            raise ConfigError(f"two runs of the sweep share the id {run.run_id!r}")
        seen[run.run_id] = run
    return runs


def load_spec(source: str | Path, presets: dict[str, SweepSpec] | None = None) -> SweepSpec:
    """Load a sweep spec from a JSON file or a preset name.

    Parameters
    ----------
    source : str or Path
        Path to a JSON spec file, or a key of ``presets``.
    presets : dict, optional
        Named specs (defaults to :data:`neurometa.sweep.SWEEP_PRESETS`).

    Raises
    ------
    ConfigError
        If ``source`` is neither an existing file nor a preset (listing the presets), or the
        file is not a valid spec (naming the bad key).
    """
    if presets is None:
        from neurometa.sweep.presets import SWEEP_PRESETS

        presets = SWEEP_PRESETS
    path = Path(source)
    if path.is_file():
        return SweepSpec.load(path)
    if str(source) in presets:
        return presets[str(source)]
    names = ", ".join(sorted(presets)) or "(none)"
    raise ConfigError(
        f"sweep spec {str(source)!r} is neither a file nor a preset; presets: {names}"
    )
