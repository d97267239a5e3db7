"""Strictness and JSON round trip of neurometa.config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from neurometa.config import (
    Config,
    ConfigError,
    check_choice,
    check_range,
    replace_path,
    replace_paths,
)


@dataclass(frozen=True)
class Optim(Config):
    lr: float = 1e-3
    """Learning rate."""
    clip: float | None = None
    """Gradient-norm clip (None: no clipping)."""

    def __post_init__(self) -> None:
        check_range(self, "lr", low=0.0, low_inclusive=False, high=1.0)


@dataclass(frozen=True)
class Run(Config):
    units: int = 48
    """LSTM units."""
    kind: Literal["lstm", "gru"] = "lstm"
    """Cell type."""
    arms: tuple[float, ...] = (0.25, 0.75)
    """Arm probabilities."""
    greedy: bool = False
    """Greedy evaluation."""
    optim: Optim = field(default_factory=Optim)
    """Optimiser settings."""

    def __post_init__(self) -> None:
        check_range(self, "units", low=1)
        check_choice(self, "kind", ("lstm", "gru"))


def test_round_trip_json_is_identical():
    cfg = Run(units=32, arms=(0.1, 0.9), optim=Optim(lr=0.01, clip=1.0))
    again = Run.from_json(cfg.to_json())
    assert again == cfg
    assert isinstance(again.arms, tuple)
    assert isinstance(again.optim, Optim)


def test_save_and_load(tmp_path):
    cfg = Run(units=7)
    path = cfg.save(tmp_path / "config.json")
    assert Run.load(path) == cfg


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"unitz": 3}, "unknown key 'unitz' (did you mean 'units'?); valid keys: units, kind"),
        ({"optim": {"lrr": 0.1}}, "Run.optim: unknown key 'lrr' (did you mean 'lr'?)"),
        ({"units": "48"}, "Run.units: expected int, got str '48'"),
        ({"units": 4.5}, "Run.units: expected int, got float 4.5"),
        ({"greedy": 1}, "Run.greedy: expected bool, got int 1"),
        ({"kind": "rnn"}, "Run.kind: 'rnn' is not one of 'lstm', 'gru'"),
        ({"arms": 0.5}, "Run.arms: expected a list, got float 0.5"),
        ({"units": 0}, "Run.units = 0 is outside [1, inf)"),
        ({"optim": {"lr": 2.0}}, "Optim.lr = 2.0 is outside (0.0, 1.0]"),
    ],
    ids=[
        "unknown",
        "nested-unknown",
        "str-for-int",
        "float-for-int",
        "int-for-bool",
        "literal",
        "scalar-for-tuple",
        "range",
        "nested-range",
    ],
)
def test_bad_config_names_the_problem(data, message):
    with pytest.raises(ConfigError) as err:
        Run.from_dict(data)
    assert message in str(err.value)


def test_int_accepted_for_float_and_none_for_optional():
    cfg = Run.from_dict({"optim": {"lr": 1, "clip": None}})
    assert cfg.optim.lr == 1.0
    assert isinstance(cfg.optim.lr, float)
    assert cfg.optim.clip is None


def test_malformed_json_is_a_config_error():
    with pytest.raises(ConfigError, match="malformed JSON"):
        Run.from_json("{units: 3")


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        Run.load(tmp_path / "nope.json")


def test_replace_path_sets_nested_and_validates():
    cfg = replace_path(Run(), "optim.lr", 0.5)
    assert cfg.optim.lr == 0.5
    with pytest.raises(ConfigError, match="unknown key 'optimm'"):
        replace_path(Run(), "optimm.lr", 0.5)
    with pytest.raises(ConfigError, match="outside"):
        replace_path(Run(), "optim.lr", -1.0)


def test_replace_paths_applies_every_change_before_validating():
    cfg = replace_paths(Run(), {"units": 8, "optim.lr": 0.5, "optim.clip": 2.0})
    assert (cfg.units, cfg.optim.lr, cfg.optim.clip) == (8, 0.5, 2.0)
    assert Run().units == 48  # the original is untouched
    with pytest.raises(ConfigError, match=r"Optim: unknown key 'lrr'; valid keys: lr, clip"):
        replace_paths(Run(), {"units": 8, "optim.lrr": 0.5})
    with pytest.raises(ConfigError, match=r"Run.units has no sub-keys \(got 'units.x'\)"):
        replace_paths(Run(), {"units.x": 1})


def test_configs_are_frozen():
    cfg = Run()
    with pytest.raises(AttributeError):
        cfg.units = 3  # type: ignore[misc]
