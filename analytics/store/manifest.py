"""What the store has seen and holds: ``manifest.json``, replaced atomically, and the lock.

The manifest is the store's one truth: a reader reads the manifest it finds and the
files it names, which a refresh never changes (a refresh writes new files and then
replaces the manifest with :func:`os.replace`; the files of the previous two manifests
are kept, older ones are swept at the next refresh). A refresh killed at any point
leaves the previous manifest, valid, and orphan files that the next refresh sweeps.

Two refreshes never run at once: :func:`locked` holds an ``fcntl`` lock on the store's
``lock`` file (readers take no lock).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from analytics.config.store import store_root, temp_dir  # noqa: F401 - where the store lives
from analytics.errors import LastmileError

#: Bumped when the layout or the meaning of a stored file changes: older stores are rebuilt.
FORMAT = 1
MANIFEST = "manifest.json"
DATA = "data"


class StoreBusyError(LastmileError):
    """Another process is refreshing the store."""


class StoreError(LastmileError):
    """The store's folder cannot be used (a log folder, not writable...)."""


def fingerprint(workspace, spec) -> str:
    """What the stored log of ``spec`` depends on besides the files: a change rebuilds it."""
    import duckdb
    import ibis

    parts = (FORMAT, spec.task, spec.predictions, spec.outcomes, repr(spec.columns), repr(spec.business),
             spec.threshold, workspace.timestamp_min.isoformat(), workspace.timestamp_max_ahead.total_seconds(),
             ibis.__version__, duckdb.__version__)
    return hashlib.sha1(repr(parts).encode("utf-8")).hexdigest()


def model_key(name: str) -> str:
    """The folder name of a model's data (safe for any model name)."""
    return hashlib.sha1(name.encode("utf-8")).hexdigest()[:16]


def file_stat(path: str) -> tuple[int, int] | None:
    """(size, mtime_ns) of a file, None when it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def empty() -> dict[str, Any]:
    return {"format": FORMAT, "generation": 0, "models": {}, "previous_files": []}


def read(root: Path) -> tuple[dict[str, Any], str | None]:
    """The manifest and, when it could not be used, why (an empty manifest then)."""
    path = root / MANIFEST
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return empty(), None
    except OSError as exc:
        return empty(), f"its manifest cannot be read ({exc.strerror or exc})"
    try:
        m = json.loads(raw)
    except ValueError:
        return empty(), "its manifest is not valid JSON"
    if not isinstance(m, dict) or not isinstance(m.get("models"), dict):
        return empty(), "its manifest is not a store manifest"
    if m.get("format") != FORMAT:
        return empty(), f"it was written in format {m.get('format')!r}, this version uses {FORMAT}"
    return m, None


def write(root: Path, manifest: dict[str, Any]) -> None:
    """Replace the manifest atomically (a reader sees the old one or the new one)."""
    tmp = root / f".{MANIFEST}.{os.getpid()}.tmp"
    data = json.dumps(manifest, sort_keys=True, separators=(",", ":"))
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / MANIFEST)
    try:  # the rename itself survives a crash
        fd = os.open(root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def stored_files(manifest: dict[str, Any]) -> set[str]:
    """Every data file a manifest names (relative to the store's folder)."""
    out: set[str] = set()
    for entry in manifest.get("models", {}).values():
        for day in entry.get("days", {}).values():
            out.update(f for f, _ in day["files"])
    return out


def sweep(root: Path, keep: set[str]) -> int:
    """Delete data files (and empty folders) that no kept manifest names; the count."""
    data = root / DATA
    if not data.is_dir():
        return 0
    n = 0
    for dirpath, dirnames, filenames in os.walk(data, topdown=False):
        for f in filenames:
            rel = os.path.relpath(os.path.join(dirpath, f), root)
            if rel not in keep:
                try:
                    os.unlink(os.path.join(dirpath, f))
                    n += 1
                except OSError:
                    pass
        if dirpath != str(data):
            try:
                os.rmdir(dirpath)  # only when empty
            except OSError:
                pass
    for tmp in root.glob(f".{MANIFEST}.*.tmp"):
        try:
            tmp.unlink()
        except OSError:
            pass
    return n


def remove_all(root: Path) -> None:
    """Drop every stored file (a corrupt store): the manifest last."""
    shutil.rmtree(root / DATA, ignore_errors=True)


@contextmanager
def locked(root: Path):
    """Hold the store's refresh lock, or raise :class:`StoreBusyError` naming the holder."""
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"The store folder {str(root)!r} cannot be created: {exc.strerror or exc}.") from None
    path = root / "lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            try:
                pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            except OSError:
                pid = "?"
            raise StoreBusyError(f"Another refresh of the store {str(root)!r} is running (pid {pid}); "
                                 "try again when it finishes.") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        try:
            yield
        finally:
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
