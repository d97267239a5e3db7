"""Atomic file writing: every writer in neurometa goes through here.

A file is written to a temporary sibling in the same folder, flushed and fsynced, then
renamed over the destination with :func:`os.replace` (atomic on POSIX). An exception or a
kill mid-write leaves the previous file intact and removes the temporary file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = [
    "atomic_path",
    "atomic_open",
    "write_text_atomic",
    "write_json_atomic",
    "remove_stale_temps",
    "pid_alive",
]


def _fsync_dir(folder: Path) -> None:
    """Fsync a directory so the rename itself is durable (best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path to write to; on success it replaces ``path`` atomically.

    Use this for libraries that write by file name (``xarray.Dataset.to_netcdf``,
    ``torch.save``, zarr stores). The temporary path is in the same folder as ``path`` so
    that the final rename never crosses a file system. Directories (zarr stores) are
    supported: an existing directory at ``path`` is replaced only after the new one is
    complete.

    Parameters
    ----------
    path : path-like
        The destination.
    suffix : str, optional
        Suffix for the temporary name (defaults to the destination's suffix, so libraries
        that choose a format by extension still do).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "x.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "x.txt").read_text()
    'hello'
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(dest)
    suffix = dest.suffix if suffix is None else suffix
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{dest.name}.{os.getpid()}.", suffix=f".tmp{suffix}", dir=dest.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # let the writer create it (some writers refuse to overwrite)
    try:
        yield tmp
        if tmp.is_file():
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        if not tmp.exists():
            raise FileNotFoundError(f"the writer did not create {tmp} for {dest}")
        if tmp.is_dir() and dest.exists():
            backup = dest.with_name(f".{dest.name}.old")
            _remove(backup)
            os.replace(dest, backup)
            os.replace(tmp, dest)
            _remove(backup)
        else:
            os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        _remove(tmp)
        raise


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True


def remove_stale_temps(dest: str | os.PathLike[str], prefix: str | None = None) -> list[Path]:
    """Remove temporary siblings of ``dest`` left by writers that were killed.

    Temporary names carry the writer's process id (``.<name>.<pid>.<random>.tmp<suffix>``);
    a temporary whose process no longer exists is a leftover of a kill (SIGKILL, power
    loss) and is removed. Temporaries of live processes (a concurrent writer) are kept.

    Parameters
    ----------
    dest : path-like
        The destination whose leftovers to remove.
    prefix : str, optional
        Name prefix of the temporaries (default ``.<dest name>.``), followed by the pid.

    Returns
    -------
    list of Path
        What was removed.
    """
    dest = Path(dest)
    prefix = f".{dest.name}." if prefix is None else prefix
    removed = []
    if not dest.parent.is_dir():
        return removed
    for tmp in dest.parent.glob(f"{glob_escape(prefix)}*"):
        pid_text = tmp.name[len(prefix) :].split(".", 1)[0].split("-", 1)[0]
        if pid_text.isdigit() and not pid_alive(int(pid_text)):
            _remove(tmp)
            removed.append(tmp)
    return removed


def glob_escape(text: str) -> str:
    """``text`` with glob's special characters escaped."""
    import glob

    return glob.escape(text)


def _remove(path: Path) -> None:
    """Remove a file or directory tree if it exists."""
    if path.is_dir() and not path.is_symlink():
        import shutil

        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a file handle whose content replaces ``path`` only when the block succeeds.

    Parameters
    ----------
    path : path-like
        The destination.
    mode : {"w", "wb"}
        Text or binary write mode.
    **kwargs
        Passed to :func:`open` (e.g. ``encoding``).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open supports modes 'w' and 'wb', not {mode!r}")
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_open(path, "w") as fh:
        fh.write(text)


def write_json_atomic(path: str | os.PathLike[str], obj: Any, *, indent: int = 2) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (keys sorted, trailing newline)."""
    write_text_atomic(path, json.dumps(obj, indent=indent, sort_keys=True) + "\n")
