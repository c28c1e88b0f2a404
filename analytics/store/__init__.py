"""The incremental store: each model's joined, typed, narrow log, kept as Parquet.

What is stored: for each model, the canonical log the engine builds from the
prediction files and each id's latest outcome (:func:`analytics.engine.build_log`),
one Parquet file per day of prediction timestamps, under the store's folder
(``[store] path``, default ``store/`` in the workspace's state folder, never beside
the logs). ``manifest.json`` lists every file of the logs seen (path, size, mtime,
footer row count, the days each prediction file holds) and every stored day. Every
query runs unchanged on the stored table, so answers are those of the raw path.

It is a cache: deleting the folder changes no answer. See ``analytics/docs/store.md``.

Modules: :mod:`analytics.config.store` (the ``[store]`` section), :mod:`.manifest` (what was seen,
atomic replace, the lock), :mod:`.build` (refresh: what changed), :mod:`.days` (which days, writing them), :mod:`.tables` (other backends),
:mod:`.serve` (whether the store answers exactly, for the engine), :mod:`.info`.
"""

from __future__ import annotations

from analytics.config.store import store_root
from analytics.log.engine import Engine
from analytics.store.build import RefreshResult, refresh
from analytics.store.info import store_info
from analytics.store.manifest import StoreBusyError, StoreError
from analytics.store.serve import StoreReader

__all__ = ["open_engine", "refresh", "RefreshResult", "store_info", "StoreBusyError", "StoreError", "store_root"]


def open_engine(workspace, use_store: bool = True, cache=None, **kwargs) -> Engine:
    """An :class:`~analytics.log.engine.Engine` that reads the store where it answers
    exactly (``use_store=False``, the CLI's ``--no-store``: always the raw logs).
    ``cache``: the cache root (default :func:`analytics.config.cachedir.cache_root`);
    other keyword arguments go to the engine (``snapshot``, ``snapshot_seconds``)."""
    reader = StoreReader(store_root(workspace, cache)) if use_store and workspace.store.enabled else None
    return Engine(workspace, store=reader, cache=cache, **kwargs)
