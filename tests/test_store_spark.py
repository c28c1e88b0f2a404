"""The store on another backend: a local Spark session keeps each model's joined log as a
table in ``[store] database``, and answers equal DuckDB's raw answers."""

from __future__ import annotations

import pytest

pyspark = pytest.importorskip("pyspark", reason="the test extra installs pyspark")

from analytics.log.engine import Engine  # noqa: E402
from analytics.metrics.compute import compute_metrics  # noqa: E402
from analytics.query.selection import Grouping, Selection  # noqa: E402
from analytics.store import open_engine, refresh  # noqa: E402
from analytics.config.workspace import load_workspace  # noqa: E402

from .factories import make_workspace  # noqa: E402
from .sparkconf import MASTER, SPARK_MARKS  # noqa: E402

pytestmark = SPARK_MARKS
TOL = 1e-9


def test_store_tables_in_the_spark_database_answer_as_duckdb(tmp_path, spark):
    g = make_workspace(tmp_path, "binary", n=600, seed=2, duplicate_outcomes=10)
    duck = load_workspace(g.config)
    text = g.config.read_text()
    g.config.write_text(f'[engine]\nbackend = "pyspark"\n[engine.options]\nmaster = "{MASTER}"\n'
                        '[store]\ndatabase = "default"\n' + text)
    ws = load_workspace(g.config)
    res = refresh(ws)
    assert [m.action for m in res.models] in (["built"], ["rebuilt"]), res.models  # new, or a stale store replaced
    eng = open_engine(ws)
    stored = eng.stored("binary_model")
    assert stored is not None and stored[0][0].startswith("table:default.lm_store_")
    name = stored[0][0].rsplit(".", 1)[1]
    assert name in eng.backend.list_tables(database="default")
    sel, by = Selection(model="binary_model"), Grouping(by=("version",))
    a = compute_metrics(eng, sel, by).to_dict()
    b = compute_metrics(Engine(duck), sel, by).to_dict()
    assert len(a["rows"]) == len(b["rows"]) == 2
    for ra, rb in zip(sorted(a["rows"], key=str), sorted(b["rows"], key=str)):
        for k, va in ra["metrics"].items():
            vb = rb["metrics"][k]
            if isinstance(va, dict) and isinstance(va.get("value"), float):
                assert abs(va["value"] - vb["value"]) <= TOL * max(1, abs(vb["value"])), k
    # unchanged logs: nothing redone; a second refresh after a change drops the old table
    assert [m.action for m in refresh(ws).models] == ["unchanged"]
