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
:func:`analytics.validation.validate` counts them.

Row-level defects never corrupt a number silently. Rows with a null timestamp,
or one outside the workspace's plausible range (``[engine] timestamp_min`` to now
plus ``timestamp_max_ahead``), are left out of everything; NaN or out-of-range
scores become missing (the row still counts in volume); labels outside the task's
classes count as unlabeled. :meth:`Engine.data_warnings` says how many rows each
rule touched (the rules: :mod:`analytics.defects`).

DuckDB connections are not for concurrent use: each thread gets its own cursor
(a connection of its own) on the engine's one DuckDB database (Streamlit serves
every session on its own thread), so threads share the in-memory snapshots of
small logs but never a connection. Log files are only ever read.
"""

from __future__ import annotations

import glob as _glob
import hashlib
import os
import re
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from . import objectstore
from .errors import (BackendError, ColumnError, CorruptFileError, DataError,
                     LastmileError, MissingFileError, UnknownVersionError)
from .defects import (DUPLICATE, as_timestamp as _as_timestamp, check_case_collisions, is_null_type,
                      latest_predictions, plausible_ts, repeated_ids)
from .defects import count_defects  # noqa: F401 - it lived here; still importable from here
from .workspace import ModelSpec, Workspace, _suggest, timestamp_range

# Ibis's optional pass that merges nested SELECTs costs 40% of compiling a query
# (which, on small logs, is most of a query's time) and gains nothing: every
# engine's optimizer flattens the subqueries itself. Same answers (the whole
# suite runs with it off); bench/README.md has the figures.
ibis.options.sql.fuse_selects = False


class C:
    """Canonical column names of the joined log (the ``lm_`` prefix is reserved)."""

    ID = "lm_id"
    TS = "lm_ts"
    VERSION = "lm_version"
    SCORE = "lm_score"          # binary: probability of the positive class, NULL if invalid
    PRED = "lm_pred"            # binary: decision 0/1; multiclass: class (string); regression: value
    LABEL = "lm_label"          # binary: 0/1; multiclass: class (string); regression: value
    LABEL_TS = "lm_label_ts"
    LATENCY = "lm_latency"
    LABELED = "lm_labeled"      # label is present and valid

    @staticmethod
    def proba(i: int) -> str:
        """Multiclass: probability of the i-th class of ``columns.class_scores``."""
        return f"lm_p{i}"


#: Version name used when the workspace declares no version column.
DEFAULT_VERSION = "default"


@dataclass(frozen=True)
class DataWarning:
    """Rows a query leaves out (or treats as missing) because of a defect."""

    model: str
    column: str
    count: int
    message: str

    def __str__(self) -> str:
        return f"warning: model {self.model!r}: {self.message}"


@dataclass(frozen=True)
class Source:
    """A resolved file, glob or folder of Parquet files."""

    path: str               # as the workspace wrote it (other backends read this)
    pattern: str            # what DuckDB reads (a folder becomes folder/**/*.parquet)
    files: tuple[str, ...]  # files found, local or s3:// (empty for other remote paths)
    hive: bool
    rows: int | None = None  # total rows from the files' footers (None for other remote paths)


# ------------------------------------------------------------------ sources


_HIVE_DIR = re.compile(r"^[^=/]+=[^/]*$")


def resolve_source(path: str, model: str, role: str, store: objectstore.ObjectStore | None = None) -> Source:
    """Expand a workspace path; check that local files exist and are Parquet.

    Every local file's footer is read (cheap: metadata only), so one corrupt
    file among thousands is named before any query runs. ``s3://`` paths are
    expanded and checked the same way through ``store`` (see
    :mod:`analytics.objectstore`); other remote paths, or any without a store,
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


# ------------------------------------------------------------------ the engine

#: The in-memory DuckDB catalog that holds the snapshots (shared by every thread's cursor).
SNAPSHOT_DB = "lm_snapshots"


def _duckdb_memory(be, limit: int, tmp: Path) -> None:
    """The database's memory limit, and where it spills past it (outside the logs)."""
    import sqlglot.expressions as sge

    tmp.mkdir(parents=True, exist_ok=True)
    for key, value in (("memory_limit", f"{max(limit // 2**20, 16)}MiB"), ("temp_directory", str(tmp))):
        stmt = sge.Set(expressions=[sge.SetItem(this=sge.EQ(this=sge.var(key), expression=sge.Literal.string(value)))])
        be.raw_sql(stmt.sql("duckdb"))


def _duckdb_settings(be) -> None:
    """Per-connection DuckDB settings every query relies on."""
    be.raw_sql("SET preserve_insertion_order = false")
    # DuckDB 2.0 folds isnan(x) and x > 1 to false from Parquet min/max
    # statistics, which leave NaN out: NaN scores would go uncounted.
    be.raw_sql("SET disabled_optimizers = 'statistics_propagation'")


class Engine:
    """Connections and canonical log tables for one workspace."""

    def __init__(self, workspace: Workspace, snapshot: bool = False, snapshot_seconds: float = 300.0,
                 use_store: bool = True, cache: Path | None = None):
        """``snapshot``: on DuckDB, compute each model's joined log once into an
        in-memory table when its predictions hold at most ``[engine]
        materialize_rows`` rows (read from the Parquet footers), and let every query
        read that instead of re-reading and re-joining the files. All threads share
        it (one DuckDB database, a cursor per thread). The snapshot is rebuilt
        after ``snapshot_seconds``, so new log files show up. Larger logs, other
        backends and ``snapshot=False`` (the default) query the files directly.

        ``use_store``: read each model's joined log from the incremental store
        (:mod:`analytics.store`, under the cache root ``cache``, default
        :func:`analytics.cachedir.cache_root`) when it answers exactly; ``False`` (the
        CLI's ``--no-store``) always joins the raw logs.
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
        from .store.manifest import store_root
        from .store.serve import StoreReader

        #: the incremental store's folder, and its reader (None: not used)
        self.store_root = store_root(workspace, cache)
        self._stored = StoreReader(self.store_root) if use_store and workspace.store.enabled else None

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
        import sqlglot.expressions as sge

        if self.workspace.backend == "duckdb":
            with self._lock:
                if self._root is None:
                    self._root = self._open()
                    # READ_WRITE even when the user's database is opened read-only
                    attach = sge.Attach(this=sge.alias_(sge.Literal.string(":memory:"), SNAPSHOT_DB),
                                        expressions=[sge.AttachOption(this=sge.var("READ_WRITE"))])
                    try:
                        self._root.raw_sql(attach.sql("duckdb"))
                    except Exception as exc:  # noqa: BLE001
                        self._root = None
                        raise BackendError(f"Cannot prepare the DuckDB database for snapshots: {exc}.") from None
                    if self._store is not None:   # s3:// through s3fs, seen by every cursor
                        try:
                            self._store.register(self._root)
                        except LastmileError:
                            self._root = None
                            raise
                root = self._root
            be = type(root).from_connection(root.con.cursor())
            _duckdb_settings(be)
            return be
        return self._open()

    def _open(self):
        name = self.workspace.backend
        opts = dict(self.workspace.backend_options)
        try:
            module = getattr(ibis, name)
        except (AttributeError, ImportError) as exc:
            raise BackendError(
                f"Engine backend {name!r} is not available ({exc}); install it with "
                f"`pip install 'ibis-framework[{name}]'` or use backend = \"duckdb\"."
            ) from None
        if name == "pyspark" and "session" not in opts:
            from .spark_session import build_session  # the session from [engine.options]

            opts = {"session": build_session(opts), **({"mode": opts["mode"]} if "mode" in opts else {})}
        try:
            be = module.connect(**opts)
        except Exception as exc:  # noqa: BLE001
            raise BackendError(f"Cannot connect to engine backend {name!r}: {exc}.") from None
        if name == "duckdb":
            _duckdb_settings(be)
            _duckdb_memory(be, self.workspace.memory_limit, self.store_root / "tmp")
        return be

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
            except Exception as exc:  # noqa: BLE001
                raise self._explain(exc, spec, f"the {role}") from None
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
        """(files, generation) of the model's log in the store when it answers
        exactly (see :mod:`analytics.store.serve`); None: the raw logs are joined."""
        if self._stored is None or (self.workspace.backend != "duckdb" and not self.workspace.store.database):
            return None
        spec = self.spec(model)
        pred = self.source(spec, "predictions")
        out = self.source(spec, "outcomes") if spec.outcomes else None
        if not pred.files or "://" in pred.path or (out is not None and "://" in out.path):
            return None
        return self._stored.files(self.workspace, spec, pred.files, out.files if out is not None else ())

    def _read_store(self, spec: ModelSpec, files: tuple[str, ...]) -> ir.Table:
        from .store.serve import TABLE

        try:
            if files[0].startswith(TABLE):   # a table in [store] database (another backend)
                db, name = files[0][len(TABLE):].rsplit(".", 1)
                return self.backend.table(name, database=db)
            return self.backend.read_parquet(list(files), hive_partitioning=False)
        except Exception as exc:  # noqa: BLE001
            raise self._explain(exc, spec, "the store") from None

    def joined(self, model: str | ModelSpec) -> ir.Table:
        """The joined log as a query over files: the store's when it answers
        exactly, else the raw logs joined (what a snapshot is computed from)."""
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
        """Write ``expr`` as Parquet files in hive folders ``folder/<by>=<value>/``."""
        try:
            self.backend.to_parquet(expr, str(folder), partition_by=by)
        except LastmileError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._explain(exc, self.spec(model) if model is not None else None, "the logs") from None

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
                self._drop_table(name, SNAPSHOT_DB)
                self.backend.create_table(name, t, database=(SNAPSHOT_DB, "main"))
            except LastmileError:
                raise
            except Exception as exc:  # noqa: BLE001
                raise self._explain(exc, spec, "the logs") from None
            if gen >= 2:
                self._drop_table(f"{base}_{gen - 2}", SNAPSHOT_DB)
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
        """Run an expression; translate engine errors into one-sentence errors."""
        try:
            if isinstance(expr, ir.Table):
                return self.backend.to_pyarrow(expr)
            return self.backend.to_pyarrow(expr.as_table())
        except LastmileError:
            raise
        except Exception as exc:  # noqa: BLE001
            spec = self.spec(model) if model is not None else None
            raise self._explain(exc, spec, "the logs") from None

    def to_sql(self, expr: ir.Expr) -> str:
        """The SQL this backend runs for ``expr`` (for the audit view)."""
        return str(ibis.to_sql(expr, dialect=self.dialect))

    def _explain(self, exc: Exception, spec: ModelSpec | None, what: str) -> LastmileError:
        msg = str(exc).strip().split("\n")[0]
        files = re.findall(r"""["']([^"']+\.parquet)["']""", str(exc))
        owner = f" of model {spec.name!r}" if spec else ""
        if files:
            return CorruptFileError(f"File {files[0]!r}{owner} cannot be read: {msg}.")
        return DataError(f"Reading {what}{owner} failed: {msg}.")

    # -- facts about a model -------------------------------------------------

    def versions(self, model: str | ModelSpec) -> tuple[str, ...]:
        """The versions present in the log, sorted."""
        spec = self.spec(model)
        with self._lock:
            cached = self._versions.get(spec.name)
        if cached is None:
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
                    f"Model {spec.name!r} has no version {v!r}{_suggest(v, known)}; "
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
            table = self._create_temp(name, expr)
        except LastmileError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._explain(exc, self.spec(model) if model is not None else None, "the logs") from None
        try:
            yield table
        finally:
            self._drop_table(name)

    def _create_temp(self, name: str, expr: ir.Table) -> ir.Table:
        """``CREATE TEMP TABLE name AS <expr>`` in one statement, and its table expression
        built from ``expr``'s known schema. (ibis's ``create_table`` creates, inserts, and
        reads the schema back: three statements and ~50 ms of Python per table, a
        large share of a dashboard page on small logs.)"""
        import ibis.expr.operations as ops
        import sqlglot as sg
        import sqlglot.expressions as sge

        be = self.backend
        schema = expr.schema()
        query = be.compiler.to_sqlglot(expr)
        cols = [sge.to_identifier(c, quoted=True) for c in expr.columns]
        to_sql_type = be.compiler.type_mapper.from_ibis
        # each column cast to the type ibis expects, so the schema below is exact
        select = sg.select(*[sge.Cast(this=col, to=to_sql_type(typ)).as_(col)
                             for col, typ in zip(cols, schema.types)]).from_(query.subquery("_lm_q"))
        create = sge.Create(kind="TABLE", this=sg.table(name, quoted=True), expression=select,
                            properties=sge.Properties(expressions=[sge.TemporaryProperty()]))
        be.raw_sql(create.sql("duckdb"))
        return ops.DatabaseTable(name, schema=schema, source=be,
                                 namespace=ops.Namespace(catalog="temp", database="main")).to_expr()

    def _drop_table(self, name: str, catalog: str | None = None) -> None:
        """DROP TABLE IF EXISTS on this thread's DuckDB connection (a sqlglot statement:
        ibis 12's ``drop_table`` and ``overwrite=True`` emit an empty ``DROP TABLE IF
        EXISTS`` with sqlglot 30)."""
        import sqlglot as sg
        import sqlglot.expressions as sge

        table = sg.table(name, db="main" if catalog else None, catalog=catalog, quoted=True)
        self.backend.raw_sql(sge.Drop(kind="TABLE", tables=[table], exists=True).sql("duckdb"))

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


# ------------------------------------------------------------------ type checks


def _kind(t: dt.DataType) -> str:
    if is_null_type(t):
        return "null"
    if t.is_boolean():
        return "boolean"
    if t.is_integer():
        return "integer"
    if t.is_floating() or t.is_decimal():
        return "float"
    if t.is_string():
        return "string"
    if t.is_timestamp():
        return "timestamp"
    if t.is_date():
        return "date"
    return str(t)


#: role -> allowed kinds
_ROLE_KINDS = {
    "timestamp": ("timestamp", "date"),
    "label_timestamp": ("timestamp", "date"),
    "score": ("float", "integer"),
    "class_scores": ("float", "integer"),
    "latency_ms": ("float", "integer"),
    "regression": ("float", "integer"),
    "class": ("string", "integer", "boolean"),
    "feature": ("float", "integer", "string", "boolean"),
    # segments and features may hold no values at all (Parquet type null): a note, not an error
    "column": ("float", "integer", "string", "boolean", "null"),
    "value": ("float", "integer"),
}


def check_columns(spec: ModelSpec, pred_schema, out_schema, pred_where: str, out_where: str | None) -> list[str]:
    """Every declared column exists in the right file and has a type fit for its role."""
    problems: list[str] = []
    c = spec.columns

    def find(col: str):
        if col in pred_schema:
            return pred_schema[col], pred_where
        if out_schema is not None and col in out_schema:
            return out_schema[col], out_where
        return None, None

    def need(col: str | None, role: str, kinds_key: str, where_hint: str | None = None):
        if not col:
            return
        typ, where = find(col)
        if typ is None:
            if where_hint == "outcomes" and out_schema is not None:
                avail = list(out_schema.names)
                file_desc = out_where
            else:
                avail = list(pred_schema.names) + (list(out_schema.names) if out_schema is not None else [])
                file_desc = pred_where if out_schema is None else f"{pred_where} or {out_where}"
            problems.append(f"Model {spec.name!r}: column {col!r} ({role}) is not in {file_desc}{_suggest(col, avail)}.")
            return
        kinds = _ROLE_KINDS[kinds_key]
        if _kind(typ) not in kinds:
            problems.append(
                f"Model {spec.name!r}: column {col!r} ({role}) in {where} has type {typ}, "
                f"expected {' or '.join(kinds)}."
            )

    need(c.timestamp, "timestamp", "timestamp")
    if c.id:
        if c.id not in pred_schema:
            problems.append(f"Model {spec.name!r}: id column {c.id!r} is not in {pred_where}{_suggest(c.id, pred_schema.names)}.")
        if out_schema is not None and c.id not in out_schema:
            problems.append(f"Model {spec.name!r}: id column {c.id!r} is not in {out_where}{_suggest(c.id, out_schema.names)}.")
        if out_schema is not None and c.id in pred_schema and c.id in out_schema:
            a, b = _kind(pred_schema[c.id]), _kind(out_schema[c.id])
            if a != b:
                problems.append(f"Model {spec.name!r}: id column {c.id!r} is {a} in the predictions but {b} in the outcomes.")
    if c.version:
        need(c.version, "version", "feature")
    need(c.score, "score", "score")
    for cls, col in c.class_scores:
        need(col, f"score of class {cls!r}", "class_scores")
    if spec.task == "regression":
        need(c.prediction, "prediction", "regression")
        need(c.label, "label", "regression", "outcomes" if out_schema is not None else None)
    else:
        need(c.prediction, "prediction", "class")
        need(c.label, "label", "class", "outcomes" if out_schema is not None else None)
    need(c.label_timestamp, "label_timestamp", "label_timestamp", "outcomes" if out_schema is not None else None)
    need(c.latency_ms, "latency_ms", "latency_ms")
    for s in c.segments:
        typ, _ = find(s)
        if typ is None:
            need(s, "segment", "column")
    for f in c.features:
        need(f, "feature", "column")
    if spec.business:
        for col in spec.business.value_columns():
            need(col, "business value", "value")
    return problems


# ------------------------------------------------------------------ the joined log


def _label_literal(typ: dt.DataType, value: Any):
    """The positive/negative label as a literal comparable with a label column of ``typ``."""
    if typ.is_string():
        if isinstance(value, bool):
            return ibis.literal("true" if value else "false")
        return ibis.literal(str(value))
    if typ.is_boolean():
        return ibis.literal(bool(value) if not isinstance(value, str) else value.lower() in ("1", "true", "yes"))
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            return None
    return ibis.literal(int(value))


def binary_label_expr(spec: ModelSpec, label: ir.Column) -> ir.IntegerValue:
    """0/1 for a binary label; NULL when missing or outside the classes."""
    c = spec.columns
    typ = label.type()
    pos = _label_literal(typ, c.positive_label)
    if pos is None:
        return ibis.null().cast("int64")
    if c.negative_label is not None:
        neg = _label_literal(typ, c.negative_label)
        return (ibis.cases((label == pos, 1), (label == neg, 0), else_=ibis.null())).cast("int64")
    if typ.is_integer() or typ.is_floating():
        p = int(c.positive_label) if not isinstance(c.positive_label, str) else int(c.positive_label)
        if p in (0, 1):
            return ibis.cases((label == p, 1), (label == 1 - p, 0), else_=ibis.null()).cast("int64")
        return ibis.cases((label == p, 1), (label.notnull(), 0), else_=ibis.null()).cast("int64")
    # booleans, and strings without a declared negative label: anything else is negative
    return ibis.cases((label == pos, 1), (label.notnull(), 0), else_=ibis.null()).cast("int64")


def _valid_probability(col: ir.NumericColumn) -> ir.FloatingValue:
    x = col.cast("float64")
    return ibis.ifelse(x.isnan().fill_null(True) | (x < 0) | (x > 1), ibis.null().cast("float64"), x)


def outcome_columns(spec: ModelSpec, pred_columns, out_columns) -> list[str]:
    """Columns taken from the outcomes: the label (and its timestamp), plus declared
    segment, feature and business columns that the predictions lack."""
    c = spec.columns
    keep = [c.label] + [x for x in (c.label_timestamp,) if x]
    extra = list(c.segments) + list(c.features)
    if spec.business:
        extra += list(spec.business.value_columns())
    keep += [x for x in extra if x not in pred_columns and x in out_columns]
    return list(dict.fromkeys(keep))


def latest_outcomes(out: ir.Table, id_col: str, keep: list[str], label: str,
                    label_ts: str | None) -> ir.Table:
    """One row per outcome id: ``_lm_oid`` and ``_lm_o<i>`` (the columns ``keep``) of its latest row.

    Most ids have one outcome row; those pass through (flagged by a join with
    the few ids that repeat). Only repeated ids are reduced, by one aggregate per id
    (``argmax`` over the whole row as one struct: ``max_by`` skips NULL
    values, which would otherwise mix fields of different outcome rows; Ibis
    compiles it to an ordered ``FIRST``). The key orders by label_timestamp (a
    missing one loses), then by label value. At 10M outcomes this costs about
    half of aggregating every id.
    """
    names = {f"_lm_o{i}": k for i, k in enumerate(keep)}
    repeated = out.group_by(_lm_rid=out[id_col]).aggregate(_lm_n=out.count())
    repeated = repeated.filter(repeated._lm_n > 1).select("_lm_rid")
    # One left join flags the rows of repeated ids; the flagged table is used
    # twice, so it is computed once (a CTE).
    flagged = out.left_join(repeated, out[id_col] == repeated._lm_rid)
    flagged = flagged.mutate(_lm_rep=flagged._lm_rid.notnull())
    once = flagged.filter(~flagged._lm_rep)
    once = once.select(_lm_oid=once[id_col], **{n: once[k] for n, k in names.items()})
    many = flagged.filter(flagged._lm_rep)
    if label_ts:
        lts = many[label_ts]
        key = ibis.struct({"known": lts.notnull(), "t": lts, "y": many[label]})
    else:
        key = many[label]
    row = ibis.struct({n: many[k] for n, k in names.items()})
    agg = many.group_by(_lm_oid=many[id_col]).aggregate(_lm_row=row.argmax(key))
    agg = agg.select(agg._lm_oid, **{n: agg._lm_row[n] for n in names})
    return once.union(agg, distinct=False)


def joined_raw(spec: ModelSpec, pred: ir.Table, out: ir.Table | None, ts_range: tuple | None = None,
               rank_repeats: bool = True) -> ir.Table:
    """Predictions left-joined to each id's latest outcome, user column names kept,
    plus :data:`DUPLICATE` when there are outcomes.

    Latest outcome means the greatest ``label_timestamp``; ties (or no label_timestamp)
    go to the greatest label value, so the result is deterministic. An id repeated
    within one version labels only its latest prediction (:func:`latest_predictions`).
    """
    if out is None:
        return pred
    c = spec.columns
    keep = outcome_columns(spec, pred.columns, out.columns)
    latest = latest_outcomes(out, c.id, keep, c.label, c.label_timestamp)
    p = latest_predictions(spec, pred, ts_range) if rank_repeats else pred.mutate(_lm_jid=pred[c.id])
    j = p.left_join(latest, p._lm_jid == latest._lm_oid)
    sel = {k: j[k] for k in pred.columns if k not in keep}
    sel.update({k: j[f"_lm_o{i}"] for i, k in enumerate(keep)})
    sel[DUPLICATE] = j._lm_jid.isnull() & j[c.id].notnull()
    return j.select(**sel)


def build_log(spec: ModelSpec, pred: ir.Table, out: ir.Table | None, *,
              ts_range: tuple | None = None, labels: bool = True, rank_repeats: bool = True) -> ir.Table:
    """The canonical joined log (see module docstring for the semantics).

    ``ts_range``: the plausible timestamps ``[low, high)`` (default: the workspace
    defaults, see :func:`analytics.workspace.timestamp_range`); rows outside are left
    out. ``labels=False``: the outcomes give their columns' types only (every row
    unlabeled, no join): for queries that never read a label. ``rank_repeats=False``
    skips :func:`latest_predictions` (correct only when no id repeats in a version)."""
    if ts_range is None:
        ts_range = timestamp_range()
    c = spec.columns
    problems = check_columns(spec, pred.schema(), out.schema() if out is not None else None,
                             f"the predictions of model {spec.name!r}",
                             f"the outcomes of model {spec.name!r}" if out is not None else None)
    if problems:
        more = f" (and {len(problems) - 1} more; run `lastmile validate`)" if len(problems) > 1 else ""
        raise ColumnError(problems[0].rstrip(".") + more + ".")
    if labels:
        t = joined_raw(spec, pred, out, ts_range, rank_repeats=rank_repeats)
    else:  # no outcome rows: nothing to rank repeated ids for
        t = joined_raw(spec, pred, out.limit(0) if out is not None else None, ts_range, rank_repeats=False)

    cols: dict[str, Any] = {}
    if c.id:
        cols[C.ID] = t[c.id]
    cols[C.TS] = _as_timestamp(t[c.timestamp])
    cols[C.VERSION] = t[c.version].cast("string") if c.version else ibis.literal(DEFAULT_VERSION)

    label = t[c.label]
    if spec.task == "binary":
        y = binary_label_expr(spec, label)
        cols[C.LABEL] = y
        if c.score:
            score = _valid_probability(t[c.score])
            cols[C.SCORE] = score
        if c.prediction:
            cols[C.PRED] = binary_label_expr(spec, t[c.prediction])
        else:
            # no valid score, no decision: NULL, not 0
            cols[C.PRED] = ibis.cases((cols[C.SCORE] >= spec.threshold, 1),
                                      (cols[C.SCORE] < spec.threshold, 0),
                                      else_=ibis.null()).cast("int64")
    elif spec.task == "multiclass":
        classes = c.classes
        lab = label.cast("string")
        if classes:
            cols[C.LABEL] = ibis.ifelse(lab.isin(classes), lab, ibis.null().cast("string"))
        else:
            cols[C.LABEL] = lab
        probs = []
        for i, (_, col) in enumerate(c.class_scores):
            p = _valid_probability(t[col])
            cols[C.proba(i)] = p
            probs.append(p)
        if c.prediction:
            cols[C.PRED] = t[c.prediction].cast("string")
        else:
            best = ibis.greatest(*probs)
            # first class (in class_scores order) with the highest probability
            branches = [(probs[i] == best, ibis.literal(classes[i])) for i in range(len(classes))]
            cols[C.PRED] = ibis.cases(*branches, else_=ibis.null().cast("string"))
    else:  # regression
        yv = label.cast("float64")
        cols[C.LABEL] = ibis.ifelse(yv.isnan().fill_null(True), ibis.null().cast("float64"), yv)
        pv = t[c.prediction].cast("float64")
        cols[C.PRED] = ibis.ifelse(pv.isnan().fill_null(True), ibis.null().cast("float64"), pv)

    if c.label_timestamp:
        cols[C.LABEL_TS] = _as_timestamp(t[c.label_timestamp])
    if c.latency_ms:
        lat = t[c.latency_ms].cast("float64")
        cols[C.LATENCY] = ibis.ifelse(lat.isnan().fill_null(True) | (lat < 0), ibis.null().cast("float64"), lat)
    for name in list(c.segments) + list(c.features):
        if name not in cols:
            # a column without values (Parquet type null) gets a type every engine knows
            cols[name] = t[name].cast("string" if name in c.segments else "float64") \
                if is_null_type(t[name].type()) else t[name]
    if spec.business:
        for name in spec.business.value_columns():
            if name not in cols:
                cols[name] = t[name].cast("float64")
    out_t = t.select(**cols)
    out_t = out_t.mutate(**{C.LABELED: out_t[C.LABEL].notnull()})
    return out_t.filter(plausible_ts(out_t[C.TS], ts_range))

