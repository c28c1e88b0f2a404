"""The incremental store: each model's joined, typed, narrow log, kept as Parquet.

What is stored: for each model, the canonical log the engine builds from the
prediction files and each id's latest outcome (:func:`analytics.engine.build_log`),
one Parquet file per day of prediction timestamps, under the store's folder
(``[store] path``, default ``store/`` in the workspace's state folder, never beside
the logs). ``manifest.json`` lists every file of the logs seen (path, size, mtime,
footer row count, the days each prediction file holds) and every stored day. Every
query runs unchanged on the stored table, so answers are those of the raw path.

It is a cache: deleting the folder changes no answer. See ``analytics/docs/store.md``.

Modules: :mod:`.config` (``[store]`` section), :mod:`.manifest` (what was seen,
atomic replace, the lock), :mod:`.build` (refresh: what changed, redo those days),
:mod:`.serve` (whether the store answers exactly, for the engine), :mod:`.info`.
"""

from __future__ import annotations

__all__ = ["refresh", "store_info", "StoreBusyError", "store_root"]


def __getattr__(name: str):
    # lazy: the workspace module imports .config, and the rest imports the engine
    if name == "refresh":
        from .build import refresh
        return refresh
    if name == "store_info":
        from .info import store_info
        return store_info
    if name == "StoreBusyError":
        from .manifest import StoreBusyError
        return StoreBusyError
    if name == "store_root":
        from .manifest import store_root
        return store_root
    raise AttributeError(name)
