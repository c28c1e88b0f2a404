"""Schema per file: a column whose type differs across a log's files, a column that
disappeared from the newer files (or is missing from some), and new columns. Read
from the Parquet footers (no query); files are in name order, which for hive folders
and dated names is time order.

A declared column (a role, feature or segment) that differs is ``warn``; anything
else is ``info`` (named, not fatal). DuckDB reads the files by column name, so a
missing column is null there (the missing-values check counts it) and numeric types
are widened; when the files cannot be read together, :func:`schema_conflict` gives
the sentence naming the file.
"""

from __future__ import annotations

import functools
import os
import re
from collections import Counter

from ..registry import QualityCheck, register
from ..results import Finding

_DT = re.compile(r"(\d{4}-\d{2}-\d{2})")


@functools.lru_cache(maxsize=8192)
def _schema(path: str, mtime_ns: int, size: int) -> tuple[tuple[str, str], ...]:
    import pyarrow.parquet as pq

    try:
        return tuple((f.name, str(f.type)) for f in pq.read_schema(path))
    except Exception:  # noqa: BLE001 - unreadable files are named when the log is read
        return ()


def file_schema(path: str) -> dict[str, str]:
    try:
        st = os.stat(path)
        key = (st.st_mtime_ns, st.st_size)
    except OSError:
        key = (0, 0)
    return dict(_schema(path, *key))


def _names(files, idx, n=3) -> str:
    shown = ", ".join(repr(files[i]) for i in idx[:n])
    return shown + (f" and {len(idx) - n} more" if len(idx) > n else "")


def _period(path: str) -> str | None:
    m = _DT.search(path)
    return m.group(1) if m else None


def schema_findings(engine, spec, settings=None) -> list[Finding]:
    """Per role (predictions, outcomes), each column that is not the same in every file."""
    declared = set(spec.declared_columns)
    out: list[Finding] = []
    roles = ["predictions"] + (["outcomes"] if spec.outcomes else [])
    for role in roles:
        files = [f for f in engine.source(spec, role).files if "://" not in f]
        if len(files) < 2:
            continue
        schemas = [file_schema(f) for f in files]
        columns = list(dict.fromkeys(c for s in schemas for c in s))
        for col in columns:
            present = [i for i, s in enumerate(schemas) if col in s]
            absent = [i for i, s in enumerate(schemas) if col not in s]
            lv = "warn" if col in declared else "info"
            what = f"the {role} of model {spec.name!r}"
            types = Counter(schemas[i][col] for i in present)
            if len(types) > 1:
                main = types.most_common(1)[0][0]
                odd = [i for i in present if schemas[i][col] != main]
                others = ", ".join(f"{t} in {k}" for t, k in types.items() if t != main)
                out.append(Finding("schema", lv, len(odd) / len(files),
                                   f"Column {col!r} of {what} is {main} in {types[main]:,} files but {others} "
                                   f"(first: {_names(files, odd)}).",
                                   column=col, file=files[odd[0]], period=_period(files[odd[0]]),
                                   details={"role": role, "kind": "type", "types": dict(types),
                                            "files": [files[i] for i in odd[:50]]}))
            if not absent:
                continue
            if min(absent) > max(present):
                text, kind = f"is missing from the newer files, from {files[absent[0]]!r} on", "disappeared"
            elif max(absent) < min(present):
                text, kind = f"is new from {files[present[0]]!r} on", "new"
                lv = "info"
            else:
                text, kind = f"is missing from {len(absent):,} of {len(files):,} files ({_names(files, absent)})", \
                    "missing"
            first = present[0] if kind == "new" else absent[0]
            note = "" if lv == "info" else " (read as missing values there)"
            out.append(Finding("schema", lv, len(absent) / len(files), f"Column {col!r} of {what} {text}{note}.",
                               column=col, file=files[first], period=_period(files[first]),
                               details={"role": role, "kind": kind, "files": [files[i] for i in absent[:50]]}))
    return out


def schema_conflict(findings) -> str | None:
    """The sentence naming the file when a declared column's type differs across files."""
    for f in findings:
        if f.check == "schema" and f.level == "warn" and f.details.get("kind") == "type":
            return f"File {f.file!r} cannot be read with the others: {f.message}"
    return None


CHECK = register(QualityCheck(
    name="schema", title="Schema", scope="model", unit="share", warn=0.0, pull=None,
    measures="the share of a log's files in which a column's type differs or the column is absent",
    run=lambda ctx: schema_findings(ctx.engine, ctx.spec, ctx.settings),
    doc="Per file: a type that differs across files, a column missing from the newer files, a new "
        "column (named, not fatal). Declared columns warn; other columns are information."))
