"""Recordings: rollouts into xarray Datasets, the schema and its validator, file I/O.

- :func:`record` runs an agent on a task with frozen weights and captures every step
  (:func:`play_batch`: one batch as arrays);
- :func:`validate_recording` checks any Dataset (agent or lab) against the schema
  (``docs/schema.md``), listing every problem in one :class:`RecordingError`;
- :func:`save_recording` / :func:`open_recording` / :class:`RecordingWriter` write NetCDF
  (default) or Zarr atomically and read lazily.
"""

from neurometa.record.io import (
    RecordingFileError,
    RecordingWriter,
    check_destination,
    open_recording,
    recording_format,
    save_recording,
)
from neurometa.record.schema import POLICY_DIM, SCHEMA_VERSION, annotate
from neurometa.record.validate import RecordingError, validate_recording


def __getattr__(name: str):  # noqa: ANN202 - lazy: keep `import neurometa.record` torch-free
    """Import the recorder (which needs torch) only when it is asked for."""
    if name in ("play_batch", "record"):
        from neurometa.record import recorder

        return getattr(recorder, name)
    raise AttributeError(f"module 'neurometa.record' has no attribute {name!r}")


__all__ = [
    "POLICY_DIM",
    "SCHEMA_VERSION",
    "RecordingError",
    "RecordingFileError",
    "RecordingWriter",
    "annotate",
    "check_destination",
    "open_recording",
    "play_batch",
    "record",
    "recording_format",
    "save_recording",
    "validate_recording",
]
