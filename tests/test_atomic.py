"""Atomic writes: an interrupted write leaves the previous file intact and no temp file."""

from __future__ import annotations

import json

import pytest

from neurometa.atomic import atomic_open, atomic_path, write_json_atomic, write_text_atomic


class Boom(RuntimeError):
    pass


def test_write_replaces_content(tmp_path):
    target = tmp_path / "a.txt"
    write_text_atomic(target, "one")
    write_text_atomic(target, "two")
    assert target.read_text() == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_failure_mid_write_keeps_previous_file(tmp_path):
    target = tmp_path / "a.json"
    write_json_atomic(target, {"good": 1})
    with pytest.raises(Boom), atomic_open(target, "w") as fh:
        fh.write('{"half": ')
        raise Boom("disk full")
    assert json.loads(target.read_text()) == {"good": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_failure_in_library_writer_keeps_previous_file(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    with pytest.raises(Boom), atomic_path(target) as tmp:
        tmp.write_bytes(b"partial")
        raise Boom("killed")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]


def test_temp_path_keeps_suffix_and_folder(tmp_path):
    target = tmp_path / "sub" / "rec.nc"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent
        assert tmp.name.endswith(".nc")
        tmp.write_text("x")
    assert target.read_text() == "x"


def test_directory_stores_are_replaced_whole(tmp_path):
    target = tmp_path / "store.zarr"
    target.mkdir()
    (target / "old").write_text("old")
    with atomic_path(target) as tmp:
        tmp.mkdir()
        (tmp / "new").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.zarr"]


def test_writer_that_creates_nothing_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="did not create"), atomic_path(tmp_path / "x"):
        pass


def test_bad_mode_rejected(tmp_path):
    with pytest.raises(ValueError, match="supports modes"), atomic_open(tmp_path / "x", "a"):
        pass
