"""``validate_recording``: check a dataset against the recording schema, reporting every problem.

Every analysis calls :func:`validate_recording` on entry. It collects all problems (missing
or malformed attributes, attributes NetCDF cannot store, missing coordinates or variables,
wrong dims or dtypes, NaN where not allowed, policies that are not distributions, unknown
schema versions) and raises one :class:`RecordingError` listing them, each naming the
variable, coordinate or attribute concerned.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Iterable

import numpy as np
import xarray as xr

from neurometa.record.spec import (
    AGENT_REQUIRED,
    ATTRS,
    COORDS,
    CORE_DIMS,
    FAMILY_VARIABLES,
    LAB_REQUIRED,
    POLICY_DIM,
    SOURCES,
    SUPPORTED_SCHEMA_VERSIONS,
    VARIABLES,
    VariableSpec,
    task_family,
)

__all__ = ["RecordingError", "validate_recording", "attr_problem"]

#: Tolerance on ``policy.sum("action_id") == 1``.
POLICY_SUM_TOLERANCE = 1e-3


class RecordingError(ValueError):
    """A dataset or file does not fit the recording schema.

    Parameters
    ----------
    problems : list of str
        One line per problem; ``str(err)`` lists them all.
    what : str
        What was checked (a file name, or ``"recording"``).
    """

    def __init__(self, problems: Iterable[str], what: str = "recording") -> None:
        self.problems = list(problems)
        self.what = what
        count = len(self.problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"{what} does not fit the neurometa recording schema "
            f"({count} problem{'s' if count != 1 else ''}):\n{lines}"
        )


def attr_problem(where: str, name: str, value: object) -> str | None:
    """Why NetCDF cannot store attribute ``name = value`` (``None`` if it can).

    NetCDF stores strings, numbers (not booleans) and 1-D arrays of numbers or strings.
    """
    if isinstance(value, bool | np.bool_):
        return f"{where} attr {name!r} is a boolean, which NetCDF cannot store (use 0/1)"
    if isinstance(value, str | bytes | numbers.Number | np.number):
        return None
    if isinstance(value, list | tuple | np.ndarray):
        arr = np.asarray(value)
        if arr.ndim == 1 and arr.dtype.kind in "iufUS" and arr.size > 0:
            return None
    kind = type(value).__name__
    return (
        f"{where} attr {name!r} has type {kind}, which NetCDF cannot store "
        "(use str, a number or a 1-D list of numbers/strings; JSON-encode mappings)"
    )


def _check_attrs(ds: xr.Dataset, source: str, problems: list[str]) -> None:
    version = ds.attrs.get("schema_version")
    if version is None:
        problems.append("missing attr 'schema_version'")
    elif (
        isinstance(version, bool | np.bool_)
        or not isinstance(version, numbers.Integral)
        or int(version) not in SUPPORTED_SCHEMA_VERSIONS
    ):
        problems.append(
            f"attr 'schema_version' = {version!r} is unknown "
            f"(this package reads {', '.join(map(str, SUPPORTED_SCHEMA_VERSIONS))})"
        )
    for spec in ATTRS.values():
        if spec.name == "schema_version":
            continue
        if spec.name not in ds.attrs:
            if source in spec.required:
                problems.append(f"missing attr {spec.name!r} ({spec.meaning})")
            continue
        value = ds.attrs[spec.name]
        types = {"int": numbers.Integral, "float": numbers.Real, "str": str, "json": str}
        if isinstance(value, bool | np.bool_) or not isinstance(value, types[spec.kind]):
            problems.append(f"attr {spec.name!r} = {value!r} should be of kind {spec.kind}")
        elif spec.kind == "json":
            try:
                json.loads(value)
            except json.JSONDecodeError as err:
                problems.append(f"attr 'config_json' is not valid JSON ({err})")
    discount = ds.attrs.get("discount")
    if isinstance(discount, numbers.Real) and not 0.0 <= float(discount) <= 1.0:
        problems.append(f"attr 'discount' = {discount!r} is outside [0, 1]")
    for name, value in ds.attrs.items():
        problems.extend(p for p in [attr_problem("dataset", name, value)] if p)
    for vname, var in ds.variables.items():
        for name, value in var.attrs.items():
            problems.extend(p for p in [attr_problem(f"variable {vname!r}", name, value)] if p)


def _dtype_ok(dtype: np.dtype, kind: str) -> bool:
    if kind == "int64":
        return dtype == np.int64
    if kind == "float":
        return dtype in (np.float32, np.float64)
    if kind == "bool":
        return dtype == np.bool_
    return False


def _check_coords(ds: xr.Dataset, source: str, problems: list[str]) -> None:
    for spec in COORDS.values():
        needed = source in spec.required or (spec.name == "unit" and "unit" in ds.dims)
        if spec.name not in ds.coords:
            if needed:
                problems.append(
                    f"missing coordinate {spec.name!r} on {spec.dims} ({spec.meaning})"
                )
            continue
        coord = ds.coords[spec.name]
        if coord.dims != spec.dims:
            problems.append(
                f"coordinate {spec.name!r} has dims {coord.dims}, expected {spec.dims}"
            )
        kind = coord.dtype.kind
        if spec.dtype == "int64" and kind not in "iu":
            problems.append(f"coordinate {spec.name!r} has dtype {coord.dtype}, expected integers")
        if spec.dtype == "str" and kind not in "UOT":
            problems.append(f"coordinate {spec.name!r} has dtype {coord.dtype}, expected strings")


def _required_variables(ds: xr.Dataset, source: str, family: str) -> list[str]:
    if source == "lab":
        return list(LAB_REQUIRED.get(family, LAB_REQUIRED["default"]))
    common = [name for name, spec in VARIABLES.items() if source in spec.required]
    return common + list(AGENT_REQUIRED.get(family, ()))


def _check_variable(name: str, var: xr.DataArray, spec: VariableSpec | None) -> list[str]:
    problems = []
    if spec is None:
        if var.dims and var.dims[0] != "episode":
            problems.append(f"variable {name!r} has dims {var.dims}; the first must be 'episode'")
        return problems
    if spec.dims is not None and var.dims != spec.dims:
        problems.append(f"variable {name!r} has dims {var.dims}, expected {spec.dims}")
    elif spec.dims is None and var.dims[:2] != CORE_DIMS:
        problems.append(f"variable {name!r} has dims {var.dims}, expected {CORE_DIMS} first")
    if not _dtype_ok(var.dtype, spec.dtype):
        want = "float32 or float64" if spec.dtype == "float" else spec.dtype
        problems.append(f"variable {name!r} has dtype {var.dtype}, expected {want}")
    return problems


def _check_values(ds: xr.Dataset, source: str, problems: list[str]) -> None:
    floats = [n for n, v in ds.data_vars.items() if v.dtype.kind == "f"]
    checks: dict[str, xr.DataArray] = {}
    # an agent replayed on an animal's trials keeps the lab's padding (-1 / NaN) and has no
    # choice likelihood on steps without a choice (neurometa.record.replay)
    replayed = "replayed_on" in ds.attrs
    if source == "agent":
        for name in [] if replayed else floats:
            checks[f"nan:{name}"] = ds[name].isnull().any()
        if "policy" in ds and ds["policy"].dims == VARIABLES["policy"].dims:
            deviation = abs(ds["policy"].sum(POLICY_DIM, skipna=False) - 1.0)
            checks["policy"] = (deviation > POLICY_SUM_TOLERANCE).any()
            checks["policy_neg"] = (ds["policy"] < 0).any()
        if "action" in ds and ds["action"].dtype.kind == "i" and POLICY_DIM in ds.dims:
            bad = (ds["action"] < (-1 if replayed else 0)) | (ds["action"] >= ds.sizes[POLICY_DIM])
            checks["action"] = bad.any()
    if not checks:
        return
    results = xr.Dataset(checks).compute()
    for key, flag in results.data_vars.items():
        if not bool(flag):
            continue
        kind, _, name = str(key).partition(":")
        if kind == "nan":
            problems.append(f"variable {name!r} contains NaN (not allowed in {source} recordings)")
        elif kind == "policy":
            problems.append(
                f"variable 'policy' does not sum to 1 "
                f"over {POLICY_DIM!r} (tolerance {POLICY_SUM_TOLERANCE})"
            )
        elif kind == "policy_neg":
            problems.append("variable 'policy' has negative probabilities")
        else:
            problems.append(f"variable 'action' has values outside [0, {ds.sizes[POLICY_DIM]})")


def validate_recording(
    ds: xr.Dataset, *, check_values: bool = True, what: str = "recording"
) -> None:
    """Check ``ds`` against the recording schema; raise one error listing every problem.

    Parameters
    ----------
    ds : xarray.Dataset
        A recording: dims ``(episode, step[, unit, action, obs_feature, ...])``, the schema's
        coordinates, variables and attrs (see ``docs/schema.md``).
    check_values : bool
        Also check values: no NaN in agent recordings, ``policy`` sums to 1 over
        ``action``, ``action`` within ``[0, num_actions)``. On a Dask-backed dataset this
        reads the data once, chunk by chunk.
    what : str
        Name used in the error message (e.g. the file name).

    Raises
    ------
    RecordingError
        With ``.problems``, one line per problem, each naming the variable, coordinate or
        attribute.

    Examples
    --------
    >>> import neurometa as nm
    >>> task = nm.make_task("bandit/independent", 4, num_trials=10)
    >>> ds = nm.record_agent(nm.make_baseline("ucb1", task), task, 4, seed=0, progress=False)
    >>> nm.validate_recording(ds)  # silent when the recording fits the schema
    >>> nm.validate_recording(ds.drop_vars("reward"))
    Traceback (most recent call last):
    ...
    neurometa.record.validate.RecordingError: ...
    """
    if not isinstance(ds, xr.Dataset):
        raise RecordingError([f"expected an xarray.Dataset, got {type(ds).__name__}"], what)
    problems: list[str] = []
    source = ds.attrs.get("source")
    if source not in SOURCES:
        if "source" in ds.attrs:
            problems.append(f"attr 'source' = {source!r} is not one of {SOURCES}")
        source = "agent"
    preset = ds.attrs.get("preset", ds.attrs.get("task"))
    family = task_family(preset) if isinstance(preset, str) else ""
    _check_attrs(ds, source, problems)
    _check_coords(ds, source, problems)
    for dim in CORE_DIMS:
        if ds.sizes.get(dim, 1) == 0:
            problems.append(f"dimension {dim!r} is empty: the recording holds no {dim}s")
    for name in _required_variables(ds, source, family):
        if name not in ds.data_vars:
            where = f"{family} " if name in AGENT_REQUIRED.get(family, ()) else ""
            problems.append(
                f"missing variable {name!r} (required in {where}{source} recordings; is the "
                f"preset {preset!r} right?)"
                if where
                else f"missing variable {name!r} (required in {source} recordings)"
            )
    family_specs = FAMILY_VARIABLES.get(family, {})
    for name, var in ds.data_vars.items():
        spec = VARIABLES.get(str(name)) or family_specs.get(str(name))
        problems.extend(_check_variable(str(name), var, spec))
    if check_values:
        _check_values(ds, source, problems)
    if problems:
        raise RecordingError(problems, what)
