"""NWB metadata survives import -> export, and every kind of export passes DANDI's checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pynwb import NWBHDF5IO, NWBFile
from pynwb.file import Subject

from neurometa.cli import main
from neurometa.data import dandi_issues, export_nwb, read_nwb
from neurometa.data._nwb_metadata import SIMULATED_SPECIES
from neurometa.record import open_recording

START = datetime(2024, 3, 5, 10, 30, tzinfo=UTC)


def _lab_nwb(path: Path) -> Path:
    """A lab session with everything a lab puts in: subject, session fields, descriptions."""
    rng = np.random.default_rng(3)
    nwb = NWBFile(
        session_description="two-armed bandit, day 4",
        identifier="lab-session-0042",
        session_start_time=START,
        session_id="day4",
        experimenter=["Doe, Jane", "Roe, Rick"],
        institution="Example University",
        lab="Example Lab",
        experiment_description="probabilistic reversal learning with OFC recordings",
        keywords=["bandit", "OFC"],
    )
    nwb.subject = Subject(
        subject_id="m042",
        species="Mus musculus",
        sex="F",
        age="P90D",
        strain="C57BL/6J",
        genotype="wild type",
        description="head-fixed mouse",
    )
    nwb.add_trial_column("choice", "chosen arm (0 left, 1 right)")
    nwb.add_trial_column("reward", "drops of water delivered")
    nwb.add_trial_column("rt_ms", "reaction time")
    for k in range(40):
        nwb.add_trial(
            start_time=2.0 * k,
            stop_time=2.0 * k + 1.5,
            choice=int(rng.integers(0, 2)),
            reward=float(rng.integers(0, 2)),
            rt_ms=float(rng.uniform(200, 500)),
        )
    nwb.add_unit_column("location", "brain area of the unit")
    for n in (30, 60):
        nwb.add_unit(spike_times=np.sort(rng.uniform(0, 80, n)), location="OFC")
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def _read(path: Path):  # noqa: ANN202
    io = NWBHDF5IO(str(path), "r")
    return io, io.read()


def test_lab_session_and_subject_survive_import_and_export(tmp_path: Path) -> None:
    ds = read_nwb(_lab_nwb(tmp_path / "lab.nwb"), window=(0.0, 1.0))
    export_nwb(ds, tmp_path / "again.nwb")
    io, nwb = _read(tmp_path / "again.nwb")
    with io:
        subject = nwb.subject
        assert (subject.subject_id, subject.species, subject.sex, subject.age) == (
            "m042", "Mus musculus", "F", "P90D",
        )  # fmt: skip
        assert (subject.strain, subject.genotype) == ("C57BL/6J", "wild type")
        assert subject.description == "head-fixed mouse"
        assert nwb.identifier == "lab-session-0042"
        assert nwb.session_id == "day4"
        assert nwb.session_start_time == START
        assert nwb.session_description == "two-armed bandit, day 4"
        assert list(nwb.experimenter) == ["Doe, Jane", "Roe, Rick"]
        assert (nwb.institution, nwb.lab) == ("Example University", "Example Lab")
        assert nwb.experiment_description.startswith("probabilistic reversal")
        trials = nwb.trials
        assert trials["action"].description == "chosen arm (0 left, 1 right)"
        assert trials["reward"].description == "drops of water delivered"
        assert trials["rt_ms"].description == "reaction time"
    assert dandi_issues(tmp_path / "again.nwb") == []


def test_reimported_export_keeps_descriptions_and_metadata(tmp_path: Path) -> None:
    ds = read_nwb(_lab_nwb(tmp_path / "lab.nwb"), window=(0.0, 1.0))
    export_nwb(ds, tmp_path / "again.nwb")
    back = read_nwb(tmp_path / "again.nwb", behaviour_only=True)
    assert back["rt_ms"].attrs["long_name"] == "reaction time"
    assert back["rt_ms"].attrs["units"] == "ms"
    assert json.loads(back.attrs["nwb_subject_json"]) == json.loads(ds.attrs["nwb_subject_json"])
    session, again = (json.loads(d.attrs["nwb_session_json"]) for d in (ds, back))
    assert {k: session[k] for k in ("identifier", "institution", "lab", "experimenter")} == {
        k: again[k] for k in ("identifier", "institution", "lab", "experimenter")
    }


@pytest.fixture(scope="module")
def agent_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agent") / "thompson.nc"
    assert main(["record", "--agent", "thompson", "--task", "bandit/independent",
                 "--episodes", "3", "--task-set", "num_trials=10", "--out", str(path),
                 "--no-progress"]) == 0  # fmt: skip
    return path


def test_agent_export_says_the_subject_is_simulated(agent_recording: Path, tmp_path) -> None:
    assert main(["export", "nwb", str(agent_recording), "--out", str(tmp_path / "a.nwb")]) == 0
    io, nwb = _read(tmp_path / "a.nwb")
    with io:
        assert nwb.subject.species == SIMULATED_SPECIES
        assert "/" not in nwb.subject.subject_id
        assert nwb.subject.subject_id == "thompson-seed0"
        assert "simulated agent" in nwb.subject.description
        assert "not an animal" in nwb.subject.description
    assert dandi_issues(tmp_path / "a.nwb") == []


def _bandit_csv(path: Path) -> Path:
    rng = np.random.default_rng(0)
    pd.DataFrame(
        {"subject": "m1", "trial": np.arange(30), "choice": rng.integers(0, 2, 30),
         "reward": rng.integers(0, 2, 30)}
    ).to_csv(path, index=False)  # fmt: skip
    return path


def test_csv_import_exports_with_the_subject_given(tmp_path: Path, capsys) -> None:
    assert main(["import", "bandit-csv", str(_bandit_csv(tmp_path / "b.csv")),
                 "--out", str(tmp_path / "b.nc")]) == 0  # fmt: skip
    out = tmp_path / "b.nwb"
    assert main(["export", "nwb", str(tmp_path / "b.nc"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "check_subject_species_exists" in err
    assert "--species" in err
    assert not out.exists()  # a file that fails the check is not kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.csv", "b.nc"]
    assert main(["export", "nwb", str(tmp_path / "b.nc"), "--out", str(out),
                 "--species", "Mus musculus", "--sex", "M", "--age", "P70D"]) == 0  # fmt: skip
    io, nwb = _read(out)
    with io:
        assert (nwb.subject.subject_id, nwb.subject.species) == ("m1", "Mus musculus")
    assert dandi_issues(out) == []


def test_every_export_kind_passes_dandi(agent_recording: Path, tmp_path: Path) -> None:
    """Agent, lab (NWB), lab (CSV + subject) and re-exported imports: no DANDI issue."""
    lab = read_nwb(_lab_nwb(tmp_path / "lab.nwb"), window=(0.0, 1.0))
    export_nwb(lab, tmp_path / "lab_again.nwb")
    export_nwb(open_recording(agent_recording).load(), tmp_path / "agent.nwb")
    agent_back = read_nwb(tmp_path / "agent.nwb", behaviour_only=True)
    export_nwb(agent_back, tmp_path / "agent_again.nwb")
    for name in ("lab_again.nwb", "agent.nwb", "agent_again.nwb"):
        assert dandi_issues(tmp_path / name) == [], name
