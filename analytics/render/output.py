"""Rendering results for people (aligned tables) and programs (JSON, CSV).

Every command builds one JSON-able payload (the contract's shape) and a flat
list of rows for the table and CSV views; this module prints them.

CSV is opened in spreadsheets, which run a cell that starts with ``=``, ``+``, ``-``
or ``@`` as a formula (``=HYPERLINK(...)`` from a segment value in the logs). As
OWASP recommends against CSV injection, every *text* cell (and column name) that
starts with one of :data:`FORMULA_LEADS` is written with a single quote in front;
numbers are never touched (a negative number stays a number). :func:`to_csv` (the
CLI) and :func:`frame_to_csv` (the dashboard's downloads) both do it.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Iterable, Mapping, Sequence

from analytics.render.format import cell
from analytics.results import jsonable

FORMATS = ("table", "json", "csv")

#: First characters that make a spreadsheet read a text cell as a formula (OWASP's
#: list, with NUL, line feed and the full-width forms some spreadsheets also accept).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def to_json(payload: Any) -> str:
    return json.dumps(jsonable(payload), indent=2, allow_nan=False)


def to_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None,
             title: str | None = None) -> str:
    """An aligned text table; numbers right-aligned, missing values as '-'."""
    if not rows:
        return (title + "\n" if title else "") + "(no rows)"
    cols = list(columns) if columns else list(dict.fromkeys(k for r in rows for k in r))
    cells = [[cell(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    numeric = [all(isinstance(r.get(c), (int, float)) or r.get(c) is None for r in rows) for c in cols]

    def line(vals):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(vals, widths, numeric)).rstrip()

    out = [title] if title else []
    out.append(line(cols))
    out.append("  ".join("-" * w for w in widths))
    out += [line(r) for r in cells]
    return "\n".join(out)


def csv_cell(value: Any) -> Any:
    """``value`` safe for a spreadsheet: text that would start a formula gets a leading
    single quote; anything else (numbers included) is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """CSV of ``rows`` (missing values empty), formula-leading text neutralised (see above)."""
    cols = list(columns) if columns else list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([csv_cell(str(c)) for c in cols])
    for r in rows:
        w.writerow(["" if r.get(k) is None else csv_cell(jsonable(r.get(k))) for k in cols])
    return buf.getvalue()


def frame_to_csv(frame) -> str:
    """A polars frame as CSV (its ``write_csv``), text cells and column names that would
    start a formula neutralised as in :func:`to_csv`; numeric columns are left alone."""
    import polars as pl

    pattern = "^[" + "".join("\\-" if c == "-" else c for c in FORMULA_LEADS) + "]"
    text = [c for c, t in frame.schema.items() if t in (pl.String, pl.Categorical, pl.Enum)]
    if text:
        frame = frame.with_columns([
            pl.when(pl.col(c).cast(pl.String).str.contains(pattern))
            .then(pl.lit("'") + pl.col(c).cast(pl.String)).otherwise(pl.col(c).cast(pl.String)).alias(c)
            for c in text])
    frame = frame.rename({c: csv_cell(c) for c in frame.columns if csv_cell(c) != c})
    return frame.write_csv()


def render(fmt: str, payload: Any, rows: Iterable[Mapping[str, Any]] | None = None,
           columns: Sequence[str] | None = None, title: str | None = None) -> str:
    """The text a command prints in format ``fmt``."""
    if fmt == "json":
        return to_json(payload)
    rows = list(rows if rows is not None else [])
    if fmt == "csv":
        return to_csv(rows, columns)
    return to_table(rows, columns, title)
