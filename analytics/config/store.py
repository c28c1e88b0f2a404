"""``[store]`` and ``[engine] memory_limit``: parsing, defaults, and where the store lives.

``[store]`` keys:

- ``path``: the store's folder (default: ``store/`` in the workspace's state folder,
  see :mod:`analytics.cachedir`). Relative paths are resolved against the workspace
  file's folder. It may not be inside a log folder.
- ``refresh_seconds``: how often the dashboard refreshes the store (0: only on "Re-read
  the logs"; default 0).
- ``enabled``: ``false`` makes every question read the raw logs (as ``--no-store``).
- ``database``: on a backend other than DuckDB, a writable database (schema) of that
  backend: each model's joined log is kept there as a table (Ibis ``create_table``).

``[engine] memory_limit``: DuckDB's memory limit, as bytes or a string such as
``"2GB"``/``"512MB"``; default :func:`default_memory_limit` (a quarter of RAM, at most
1.5 GB: with the Python side, a process within 2 GB). Past it DuckDB spills to a
temporary folder in the state folder.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from analytics.config.cachedir import cache_root, state_dir

__all__ = ["StoreConfig", "parse_store", "parse_memory_limit", "default_memory_limit", "STORE_KEYS",
           "store_root", "temp_dir"]

STORE_KEYS = {"path", "refresh_seconds", "enabled", "database"}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
#: The cap of the default memory limit: DuckDB's share of a 2 GB process (the Python side,
#: its imports and the Arrow results beside it, takes 0.3-0.5 GB; with a 2 GB limit the
#: cold weekly report of a 20M-row log peaked at 2.2 GB).
MEMORY_CAP = 1_500_000_000


@dataclass(frozen=True)
class StoreConfig:
    """The ``[store]`` section."""

    path: str | None = None
    refresh_seconds: float = 0.0
    enabled: bool = True
    database: str | None = None


def parse_store(raw: Any, root: Path, problems: list[str]) -> StoreConfig:
    """``[store]`` from the parsed TOML (``None``: absent); problems are appended."""
    if raw is None:
        return StoreConfig()
    if not isinstance(raw, Mapping):
        problems.append("[store] must be a table.")
        return StoreConfig()
    for key in raw:
        if key not in STORE_KEYS:
            close = difflib.get_close_matches(str(key), sorted(STORE_KEYS), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"[store]: unknown key {key!r}{hint}.")
    path = raw.get("path")
    if path is not None:
        if not isinstance(path, str) or not path.strip():
            problems.append("[store] path must be a folder path (a string).")
            path = None
        else:
            p = Path(path).expanduser()
            path = str(p if p.is_absolute() else (root / p))
    secs = raw.get("refresh_seconds", 0)
    if isinstance(secs, bool) or not isinstance(secs, (int, float)) or secs < 0 or secs != secs:
        problems.append("[store] refresh_seconds must be a number of seconds >= 0 (0: only on demand).")
        secs = 0
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append("[store] enabled must be true or false.")
        enabled = True
    database = raw.get("database")
    if database is not None and (not isinstance(database, str) or not database.strip()):
        problems.append("[store] database must be the name of a database (schema) of the engine backend.")
        database = None
    return StoreConfig(path=path, refresh_seconds=float(secs), enabled=enabled, database=database)


def total_memory() -> int | None:
    """Physical memory in bytes (None when the system does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def default_memory_limit() -> int:
    """A quarter of physical memory, at most :data:`MEMORY_CAP` (1.5 GB)."""
    ram = total_memory()
    return MEMORY_CAP if not ram else min(ram // 4, MEMORY_CAP)


def parse_memory_limit(value: Any, problems: list[str]) -> int:
    """``[engine] memory_limit`` in bytes (absent: :func:`default_memory_limit`)."""
    if value is None:
        return default_memory_limit()
    n = None
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    elif isinstance(value, str):
        m = _SIZE.match(value)
        if m:
            n = int(float(m.group(1)) * _UNITS[(m.group(2) or "b").lower()])
    if n is None or n < 16 * 2**20:
        problems.append("[engine] memory_limit must be a size of at least 16MB, such as \"2GB\" or \"512MB\".")
        return default_memory_limit()
    return n


def store_root(workspace, cache: Path | None = None) -> Path:
    """The store's folder: ``[store] path``, else ``store/`` in the workspace's state folder
    (under the cache root ``cache``, default :func:`analytics.config.cachedir.cache_root`)."""
    if workspace.store.path:
        return Path(workspace.store.path)
    return state_dir(workspace.path, cache if cache is not None else cache_root()) / "store"


def temp_dir(workspace, cache: Path | None = None) -> Path:
    """Where DuckDB spills past its memory limit (the store's ``tmp/``, outside the logs)."""
    return store_root(workspace, cache) / "tmp"
