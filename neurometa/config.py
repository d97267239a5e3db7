"""Strict, frozen configuration dataclasses with JSON round-trip.

Every configuration in neurometa (task presets, network, trainer, sweeps) is a frozen
dataclass that inherits :class:`Config`. Each field carries a docstring (the string literal
under it); validation of ranges lives in ``__post_init__``. Loading from a dict or JSON is
strict: an unknown or misspelt key, a value of the wrong type, or a value out of range is a
:class:`ConfigError` that names the key (and, for unknown keys, the valid ones).

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Opt(Config):
...     lr: float = 1e-3
...     '''Learning rate.'''
...     def __post_init__(self):
...         check_range(self, "lr", low=0.0, low_inclusive=False)
>>> Opt.from_dict({"lr": 0.1}).lr
0.1
>>> Opt.from_dict({"lrr": 0.1})
Traceback (most recent call last):
...
neurometa.config.ConfigError: Opt: unknown key 'lrr' (did you mean 'lr'?); valid keys: lr
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, Self, get_args, get_origin, get_type_hints

from neurometa.atomic import write_text_atomic

__all__ = ["Config", "ConfigError", "check_range", "check_choice", "replace_path", "replace_paths"]


class ConfigError(ValueError):
    """A configuration key, type or value is not acceptable."""


def check_range(
    cfg: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> None:
    """Raise :class:`ConfigError` unless ``cfg.<name>`` lies in the stated interval."""
    value = getattr(cfg, name)
    ok = True
    if low is not None:
        ok &= value >= low if low_inclusive else value > low
    if high is not None:
        ok &= value <= high if high_inclusive else value < high
    if not ok:
        lo = "-inf" if low is None else f"{'[' if low_inclusive else '('}{low}"
        hi = "inf" if high is None else f"{high}{']' if high_inclusive else ')'}"
        lo = lo if low is not None else "(-inf"
        hi = hi if high is not None else "inf)"
        raise ConfigError(f"{type(cfg).__name__}.{name} = {value!r} is outside {lo}, {hi}")


def check_choice(cfg: Any, name: str, choices: typing.Iterable[Any]) -> None:
    """Raise :class:`ConfigError` unless ``cfg.<name>`` is one of ``choices``."""
    choices = tuple(choices)
    value = getattr(cfg, name)
    if value not in choices:
        options = ", ".join(map(repr, choices))
        raise ConfigError(f"{type(cfg).__name__}.{name} = {value!r} is not one of {options}")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check ``value`` against the annotation ``tp`` and convert JSON forms (list -> tuple)."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        errors = []
        for option in get_args(tp):
            try:
                return _coerce(value, option, where)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(f"{where}: {value!r} does not match {_type_name(tp)}")
    if tp is type(None):
        if value is None:
            return None
        raise ConfigError(f"{where}: expected None, got {value!r}")
    if origin is Literal:
        if value in get_args(tp):
            return value
        raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(repr, get_args(tp)))}")
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping for {tp.__name__}, got {value!r}")
        return tp.from_dict(value, _where=where)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {type(value).__name__} {value!r}")
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}")
        return tuple(
            _coerce(v, a, f"{where}[{i}]")
            for i, (v, a) in enumerate(zip(args, value, strict=True))
        )
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        key_t, val_t = get_args(tp)
        return {
            _coerce(k, key_t, f"{where} key"): _coerce(v, val_t, f"{where}[{k!r}]")
            for k, v in value.items()
        }
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif isinstance(tp, type) and isinstance(value, tp):
        return value
    raise ConfigError(f"{where}: expected {_type_name(tp)}, got {type(value).__name__} {value!r}")


def _to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_jsonable(v) for k, v in value.items()}
    return value


class Config:
    """Mixin for frozen configuration dataclasses: strict loading and JSON round-trip.

    Subclasses are declared with ``@dataclass(frozen=True)`` and give every field a
    docstring. ``from_dict`` rejects unknown keys and wrong types; ``__post_init__``
    (written by the subclass) rejects out-of-range values.

    A field that was removed stays readable in files saved before: list it in
    ``removed_keys`` with the value that meant "off" and a note on where it went. A saved
    config holding that value loads (the key is dropped); any other value is a
    :class:`ConfigError` naming the key and the note.
    """

    removed_keys: ClassVar[Mapping[str, tuple[Any, str]]] = {}
    """Removed field name -> (its neutral value, what became of it)."""

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, _where: str | None = None) -> Self:
        """Build a config from a mapping, strictly.

        Parameters
        ----------
        data : dict
            Field values; missing fields take their defaults.

        Raises
        ------
        ConfigError
            For an unknown key (naming it, the closest valid key and all valid keys), a
            value of the wrong type, or (from ``__post_init__``) a value out of range.
        """
        where = _where or cls.__name__
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        hints = get_type_hints(cls)
        data = {k: v for k, v in data.items() if not cls._is_removed(k, v, where)}
        for key in data:
            if key not in fields:
                close = difflib.get_close_matches(str(key), fields, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(
                    f"{where}: unknown key {key!r}{hint}; valid keys: {', '.join(fields)}"
                )
        kwargs = {k: _coerce(v, hints[k], f"{where}.{k}") for k, v in data.items()}
        try:
            return cls(**kwargs)
        except ConfigError:
            raise
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{where}: {err}") from err

    @classmethod
    def _is_removed(cls, key: str, value: Any, where: str) -> bool:
        """Whether ``key`` is a removed field holding its neutral value (else raise)."""
        if key not in cls.removed_keys:
            return False
        neutral, note = cls.removed_keys[key]
        if value != neutral:
            raise ConfigError(f"{where}.{key} = {value!r}: this option was removed; {note}")
        return True

    def to_dict(self) -> dict[str, Any]:
        """The config as plain JSON-compatible Python objects (tuples become lists)."""
        return {f.name: _to_jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def to_json(self, *, indent: int | None = 2) -> str:
        """The config as a JSON string (keys in field order)."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> Self:
        """Parse a JSON string strictly (see :meth:`from_dict`)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(f"{cls.__name__}: malformed JSON: {err}") from err
        return cls.from_dict(data)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the config as JSON to ``path`` atomically and return the path."""
        write_text_atomic(path, self.to_json() + "\n")
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read a config saved by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            return cls.from_json(path.read_text(encoding="utf-8"))
        except ConfigError as err:
            raise ConfigError(f"{path}: {err}") from err

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied, validated like :meth:`from_dict`."""
        merged = self.to_dict()
        for key, value in changes.items():
            merged[key] = _to_jsonable(value)
        return type(self).from_dict(merged)


def replace_path(cfg: Config, dotted: str, value: Any) -> Config:
    """Return a copy of ``cfg`` with the nested field ``dotted`` (``"a.b.c"``) set to ``value``.

    Used by sweeps; see :func:`replace_paths` for several fields at once.
    """
    return replace_paths(cfg, {dotted: value})


def replace_paths(cfg: Config, changes: Mapping[str, Any]) -> Config:
    """Return a copy of ``cfg`` with every nested field of ``changes`` set, validated once.

    Used by the CLI's ``--set key=value`` overrides. All changes are applied before the
    config is checked, so fields whose checks depend on each other (``lr_final`` and
    ``learning_rate``, the start and end of a blend) can be changed together in any order.

    Examples
    --------
    >>> import neurometa as nm
    >>> config = nm.get_preset("bandit/independent")
    >>> short = nm.replace_paths(config, {"optim.num_updates": 100, "workers": 1})
    >>> short.optim.num_updates, short.workers
    (100, 1)
    """
    data = cfg.to_dict()
    for dotted, value in changes.items():
        node, obj = data, cfg
        *heads, last = dotted.split(".")
        for head in heads:
            _check_key(obj, head)
            parent, obj = obj, getattr(obj, head)
            if not isinstance(obj, Config):
                name = type(parent).__name__
                raise ConfigError(f"{name}.{head} has no sub-keys (got {dotted!r})")
            node = node[head]
        _check_key(obj, last)
        node[last] = _to_jsonable(value)
    return type(cfg).from_dict(data)


def _check_key(cfg: Config, key: str) -> None:
    """Raise :class:`ConfigError` unless ``key`` is a field of ``cfg``."""
    if key in cfg.removed_keys:
        raise ConfigError(
            f"{type(cfg).__name__}.{key}: this option was removed; {cfg.removed_keys[key][1]}"
        )
    fields = cfg.to_dict()
    if key not in fields:
        valid = ", ".join(fields)
        raise ConfigError(f"{type(cfg).__name__}: unknown key {key!r}; valid keys: {valid}")
