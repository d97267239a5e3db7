"""Recording files: round trips, streaming, lazy reads, atomic writes, unreadable files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from record_toys import FailingAgent, ToyAgent, lab_two_step

from neurometa.netcdf import stamp_cf
from neurometa.record import (
    RecordingError,
    RecordingFileError,
    RecordingWriter,
    open_recording,
    record,
    save_recording,
)
from neurometa.tasks import make

SUFFIXES = [".nc", ".zarr"]


def _record(out: Path | None = None, agent: ToyAgent | None = None) -> xr.Dataset:
    task = make("two_step/wang2018", 4, num_trials=20)
    return record(agent or ToyAgent(memory=True), task, 10, seed=3, progress=False,
                  out=out, preset="two_step/wang2018")  # fmt: skip


@pytest.fixture(scope="module")
def two_step_recording() -> xr.Dataset:
    """10 episodes of the two-step task (bools, string stages, extra dims, memory read-outs)."""
    return _record()


@pytest.mark.parametrize("suffix", SUFFIXES, ids=["netcdf", "zarr"])
def test_round_trip_identical(two_step_recording: xr.Dataset, tmp_path: Path, suffix: str) -> None:
    path = save_recording(two_step_recording, tmp_path / f"rec{suffix}")
    with open_recording(path) as back:
        xr.testing.assert_identical(back.load(), two_step_recording)


@pytest.mark.parametrize("suffix", SUFFIXES, ids=["netcdf", "zarr"])
def test_lab_round_trip_identical(tmp_path: Path, suffix: str) -> None:
    ds = stamp_cf(lab_two_step())  # as an importer makes it: CF attributes and a history
    with open_recording(save_recording(ds, tmp_path / f"lab{suffix}")) as back:
        xr.testing.assert_identical(back.load(), ds)


@pytest.mark.parametrize("suffix", SUFFIXES, ids=["netcdf", "zarr"])
def test_streamed_equals_in_memory(
    two_step_recording: xr.Dataset, tmp_path: Path, suffix: str
) -> None:
    streamed = _record(out=tmp_path / f"stream{suffix}")
    assert streamed.reward.variable._in_memory is False  # opened lazily from the file
    made_later = two_step_recording.assign_attrs(history=streamed.attrs["history"])
    xr.testing.assert_identical(streamed.load(), made_later)


def test_netcdf_is_compressed_and_chunked_by_episode(
    two_step_recording: xr.Dataset, tmp_path: Path
) -> None:
    path = save_recording(two_step_recording, tmp_path / "rec.nc")
    with open_recording(path) as ds:
        encoding = ds.h.encoding
    assert encoding["zlib"]
    assert encoding["chunksizes"][1:] == ds.h.shape[1:]


def test_lazy_open_with_dask_chunks(two_step_recording: xr.Dataset, tmp_path: Path) -> None:
    path = tmp_path / "rec.nc"
    _record(out=path)
    with open_recording(path, chunks={}) as ds:  # the on-disk chunks: one batch of 4 episodes
        assert ds.h.chunks[0] == (4, 4, 2)
        np.testing.assert_array_equal(ds.h.mean("episode"), two_step_recording.h.mean("episode"))


def test_failure_mid_recording_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "crash.nc"
    with pytest.raises(RuntimeError, match="simulated crash"):
        _record(out=out, agent=FailingAgent(fail_after=2))
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_previous_file(two_step_recording: xr.Dataset, tmp_path: Path) -> None:
    out = save_recording(two_step_recording, tmp_path / "keep.zarr")
    with pytest.raises(RuntimeError, match="simulated crash"):
        _record(out=out, agent=FailingAgent(fail_after=1))
    assert [p.name for p in tmp_path.iterdir()] == ["keep.zarr"]
    with open_recording(out) as back:
        xr.testing.assert_identical(back.load(), two_step_recording)


def test_invalid_dataset_is_not_written(two_step_recording: xr.Dataset, tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="'action'"):
        save_recording(two_step_recording.drop_vars("action"), tmp_path / "bad.nc")
    assert list(tmp_path.iterdir()) == []


def test_writer_rejects_mismatched_batch(two_step_recording: xr.Dataset, tmp_path: Path) -> None:
    first, second = two_step_recording.isel(episode=slice(0, 5)), two_step_recording.isel(
        episode=slice(5, None))  # fmt: skip
    with pytest.raises(RecordingError, match="'gate'"):  # noqa: PT012 - the block is the writer
        with RecordingWriter(tmp_path / "w.nc") as writer:
            writer.append(first)
            writer.append(second.drop_vars("gate"))
    assert list(tmp_path.iterdir()) == []


def test_writer_with_no_batches_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="no episodes"), RecordingWriter(tmp_path / "e.nc"):
        pass
    assert list(tmp_path.iterdir()) == []


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garble(path: Path) -> None:
    path.write_bytes(b"\x00garbage" * 100)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize(
    "damage", [_truncate, _garble, _empty], ids=["truncated", "garbage", "empty"]
)
def test_unreadable_netcdf_gives_clear_error(
    two_step_recording: xr.Dataset, tmp_path: Path, damage
) -> None:
    path = save_recording(two_step_recording, tmp_path / "rec.nc")
    damage(path)
    with pytest.raises(RecordingFileError) as info:
        open_recording(path)
    message = str(info.value)
    assert message.startswith(f"{path}: cannot be read as a NetCDF-4/HDF5 file")
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_corrupt_zarr_gives_clear_error(two_step_recording: xr.Dataset, tmp_path: Path) -> None:
    path = save_recording(two_step_recording, tmp_path / "rec.zarr")
    (path / "zarr.json").write_text("{ not json")
    with pytest.raises(RecordingFileError, match="cannot be read as a Zarr store"):
        open_recording(path)


@pytest.mark.parametrize(
    ("name", "message"),
    [("missing.nc", "no such file"), ("rec.csv", "unknown recording format")],
    ids=["missing", "unknown_suffix"],
)
def test_bad_paths(tmp_path: Path, name: str, message: str) -> None:
    (tmp_path / "rec.csv").write_text("a,b\n")
    with pytest.raises((RecordingFileError, ValueError), match=message):
        open_recording(tmp_path / name)


def test_foreign_netcdf_lists_schema_problems(tmp_path: Path) -> None:
    path = tmp_path / "foreign.nc"
    xr.Dataset({"x": ("t", np.arange(3.0))}).to_netcdf(path, engine="h5netcdf")
    with pytest.raises(RecordingError) as info:
        open_recording(path)
    assert str(path) in str(info.value)
    assert any("'schema_version'" in p for p in info.value.problems)
    assert any("'x'" in p for p in info.value.problems)
