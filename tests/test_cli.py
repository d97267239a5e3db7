"""The neurometa entry point: --help, --version, subcommand discovery, --json."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from neurometa import __version__
from neurometa.cli import build_parser, emit_json, main


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"neurometa {__version__}"


def test_help_lists_every_command_module_with_its_help():
    import pkgutil

    import neurometa.commands as pkg
    from neurometa.cli import _command_modules

    names = sorted(
        m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_")
    )
    modules = _command_modules()
    assert sorted(m.__name__.rsplit(".", 1)[1] for m in modules) == names
    text = " ".join(build_parser().format_help().split())  # argparse wraps lines
    for module in modules:
        assert f" {module.NAME} {' '.join(module.HELP.split())}" in text


def test_console_script_runs_in_a_subprocess():
    out = subprocess.run(
        [sys.executable, "-m", "neurometa", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert __version__ in out.stdout


def test_emit_json_is_one_object_and_handles_numpy(capsys):
    import numpy as np

    emit_json({"a": np.float32(1.5), "b": np.arange(3), "c": float("nan")})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == {"a": 1.5, "b": [0, 1, 2], "c": None}


def test_unknown_command_exits_with_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-command"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
