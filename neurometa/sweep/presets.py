"""Named sweep specs (Python presets), usable as ``neurometa sweep NAME --out DIR``."""

from __future__ import annotations

from neurometa.sweep.spec import SweepSpec

__all__ = ["SWEEP_PRESETS"]

#: Sweep presets by name.
SWEEP_PRESETS: dict[str, SweepSpec] = {}
