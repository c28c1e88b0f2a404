"""One model's stored days: which days the log files hold, which days new outcomes
touch, and writing days (one Parquet file a day, in a new folder) from the logs."""

from __future__ import annotations

import datetime as _dt
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import pyarrow.parquet as pq

from analytics.log.columns import C
from analytics.log.defects import as_timestamp, plausible_ts, repeated_ids
from analytics.log.joined import build_log
from analytics.store import manifest as mf


@dataclass
class Job:
    """What refreshing one model works with."""

    eng: Any
    ws: Any
    spec: Any
    pred_src: Any
    out_src: Any
    pred_files: list[str]
    out_files: list[str]
    root: Path
    fingerprint: str
    ts_range: tuple
    old: dict | None


@dataclass
class Written:
    """Days written by :func:`build_days`, and the model's new manifest entry."""

    entry: dict
    days: int
    rows: int
    files_read: int
    full: bool
    reason: str


# ------------------------------------------------------------------ files


def file_stats(files) -> dict[str, list[int]]:
    """``path -> [size, mtime_ns, footer rows]`` (rows -1 when the footer is unreadable:
    the engine names the file when it reads it)."""
    out = {}
    for f in files:
        st = mf.file_stat(f)
        if st is None:
            continue
        try:
            rows = pq.read_metadata(f).num_rows
        except Exception:  # noqa: BLE001 - any failure: unreadable, named by the engine later
            rows = -1
        out[f] = [st[0], st[1], rows]
    return out


def changed(old: dict[str, list], files) -> tuple[set[str], set[str]]:
    """(files new or rewritten, files deleted or rewritten) against ``old``."""
    added, removed = set(), set()
    for f in files:
        st = mf.file_stat(f)
        rec = old.get(f)
        if rec is None:
            added.add(f)
        elif st is None or (rec[0], rec[1]) != st:
            added.add(f)
            removed.add(f)
    return added, removed | (set(old) - set(files))


def intact(root: Path, entry: dict) -> bool:
    """Every stored file of ``entry`` is there, of its size, with a readable footer."""
    for day in entry.get("days", {}).values():
        for rel, size in day["files"]:
            st = mf.file_stat(str(root / rel))
            if st is None or st[0] != size:
                return False
            try:
                pq.read_metadata(root / rel)
            except Exception:  # noqa: BLE001 - any failure: damaged
                return False
    return True


def read_files(job: Job, src, files, filename: bool = False):
    """Some of a source's files, read as the engine reads the whole source."""
    kw = {"filename": "lm_file"} if filename else {}
    return job.eng.backend.read_parquet(list(files), hive_partitioning=src.hive, union_by_name=True, **kw)


def stored_table(job: Job, days: dict):
    files = [str(job.root / rel) for day in sorted(days) for rel, _ in days[day]["files"]]
    return job.eng.backend.read_parquet(files, hive_partitioning=False)


# ------------------------------------------------------------------ which days


def scan_days(job: Job, files) -> dict[str, tuple[str | None, list[str]]]:
    """For each prediction file: (its latest timestamp, the days of its plausible rows)."""
    if not files:
        return {}
    t = read_files(job, job.pred_src, files, filename=True)
    ts = as_timestamp(t[job.spec.columns.timestamp])
    ok = plausible_ts(ts, job.ts_range)
    q = t.group_by(f=t.lm_file, d=ts.date()).aggregate(ok=ok.cast("int64").sum(), mx=ts.max())
    out: dict[str, tuple[Any, list[str]]] = {f: (None, []) for f in files}
    norm = {os.path.abspath(f): f for f in files}
    for r in job.eng.execute(q, job.spec).to_pylist():
        f = r["f"] if r["f"] in out else norm.get(os.path.abspath(r["f"]), r["f"])
        mx, days = out.get(f, (None, []))
        if r["mx"] is not None and (mx is None or r["mx"].isoformat() > mx):
            mx = r["mx"].isoformat()
        if r["ok"] and r["d"] is not None:
            days = days + [r["d"].isoformat()]
        out[f] = (mx, days)
    return {f: (mx, sorted(days)) for f, (mx, days) in out.items()}


def id_ranges(job: Job, t, column: str, by: str) -> list[tuple[Any, Any]]:
    """``[(min id, max id), ...]`` of ``t`` per value of ``by`` (ids without a value left out)."""
    q = t.filter(t[column].notnull()).group_by(t[by]).aggregate(lo=t[column].min(), hi=t[column].max())
    return [(r["lo"], r["hi"]) for r in job.eng.execute(q, job.spec).to_pylist()]


def overlaps(day: dict, ranges: list[tuple[Any, Any]]) -> bool:
    """Whether a stored day's ids (its ``ids``: min and max) may meet one of ``ranges``
    (True when the day has none recorded or the types do not compare)."""
    ids = day.get("ids")
    if not ids:
        return True
    try:
        return any(lo <= ids[1] and ids[0] <= hi for lo, hi in ranges)
    except TypeError:
        return True


def near(job: Job, days: dict, t, column: str, by: str) -> dict:
    """The ``days`` whose ids may meet those of ``t`` (ids follow time in most logs, so
    a day's min and max rule most days out without reading their files)."""
    ranges = id_ranges(job, t, column, by)
    return {d: v for d, v in days.items() if overlaps(v, ranges)}


def days_of_outcomes(job: Job, files) -> set[str]:
    """The stored days whose predictions carry an id of the outcome ``files`` (only the
    days whose id range meets one of the files' is read)."""
    if not job.old.get("days") or not job.spec.columns.id:
        return set()
    c = job.spec.columns
    o = read_files(job, job.out_src, files, filename=True)
    days = near(job, job.old["days"], o, c.id, "lm_file")
    if not days:
        return set()
    st = stored_table(job, days)
    hit = st.filter(st[C.ID].isin(o[c.id]))
    q = hit.select(d=hit[C.TS].date()).distinct()
    return {r["d"].isoformat() for r in job.eng.execute(q, job.spec).to_pylist() if r["d"] is not None}


# ------------------------------------------------------------------ writing days


def _inputs(job: Job, redo: set[str] | None, pred_days: dict):
    """The prediction rows of the days ``redo`` (None: all) and the outcomes of their ids."""
    c = job.spec.columns
    files = job.pred_files if redo is None else [f for f in job.pred_files if redo.intersection(pred_days.get(f, ()))]
    p = read_files(job, job.pred_src, files) if files else None
    if p is not None and redo is not None:
        day = as_timestamp(p[c.timestamp]).date()
        p = p.filter(day.isin([ibis.literal(_dt.date.fromisoformat(d)) for d in sorted(redo)]))
    o = read_files(job, job.out_src, job.out_files) if job.out_src is not None and job.out_files else None
    if o is not None and redo is not None and p is not None:
        o = o.filter(o[c.id].isin(p[c.id]))
    return files, p, o


def _repeats(job: Job, p, redo: set[str] | None) -> bool:
    """Whether the rows ``p`` repeat an (id, version) among themselves or with the kept days."""
    c = job.spec.columns
    if p is None or not c.id or not job.spec.outcomes:
        return False
    if job.eng.execute(repeated_ids(job.spec, p).limit(1), job.spec).num_rows:
        return True
    kept = {d: v for d, v in (job.old or {}).get("days", {}).items() if redo is not None and d not in redo}
    if kept:
        kept = near(job, kept, p.mutate(lm_all=ibis.literal(0)), c.id, "lm_all")
    if not kept:
        return False
    st = stored_table(job, kept)
    keys = [p[c.id] == st[C.ID]]
    if c.version:
        keys.append(p[c.version].cast("string") == st[C.VERSION])
    return job.eng.execute(p.semi_join(st, keys).select(c.id).limit(1), job.spec).num_rows > 0


def build_days(job: Job, redo: set[str] | None, scan: dict, pred_days: dict | None = None,
               reason: str = "new data") -> Written:
    """Write the days ``redo`` (None: every day, the model rebuilt) and the new entry.
    Falls back to a rebuild when ranking repeated ids or the logs' types require it."""
    full = redo is None
    if full:
        pred_days = {f: scan[f][1] for f in job.pred_files}
    files, p, o = _inputs(job, redo, pred_days)
    repeats = _repeats(job, p, redo)
    if repeats and not full:   # ranking repeated ids is a whole-log question
        return build_days(job, None, scan_days(job, job.pred_files), reason="predictions repeat ids within a version")
    days = {} if full else {d: v for d, v in job.old["days"].items() if d not in redo}
    schema = (job.old or {}).get("schema")
    written = rows = 0
    if p is not None:
        log = build_log(job.spec, p, o, ts_range=job.ts_range, rank_repeats=repeats)
        new_schema = [[n, str(t)] for n, t in log.schema().items()]
        if not full and schema and new_schema != schema:
            return build_days(job, None, scan_days(job, job.pred_files), reason="the logs' column types changed")
        schema = new_schema
        batch = Path(mf.DATA) / mf.model_key(job.spec.name) / uuid.uuid4().hex
        (job.root / batch).parent.mkdir(parents=True, exist_ok=True)
        job.eng.write_partitioned(log.mutate(lm_day=log[C.TS].date()), job.root / batch, "lm_day", job.spec)
        for d, v in with_ids(job, written_days(job.root, batch)).items():
            days[d] = v
            rows += v["rows"]
            written += 1
    maxes = {f: (scan[f][0] if f in scan else job.old["pred_max"].get(f)) for f in job.pred_files}
    high = job.ts_range[1].isoformat()
    entry = {
        "fingerprint": job.fingerprint, "repeats": repeats, "high": high, "schema": schema,
        "exact": all(mx is None or mx < high for mx in maxes.values()),
        "refreshed_at": _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds"),
        "pred_files": merge_stats(None if full else job.old, "pred_files", job.pred_files),
        "out_files": merge_stats(None if full else job.old, "out_files", job.out_files),
        "pred_days": pred_days, "pred_max": maxes, "days": days, "rows": sum(v["rows"] for v in days.values()),
    }
    return Written(entry, written, rows, len(files) + len(job.out_files), full, reason)


def merge_stats(old: dict | None, key: str, files) -> dict[str, list[int]]:
    """The files' stats: kept from ``old`` for unchanged files, read for the others."""
    prev = (old or {}).get(key, {})
    out, todo = {}, []
    for f in files:
        st, rec = mf.file_stat(f), prev.get(f)
        if rec is not None and st is not None and (rec[0], rec[1]) == st:
            out[f] = rec
        else:
            todo.append(f)
    out.update(file_stats(todo))
    return out


def with_ids(job: Job, days: dict[str, dict]) -> dict[str, dict]:
    """``days`` with the min and max id of each (``ids``), read from their new files."""
    if not days or not job.spec.columns.id:
        return days
    files = {str(job.root / rel): d for d, v in days.items() for rel, _ in v["files"]}
    t = job.eng.backend.read_parquet(list(files), hive_partitioning=False, filename="lm_file")
    q = t.filter(t[C.ID].notnull()).group_by(t.lm_file).aggregate(lo=t[C.ID].min(), hi=t[C.ID].max())
    bad = set()
    for r in job.eng.execute(q, job.spec).to_pylist():
        d = files.get(r["lm_file"]) or files.get(os.path.abspath(r["lm_file"]))
        if d is None or not all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in (r["lo"], r["hi"])):
            bad.add(d)   # only ids the manifest (JSON) writes as they are
            continue
        lo, hi = days[d].get("ids") or (r["lo"], r["hi"])
        days[d]["ids"] = [min(lo, r["lo"]), max(hi, r["hi"])]
    for d in bad:
        days.get(d, {}).pop("ids", None)
    return days


def written_days(root: Path, batch: Path) -> dict[str, dict]:
    """The days DuckDB wrote under ``batch`` (``lm_day=YYYY-MM-DD/*.parquet``)."""
    out: dict[str, dict] = {}
    base = root / batch
    if not base.is_dir():
        return out
    for sub in sorted(base.iterdir()):
        if not sub.name.startswith("lm_day="):
            continue
        files, rows = [], 0
        for f in sorted(sub.glob("*.parquet")):
            rows += pq.read_metadata(f).num_rows
            files.append([os.path.relpath(f, root), f.stat().st_size])
        if files:
            out[sub.name.split("=", 1)[1]] = {"files": files, "rows": rows}
    return out
