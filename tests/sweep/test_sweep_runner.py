"""One run on a worker: done marker, error record, resume, thread limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sweep_toys import ToyConfig, toy_resolve, toy_score

from neurometa.sweep import (
    RunTask,
    SweepAction,
    execute_run,
)


def _task(tmp_path: Path, action: str = "toy", threads: int = 1, **config) -> RunTask:
    from neurometa.sweep import get_action

    return RunTask(
        "r", str(tmp_path / "r"), get_action(action), ToyConfig(**config), 3, {}, threads
    )


def test_execute_run_writes_done_marker_then_skips(tmp_path):
    task = _task(tmp_path, x=2.0)
    first = execute_run(task)
    assert first["status"] == "done"
    assert not first["skipped"]
    assert first["results"]["score"] == pytest.approx(toy_score(2.0, 3))
    stored = json.loads((tmp_path / "r" / "result.json").read_text())
    assert stored["results"] == first["results"]
    second = execute_run(task)
    assert second["skipped"]
    assert second["results"] == first["results"]
    assert len(json.loads((tmp_path / "r" / "run.json").read_text())["attempts"]) == 1


def test_execute_run_records_error_with_traceback(tmp_path):
    outcome = execute_run(_task(tmp_path, x=0.25, fail=True))
    assert outcome["status"] == "failed"
    assert outcome["error_type"] == "ValueError"
    error = json.loads((tmp_path / "r" / "error.json").read_text())
    assert error["message"] == "planted failure for x=0.25"
    assert "in toy_run" in error["traceback"]
    assert "ValueError" in error["traceback"]
    assert not (tmp_path / "r" / "result.json").exists()


def test_execute_run_resumes_from_checkpoint(tmp_path):
    task = _task(tmp_path, steps=4, fail_first_at=2)
    assert execute_run(task)["status"] == "failed"
    assert json.loads((tmp_path / "r" / "checkpoint.json").read_text()) == {"step": 2}
    outcome = execute_run(task)
    assert outcome["status"] == "done"
    assert outcome["attempt"] == 2
    assert outcome["results"]["start_step"] == 2  # resumed, not restarted
    assert not (tmp_path / "r" / "error.json").exists()


def test_execute_run_limits_torch_threads(tmp_path):
    import torch

    before = torch.get_num_threads()
    outcome = execute_run(_task(tmp_path, action="toy_torch", threads=2))
    assert outcome["results"]["torch_threads"] == 2
    assert torch.get_num_threads() == before


def test_action_returning_non_numbers_fails_clearly(tmp_path):
    bad = SweepAction("toy_bad", toy_resolve, lambda c, d, *, seed, resume: {"a": "x"}, "a")
    task = RunTask("r", str(tmp_path / "r"), bad, ToyConfig(), 0)
    outcome = execute_run(task)
    assert outcome["status"] == "failed"
    assert outcome["message"] == "action 'toy_bad': result 'a' = 'x' is not a number"
