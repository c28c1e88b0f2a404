"""Frozen results -> the contract's JSON values (the one conversion every output uses).

Dates become ISO text, NaN and infinities null, tuples lists, mappings dicts with
text keys, numpy scalars Python numbers.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import fields
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


def record(obj: Any, *, drop: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    """A frozen result's fields as its JSON object, in declaration order: the one
    serializer behind the results' ``to_dict`` (``drop`` leaves fields out, ``extra``
    replaces or adds keys). Values are converted by :func:`jsonable` when printed.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class P:
    ...     x: int
    ...     y: float | None = None
    >>> record(P(1), drop=("y",), z=2)
    {'x': 1, 'z': 2}
    """
    out = {f.name: getattr(obj, f.name) for f in fields(obj) if f.name not in drop}
    out.update(extra)
    return out
