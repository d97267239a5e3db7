"""The package as a user gets it: pinned tested versions, a wheel, the README's quick start.

``test_wheel_runs_the_readme_quick_start`` builds the wheel, installs it into a fresh
virtual environment and runs the README's Python quick start there, outside the checkout.
The fresh environment sees the running interpreter's installed packages through a ``.pth``
line (so torch and the rest are reused, never downloaded) and pip installs with
``--no-index``: the wheel's requirements must be met by what is installed, or the install
fails. The checkout is not importable there, so only the wheel's files are used.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra, items in project["optional-dependencies"].items():
        if extra != "all":
            reqs += items
    return [Requirement(r) for r in reqs]


@pytest.mark.parametrize("req", _requirements(), ids=str)
def test_every_requirement_has_a_tested_pin_inside_its_range(req: Requirement):
    pins = _constraints()
    name = canonicalize_name(req.name)
    assert name in pins, f"{req.name} has no pin in constraints.txt"
    assert req.specifier.contains(pins[name], prereleases=True), (
        f"constraints.txt pins {req.name}=={pins[name]}, outside pyproject's {req.specifier}"
    )


def test_no_exact_pins_in_pyproject():
    assert not [r for r in _requirements() if "==" in str(r.specifier)]


def test_both_readme_commands_install_through_the_constraints():
    makefile = (ROOT / "Makefile").read_text()
    assert "CONSTRAINTS := constraints.txt" in makefile
    assert "PIP := $(BIN)/python -m pip install --quiet -c $(CONSTRAINTS)" in makefile
    installs = [ln.strip() for ln in makefile.splitlines() if "pip install" in ln]
    # Every install except pip's own upgrade goes through $(PIP) (with the constraints).
    others = [ln for ln in installs if "$(PIP)" not in ln and not ln.startswith("PIP :=")]
    assert all("--upgrade pip" in ln for ln in others), others
    for target in ("demo: $(STAMP)", "test: $(STAMP)"):
        assert target in makefile


def test_distribution_name_is_not_the_unrelated_neurometa():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "neurometa-rl"


def readme_quick_start() -> str:
    """The README's Python quick start: its first ```python block."""
    text = (ROOT / "README.md").read_text()
    match = re.search(r"```python\n(.*?)```", text, re.S)
    assert match, "README.md has no ```python block"
    return match.group(1)


def test_readme_quick_start_is_ten_lines():
    code = [ln for ln in readme_quick_start().splitlines() if ln.strip()]
    assert len(code) <= 10


def _build_wheel(tmp: Path) -> Path:
    """Build the wheel from a copy of the sources (the checkout gets no build/ folders)."""
    src = tmp / "src"
    shutil.copytree(
        ROOT / "neurometa", src / "neurometa", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    dist = tmp / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", str(dist), str(src)],
        check=True,
    )  # fmt: skip
    (wheel,) = dist.glob("neurometa_rl-*.whl")
    return wheel


def _fresh_venv(tmp: Path) -> Path:
    """A virtual environment without the checkout; it sees this interpreter's packages."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    # A plain path line: the packages are found, but their own .pth files (such as an
    # editable install of this checkout) are not run.
    (Path(site) / "_reuse_installed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg")
    return env


def test_wheel_runs_the_readme_quick_start(tmp_path: Path):
    wheel = _build_wheel(tmp_path)
    python = _fresh_venv(tmp_path)
    env = _clean_env()
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-index", str(wheel)],
        check=True, env=env,
    )  # fmt: skip
    work = tmp_path / "user"
    work.mkdir()
    (work / "quickstart.py").write_text(
        "import neurometa, sys\n"
        "assert neurometa.__file__.startswith(sys.prefix), neurometa.__file__\n"
        + readme_quick_start()
    )
    result = subprocess.run(
        [str(python), "quickstart.py"], cwd=work, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "mean" in result.stdout
    assert "value" in result.stdout
    assert (work / "coding.png").stat().st_size > 10_000
    assert (work / "quickstart.nc").is_file()
