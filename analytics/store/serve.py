"""Whether the store answers a model's questions exactly, and with which files.

The store serves a model when its manifest entry was built from exactly the files
the workspace names today (same paths, sizes and mtimes), under the same workspace
settings (:func:`.manifest.fingerprint`), every stored file is intact (its size), and
no prediction was left out for lying in the future at refresh time (such a row may
belong in the log by now). Anything else: the engine joins the raw logs, as without
a store.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from analytics.log.engine import STORE_TABLE
from analytics.store import manifest as mf


#: How :meth:`StoreReader.files` names a backend table instead of files.
TABLE = STORE_TABLE


class StoreReader:
    """The manifest as last read (re-read when the file changes), shared by threads."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._seen: tuple[Any, dict[str, Any]] | None = None
        #: model -> (checked at (monotonic), manifest stat, answer): a page asks many times a second
        self._answers: dict[str, tuple[float, Any, Any]] = {}

    #: How long an answer of :meth:`files` is reused before the files are looked at again.
    RECHECK_SECONDS = 2.0

    def manifest(self) -> dict[str, Any]:
        st = mf.file_stat(str(self.root / mf.MANIFEST))
        with self._lock:
            if self._seen is not None and self._seen[0] == st:
                return self._seen[1]
        m = mf.read(self.root)[0] if st is not None else mf.empty()
        with self._lock:
            self._seen = (st, m)
        return m

    def files(self, workspace, spec, pred_files, out_files) -> tuple[tuple[str, ...], int] | None:
        """The stored Parquet files of ``spec`` and the manifest's generation, when the
        store answers exactly for today's ``pred_files`` / ``out_files``; else None."""
        st = mf.file_stat(str(self.root / mf.MANIFEST))
        now = time.monotonic()
        with self._lock:
            seen = self._answers.get(spec.name)
        if seen is not None and seen[1] == st and now - seen[0] < self.RECHECK_SECONDS:
            return seen[2]
        answer = self._files(workspace, spec, pred_files, out_files)
        with self._lock:
            self._answers[spec.name] = (now, st, answer)
        return answer

    def _files(self, workspace, spec, pred_files, out_files):
        m = self.manifest()
        entry = m["models"].get(spec.name)
        if not entry or not entry.get("exact") or not (entry.get("days") or entry.get("table")):
            return None
        if entry.get("fingerprint") != mf.fingerprint(workspace, spec):
            return None
        if not same_files(entry.get("pred_files", {}), pred_files):
            return None
        if not same_files(entry.get("out_files", {}), out_files):
            return None
        if entry.get("table"):   # another backend: a table in [store] database
            return (f"{TABLE}{entry['database']}.{entry['table']}",), int(m.get("generation", 0))
        out = []
        for day in sorted(entry["days"]):
            for rel, size in entry["days"][day]["files"]:
                path = os.path.join(self.root, rel)
                st = mf.file_stat(path)
                if st is None or st[0] != size:
                    return None
                out.append(path)
        return tuple(out), int(m.get("generation", 0))


def same_files(seen: dict[str, Any], files) -> bool:
    """Whether ``files`` are exactly the files ``seen`` records, unchanged."""
    files = tuple(files)
    if len(seen) != len(files):
        return False
    for f in files:
        rec = seen.get(f)
        st = mf.file_stat(f)
        if rec is None or st is None or (rec[0], rec[1]) != st:
            return False
    return True
