"""The store on a backend other than DuckDB: one table per model in ``[store] database``."""

from __future__ import annotations

import datetime as _dt
import uuid

from analytics.log.defects import as_timestamp
from analytics.log.joined import build_log
from analytics.store import manifest as mf
from analytics.store.days import Job, Written, file_stats

#: The store's tables are named ``lm_store_<model key>_<id>``.
TABLE_PREFIX = "lm_store_"


def build_table(job: Job, reason: str) -> Written:
    """The model's joined log as one new table in ``[store] database`` (the previous one is
    dropped by the next refresh, once no manifest names it)."""
    eng, spec, db = job.eng, job.spec, job.ws.store.database
    be = eng.backend
    pred = eng.raw(spec, "predictions")
    out = eng.raw(spec, "outcomes") if spec.outcomes else None
    log = build_log(spec, pred, out, ts_range=job.ts_range,
                    rank_repeats=bool(spec.outcomes) and eng.repeated_ids(spec))
    name = f"{TABLE_PREFIX}{mf.model_key(spec.name)}_{uuid.uuid4().hex[:12]}"
    try:
        be.create_table(name, log, database=db)
    except Exception as exc:  # noqa: BLE001 - whatever the backend says: the database is not writable
        first = str(exc).strip().split("\n")[0] or type(exc).__name__
        raise mf.StoreError(f"Cannot create the store's table {name!r} in database {db!r} "
                            f"of the {be.name} backend: {first}.") from None
    t = be.table(name, database=db)
    rows = int(eng.execute(t.aggregate(n=t.count()), spec).to_pylist()[0]["n"])
    mx = eng.execute(pred.aggregate(mx=as_timestamp(pred[spec.columns.timestamp]).max()), spec).to_pylist()[0]["mx"]
    high = job.ts_range[1]
    entry = {"fingerprint": job.fingerprint, "repeats": False, "exact": mx is None or mx < high,
             "high": high.isoformat(),
             "refreshed_at": _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds"),
             "pred_files": file_stats(job.pred_files), "out_files": file_stats(job.out_files),
             "table": name, "database": db, "days": {}, "rows": rows}
    return Written(entry, 0, rows, len(job.pred_files) + len(job.out_files), True, reason)


def tables(manifest) -> set[str]:
    """The backend tables a manifest names."""
    return {e["table"] for e in manifest.get("models", {}).values() if e.get("table")}


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
