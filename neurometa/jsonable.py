"""Results as strict JSON: numpy scalars and arrays to Python, NaN and infinities to null.

Used wherever the project prints or writes figures as JSON (``--json`` output of the CLI,
the analysis summaries), so that every consumer gets standard JSON (``json.loads`` in any
language), never ``NaN`` literals or numpy types.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["jsonable"]


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy values made Python and non-finite floats made ``None``, recursively.

    Parameters
    ----------
    obj : object
        Nested dicts, lists and tuples of numbers, strings, numpy scalars and arrays.

    Returns
    -------
    object
        Dict keys become strings, tuples and arrays become lists.

    Examples
    --------
    >>> import numpy as np
    >>> jsonable({"a": np.float64(1.5), "b": [float("nan"), np.arange(2)]})
    {'a': 1.5, 'b': [None, [0, 1]]}
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "tolist"):
        return jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
