"""The same queries on a second engine: a local Spark session through Ibis's pyspark backend.

Compiling for another dialect (see test_engine) catches DuckDB-only SQL; running on
Spark catches semantic differences (time zones, week starts, null handling).
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest

pyspark = pytest.importorskip("pyspark", reason="the test extra installs pyspark")

from analytics.engine import C, Engine  # noqa: E402
from analytics.selection import Grouping, Selection  # noqa: E402
from analytics.workspace import load_workspace  # noqa: E402

from .factories import make_workspace  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession
    session = (SparkSession.builder.master("local[2]").appName("lastmile-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.default.parallelism", "2")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def engines(tmp_path_factory, spark):
    folder = tmp_path_factory.mktemp("spark")
    g = make_workspace(folder, "binary", n=800, duplicate_outcomes=10, files=2)
    ws = load_workspace(g.config)
    on_spark = dataclasses.replace(ws, backend="pyspark", backend_options=MappingProxyType({"session": spark}))
    return ws, Engine(ws), Engine(on_spark)


def rows(engine, expr, order):
    return engine.execute(expr.order_by(order)).to_pylist()


def test_the_joined_log_is_the_same_on_spark(engines):
    ws, duck, spark = engines
    for e in (duck, spark):
        assert e.versions("binary_model") == ("v1", "v2")
    q = lambda e: e.log("binary_model").select(C.ID, C.TS, C.LABEL, C.SCORE, C.PRED)  # noqa: E731
    assert rows(duck, q(duck), C.ID) == rows(spark, q(spark), C.ID)


def test_grouped_selection_is_the_same_on_spark(engines):
    ws, duck, spark = engines
    spec = ws.model("binary_model")
    sel = Selection.build("binary_model", start="2026-03-09", end="2026-04-20",
                          where={"region": ["EU", "it's; \"odd\""]})

    def grouped(e):
        t = sel.apply(e)
        keys = Grouping(by=("version", "period", "region"), period="week").keys(t, spec)
        return rows(e, t.group_by(**keys).aggregate(n=t.count(), pos=t[C.LABEL].sum(),
                                                    s=t[C.SCORE].sum()), list(keys))

    a, b = grouped(duck), grouped(spark)
    assert len(a) > 10
    assert [(r["version"], r["period"], r["region"], r["n"], r["pos"]) for r in a] == \
        [(r["version"], r["period"], r["region"], r["n"], r["pos"]) for r in b]
    assert all(abs(x["s"] - y["s"]) < 1e-9 for x, y in zip(a, b))


def test_row_defect_counts_are_the_same_on_spark(engines):
    _, duck, spark = engines
    assert duck.data_warnings("binary_model") == spark.data_warnings("binary_model")
