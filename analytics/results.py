"""Frozen results -> the contract's JSON values (the one conversion every output uses).

Dates become ISO text, NaN and infinities null, tuples lists, mappings dicts with
text keys, numpy scalars Python numbers.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any, Mapping


def jsonable(obj: Any) -> Any:
    """Dates as ISO text, NaN/inf as null, tuples as lists, dataclasses as dicts."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (_dt.datetime, _dt.date)):
        return obj.isoformat()
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return jsonable(obj.item())
    return obj
