"""``lastmile refresh``: find what changed in the logs since the last refresh, redo those days.

Per model, against its manifest entry (:mod:`.manifest`):

- new prediction files: the days they hold are built;
- new outcome files: the days whose predictions carry their ids are rebuilt (late
  labels change old days);
- a rewritten or deleted prediction file: the days it held, and those it holds now;
- a rewritten or deleted outcome file, a changed workspace (columns, segments,
  threshold, timestamps, task...), a store written by another version, a damaged
  stored file, predictions that repeat an id within a version (ranking them is a
  whole-log question), or rows that were in the future at the last refresh: the
  model is rebuilt.

A day is rebuilt from the prediction files that hold it and the outcomes of its ids
only, so a refresh costs what changed (plus one scan of the outcome ids). The new
days are written as new files and the manifest is replaced atomically after each
model; the log files are only read.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import ibis

from analytics.store import manifest as mf

Progress = Callable[[str], None]


@dataclass
class ModelRefresh:
    """What a refresh did for one model."""

    model: str
    action: str                 # "unchanged", "updated", "rebuilt", "skipped"
    reason: str = ""
    days: int = 0               # days written
    files_read: int = 0         # log files read
    rows: int = 0               # rows written
    seconds: float = 0.0


@dataclass
class RefreshResult:
    root: Path
    models: list[ModelRefresh] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    swept: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"store": str(self.root), "seconds": round(self.seconds, 3), "swept_files": self.swept,
                "warnings": list(self.warnings),
                "models": [{"model": m.model, "action": m.action, "reason": m.reason, "days_written": m.days,
                            "files_read": m.files_read, "rows_written": m.rows,
                            "seconds": round(m.seconds, 3)} for m in self.models]}


def refresh(workspace, cache: Path | None = None, *, models=None, progress: Progress | None = None,
            engine=None) -> RefreshResult:
    """Bring the store of ``workspace`` up to date with its logs (see the module docstring).

    ``cache``: the cache root (default :func:`analytics.cachedir.cache_root`); ``models``:
    names to refresh (default: all); ``progress`` receives one line per step (files and
    rows done). Raises :class:`~.manifest.StoreBusyError` when another refresh runs."""
    from analytics.log.engine import Engine

    say = progress or (lambda msg: None)
    root = mf.store_root(workspace, cache)
    check_outside_logs(root, workspace)
    t0 = time.perf_counter()
    result = RefreshResult(root=root)
    with mf.locked(root):
        current, problem = mf.read(root)
        if problem:
            result.warnings.append(f"warning: the store at {str(root)!r} is rebuilt: {problem}.")
            say(result.warnings[-1])
        keep = mf.stored_files(current) | set(current.get("previous_files", []))
        result.swept = mf.sweep(root, keep)
        eng = engine if engine is not None else Engine(workspace, cache=cache)
        result.swept += sweep_tables(eng, workspace, _tables(current) | set(current.get("previous_tables", [])))
        names = workspace.model_names if models is None else tuple(models)
        previous = sorted(mf.stored_files(current))
        previous_tables = sorted(_tables(current))
        for name in names:
            spec = workspace.model(name)
            m0 = time.perf_counter()
            old = current["models"].get(name)
            entry, rec = _refresh_model(eng, workspace, spec, old, root, say, result.warnings)
            rec.seconds = time.perf_counter() - m0
            result.models.append(rec)
            if rec.action == "unchanged":
                continue
            new = dict(current, models=dict(current["models"]))
            if entry is None:
                new["models"].pop(name, None)
            else:
                new["models"][name] = entry
            new["generation"] = int(current.get("generation", 0)) + 1
            new["previous_files"] = previous
            new["previous_tables"] = previous_tables
            mf.write(root, new)
            current = new
            say(f"{name}: {rec.action} ({rec.reason}): {rec.files_read:,} log files read, "
                f"{rec.days:,} days and {rec.rows:,} rows written in {rec.seconds:.1f} s")
        for name in list(current["models"]):
            if name not in workspace.model_names:  # a model the workspace no longer declares
                current = dict(current, models={k: v for k, v in current["models"].items() if k != name},
                               generation=int(current.get("generation", 0)) + 1, previous_files=previous)
                mf.write(root, current)
    result.seconds = time.perf_counter() - t0
    return result


def _tables(manifest) -> set[str]:
    return {e["table"] for e in manifest.get("models", {}).values() if e.get("table")}


def check_outside_logs(root: Path, workspace) -> None:
    """The store may not live in (or contain) a log folder: nothing is written beside the logs."""
    r = Path(os.path.abspath(root))
    for spec in workspace.models:
        for path in (spec.predictions, spec.outcomes):
            if not path or "://" in path:
                continue
            p = Path(path)
            base = p if p.is_dir() else p.parent
            while any(ch in str(base) for ch in "*?["):
                base = base.parent
            base = Path(os.path.abspath(base))
            if r == base or base in r.parents:
                raise mf.StoreError(f"[store] path {str(root)!r} is inside the log folder {str(base)!r} "
                                    f"of model {spec.name!r}; the store must live outside the logs.")


# ------------------------------------------------------------------ one model


def _stats(files) -> dict[str, list[int]]:
    import pyarrow.parquet as pq

    out = {}
    for f in files:
        st = mf.file_stat(f)
        if st is None:
            continue
        try:
            rows = pq.read_metadata(f).num_rows
        except Exception:  # noqa: BLE001 - the engine names it when it reads the file
            rows = -1
        out[f] = [st[0], st[1], rows]
    return out


def _changed(old: dict[str, list], new_files) -> tuple[set[str], set[str]]:
    """(files new or rewritten, files deleted or rewritten) against ``old``."""
    added, removed = set(), set()
    for f in new_files:
        st = mf.file_stat(f)
        rec = old.get(f)
        if rec is None:
            added.add(f)
        elif st is None or (rec[0], rec[1]) != st:
            added.add(f)
            removed.add(f)
    removed |= set(old) - set(new_files)
    return added, removed


def _intact(root: Path, entry: dict) -> bool:
    import pyarrow.parquet as pq

    for day in entry.get("days", {}).values():
        for rel, size in day["files"]:
            path = root / rel
            st = mf.file_stat(str(path))
            if st is None or st[0] != size:
                return False
            try:
                pq.read_metadata(path)
            except Exception:  # noqa: BLE001
                return False
    return True


def _refresh_model(eng, ws, spec, old, root: Path, say: Progress, warnings: list[str]):
    """The new manifest entry of one model (None: not stored) and what was done."""
    pred_src = eng.source(spec, "predictions")
    out_src = eng.source(spec, "outcomes") if spec.outcomes else None
    if eng.backend.name != "duckdb" and not ws.store.database:
        return None, ModelRefresh(spec.name, "skipped", f"on {eng.backend.name} the store needs [store] database")
    if not pred_src.files or "://" in pred_src.path or (out_src is not None and "://" in out_src.path):
        return None, ModelRefresh(spec.name, "skipped", "its logs are not local files")
    pred_files = list(pred_src.files)
    out_files = list(out_src.files) if out_src is not None else []
    fp = mf.fingerprint(ws, spec)
    ts_range = ws.timestamp_range()

    reason = ""
    if old is None:
        reason = "new in the store"
    elif old.get("fingerprint") != fp:
        reason = "the workspace changed"
    elif old.get("repeats"):
        reason = "predictions repeat ids within a version"
    elif not old.get("exact"):
        reason = "some predictions were in the future at the last refresh"
    elif not _intact(root, old):
        reason = "a stored file is damaged"
        warnings.append(f"warning: the store of model {spec.name!r} is rebuilt: a stored file is damaged.")
        say(warnings[-1])
    p_add, p_del = _changed(old.get("pred_files", {}) if old else {}, pred_files)
    o_add, o_del = _changed(old.get("out_files", {}) if old else {}, out_files)
    if not reason and o_del:
        reason = "an outcome file was rewritten or deleted"
    if not reason and not (p_add or p_del or o_add):
        return old, ModelRefresh(spec.name, "unchanged", "no file changed")
    say(f"{spec.name}: {len(p_add) + len(o_add):,} new or changed log files, {len(p_del):,} changed or deleted")

    if eng.backend.name != "duckdb":
        return _build_table(eng, ws, spec, pred_files, out_files, fp, ts_range, reason or "new data")
    be = eng.backend
    scan = _scan_days(eng, spec, pred_src, pred_files if reason else sorted(p_add), ts_range)
    if reason:
        return _build(eng, ws, spec, pred_src, out_src, pred_files, out_files, None, scan, root, fp, ts_range,
                      reason, old)
    # incremental: the days to redo
    redo: set[str] = set()
    for f in p_del:
        redo.update(old["pred_days"].get(f, []))
    for f in p_add:
        redo.update(scan[f][1])
    if o_add:
        redo |= _days_of_outcomes(eng, spec, old, root, out_src, sorted(o_add))
    pred_days = {f: old["pred_days"][f] for f in pred_files if f not in p_add}
    pred_days.update({f: scan[f][1] for f in p_add})
    rec = _build(eng, ws, spec, pred_src, out_src, pred_files, out_files, redo, scan, root, fp, ts_range,
                 "new data", old, pred_days)
    del be
    return rec


def _read(eng, src, files, filename: bool = False):
    """Some of a source's files, read as the engine reads the whole source."""
    kw = {"filename": "lm_file"} if filename else {}
    return eng.backend.read_parquet(list(files), hive_partitioning=src.hive, union_by_name=True, **kw)


def _scan_days(eng, spec, src, files, ts_range) -> dict[str, tuple[str | None, list[str]]]:
    """For each file: (its latest timestamp, the days of its plausible rows) in one query."""
    from analytics.log.defects import as_timestamp, plausible_ts

    if not files:
        return {}
    t = _read(eng, src, files, filename=True)
    ts = as_timestamp(t[spec.columns.timestamp])
    ok = plausible_ts(ts, ts_range)
    q = t.group_by(f=t.lm_file, d=ts.date()).aggregate(ok=ok.cast("int64").sum(), mx=ts.max())
    rows = eng.execute(q, spec).to_pylist()
    out: dict[str, tuple[Any, list[str]]] = {f: (None, []) for f in files}
    norm = {os.path.abspath(f): f for f in files}
    for r in rows:
        f = r["f"] if r["f"] in out else norm.get(os.path.abspath(r["f"]), r["f"])
        mx, days = out.get(f, (None, []))
        if r["mx"] is not None and (mx is None or r["mx"].isoformat() > mx):
            mx = r["mx"].isoformat()
        if r["ok"] and r["d"] is not None:
            days = days + [r["d"].isoformat()]
        out[f] = (mx, days)
    return {f: (mx, sorted(days)) for f, (mx, days) in out.items()}


def _stored_table(eng, root: Path, entry: dict):
    files = [str(root / rel) for day in sorted(entry["days"]) for rel, _ in entry["days"][day]["files"]]
    return eng.backend.read_parquet(files, hive_partitioning=False)


def _days_of_outcomes(eng, spec, old, root, out_src, files) -> set[str]:
    """The stored days whose predictions carry an id of the outcome ``files``."""
    from analytics.log.columns import C

    if not old.get("days") or not spec.columns.id:
        return set()
    st = _stored_table(eng, root, old)
    o = _read(eng, out_src, files)
    hit = st.filter(st[C.ID].isin(o[spec.columns.id]))
    q = hit.select(d=hit[C.TS].date()).distinct()
    return {r["d"].isoformat() for r in eng.execute(q, spec).to_pylist() if r["d"] is not None}


def _any(eng, spec, expr) -> bool:
    return eng.execute(expr.limit(1), spec).num_rows > 0


def _build(eng, ws, spec, pred_src, out_src, pred_files, out_files, redo, scan, root: Path, fp: str,
           ts_range, reason: str, old, pred_days=None):
    """Write the days ``redo`` (None: every day) and return the new entry and the record."""
    from analytics.log.defects import as_timestamp, repeated_ids
    from analytics.log.columns import C
    from analytics.log.joined import build_log

    c = spec.columns
    full = redo is None
    if full:
        pred_days = {f: scan[f][1] for f in pred_files}
        files = pred_files
    else:
        files = [f for f in pred_files if redo.intersection(pred_days.get(f, ()))]
    maxes = {f: (scan[f][0] if f in scan else old["pred_max"].get(f)) for f in pred_files}
    p = _read(eng, pred_src, files) if files else None
    if p is not None and not full:
        day = as_timestamp(p[c.timestamp]).date()
        p = p.filter(day.isin([ibis.literal(_dt.date.fromisoformat(d)) for d in sorted(redo)]))
    o = _read(eng, out_src, out_files) if out_src is not None and out_files else None
    if o is not None and not full and p is not None:
        o = o.filter(o[c.id].isin(p[c.id]))

    repeats = False
    if p is not None and c.id and spec.outcomes:
        repeats = _any(eng, spec, repeated_ids(spec, p))
        if not repeats and not full and old.get("days"):
            kept = [d for d in old["days"] if d not in redo]
            if kept:
                st = _stored_table(eng, root, {"days": {d: old["days"][d] for d in kept}})
                keys = [p[c.id] == st[C.ID]]
                if c.version:
                    keys.append(p[c.version].cast("string") == st[C.VERSION])
                repeats = _any(eng, spec, p.semi_join(st, keys).select(c.id))
        if repeats and not full:  # ranking repeated ids is a whole-log question
            allscan = _scan_days(eng, spec, pred_src, pred_files, ts_range)
            return _build(eng, ws, spec, pred_src, out_src, pred_files, out_files, None, allscan, root, fp,
                          ts_range, "predictions repeat ids within a version", old)

    days = {} if full else {d: v for d, v in old["days"].items() if d not in redo}
    schema = None
    rows = 0
    written = 0
    if p is not None:
        log = build_log(spec, p, o, ts_range=ts_range, rank_repeats=repeats)
        schema = [[n, str(t)] for n, t in log.schema().items()]
        if not full and old.get("schema") and schema != old["schema"]:
            allscan = _scan_days(eng, spec, pred_src, pred_files, ts_range)
            return _build(eng, ws, spec, pred_src, out_src, pred_files, out_files, None, allscan, root, fp,
                          ts_range, "the logs' column types changed", old)
        batch = Path(mf.DATA) / mf.model_key(spec.name) / uuid.uuid4().hex
        target = root / batch
        target.parent.mkdir(parents=True, exist_ok=True)
        eng.write_partitioned(log.mutate(lm_day=log[C.TS].date()), target, "lm_day", spec)
        new_days = _written_days(root, batch)
        for d, v in new_days.items():
            days[d] = v
            rows += v["rows"]
        written = len(new_days)
    elif not full:
        schema = old.get("schema")
    high = ts_range[1].isoformat()
    exact = all(mx is None or mx < high for mx in maxes.values())
    entry = {
        "fingerprint": fp, "repeats": repeats, "exact": exact, "high": high,
        "schema": schema if schema is not None else (old or {}).get("schema"),
        "refreshed_at": _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds"),
        "pred_files": _merge_stats(old, "pred_files", pred_files, full, scan),
        "out_files": _merge_stats(old, "out_files", out_files, full, None),
        "pred_days": pred_days, "pred_max": maxes,
        "days": days, "rows": sum(v["rows"] for v in days.values()),
    }
    action = "rebuilt" if full else "updated"
    if old is None:
        action = "built"
    return entry, ModelRefresh(spec.name, action, reason, days=written,
                               files_read=len(files) + len(out_files), rows=rows)


def _merge_stats(old, key, files, full, _scan) -> dict[str, list[int]]:
    prev = {} if (full or not old) else old.get(key, {})
    out = {}
    todo = []
    for f in files:
        st = mf.file_stat(f)
        rec = prev.get(f)
        if rec is not None and st is not None and (rec[0], rec[1]) == st:
            out[f] = rec
        else:
            todo.append(f)
    out.update(_stats(todo))
    return out


def _written_days(root: Path, batch: Path) -> dict[str, dict]:
    import pyarrow.parquet as pq

    out: dict[str, dict] = {}
    base = root / batch
    if not base.is_dir():
        return out
    for sub in sorted(base.iterdir()):
        if not sub.name.startswith("lm_day="):
            continue
        day = sub.name.split("=", 1)[1]
        files = []
        rows = 0
        for f in sorted(sub.glob("*.parquet")):
            rows += pq.read_metadata(f).num_rows
            files.append([os.path.relpath(f, root), f.stat().st_size])
        if files:
            out[day] = {"files": files, "rows": rows}
    return out


# ------------------------------------------------------------------ other backends


TABLE_PREFIX = "lm_store_"


def _build_table(eng, ws, spec, pred_files, out_files, fp: str, ts_range, reason: str):
    """On another backend: the model's joined log as one new table in ``[store] database``
    (the previous one is dropped by the next refresh, once no manifest names it)."""
    from analytics.log.defects import as_timestamp
    from analytics.log.joined import build_log

    be = eng.backend
    db = ws.store.database
    pred = eng.raw(spec, "predictions")
    out = eng.raw(spec, "outcomes") if spec.outcomes else None
    log = build_log(spec, pred, out, ts_range=ts_range, rank_repeats=bool(spec.outcomes) and eng.repeated_ids(spec))
    name = f"{TABLE_PREFIX}{mf.model_key(spec.name)}_{uuid.uuid4().hex[:12]}"
    try:
        be.create_table(name, log, database=db)
    except Exception as exc:  # noqa: BLE001
        raise mf.StoreError(f"Cannot create the store's table {name!r} in database {db!r} "
                            f"of the {be.name} backend: {str(exc).splitlines()[0] if str(exc) else exc}.") from None
    t = be.table(name, database=db)
    rows = int(eng.execute(t.aggregate(n=t.count()), spec).to_pylist()[0]["n"])
    mx = eng.execute(pred.aggregate(mx=as_timestamp(pred[spec.columns.timestamp]).max()), spec).to_pylist()[0]["mx"]
    high = ts_range[1]
    entry = {"fingerprint": fp, "repeats": False, "exact": mx is None or mx < high, "high": high.isoformat(),
             "refreshed_at": _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds"),
             "pred_files": _stats(pred_files), "out_files": _stats(out_files),
             "table": name, "database": db, "days": {}, "rows": rows}
    return entry, ModelRefresh(spec.name, "rebuilt", reason, files_read=len(pred_files) + len(out_files), rows=rows)


def sweep_tables(eng, ws, keep: set[str]) -> int:
    """Drop the store's tables in ``[store] database`` that no kept manifest names."""
    if eng.backend.name == "duckdb" or not ws.store.database:
        return 0
    n = 0
    for name in eng.backend.list_tables(database=ws.store.database):
        if name.startswith(TABLE_PREFIX) and name not in keep:
            eng.backend.drop_table(name, database=ws.store.database, force=True)
            n += 1
    return n
