"""Recording files: NetCDF (default, compressed) or Zarr, written atomically, read lazily.

- :func:`save_recording` writes a Dataset in one go;
- :class:`RecordingWriter` streams a recording batch by batch (the recorder uses it), so a
  recording never has to fit in memory: NetCDF files grow along an unlimited ``episode``
  dimension, Zarr stores are appended along ``episode``;
- :func:`open_recording` opens lazily (with Dask chunks if asked), turns unreadable files
  into a :class:`RecordingFileError` naming the file, and validates the structure.

Every write goes to a temporary sibling (:func:`neurometa.atomic.atomic_path`) that replaces
the destination only once complete, so a failure mid-write leaves no partial file.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType
from typing import Any

import h5netcdf
import numpy as np
import xarray as xr
from xarray.conventions import encode_cf_variable

from neurometa.atomic import atomic_path
from neurometa.netcdf import stamp_cf
from neurometa.record.validate import RecordingError, validate_recording

__all__ = [
    "recording_title",
    "RecordingFileError",
    "RecordingWriter",
    "recording_format",
    "check_destination",
    "save_recording",
    "open_recording",
    "NETCDF_SUFFIXES",
    "ZARR_SUFFIXES",
]

NETCDF_SUFFIXES: tuple[str, ...] = (".nc", ".nc4", ".netcdf")
ZARR_SUFFIXES: tuple[str, ...] = (".zarr",)
#: Target size of one on-disk chunk (uncompressed bytes); chunks span whole episodes.
CHUNK_BYTES = 2 * 2**20
#: Errors libraries raise on unreadable files (h5py: OSError; xarray/zarr: ValueError, ...).
_READ_ERRORS = (OSError, ValueError, KeyError, TypeError, RuntimeError, AttributeError)


class RecordingFileError(RecordingError):
    """A recording file is missing, truncated, corrupt or of an unknown format."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__([reason], what=str(path))
        self.path = Path(path)

    def __str__(self) -> str:
        return f"{self.path}: {self.problems[0]}"


def recording_format(path: str | os.PathLike[str], file_format: str | None = None) -> str:
    """``"netcdf"`` or ``"zarr"`` from ``file_format`` or the suffix of ``path``."""
    if file_format is not None:
        if file_format not in ("netcdf", "zarr"):
            raise ValueError(f"file_format must be 'netcdf' or 'zarr', got {file_format!r}")
        return file_format
    suffix = Path(path).suffix.lower()
    if suffix in NETCDF_SUFFIXES:
        return "netcdf"
    if suffix in ZARR_SUFFIXES or _is_zarr_store(Path(path)):
        return "zarr"
    known = ", ".join(NETCDF_SUFFIXES + ZARR_SUFFIXES)
    raise ValueError(f"{path}: unknown recording format {suffix!r}; use one of {known}")


def _is_zarr_store(path: Path) -> bool:
    """Whether ``path`` is a Zarr store (v2 or v3 metadata at its root)."""
    return path.is_dir() and any((path / m).is_file() for m in ("zarr.json", ".zgroup"))


def check_destination(path: str | os.PathLike[str], file_format: str | None = None) -> str:
    """The format to write ``path`` in, refusing to replace anything that is not a recording.

    A recording may replace an earlier recording (a NetCDF file, or a Zarr store), never a
    folder of the user's or a file of another kind: ``--out results`` naming an existing
    folder is refused instead of turning it into a Zarr store and deleting its files.

    Raises
    ------
    ValueError
        The destination exists and is not a recording of the format to write, or its
        suffix names no recording format.
    """
    path = Path(path)
    fmt = recording_format(path, file_format)
    if not path.exists() and not path.is_symlink():
        return fmt
    if fmt == "zarr" and not _is_zarr_store(path):
        raise ValueError(
            f"{path} exists and is not a Zarr store; refusing to replace it (and the files in "
            "it): choose a new name, e.g. with the suffix .nc or .zarr"
        )
    if fmt == "netcdf" and not path.is_file():
        raise ValueError(f"{path} exists and is not a file; refusing to replace it")
    return fmt


def recording_title(ds: xr.Dataset) -> str:
    """The ``title`` of a recording file: its own, else who (agent or lab) on which task."""
    attrs = ds.attrs
    if attrs.get("title"):
        return str(attrs["title"])
    if attrs.get("source") == "lab":
        who = f"lab recording of {attrs.get('task', 'a task')}"
    else:
        who = f"recording of agent {attrs.get('agent', '?')} (seed {attrs.get('seed', '?')})"
    return f"neurometa {who} on task preset {attrs.get('preset', '?')}"


def _episode_chunk(var: xr.Variable, batch: int) -> int:
    """Episodes per on-disk chunk: about CHUNK_BYTES, dividing ``batch`` evenly."""
    per_episode = max(1, var.dtype.itemsize * int(np.prod(var.shape[1:], dtype=np.int64)))
    chunk = int(max(1, min(batch, CHUNK_BYTES // per_episode)))
    while batch % chunk:
        chunk -= 1
    return chunk


def _encoding(ds: xr.Dataset, file_format: str, level: int) -> dict[str, dict[str, Any]]:
    """Per-variable chunking (whole episodes) and, for NetCDF, gzip + shuffle compression."""
    encoding: dict[str, dict[str, Any]] = {}
    batch = ds.sizes.get("episode", 1)
    for name, var in ds.data_vars.items():
        if var.dtype.kind not in "biuf" or not var.dims or var.dims[0] != "episode":
            continue
        chunks = (_episode_chunk(var.variable, batch), *var.shape[1:])
        if file_format == "zarr":
            if var.chunks is None:
                encoding[str(name)] = {"chunks": chunks}
        else:
            encoding[str(name)] = {
                "compression": "gzip",
                "compression_opts": level,
                "shuffle": True,
                "chunksizes": chunks,
            }
    return encoding


def save_recording(
    ds: xr.Dataset,
    path: str | os.PathLike[str],
    *,
    file_format: str | None = None,
    compression_level: int = 1,
    validate: bool = True,
) -> Path:
    """Write a recording to ``path`` atomically (NetCDF via h5netcdf, gzip; or Zarr).

    Parameters
    ----------
    ds : xarray.Dataset
        A recording (validated first unless ``validate=False``). Dask-backed datasets are
        written chunk by chunk.
    path : path-like
        ``.nc`` (NetCDF-4) or ``.zarr``.
    file_format : {"netcdf", "zarr"}, optional
        Overrides the suffix.
    compression_level : int
        gzip level 1-9 for NetCDF (Zarr uses its default codec).
    validate : bool
        Check ``ds`` with :func:`validate_recording` before writing.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import neurometa as nm
    >>> task = nm.make_task("bandit/independent", 4, num_trials=10)
    >>> ds = nm.record_agent(nm.make_baseline("ucb1", task), task, 4, seed=0, progress=False)
    >>> path = nm.save_recording(ds, pathlib.Path(tempfile.mkdtemp()) / "ucb1.nc")
    >>> nm.open_recording(path)["action"].shape
    (4, 10)
    """
    if not 1 <= compression_level <= 9:
        raise ValueError(f"compression_level must be in 1..9, got {compression_level}")
    fmt = check_destination(path, file_format)
    if validate:
        validate_recording(ds)
    ds = stamp_cf(ds.drop_encoding(), title=recording_title(ds))  # keeps an existing history
    encoding = _encoding(ds, fmt, compression_level)
    with atomic_path(path) as tmp:
        if fmt == "zarr":
            ds.to_zarr(tmp, mode="w-", consolidated=False, encoding=encoding)
        else:
            ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)
    return Path(path)


def open_recording(
    path: str | os.PathLike[str],
    chunks: int | str | dict[str, int] | None = None,
    *,
    validate: bool = True,
) -> xr.Dataset:
    """Open a recording lazily.

    Parameters
    ----------
    path : path-like
        A ``.nc`` file or ``.zarr`` store written by this module (or any file that fits
        the schema).
    chunks : int, str or dict, optional
        Dask chunks (e.g. ``{"episode": 1000}``, ``"auto"``, or ``{}`` for the on-disk
        chunks) for out-of-core analyses; ``None`` opens without Dask (values are still
        read only when used).
    validate : bool
        Check the structure (attrs, coords, variables, dims, dtypes) without reading the
        data; call :func:`validate_recording` for the value checks.

    Raises
    ------
    RecordingFileError
        The file is missing, truncated, corrupt or not NetCDF/Zarr.
    RecordingError
        The file opens but does not fit the schema (every problem listed).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import neurometa as nm
    >>> task = nm.make_task("bandit/independent", 4, num_trials=10)
    >>> ds = nm.record_agent(nm.make_baseline("ucb1", task), task, 4, seed=0, progress=False)
    >>> path = nm.save_recording(ds, pathlib.Path(tempfile.mkdtemp()) / "ucb1.nc")
    >>> lazy = nm.open_recording(path, chunks={"episode": 2})  # dask arrays, read on demand
    >>> float(lazy["reward"].mean().compute()) == float(ds["reward"].mean())
    True
    """
    path = Path(path)
    if not path.exists():
        raise RecordingFileError(path, "no such file or directory")
    fmt = recording_format(path)
    try:
        if fmt == "zarr":
            ds = xr.open_dataset(path, engine="zarr", chunks=chunks, consolidated=False)
        else:
            ds = xr.open_dataset(path, engine="h5netcdf", chunks=chunks)
    except _READ_ERRORS as err:
        kind = "Zarr store" if fmt == "zarr" else "NetCDF-4/HDF5 file"
        reason = f"cannot be read as a {kind}; it is truncated, corrupt or of another format"
        raise RecordingFileError(path, f"{reason} ({type(err).__name__}: {err})") from None
    if validate:
        validate_recording(ds, check_values=False, what=str(path))
    return ds


class RecordingWriter:
    """Stream a recording to disk, one batch of episodes at a time, atomically.

    Use as a context manager; the file appears at ``path`` only when the block ends
    without error. Every appended batch must have the same variables, dims, dtypes and
    non-episode coordinates as the first; attrs are taken from the first.

    Parameters
    ----------
    path : path-like
        ``.nc`` or ``.zarr`` destination.
    file_format : {"netcdf", "zarr"}, optional
        Overrides the suffix.
    compression_level : int
        gzip level for NetCDF.

    Examples
    --------
    >>> with RecordingWriter("run.nc") as writer:  # doctest: +SKIP
    ...     for part in batches:
    ...         writer.append(part)
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        file_format: str | None = None,
        compression_level: int = 1,
    ) -> None:
        self.path = Path(path)
        self.format = check_destination(path, file_format)
        self.level = compression_level
        self._context: contextlib.AbstractContextManager[Path] | None = None
        self._tmp: Path | None = None
        self._first: xr.Dataset | None = None
        self.num_episodes = 0

    def __enter__(self) -> RecordingWriter:
        self._context = atomic_path(self.path)
        self._tmp = self._context.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        context, self._context = self._context, None
        if context is None:
            return None
        if exc_type is None and self._first is None:
            exc = RecordingError(["no episodes were appended"], str(self.path))
            context.__exit__(type(exc), exc, None)
            raise exc
        return context.__exit__(exc_type, exc, tb)

    def append(self, part: xr.Dataset) -> None:
        """Append a batch of episodes (a Dataset with dim ``episode``) to the file."""
        if self._context is None or self._tmp is None:
            raise RuntimeError("RecordingWriter.append() outside its `with` block")
        if self._first is None:
            part = stamp_cf(part, title=recording_title(part))
            self._first = part.isel(episode=slice(0, 0))
            encoding = _encoding(part, self.format, self.level)
            if self.format == "zarr":
                part.to_zarr(self._tmp, mode="w-", consolidated=False, encoding=encoding)
            else:
                part.to_netcdf(
                    self._tmp, engine="h5netcdf", encoding=encoding, unlimited_dims=["episode"]
                )
        else:
            self._check_matches(part)
            if self.format == "zarr":
                part.to_zarr(self._tmp, append_dim="episode", consolidated=False)
            else:
                self._append_netcdf(part)
        self.num_episodes += part.sizes["episode"]

    def _check_matches(self, part: xr.Dataset) -> None:
        first = self._first
        assert first is not None
        problems = []
        if set(part.variables) != set(first.variables):
            problems.append(
                f"variables {sorted(map(str, part.variables))} differ from the "
                f"first batch's {sorted(map(str, first.variables))}"
            )
        for name, var in part.variables.items():
            ref = first.variables.get(name)
            if ref is None:
                continue
            if var.dims != ref.dims or var.dtype != ref.dtype:
                problems.append(
                    f"variable {name!r} is {var.dims} {var.dtype} here but "
                    f"{ref.dims} {ref.dtype} in the first batch"
                )
            elif "episode" not in var.dims and not var.equals(ref):
                problems.append(f"{name!r} (not along episode) differs from the first batch")
            elif var.shape[1:] != ref.shape[1:]:
                problems.append(
                    f"variable {name!r} has shape {var.shape}, first batch {ref.shape}"
                )
        if problems:
            raise RecordingError(problems, f"{self.path} (episodes from {self.num_episodes})")

    def _append_netcdf(self, part: xr.Dataset) -> None:
        start, count = self.num_episodes, part.sizes["episode"]
        with h5netcdf.File(self._tmp, "a") as handle:
            handle.resize_dimension("episode", start + count)
            for name, var in part.variables.items():
                if var.dims and var.dims[0] == "episode":
                    encoded = encode_cf_variable(var, name=str(name))
                    handle.variables[str(name)][start : start + count] = encoded.values
