"""The curated top-level API: lazy, complete, documented."""

from __future__ import annotations

import subprocess
import sys

import pytest

import neurometa


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
