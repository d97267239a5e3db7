"""environment.yml (conda) and pyproject.toml (pip) give the same runtime environment."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _normalise(req: str) -> str:
    return re.sub(r"\s+", "", req).lower()


#: Extras that are development tools, not part of the runtime environment.
DEV_EXTRAS = {"dev", "docs"}


def _pip_path_requirements() -> set[str]:
    """The runtime requirements: dependencies plus every extra that ``all`` names."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = set(project["dependencies"])
    for extra, items in project["optional-dependencies"].items():
        if extra not in DEV_EXTRAS | {"all"}:
            reqs |= set(items)
    return {_normalise(r) for r in reqs}


def _conda_pip_section() -> tuple[list[str], list]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    pip_sections = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip section"
    return pip_sections[0], [d for d in deps if not isinstance(d, dict)]


def test_environment_yml_parses_with_python_311_and_pip_only():
    pip_section, conda_deps = _conda_pip_section()
    assert sorted(conda_deps) == ["pip", "python=3.11"]
    assert "-e ." in pip_section
    assert "-c constraints.txt" in pip_section


def test_all_extra_is_the_runtime_extras():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = set(project["optional-dependencies"]) - DEV_EXTRAS - {"all"}
    (all_extra,) = project["optional-dependencies"]["all"]
    assert all_extra == f"neurometa-rl[{','.join(sorted(runtime))}]"


def test_pip_section_matches_pyproject():
    pip_section, _ = _conda_pip_section()
    conda = {_normalise(r) for r in pip_section if not r.startswith("-")}
    pip = _pip_path_requirements()
    assert conda - pip == set(), f"only in environment.yml: {sorted(conda - pip)}"
    assert pip - conda == set(), f"only in pyproject.toml: {sorted(pip - conda)}"


def test_no_dev_tools_in_the_conda_environment():
    pip_section, _ = _conda_pip_section()
    names = {re.split(r"[<>=\[ ]", r)[0].lower() for r in pip_section if not r.startswith("-")}
    assert names.isdisjoint({"pytest", "ruff", "hypothesis", "sphinx", "pytest-timeout"})


def test_torch_is_a_range_in_pyproject_and_exact_in_the_constraints():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (torch,) = [r for r in project["dependencies"] if r.startswith("torch")]
    assert "==" not in torch
    assert ">=" in torch
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text().splitlines()


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci.splitlines()[-1]
    assert "make test" in readme
