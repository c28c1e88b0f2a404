"""Rendering results for people (aligned tables) and programs (JSON, CSV).

Every command builds one JSON-able payload (the contract's shape) and a flat
list of rows for the table and CSV views; this module prints them.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
from typing import Any, Iterable, Mapping, Sequence

FORMATS = ("table", "json", "csv")


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


def to_json(payload: Any) -> str:
    return json.dumps(jsonable(payload), indent=2, allow_nan=False)


def fmt_cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "-"
        a = abs(v)
        if a != 0 and (a < 1e-3 or a >= 1e6):
            return f"{v:.3g}" if a < 1e-3 else f"{v:,.0f}"
        if a >= 1000:
            return f"{v:,.1f}"
        return f"{v:.4f}"
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()
    return str(v)


def to_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None,
             title: str | None = None) -> str:
    """An aligned text table; numbers right-aligned, missing values as '-'."""
    if not rows:
        return (title + "\n" if title else "") + "(no rows)"
    cols = list(columns) if columns else list(dict.fromkeys(k for r in rows for k in r))
    cells = [[fmt_cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    numeric = [all(isinstance(r.get(c), (int, float)) or r.get(c) is None for r in rows) for c in cols]

    def line(vals):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(vals, widths, numeric)).rstrip()

    out = [title] if title else []
    out.append(line(cols))
    out.append("  ".join("-" * w for w in widths))
    out += [line(r) for r in cells]
    return "\n".join(out)


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    cols = list(columns) if columns else list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else jsonable(r.get(k))) for k in cols})
    return buf.getvalue()


def render(fmt: str, payload: Any, rows: Iterable[Mapping[str, Any]] | None = None,
           columns: Sequence[str] | None = None, title: str | None = None) -> str:
    """The text a command prints in format ``fmt``."""
    if fmt == "json":
        return to_json(payload)
    rows = list(rows if rows is not None else [])
    if fmt == "csv":
        return to_csv(rows, columns)
    return to_table(rows, columns, title)
