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

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from analytics.log.engine import Engine
from analytics.store import answers, manifest as mf
from analytics.store.days import Job, Written, build_days, changed, days_of_outcomes, intact, scan_days
from analytics.store.tables import build_table, sweep_tables, tables

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

    ``cache``: the cache root (default :func:`analytics.config.cachedir.cache_root`);
    ``models``: names to refresh (default: all); ``progress`` receives one line per step
    (files and rows done). Raises :class:`~.manifest.StoreBusyError` when another refresh
    runs. The manifest is replaced after each model (a kill loses one model's work)."""
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
        result.swept = mf.sweep(root, mf.stored_files(current) | set(current.get("previous_files", [])))
        result.swept += answers.sweep(root)
        eng = engine if engine is not None else Engine(workspace, cache=cache)
        result.swept += sweep_tables(eng, workspace, tables(current) | set(current.get("previous_tables", [])))
        previous = {"previous_files": sorted(mf.stored_files(current)), "previous_tables": sorted(tables(current))}
        for name in workspace.model_names if models is None else tuple(models):
            m0 = time.perf_counter()
            entry, rec = _refresh_model(eng, workspace, workspace.model(name), current["models"].get(name),
                                        root, say, result.warnings)
            rec.seconds = time.perf_counter() - m0
            result.models.append(rec)
            if rec.action != "unchanged":
                current = _commit(root, current, name, entry, previous)
                say(f"{name}: {rec.action} ({rec.reason}): {rec.files_read:,} log files read, "
                    f"{rec.days:,} days and {rec.rows:,} rows written in {rec.seconds:.1f} s")
        for name in [n for n in current["models"] if n not in workspace.model_names]:
            current = _commit(root, current, name, None, previous)   # a model no longer declared
    result.seconds = time.perf_counter() - t0
    return result


def _commit(root: Path, current: dict, name: str, entry: dict | None, previous: dict) -> dict:
    """The manifest with ``name``'s new entry (None: removed), written atomically."""
    models = {k: v for k, v in current["models"].items() if k != name}
    if entry is not None:
        models[name] = entry
    new = dict(current, models=models, generation=int(current.get("generation", 0)) + 1, **previous)
    mf.write(root, new)
    return new


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


def _why_rebuild(job: Job, say: Progress, warnings: list[str]) -> str:
    """Why the model must be rebuilt whole ("" when only what changed is redone)."""
    old = job.old
    if old is None:
        return "new in the store"
    if old.get("fingerprint") != job.fingerprint:
        return "the workspace changed"
    if old.get("repeats"):
        return "predictions repeat ids within a version"
    if not old.get("exact"):
        return "some predictions were in the future at the last refresh"
    if not old.get("table") and not intact(job.root, old):
        warnings.append(f"warning: the store of model {job.spec.name!r} is rebuilt: a stored file is damaged.")
        say(warnings[-1])
        return "a stored file is damaged"
    return ""


def _refresh_model(eng, ws, spec, old, root: Path, say: Progress, warnings: list[str]):
    """The new manifest entry of one model (None: not stored) and what was done."""
    pred_src = eng.source(spec, "predictions")
    out_src = eng.source(spec, "outcomes") if spec.outcomes else None
    if eng.backend.name != "duckdb" and not ws.store.database:
        return None, ModelRefresh(spec.name, "skipped", f"on {eng.backend.name} the store needs [store] database")
    if not pred_src.files or "://" in pred_src.path or (out_src is not None and "://" in out_src.path):
        return None, ModelRefresh(spec.name, "skipped", "its logs are not local files")
    job = Job(eng, ws, spec, pred_src, out_src, list(pred_src.files), list(out_src.files) if out_src else [],
              root, mf.fingerprint(ws, spec), ws.timestamp_range(), old)
    reason = _why_rebuild(job, say, warnings)
    p_add, p_del = changed(old.get("pred_files", {}) if old else {}, job.pred_files)
    o_add, o_del = changed(old.get("out_files", {}) if old else {}, job.out_files)
    if not reason and o_del:
        reason = "an outcome file was rewritten or deleted"
    if not reason and not (p_add or p_del or o_add):
        return old, ModelRefresh(spec.name, "unchanged", "no file changed")
    say(f"{spec.name}: {len(p_add) + len(o_add):,} new or changed log files, {len(p_del):,} changed or deleted")
    if eng.backend.name != "duckdb":
        return _record(spec.name, build_table(job, reason or "new data"), old)
    if reason:
        return _record(spec.name, build_days(job, None, scan_days(job, job.pred_files), reason=reason), old)
    scan = scan_days(job, sorted(p_add))
    redo: set[str] = set()
    for f in p_del:
        redo.update(old["pred_days"].get(f, []))
    for f in p_add:
        redo.update(scan[f][1])
    if o_add:
        redo |= days_of_outcomes(job, sorted(o_add))
    pred_days = {f: old["pred_days"][f] for f in job.pred_files if f not in p_add}
    pred_days.update({f: scan[f][1] for f in p_add})
    return _record(spec.name, build_days(job, redo, scan, pred_days), old)


def _record(name: str, w: Written, old) -> tuple[dict, ModelRefresh]:
    action = "built" if old is None else ("rebuilt" if w.full else "updated")
    return w.entry, ModelRefresh(name, action, w.reason, days=w.days, files_read=w.files_read, rows=w.rows)
