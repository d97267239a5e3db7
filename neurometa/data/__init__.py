"""Recorded lab data brought into the recording schema (NWB files, tidy tables).

- :func:`read_nwb` / :class:`NWBImportConfig`: trials + units (spike counts or rates in a
  window around a trial event) or a TimeSeries -> a trial-level recording (``source="lab"``).
- :func:`export_nwb`: a recording (an agent's) -> NWB, trials table plus unit activity at a
  nominal rate; :func:`dandi_issues` runs ``nwbinspector`` (DANDI configuration) on a file.
- :mod:`neurometa.data.tables` (tidy CSV behaviour tables) and
  :mod:`neurometa.data.nwb_behaviour` (the same layouts from an NWB trials table).

pynwb is imported only when an NWB file is read or written.
"""

from neurometa.data.nwb import ACTIVITY_NAME, NWBFormatError, NWBImportConfig, read_nwb
from neurometa.data.nwb_export import DEFAULT_RATE, dandi_issues, export_nwb

__all__ = [
    "ACTIVITY_NAME",
    "DEFAULT_RATE",
    "NWBFormatError",
    "NWBImportConfig",
    "dandi_issues",
    "export_nwb",
    "read_nwb",
]
