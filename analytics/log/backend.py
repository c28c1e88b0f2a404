"""The Ibis backend: opening connections, a cursor per thread, temporary tables, and
which exceptions of an engine mean bad data.

DuckDB connections are not for concurrent use: each thread gets its own cursor (a
connection of its own) on one database (:func:`cursor`), so threads share the
in-memory snapshots of small logs but never a connection.

Errors: an exception raised by the engine libraries while reading or querying the
logs (DuckDB, Arrow, Ibis, Spark, the filesystem) is a problem with the data and
becomes one sentence (:func:`explain`, exit 2); anything else raised inside a query
is a bug (:func:`is_data_error` says which).
"""

from __future__ import annotations

import re
from pathlib import Path

import ibis

from analytics.config.workspace import ModelSpec, Workspace
from analytics.errors import BackendError, CorruptFileError, DataError, InternalError, LastmileError

# Ibis's optional pass that merges nested SELECTs costs 40% of compiling a query
# (which, on small logs, is most of a query's time) and gains nothing: every
# engine's optimizer flattens the subqueries itself. Same answers (the whole
# suite runs with it off); bench/README.md has the figures.
ibis.options.sql.fuse_selects = False

#: The in-memory DuckDB catalog that holds the snapshots (shared by every thread's cursor).
SNAPSHOT_DB = "lm_snapshots"

#: Top-level packages whose exceptions, raised while a query runs, mean the data (a
#: file, a column, a type) is at fault rather than Lastmile's code.
ENGINE_PACKAGES = frozenset({"duckdb", "_duckdb", "pyarrow", "ibis", "pyspark", "py4j",
                             "s3fs", "fsspec", "botocore", "aiobotocore"})


def duckdb_settings(be) -> None:
    """Per-connection DuckDB settings every query relies on."""
    be.raw_sql("SET preserve_insertion_order = false")
    # DuckDB 2.0 folds isnan(x) and x > 1 to false from Parquet min/max
    # statistics, which leave NaN out: NaN scores would go uncounted.
    be.raw_sql("SET disabled_optimizers = 'statistics_propagation'")


def open_backend(workspace: Workspace):
    """A new connection to the workspace's backend (``[engine] backend``, its options)."""
    name = workspace.backend
    opts = dict(workspace.backend_options)
    try:
        module = getattr(ibis, name)
    except (AttributeError, ImportError) as exc:
        raise BackendError(
            f"Engine backend {name!r} is not available ({exc}); install it with "
            f"`pip install 'ibis-framework[{name}]'` or use backend = \"duckdb\"."
        ) from None
    if name == "pyspark" and "session" not in opts:
        # lazy: pyspark is an optional extra, imported only for a Spark workspace
        from analytics.log.spark import build_session  # the session from [engine.options]

        opts = {"session": build_session(opts), **({"mode": opts["mode"]} if "mode" in opts else {})}
    try:
        be = module.connect(**opts)
    except Exception as exc:  # noqa: BLE001 - whatever the driver raises: it cannot connect
        raise BackendError(f"Cannot connect to engine backend {name!r}: {exc}.") from None
    if name == "duckdb":
        duckdb_settings(be)
    return be


def duckdb_memory(be, limit: int, tmp) -> None:
    """The database's memory limit (``[engine] memory_limit``), and where it spills past
    it: ``tmp``, in the workspace's state folder, never beside the logs."""
    import sqlglot.expressions as sge

    Path(tmp).mkdir(parents=True, exist_ok=True)
    for key, value in (("memory_limit", f"{max(limit // 2**20, 16)}MiB"), ("temp_directory", str(tmp))):
        item = sge.SetItem(this=sge.EQ(this=sge.var(key), expression=sge.Literal.string(value)))
        be.raw_sql(sge.Set(expressions=[item]).sql("duckdb"))


def open_duckdb_root(workspace: Workspace, store, tmp=None):
    """The one DuckDB database of an engine, with the snapshot catalog attached and
    ``store`` (s3:// through s3fs, or None) registered for every cursor; with ``tmp``,
    the memory limit and the spill folder set (:func:`duckdb_memory`)."""
    import sqlglot.expressions as sge

    root = open_backend(workspace)
    if tmp is not None:
        duckdb_memory(root, workspace.memory_limit, tmp)
    # READ_WRITE even when the user's database is opened read-only
    attach = sge.Attach(this=sge.alias_(sge.Literal.string(":memory:"), SNAPSHOT_DB),
                        expressions=[sge.AttachOption(this=sge.var("READ_WRITE"))])
    try:
        root.raw_sql(attach.sql("duckdb"))
    except Exception as exc:  # noqa: BLE001 - DuckDB refuses the catalog: the backend is unusable
        raise BackendError(f"Cannot prepare the DuckDB database for snapshots: {exc}.") from None
    if store is not None:
        store.register(root)
    return root


def cursor(root):
    """A new cursor (a connection of its own) on DuckDB database ``root``."""
    be = type(root).from_connection(root.con.cursor())
    duckdb_settings(be)
    return be


def create_temp(be, name: str, expr):
    """``CREATE TEMP TABLE name AS <expr>`` in one statement, and its table expression
    built from ``expr``'s known schema. (ibis's ``create_table`` creates, inserts, and
    reads the schema back: three statements and ~50 ms of Python per table, a
    large share of a dashboard page on small logs.)"""
    import ibis.expr.operations as ops
    import sqlglot as sg
    import sqlglot.expressions as sge

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


def drop_table(be, name: str, catalog: str | None = None) -> None:
    """DROP TABLE IF EXISTS on a DuckDB connection (a sqlglot statement: ibis 12's
    ``drop_table`` and ``overwrite=True`` emit an empty ``DROP TABLE IF EXISTS`` with
    sqlglot 30)."""
    import sqlglot as sg
    import sqlglot.expressions as sge

    table = sg.table(name, db="main" if catalog else None, catalog=catalog, quoted=True)
    be.raw_sql(sge.Drop(kind="TABLE", tables=[table], exists=True).sql("duckdb"))


def is_data_error(exc: BaseException) -> bool:
    """Whether ``exc``, raised while reading or querying the logs, is the data's fault:
    an exception of an engine library (a corrupt file, a missing column, a type DuckDB
    cannot convert), one an engine library raised itself (a ``TypeError`` from Arrow
    or Ibis converting a column it cannot read), or the filesystem's. Python's own
    exceptions raised by Lastmile's code (TypeError, KeyError, AttributeError...) are bugs."""
    if isinstance(exc, (LastmileError, OSError)):
        return True
    if any(cls.__module__.split(".")[0] in ENGINE_PACKAGES for cls in type(exc).__mro__):
        return True
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = tb.tb_frame.f_globals.get("__name__", "") if tb is not None else ""
    return where.split(".")[0] in ENGINE_PACKAGES


def explain(exc: Exception, spec: ModelSpec | None, what: str) -> LastmileError:
    """The one sentence for an engine's data error (naming the file when it says one)."""
    msg = str(exc).strip().split("\n")[0]
    files = re.findall(r"""["']([^"']+\.parquet)["']""", str(exc))
    owner = f" of model {spec.name!r}" if spec else ""
    if files:
        return CorruptFileError(f"File {files[0]!r}{owner} cannot be read: {msg}.")
    return DataError(f"Reading {what}{owner} failed: {msg}.")


def failure(exc: Exception, spec: ModelSpec | None, what: str) -> Exception:
    """What to raise (``from exc``) when reading or querying ``what`` failed with ``exc``:
    the one sentence of :func:`explain` for bad data, an :class:`InternalError` naming
    the query for a bug."""
    if is_data_error(exc):
        return explain(exc, spec, what)
    owner = f" of model {spec.name!r}" if spec else ""
    msg = str(exc).strip().split("\n")[0]
    return InternalError(f"querying {what}{owner} failed: {type(exc).__name__}: {msg}")
