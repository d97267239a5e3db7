"""The curated top-level API: lazy, complete, documented."""

from __future__ import annotations

import doctest
import inspect
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

import neurometa

ROOT = Path(__file__).resolve().parents[1]


def test_import_neurometa_loads_no_torch_and_no_analysis_stack():
    code = (
        "import sys, neurometa as nm\n"
        "heavy = [m for m in ('torch', 'xarray', 'pandas', 'scipy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "nm.coding_fractions\n"
        "assert 'torch' not in sys.modules, 'an analysis name imported torch'\n"
        "nm.train\n"
        "assert 'torch' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", neurometa.__all__)
def test_every_public_name_resolves(name: str):
    assert getattr(neurometa, name) is not None
    assert name in dir(neurometa)


def test_unknown_name_is_an_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="no_such_thing"):
        neurometa.no_such_thing  # noqa: B018


def _docstring(name: str) -> str:
    return getattr(neurometa, name).__doc__ or ""


API_NAMES = [n for n in neurometa.__all__ if n not in ("__version__", "plotting")]
#: Examples that train, start Dask or write NWB files: seconds each, so they run with the
#: slow checks (``pytest -m slow tests/test_api.py``); ``make docs`` renders them all.
SLOW_EXAMPLES = {"train", "load_agent", "run_sweep", "open_results", "read_nwb", "export_nwb",
                 "read_nwb_behaviour", "rpe_decomposition", "compare_models",
                 "add_latents"}  # fmt: skip


@pytest.mark.parametrize("name", API_NAMES)
def test_every_public_name_has_a_numpydoc_docstring_with_an_example(name: str):
    doc = _docstring(name)
    assert doc.strip(), f"{name} has no docstring"
    assert "Examples\n" in inspect.cleandoc(doc), f"{name} has no Examples section"
    assert ">>> " in doc


def _run_examples(name: str) -> None:
    obj = getattr(neurometa, name)
    finder = doctest.DocTestFinder(recurse=False)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    # As ``pytest --doctest-modules``: the examples see their module's names.
    globs = dict(vars(sys.modules[obj.__module__]))
    (test,) = finder.find(obj, name, globs=globs)
    runner = doctest.DocTestRunner(optionflags=flags)
    output = io.StringIO()
    result = runner.run(test, out=output.write)
    assert result.failed == 0, output.getvalue()
    assert result.attempted > 0


@pytest.mark.parametrize("name", [n for n in API_NAMES if n not in SLOW_EXAMPLES])
def test_docstring_examples_run(name: str, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _run_examples(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW_EXAMPLES))
def test_slow_docstring_examples_run(name: str, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _run_examples(name)


def test_api_reference_lists_every_public_name():
    text = (ROOT / "docs" / "api.rst").read_text()
    listed = set(re.findall(r"^   (\w+)$", text, re.M))
    assert set(API_NAMES) - listed == set()
