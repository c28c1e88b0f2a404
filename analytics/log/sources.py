"""Where a model's rows come from: files, globs, hive folders and object storage.

:func:`resolve_source` expands a workspace path and reads every local file's
Parquet footer (cheap: metadata only), so one corrupt file among thousands is
named before any query runs.
"""

from __future__ import annotations

import glob as _glob
import os
import re
from dataclasses import dataclass
from pathlib import Path

from analytics.errors import CorruptFileError, MissingFileError
from analytics.log import objectstore


@dataclass(frozen=True)
class Source:
    """A resolved file, glob or folder of Parquet files."""

    path: str               # as the workspace wrote it (other backends read this)
    pattern: str            # what DuckDB reads (a folder becomes folder/**/*.parquet)
    files: tuple[str, ...]  # files found, local or s3:// (empty for other remote paths)
    hive: bool
    rows: int | None = None  # total rows from the files' footers (None for other remote paths)



_HIVE_DIR = re.compile(r"^[^=/]+=[^/]*$")


def resolve_source(path: str, model: str, role: str, store: objectstore.ObjectStore | None = None) -> Source:
    """Expand a workspace path; check that local files exist and are Parquet.

    Every local file's footer is read (cheap: metadata only), so one corrupt
    file among thousands is named before any query runs. ``s3://`` paths are
    expanded and checked the same way through ``store`` (see
    :mod:`analytics.log.objectstore`); other remote paths, or any without a store,
    are passed to the backend as written.
    """
    what = f"the {role} of model {model!r}"
    if "://" in path:
        if store is None or not store.handles(path):
            return Source(path=path, pattern=path, files=(), hive="=" in path)
        pattern, files, rows = store.resolve(path, what)
        hive = any(_HIVE_DIR.match(part) for f in files[:50] for part in Path(f).parent.parts)
        return Source(path=path, pattern=pattern, files=files, hive=hive, rows=rows)
    p = Path(path)
    if p.is_dir():
        pattern = str(p / "**" / "*.parquet")
    elif any(ch in path for ch in "*?["):
        pattern = path
    elif p.is_file():
        pattern = path
    else:
        raise MissingFileError(f"File {path!r} ({what}) does not exist.")
    files = tuple(sorted(f for f in _glob.glob(pattern, recursive=True) if os.path.isfile(f)))
    if not files:
        raise MissingFileError(f"No Parquet files match {path!r} ({what}).")
    rows = sum(check_parquet_file(f, what) for f in files)
    hive = any(_HIVE_DIR.match(part) for f in files[:50] for part in Path(f).parent.parts)
    return Source(path=path, pattern=pattern, files=files, hive=hive, rows=rows)


def check_parquet_file(path: str, what: str = "a log") -> int:
    """Read a file's footer (cheap); return its row count, or raise naming the file."""
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(path).num_rows
    except Exception as exc:  # noqa: BLE001 - any failure means unreadable
        reason = str(exc).split("\n")[0]
        raise CorruptFileError(f"File {path!r} ({what}) is not a readable Parquet file: {reason}.") from None
