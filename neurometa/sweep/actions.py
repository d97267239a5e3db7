"""Per-run actions of a sweep: a registry of named functions run once per (setting, seed).

An action turns a base preset name into a config (:attr:`SweepAction.resolve`, run on the
client so a bad override fails before any cluster starts) and runs one configured run in its
own folder (:attr:`SweepAction.run`, run on a Dask worker). ``run`` returns the run's scalar
results (e.g. ``{"final_regret": 0.07}``); they become variables of the sweep's Dataset.

:data:`ACTIONS` holds the built-in actions ``train``, ``record`` and ``analyse`` (their run
functions are in :mod:`neurometa.sweep.builtin`); tests and labs add their own with
:func:`register_action`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from neurometa.analysis.coding import CODING_TERMS
from neurometa.config import Config, ConfigError
from neurometa.sweep.builtin import (
    RECORD_EPISODES,
    analyse_run,
    record_run,
    train_preset,
    train_run,
)

__all__ = ["SweepAction", "RunFunction", "ACTIONS", "register_action", "get_action"]


class RunFunction(Protocol):
    """Signature of :attr:`SweepAction.run`."""

    def __call__(
        self, config: Config, run_dir: Path, *, seed: int, resume: bool
    ) -> Mapping[str, float]:
        """Run one configured run in ``run_dir`` and return its scalar results."""


@dataclass(frozen=True)
class SweepAction:
    """A named per-run function and how to build its config from a preset name."""

    name: str
    """Registry name used in sweep specs (``action`` field)."""
    resolve: Callable[[str], Config]
    """Base preset name -> config (called on the client before anything is submitted)."""
    run: RunFunction
    """``run(config, run_dir, *, seed, resume) -> {name: float}``, called on a worker.

    ``resume`` is True when an earlier attempt of this run started and did not finish (its
    folder may hold a checkpoint)."""
    metric: str = ""
    """Default result variable that ranks settings."""
    goal: str = "min"
    """Whether smaller ('min') or larger ('max') ``metric`` is better."""
    uses_torch: bool = True
    """Import torch and call ``torch.set_num_threads`` before the run (False for pure numpy)."""
    description: str = ""
    """One line shown by ``neurometa sweep --list-actions``."""
    results: tuple[str, ...] = ()
    """Every result name a run may return, so that a misspelt ``metric`` is refused before
    anything runs; empty: not known in advance (not checked)."""

    def check_metric(self, metric: str) -> None:
        """Raise ``ConfigError`` if ``metric`` is not one of :attr:`results` (when declared)."""
        if not metric or not self.results or metric in self.results:
            return
        import difflib

        close = difflib.get_close_matches(metric, self.results, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"metric {metric!r} is not a result of action {self.name!r}{hint} "
            f"(results: {', '.join(self.results)})"
        )

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"action name must be a word, got {self.name!r}")
        if self.goal not in ("min", "max"):
            raise ValueError(
                f"action {self.name!r}: goal must be 'min' or 'max', not {self.goal!r}"
            )
        if not callable(self.resolve) or not callable(self.run):
            raise TypeError(f"action {self.name!r}: resolve and run must be callables")


#: What the built-in actions return (see neurometa.sweep.builtin): the final evaluation
#: (neurometa.learn.evaluate: return, regret where the task has one, their SEMs, the score),
#: the training figures, the recording's figures and the coding fractions.
TRAIN_RESULTS: tuple[str, ...] = (
    "final_score", "final_return", "final_return_sem", "final_regret", "final_regret_sem",
    "best_score", "best_update", "train_seconds", "env_steps", "train_return", "train_regret",
)  # fmt: skip
RECORD_RESULTS = (*TRAIN_RESULTS, "record_return", "record_regret")
ANALYSE_RESULTS = (
    *RECORD_RESULTS,
    *(f"coding_{t}{s}" for t in CODING_TERMS if t != "intercept" for s in ("", "_chance")),
)

#: Registered actions by name: the built-in ones, and any added with :func:`register_action`.
ACTIONS: dict[str, SweepAction] = {
    "train": SweepAction(
        "train", train_preset, train_run, "final_score", "max",
        description="train a trainer preset; results: final evaluation (score, regret, return)",
        results=TRAIN_RESULTS,
    ),
    "record": SweepAction(
        "record", train_preset, record_run, "final_score", "max",
        description=f"train, then record {RECORD_EPISODES} episodes to recording.nc",
        results=RECORD_RESULTS,
    ),
    "analyse": SweepAction(
        "analyse", train_preset, analyse_run, "final_score", "max",
        description="train, record, single-unit coding fractions (Tsutsui 2016; Wang 2018)",
        results=ANALYSE_RESULTS,
    ),
}  # fmt: skip


def register_action(action: SweepAction, *, replace: bool = False) -> SweepAction:
    """Add ``action`` to :data:`ACTIONS` and return it.

    Raises
    ------
    ValueError
        If an action of that name exists and ``replace`` is False.
    """
    if action.name in ACTIONS and not replace:
        raise ValueError(f"a sweep action named {action.name!r} is already registered")
    ACTIONS[action.name] = action
    return action


def get_action(name: str) -> SweepAction:
    """The registered action ``name``; a :class:`ConfigError` lists the valid names."""
    if name not in ACTIONS:
        raise ConfigError(
            f"unknown sweep action {name!r}; registered actions: {', '.join(sorted(ACTIONS))}"
        )
    return ACTIONS[name]


def resolve_config(action: SweepAction, base: str, overrides: Mapping[str, Any]) -> Config:
    """Base config of ``action`` for preset ``base`` with dotted ``overrides`` applied."""
    from neurometa.config import replace_paths

    config = action.resolve(base)
    try:
        return replace_paths(config, overrides)
    except ConfigError as err:
        changes = ", ".join(f"{key}={value!r}" for key, value in overrides.items())
        raise ConfigError(f"override {changes}: {err}") from err
