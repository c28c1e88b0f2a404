"""From a workspace to Ibis tables: one joined, typed log table per model.

The :class:`Engine` owns the connection(s) to the configured Ibis backend
(DuckDB, embedded, by default). For each model it registers the prediction and
outcome files and builds one *canonical log*: predictions left-joined to
outcomes on ``columns.id``, with the role columns renamed to fixed names (see
:class:`C`) so that every query in the library is written once, whatever the
user's column names. Segment, feature and per-row business columns keep their
own names.

Join semantics: when outcomes hold several rows for one id, the row with the
latest ``label_timestamp`` wins (ties, or no label_timestamp: the largest label
value, so the answer is deterministic). When predictions repeat an id within one
version, the outcome labels only the latest of them (by timestamp; ties: the
highest score or prediction); the others stay in the log, unlabeled. Another
version's row with the same id (a shadow re-scoring it) is labeled too.
Outcomes that match no prediction are ignored by queries;
:func:`analytics.log.validation.validate` counts them.

Row-level defects never corrupt a number silently. Rows with a null timestamp,
or one outside the workspace's plausible range (``[engine] timestamp_min`` to now
plus ``timestamp_max_ahead``), are left out of everything; NaN or out-of-range
scores become missing (the row still counts in volume); labels outside the task's
classes count as unlabeled. :meth:`Engine.data_warnings` says how many rows each
rule touched (the rules: :mod:`analytics.log.defects`).

DuckDB connections are not for concurrent use: each thread gets its own cursor
(a connection of its own) on the engine's one DuckDB database (Streamlit serves
every session on its own thread), so threads share the in-memory snapshots of
small logs but never a connection. Log files are only ever read.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from analytics.config.store import temp_dir
from analytics.config.workspace import ModelSpec, Workspace
from analytics.errors import LastmileError, UnknownVersionError, suggest
from analytics.log import objectstore
from analytics.log.backend import (SNAPSHOT_DB, create_temp, cursor, drop_table, failure, open_backend,
                                   open_duckdb_root)
from analytics.log.columns import C, DataWarning
from analytics.log.defect_counts import count_defects
from analytics.log.defects import check_case_collisions, repeated_ids
from analytics.log.joined import build_log
from analytics.log.sources import Source, resolve_source

#: How a store names a table of the backend instead of Parquet files (``table:<db>.<name>``).
STORE_TABLE = "table:"


class Engine:
    """Connections and canonical log tables for one workspace."""

    def __init__(self, workspace: Workspace, snapshot: bool = False, snapshot_seconds: float = 300.0,
                 store=None, cache: Path | None = None):
        """``snapshot``: on DuckDB, compute each model's joined log once into an
        in-memory table when its predictions hold at most ``[engine]
        materialize_rows`` rows (read from the Parquet footers), and let every query
        read that instead of re-reading and re-joining the files. All threads share
        it (one DuckDB database, a cursor per thread). The snapshot is rebuilt
        after ``snapshot_seconds``, so new log files show up. Larger logs, other
        backends and ``snapshot=False`` (the default) query the files directly.

        ``store``: where a model's joined log may already be kept (the incremental
        store's reader, :class:`analytics.store.serve.StoreReader`; build an engine with
        it by :func:`analytics.store.open_engine`): :meth:`log` reads it whenever it
        answers exactly, else joins the raw logs. ``cache``: the cache root under which
        DuckDB spills past ``[engine] memory_limit`` (default
        :func:`analytics.config.cachedir.cache_root`).
        """
        self.workspace = workspace
        self.snapshot = snapshot
        self.snapshot_seconds = snapshot_seconds
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sources: dict[tuple[str, str], Source] = {}
        self._warnings: dict[str, tuple[DataWarning, ...]] = {}
        self._versions: dict[str, tuple[str, ...]] = {}
        self._repeats: dict[str, bool] = {}
        self._root = None   # DuckDB: the one database every thread's cursor shares
        #: model -> (snapshot table, built at (monotonic), generation)
        self._snapshots: dict[str, tuple[str, float, int]] = {}
        self._snapshot_locks: dict[str, threading.Lock] = {}
        #: DuckDB: the s3fs filesystem for s3:// paths (None when the workspace has none)
        self._store = objectstore.for_workspace(workspace)
        #: the incremental store's reader (None: always the raw logs)
        self.stored_by = store if workspace.store.enabled else None
        self._tmp = temp_dir(workspace, cache)

    # -- connections -------------------------------------------------------

    @property
    def backend(self):
        """This thread's Ibis backend (created on first use)."""
        be = getattr(self._local, "backend", None)
        if be is None:
            be = self._connect()
            self._local.backend = be
            self._local.tables = {}
        return be

    def _connect(self):
        """This thread's backend. DuckDB: a cursor (its own connection) on the one
        database of this engine, so threads share snapshots and the buffer pool but
        never a connection."""
        if self.workspace.backend == "duckdb":
            with self._lock:
                if self._root is None:
                    self._root = open_duckdb_root(self.workspace, self._store, self._tmp)
                root = self._root
            return cursor(root)
        return open_backend(self.workspace)

    @property
    def dialect(self) -> str:
        return self.backend.name

    # -- sources -----------------------------------------------------------

    def source(self, spec: ModelSpec, role: str) -> Source:
        key = (spec.name, role)
        with self._lock:
            if key not in self._sources:
                path = spec.predictions if role == "predictions" else spec.outcomes
                self._sources[key] = resolve_source(path, spec.name, role, self._store)
            return self._sources[key]

    def raw(self, model: str | ModelSpec, role: str = "predictions") -> ir.Table:
        """The prediction or outcome files as one table, columns as written."""
        spec = self.spec(model)
        self.backend  # noqa: B018 - make sure this thread's state exists
        cache = self._local.tables
        key = (spec.name, "raw", role)
        if key not in cache:
            src = self.source(spec, role)
            check_case_collisions(src, spec, role)
            be = self.backend
            try:
                if be.name == "duckdb" and self._store is not None and self._store.handles(src.path):
                    t = objectstore.read_parquet(be, src.pattern, hive=src.hive)
                elif be.name == "duckdb":
                    t = be.read_parquet(src.pattern, hive_partitioning=src.hive, union_by_name=True)
                else:  # Spark and others read folders (with hive partitions) and globs natively
                    t = be.read_parquet(src.path)
            except LastmileError:
                raise
            except Exception as exc:  # noqa: BLE001 - sorted by failure(): bad data or a bug
                raise failure(exc, spec, f"the {role}") from exc
            cache[key] = t
        return cache[key]

    def spec(self, model: str | ModelSpec) -> ModelSpec:
        return model if isinstance(model, ModelSpec) else self.workspace.model(model)

    # -- the canonical log --------------------------------------------------

    def log(self, model: str | ModelSpec) -> ir.Table:
        """The joined log of a model, with canonical column names (see :class:`C`)."""
        spec = self.spec(model)
        self.backend  # noqa: B018
        cache = self._local.tables
        if self.snapshotted(spec):
            name, gen = self._snapshot(spec)
            key = (spec.name, "log", gen)
            if key not in cache:
                cache[key] = self.backend.table(name, database=(SNAPSHOT_DB, "main"))
            return cache[key]
        stored = self.stored(spec)
        if stored is not None:
            key = (spec.name, "store", stored)
            if key not in cache:
                cache[key] = self._read_store(spec, stored[0])
            return cache[key]
        key = (spec.name, "log")
        if key not in cache:
            # queried in place, every query pays for ranking repeated ids: only when there are some
            cache[key] = build_log(spec, self.raw(spec, "predictions"),
                                   self.raw(spec, "outcomes") if spec.outcomes else None,
                                   ts_range=self.workspace.timestamp_range(),
                                   rank_repeats=bool(spec.outcomes) and self.repeated_ids(spec))
        return cache[key]

    def stored(self, model: str | ModelSpec) -> tuple[tuple[str, ...], int] | None:
        """(files, generation) of the model's joined log in the store when it answers
        exactly today (see :mod:`analytics.store.serve`); None: the raw logs are joined."""
        if self.stored_by is None or (self.workspace.backend != "duckdb" and not self.workspace.store.database):
            return None
        spec = self.spec(model)
        pred = self.source(spec, "predictions")
        out = self.source(spec, "outcomes") if spec.outcomes else None
        if not pred.files or "://" in pred.path or (out is not None and "://" in out.path):
            return None
        return self.stored_by.files(self.workspace, spec, pred.files, out.files if out is not None else ())

    def _read_store(self, spec: ModelSpec, files: tuple[str, ...]) -> ir.Table:
        try:
            if files[0].startswith(STORE_TABLE):   # a table in [store] database (another backend)
                db, name = files[0][len(STORE_TABLE):].rsplit(".", 1)
                return self.backend.table(name, database=db)
            return self.backend.read_parquet(list(files), hive_partitioning=False)
        except LastmileError:
            raise
        except Exception as exc:  # noqa: BLE001 - sorted by failure(): bad data or a bug
            raise failure(exc, spec, "the store") from exc

    def joined(self, model: str | ModelSpec) -> ir.Table:
        """The joined log as a query over files: the store's when it answers exactly,
        else the raw logs joined (what a snapshot is computed from)."""
        spec = self.spec(model)
        stored = self.stored(spec)
        if stored is not None:
            return self._read_store(spec, stored[0])
        return build_log(spec, self.raw(spec, "predictions"),
                         self.raw(spec, "outcomes") if spec.outcomes else None,
                         ts_range=self.workspace.timestamp_range())

    def prejoined(self, model: str | ModelSpec) -> bool:
        """Whether :meth:`log` is already joined (a snapshot or the store), so reading
        it whole costs no join."""
        return self.snapshotted(model) or self.stored(model) is not None

    def write_partitioned(self, expr: ir.Table, folder: Path, by: str, model=None) -> None:
        """Write ``expr`` as Parquet files in hive folders ``folder/<by>=<value>/`` (DuckDB)."""
        try:
            self.backend.to_parquet(expr, str(folder), partition_by=by)
        except LastmileError:
            raise
        except Exception as exc:  # noqa: BLE001 - sorted by failure(): bad data or a bug
            raise failure(exc, self.spec(model) if model is not None else None, "the logs") from exc

    def repeated_ids(self, model: str | ModelSpec) -> bool:
        """Whether some version of the model logs a prediction id more than once
        (one aggregate over the predictions, once per engine)."""
        spec = self.spec(model)
        with self._lock:
            cached = self._repeats.get(spec.name)
        if cached is None:
            q = repeated_ids(spec, self.raw(spec, "predictions")).limit(1)
            cached = self.execute(q, spec).num_rows > 0
            with self._lock:
                self._repeats[spec.name] = cached
        return cached

    def _snapshot(self, spec: ModelSpec) -> tuple[str, int]:
        """The current snapshot table of a model and its generation, (re)built when
        missing or older than ``snapshot_seconds`` by one thread while others wait.
        The table two generations back is dropped (a query compiled against the
        previous one may still be running)."""
        with self._lock:
            lock = self._snapshot_locks.setdefault(spec.name, threading.Lock())
        with lock:
            now = time.monotonic()
            entry = self._snapshots.get(spec.name)
            if entry is not None and now - entry[1] <= self.snapshot_seconds:
                return entry[0], entry[2]
            gen = entry[2] + 1 if entry else 0
            base = "lm_log_" + hashlib.sha1(spec.name.encode()).hexdigest()[:16]
            name = f"{base}_{gen}"
            t = self.joined(spec)
            try:
                drop_table(self.backend, name, SNAPSHOT_DB)
                self.backend.create_table(name, t, database=(SNAPSHOT_DB, "main"))
            except LastmileError:
                raise
            except Exception as exc:  # noqa: BLE001 - sorted by failure(): bad data or a bug
                raise failure(exc, spec, "the logs") from exc
            if gen >= 2:
                drop_table(self.backend, f"{base}_{gen - 2}", SNAPSHOT_DB)
            self._snapshots[spec.name] = (name, now, gen)
            return name, gen

    @property
    def exact_quantiles(self) -> bool:
        """Whether the backend's quantile aggregate is exact with numpy's linear
        interpolation (DuckDB's ``quantile_cont``), so the metrics may use it
        instead of the portable rank queries."""
        return self.backend.name == "duckdb"

    def snapshotted(self, model: str | ModelSpec) -> bool:
        """Whether :meth:`log` serves this model from an in-memory snapshot."""
        spec = self.spec(model)
        if not self.snapshot or self.backend.name != "duckdb":
            return False
        rows = self.source(spec, "predictions").rows
        return rows is not None and rows <= self.workspace.materialize_rows

    def execute(self, expr: ir.Expr, model: str | ModelSpec | None = None) -> pa.Table:
        """Run an expression; an engine's data error becomes one sentence, anything else
        an :class:`~analytics.errors.InternalError` (see :func:`failure`)."""
        try:
            if isinstance(expr, ir.Table):
                return self.backend.to_pyarrow(expr)
            return self.backend.to_pyarrow(expr.as_table())
        except LastmileError:
            raise
        except Exception as exc:  # noqa: BLE001 - sorted by failure(): bad data or a bug
            spec = self.spec(model) if model is not None else None
            raise failure(exc, spec, "the logs") from exc

    def to_sql(self, expr: ir.Expr) -> str:
        """The SQL this backend runs for ``expr`` (for the audit view)."""
        return str(ibis.to_sql(expr, dialect=self.dialect))

    # -- facts about a model -------------------------------------------------

    def versions(self, model: str | ModelSpec) -> tuple[str, ...]:
        """The versions present in the log, sorted."""
        spec = self.spec(model)
        with self._lock:
            cached = self._versions.get(spec.name)
        if cached is None:
            if spec.outcomes and not self.prejoined(spec):
                # the join adds or drops no prediction row: the predictions alone, no join to pay for
                t = build_log(spec, self.raw(spec, "predictions"), self.raw(spec, "outcomes"),
                              ts_range=self.workspace.timestamp_range(), labels=False)
            else:
                t = self.log(spec)
            res = self.execute(t.select(C.VERSION).distinct(), spec)
            cached = tuple(sorted(str(v) for v in res.column(0).to_pylist() if v is not None))
            with self._lock:
                self._versions[spec.name] = cached
        return cached

    def check_versions(self, model: str | ModelSpec, versions: Iterable[str]) -> None:
        spec = self.spec(model)
        known = self.versions(spec)
        for v in versions:
            if v not in known:
                raise UnknownVersionError(
                    f"Model {spec.name!r} has no version {v!r}{suggest(v, known)}; "
                    f"its versions are: {', '.join(known) or 'none'}."
                )

    @contextmanager
    def temporary(self, expr: ir.Table, model: str | ModelSpec | None = None):
        """``expr`` computed once into a temporary table for the ``with`` block (DuckDB),
        so several queries over it read the logs once; other backends get ``expr``
        itself. The table is dropped on exit."""
        be = self.backend
        if be.name != "duckdb":
            yield expr
            return
        name = f"lm_tmp_{uuid.uuid4().hex}"
        try:
            table = create_temp(be, name, expr)
        except LastmileError:
            raise
        except Exception as exc:  # noqa: BLE001 - sorted by failure(): bad data or a bug
            raise failure(exc, self.spec(model) if model is not None else None, "the logs") from exc
        try:
            yield table
        finally:
            drop_table(self.backend, name)

    def data_warnings(self, model: str | ModelSpec) -> tuple[DataWarning, ...]:
        """Row-level defects that queries work around, counted once per model."""
        spec = self.spec(model)
        with self._lock:
            cached = self._warnings.get(spec.name)
        if cached is None:
            cached = tuple(w for w in count_defects(self, spec) if w.count)
            with self._lock:
                self._warnings[spec.name] = cached
        return cached
