"""``lastmile store info``: what the store holds, how fresh it is, its size."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from analytics.store import manifest as mf
from analytics.store.serve import same_files


def _size(root: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(root / mf.DATA):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(dirpath, f))
            except OSError:
                pass
    return total


def store_info(workspace, engine) -> dict[str, Any]:
    """Per model: stored rows, days, files, bytes, when refreshed, and whether it answers
    today (``fresh``) or why not (``stale``). ``engine`` resolves today's log files."""
    root = engine.stored_by.root if engine.stored_by is not None else mf.store_root(workspace)
    m, problem = mf.read(root)
    models = []
    for spec in workspace.models:
        e = m["models"].get(spec.name)
        row: dict[str, Any] = {"model": spec.name, "rows": 0, "days": 0, "first_day": None, "last_day": None,
                               "files": 0, "bytes": 0, "refreshed_at": None, "status": "not stored", "reason": ""}
        if e:
            days = sorted(e.get("days", {}))
            files = [f for d in days for f in e["days"][d]["files"]]
            row.update(rows=int(e.get("rows", 0)), days=len(days), first_day=days[0] if days else None,
                       last_day=days[-1] if days else None, files=len(files),
                       bytes=sum(size for _, size in files), refreshed_at=e.get("refreshed_at"))
            row["status"], row["reason"] = _freshness(workspace, engine, spec, e)
        models.append(row)
    return {"store": str(root), "generation": int(m.get("generation", 0)),
            "bytes": _size(root) if root.is_dir() else 0, "problem": problem, "models": models}


def _freshness(workspace, engine, spec, e) -> tuple[str, str]:
    if e.get("fingerprint") != mf.fingerprint(workspace, spec):
        return "stale", "the workspace changed since the refresh"
    if not e.get("exact"):
        return "stale", "some predictions were in the future at the refresh"
    pred = engine.source(spec, "predictions").files
    if not same_files(e.get("pred_files", {}), pred):
        return "stale", "prediction files changed since the refresh"
    if spec.outcomes and not same_files(e.get("out_files", {}), engine.source(spec, "outcomes").files):
        return "stale", "outcome files changed since the refresh"
    if engine.stored(spec) is None:
        return "stale", "a stored file is missing or damaged"
    return "fresh", ""
