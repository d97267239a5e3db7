"""The tutorials (jupytext percent scripts in docs/tutorials/) run at quick settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("[0-9]*.py"))


def test_there_are_tutorials_and_the_index_lists_each():
    assert len(TUTORIALS) >= 4
    index = (ROOT / "docs" / "tutorials" / "index.md").read_text()
    for path in TUTORIALS:
        assert f"\n{path.stem}\n" in index


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_is_a_percent_notebook_with_a_title(path: Path):
    text = path.read_text()
    assert text.startswith("# %% [markdown]\n# # ")
    assert text.count("# %%\n") >= 3  # code cells


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_at_quick_settings(path: Path, tmp_path: Path):
    env = {
        **os.environ,
        "NEUROMETA_TUTORIAL_QUICK": "1",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-4000:]
