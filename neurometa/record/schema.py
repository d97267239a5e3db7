"""The recording schema: the specification as data and its validator, in one import.

``from neurometa.record.schema import validate_recording, SCHEMA_VERSION`` gives everything
a producer (recorder, lab importers) or a consumer (analyses) of recordings needs. The
specification lives in :mod:`neurometa.record.spec`, the checks in
:mod:`neurometa.record.validate`; ``docs/schema.md`` documents both.
"""

from neurometa.record.spec import (
    ATTRS,
    COORDS,
    CORE_DIMS,
    FAMILY_VARIABLES,
    LAB_REQUIRED,
    POLICY_DIM,
    SCHEMA_VERSION,
    SOURCES,
    SUPPORTED_SCHEMA_VERSIONS,
    VARIABLES,
    AttrSpec,
    CoordSpec,
    VariableSpec,
    annotate,
    task_family,
    variable_spec,
)
from neurometa.record.validate import RecordingError, attr_problem, validate_recording

__all__ = [
    "ATTRS",
    "COORDS",
    "CORE_DIMS",
    "FAMILY_VARIABLES",
    "LAB_REQUIRED",
    "POLICY_DIM",
    "SCHEMA_VERSION",
    "SOURCES",
    "SUPPORTED_SCHEMA_VERSIONS",
    "VARIABLES",
    "AttrSpec",
    "CoordSpec",
    "RecordingError",
    "VariableSpec",
    "annotate",
    "attr_problem",
    "task_family",
    "validate_recording",
    "variable_spec",
]
