"""Answers are shared by every session through the cache keyed by the query spec, yet each
session sees the answer to its own filters; "Re-read the logs" drops them; the worker
processes give the same answers as the server's own engine and re-read on a new generation."""

from __future__ import annotations

import sys
import types
from concurrent import futures

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics.config.workspace import load_workspace
from analytics.errors import UnknownModelError
from analytics.log.engine import Engine
from analytics.metrics.compute import compute_metrics
from analytics.query.selection import Grouping, Selection
from ..factories import make_workspace
from .conftest import MAIN, metric_values, open_page
from app import pool, resources


MODEL = "binary_model"


@pytest.fixture
def counted(monkeypatch):
    """Every question the app computes (not served from the cache): (task, arguments)."""
    calls: list[tuple[str, tuple]] = []
    for name, fn in list(pool.TASKS.items()):
        monkeypatch.setitem(pool.TASKS, name, lambda eng, *a, _fn=fn, _n=name: calls.append((_n, a)) or _fn(eng, *a))
    return calls


def session(**params) -> AppTest:
    """A new browser session on the operations page with ``params`` in its URL."""
    return open_page(AppTest.from_file(MAIN, default_timeout=60), "operations", model=MODEL, **params)


def test_sessions_with_other_filters_get_their_own_answers_from_the_shared_cache(app_ws, monkeypatch, counted):
    monkeypatch.setenv("LASTMILE_CONFIG", str(app_ws))
    alone = {}
    for v in ("v1", "v2"):            # each filter's answer on its own, nothing cached
        st.cache_data.clear()
        alone[v] = metric_values(session(version=v))
    assert alone["v1"]["Predictions"] != alone["v2"]["Predictions"]

    st.cache_data.clear()
    a, b = session(version="v1"), session(version="v2")        # two users at once, one cache
    assert metric_values(a) == alone["v1"] and metric_values(b) == alone["v2"]
    computed = len(counted)
    a2 = session(version="v1")                                  # a third user asks what the first asked
    assert metric_values(a2) == alone["v1"]
    assert len(counted) == computed                             # served from the cache: nothing computed
    b.run()
    a.run()                                                     # and the first two still see their own
    assert metric_values(b) == alone["v2"] and metric_values(a) == alone["v1"]
    # every computed answer was keyed by its session's spec
    versions = {sel.versions for _, args in counted for sel in args if isinstance(sel, Selection) and sel.versions}
    assert versions == {("v1",), ("v2",)}


def test_re_reading_the_logs_shows_new_log_files_to_every_session(tmp_path, monkeypatch, counted):
    g = make_workspace(tmp_path, "binary", n=1500, seed=11)
    monkeypatch.setenv("LASTMILE_CONFIG", str(g.config))
    a, b = session(), session(version="v2")
    before_a, before_b = metric_values(a)["Predictions"], metric_values(b)["Predictions"]

    extra = pq.read_table(tmp_path / "pred" / "part-0.parquet").slice(0, 300)     # a new log file arrives
    extra = extra.set_column(extra.schema.get_field_index("pid"), "pid", pc.binary_join_element_wise("x", extra["pid"], ""))
    pq.write_table(extra, tmp_path / "pred" / "part-9.parquet")
    a.run()
    assert metric_values(a)["Predictions"] == before_a          # results are kept until re-read

    computed = len(counted)
    a.button(key="lm_refresh").click().run()                    # one user re-reads the logs ...
    assert not a.exception and not a.error
    assert len(counted) > computed
    b.run()                                                     # ... and every session sees the new file
    n_v2 = sum(1 for v in extra["ver"].to_pylist() if v == "v2")
    assert metric_values(a)["Predictions"] != before_a
    assert int(metric_values(a)["Predictions"].replace(",", "")) == int(before_a.replace(",", "")) + 300
    assert int(metric_values(b)["Predictions"].replace(",", "")) == int(before_b.replace(",", "")) + n_v2


def test_the_answers_no_filter_changes_are_computed_once_ahead_for_every_session(app_ws, monkeypatch, counted):
    monkeypatch.setenv("LASTMILE_CONFIG", str(app_ws))
    monkeypatch.setenv("LASTMILE_PRECOMPUTE", "1")
    started: list = []
    monkeypatch.setattr(resources, "prefetch", lambda *a, _p=resources.prefetch, **k: started.extend(_p(*a, **k)) or [])
    st.cache_data.clear()
    resources._home.clear()
    open_page(AppTest.from_file(MAIN, default_timeout=60), "report", model=MODEL)   # the server's first page
    futures.wait(started, timeout=240)                                  # ... started them in the background
    ahead = sorted(task for task, _ in counted)
    assert {"facts", "data_warnings", "model_health", "value_inputs", "default_windows"} <= set(ahead)
    # a user with filters opens the portfolio, then a model page: nothing filter-free is computed again
    open_page(AppTest.from_file(MAIN, default_timeout=60), "portfolio", model=MODEL, version="v2")
    assert sorted(task for task, _ in counted) == ahead
    at = open_page(AppTest.from_file(MAIN, default_timeout=60), "operations", model=MODEL, version="v2")
    assert not at.error
    assert sorted(task for task, _ in counted if task in {"facts", "data_warnings", "model_health"}) == \
        sorted(task for task in ahead if task in {"facts", "data_warnings", "model_health"})
    resources._home.clear()


def test_worker_processes_answer_as_the_server_does_and_re_read_on_a_new_generation(tmp_path, monkeypatch):
    # as in the server (and after any AppTest), __main__ is Streamlit's page script: here one
    # already deleted. A worker that re-ran its parent's main died (BrokenProcessPool).
    page = types.ModuleType("__main__")
    page.__file__ = str(tmp_path / "deleted_page_script.py")
    monkeypatch.setitem(sys.modules, "__main__", page)
    g = make_workspace(tmp_path, "binary", n=1500, seed=12)
    key = (str(g.config), 0.0, 0)
    sel, weekly = Selection.build(MODEL, versions=("v1",)), Grouping(by=("period",), period="week")
    workers = pool.Pool(1, 600.0)
    try:
        got = workers.answer("metrics", key, sel, weekly, ("accuracy", "volume"), False)
        want = compute_metrics(Engine(load_workspace(g.config)), sel, weekly, ["accuracy", "volume"], False)
        assert got.to_polars().equals(want.to_polars())
        with pytest.raises(UnknownModelError, match="nope"):     # a user's mistake keeps its sentence
            workers.answer("facts", key, "nope")

        total = Selection.build(MODEL)
        n0 = workers.answer("metrics", key, total, Grouping(), ("volume",), False).rows[0].n
        extra = pq.read_table(tmp_path / "pred" / "part-0.parquet").slice(0, 200)
        extra = extra.set_column(extra.schema.get_field_index("pid"), "pid",
                                 pc.binary_join_element_wise("x", extra["pid"], ""))
        pq.write_table(extra, tmp_path / "pred" / "part-9.parquet")
        same = workers.answer("metrics", key, total, Grouping(), ("volume",), False).rows[0].n
        assert same == n0                                        # the worker's snapshot, until ...
        newer = workers.answer("metrics", key[:2] + (1,), total, Grouping(), ("volume",), False).rows[0].n
        assert newer == n0 + 200                                 # ... the next generation re-reads
    finally:
        workers.close()
