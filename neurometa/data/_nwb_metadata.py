"""Session and subject metadata between NWB files and recordings, both ways, losing nothing.

Import (:func:`metadata_attrs`): the NWB file's session fields (identifier, session id and
description, start time, experimenter, institution, lab, ...) and its ``Subject`` (id,
species, sex, age, strain, genotype, ...) become the recording attrs ``nwb_session_json``
and ``nwb_subject_json`` (JSON text: NetCDF stores strings).

Export (:func:`file_metadata`): a lab recording gets them back; an agent recording gets a
subject that says it is simulated while passing the DANDI configuration of
``nwbinspector``: species ``NCBITaxon_32630`` ("synthetic construct", the NCBI taxonomy's
entry for artificial things), sex ``"O"`` (other), its birth at the session start, and an
id without slashes (``pfc-bandit-independent-seed0``). A lab recording without subject
metadata (e.g. from a CSV table) takes species, sex and age from the caller.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

__all__ = ["metadata_attrs", "file_metadata", "SIMULATED_SPECIES", "safe_id"]

#: NCBI taxonomy term of "synthetic construct": the species of a simulated agent.
SIMULATED_SPECIES = "http://purl.obolibrary.org/obo/NCBITaxon_32630"
_SESSION_FIELDS = (
    "identifier", "session_id", "session_description", "experiment_description",
    "experimenter", "institution", "lab", "keywords", "related_publications", "protocol",
    "pharmacology", "surgery", "virus", "stimulus_notes", "data_collection",
)  # fmt: skip
_SUBJECT_FIELDS = (
    "subject_id", "species", "sex", "age", "age__reference", "strain", "genotype",
    "description", "weight",
)  # fmt: skip


def _plain(value: Any) -> Any:
    """A JSON-able value (h5py datasets such as ``experimenter`` read as lists)."""
    if hasattr(value, "shape") and not hasattr(value, "tolist"):  # an h5py (Str)Dataset
        value = value[()]
    if isinstance(value, bytes):
        return value.decode()
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def metadata_attrs(nwb: Any) -> dict[str, str]:
    """``nwb_session_json`` and ``nwb_subject_json`` attrs from an open ``NWBFile``."""
    session = {k: _plain(getattr(nwb, k, None)) for k in _SESSION_FIELDS}
    session["session_start_time"] = nwb.session_start_time.isoformat()
    attrs = {"nwb_session_json": json.dumps({k: v for k, v in session.items() if v})}
    subject = getattr(nwb, "subject", None)
    if subject is not None:
        fields = {k: _plain(getattr(subject, k, None)) for k in _SUBJECT_FIELDS}
        birth = getattr(subject, "date_of_birth", None)
        if birth is not None:
            fields["date_of_birth"] = birth.isoformat()
        attrs["nwb_subject_json"] = json.dumps({k: v for k, v in fields.items() if v})
    return attrs


def safe_id(text: str) -> str:
    """An id DANDI accepts: letters, digits, ``-`` and ``_`` (runs of others become ``-``).

    Examples
    --------
    >>> safe_id("pfc:bandit/independent-seed0")
    'pfc-bandit-independent-seed0'
    """
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "unnamed"


def _json_attr(attrs: dict[str, Any], key: str) -> dict[str, Any]:
    try:
        value = json.loads(str(attrs.get(key) or "{}"))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _subjects(ds: Any) -> list[str]:
    if "subject" not in ds.coords:
        return []
    return sorted({str(s) for s in ds["subject"].values.tolist()})


def file_metadata(
    ds: Any, session_start_time: datetime | None, subject: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``NWBFile`` keyword arguments and ``Subject`` fields for exporting ``ds``.

    Parameters
    ----------
    ds : xarray.Dataset
        The recording (its attrs).
    session_start_time : datetime, optional
        Overrides the start time (default: the lab file's, else now).
    subject : dict, optional
        Subject fields (``species``, ``sex``, ``age``, ``subject_id``, ``strain``...) that
        override or complete the recording's.

    Returns
    -------
    (dict, dict)
        For ``pynwb.NWBFile(**file, ...)`` and ``pynwb.file.Subject(**subject)``
        (``date_of_birth`` as a datetime).
    """
    attrs = ds.attrs
    digest = hashlib.sha256(repr(sorted(map(str, attrs.items()))).encode()).hexdigest()
    if attrs.get("source") == "lab":
        session = _json_attr(attrs, "nwb_session_json")
        fields = _json_attr(attrs, "nwb_subject_json")
        subjects = _subjects(ds)
        if "subject_id" not in fields and len(subjects) == 1:
            fields["subject_id"] = subjects[0]
        description = f"lab recording of {attrs.get('task', 'a task')} imported by neurometa"
        session.setdefault("session_description", description)
    else:
        agent = str(attrs.get("agent", "agent"))
        session = {
            "session_description": (
                f"neurometa recording of the simulated agent {agent} on task "
                f"{attrs.get('task', '?')} (preset {attrs.get('preset', '?')})"
            ),
            "experiment_description": "Rollouts of an artificial agent recorded with neurometa.",
            "keywords": ["neurometa", "meta-reinforcement learning", "simulated agent"],
        }
        fields = {
            "subject_id": safe_id(f"{agent}-seed{attrs.get('seed', 'na')}"),
            "species": SIMULATED_SPECIES,
            "sex": "O",
            "description": (
                f"a simulated agent ({agent}, seed {attrs.get('seed', '?')}), not an animal: "
                "species is NCBITaxon_32630 'synthetic construct', sex 'O' (other), born "
                "at the session start"
            ),
        }
    fields.update(subject or {})
    start = session_start_time or _time(session.get("session_start_time")) or datetime.now(UTC)
    session["session_start_time"] = start
    session.setdefault("identifier", str(uuid.uuid5(uuid.NAMESPACE_URL, f"neurometa:{digest}")))
    if "date_of_birth" in fields:
        fields["date_of_birth"] = _time(fields["date_of_birth"])
    elif attrs.get("source") != "lab" and "age" not in fields:
        fields["date_of_birth"] = start
    if "subject_id" in fields:
        fields["subject_id"] = safe_id(str(fields["subject_id"]))
    if session.get("session_id"):
        session["session_id"] = safe_id(str(session["session_id"]))
    return session, fields


def _time(text: Any) -> datetime | None:
    if text is None or isinstance(text, datetime):
        return text
    value = datetime.fromisoformat(str(text))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
