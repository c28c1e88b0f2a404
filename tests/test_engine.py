"""The engine: sources, type checks, join semantics, row-level defects, portability."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics.config.workspace import load_workspace
from analytics.errors import ColumnError, CorruptFileError, MissingFileError, UnknownVersionError
from analytics.log.columns import C, DEFAULT_VERSION
from analytics.log.engine import Engine
from analytics.query.selection import Grouping, Selection
from .factories import make_workspace, write_toml


T0 = dt.datetime(2026, 1, 5, 9, 0)


def tiny(tmp_path, pred: dict, out: dict | None, columns: dict, task="binary", **model):
    (tmp_path / "p").mkdir()
    pq.write_table(pa.table(pred), tmp_path / "p" / "a.parquet")
    m = {"name": "m", "task": task, "predictions": "p", "columns": columns, **model}
    if out is not None:
        (tmp_path / "o").mkdir()
        pq.write_table(pa.table(out), tmp_path / "o" / "a.parquet")
        m["outcomes"] = "o/*.parquet"
    ws = load_workspace(write_toml(tmp_path / "lastmile.toml", [m]))
    return ws, Engine(ws)


COLS = {"id": "id", "timestamp": "ts", "score": "s", "label": "y", "label_timestamp": "lts"}


def rows(engine, model="m", cols=(C.ID, C.LABEL, C.SCORE, C.PRED)):
    t = engine.log(model)
    return {r[C.ID]: r for r in engine.execute(t.select(*cols)).to_pylist()}


def test_join_latest_outcome_wins_missing_stays_unlabeled(tmp_path):
    ts = [T0, T0, T0, T0]
    pred = {"id": ["a", "b", "c", "d"], "ts": ts, "s": [0.9, 0.2, 0.5, 0.7]}
    out = {"id": ["a", "a", "b", "zz"],           # a twice (corrected later), c/d missing, zz orphan
           "y": [0, 1, 0, 1],
           "lts": [T0 + dt.timedelta(days=1), T0 + dt.timedelta(days=9), T0 + dt.timedelta(days=2), T0]}
    ws, e = tiny(tmp_path, pred, out, COLS)
    r = rows(e)
    assert set(r) == {"a", "b", "c", "d"}            # left join: every prediction, no orphan
    assert r["a"][C.LABEL] == 1                       # the later outcome wins
    assert r["b"][C.LABEL] == 0
    assert r["c"][C.LABEL] is None and r["d"][C.LABEL] is None
    # decision: score >= threshold (inclusive)
    assert [r[k][C.PRED] for k in "abcd"] == [1, 0, 1, 1]
    t = e.log("m")
    got = e.execute(t.aggregate(n=t.count(), lab=t[C.LABELED].sum())).to_pylist()[0]
    assert got == {"n": 4, "lab": 2}


def test_duplicates_without_label_timestamp_are_deterministic(tmp_path):
    pred = {"id": ["a"], "ts": [T0], "s": [0.4]}
    out = {"id": ["a", "a"], "y": [0, 1]}
    cols = {k: v for k, v in COLS.items() if k != "label_timestamp"}
    _, e = tiny(tmp_path, pred, out, cols)
    assert rows(e)["a"][C.LABEL] == 1


def test_labels_in_predictions_and_string_positive_label(tmp_path):
    pred = {"id": ["a", "b", "c"], "ts": [T0] * 3, "s": [0.9, 0.1, 0.6],
            "y": ["default", "repaid", None]}
    cols = {"id": "id", "timestamp": "ts", "score": "s", "label": "y", "positive_label": "default"}
    _, e = tiny(tmp_path, pred, None, cols)
    r = rows(e)
    assert (r["a"][C.LABEL], r["b"][C.LABEL], r["c"][C.LABEL]) == (1, 0, None)


def test_version_defaults_and_unknown_version(tmp_path):
    pred = {"id": ["a"], "ts": [T0], "s": [0.4], "y": [1]}
    _, e = tiny(tmp_path, pred, None, {"id": "id", "timestamp": "ts", "score": "s", "label": "y"})
    assert e.versions("m") == (DEFAULT_VERSION,)
    with pytest.raises(UnknownVersionError, match="has no version 'v9'.*versions are: default"):
        Selection.build("m", versions=["v9"]).apply(e)


def test_row_defects_are_counted_and_worked_around(tmp_path):
    pred = {"id": list("abcdef"), "ts": [T0, T0, None, T0, T0, T0],
            "s": [float("nan"), 1.5, 0.5, 0.2, 0.8, None], "lat": [1.0, -3.0, 2.0, 2.0, 2.0, 2.0]}
    out = {"id": list("abcdef"), "y": [1, 0, 1, 7, 0, 1], "lts": [T0] * 6}
    cols = dict(COLS, latency_ms="lat")
    _, e = tiny(tmp_path, pred, out, cols)
    warnings = {w.column: w.count for w in e.data_warnings("m")}
    assert warnings == {"ts": 1, "s": 3, "y": 1, "lat": 1}
    r = rows(e)
    assert "c" not in r                                   # no timestamp: left out
    assert r["a"][C.SCORE] is None and r["b"][C.SCORE] is None and r["f"][C.SCORE] is None
    assert r["d"][C.LABEL] is None                        # 7 is not a binary class
    by_col = {w.column: str(w) for w in e.data_warnings("m")}
    assert by_col["ts"] == "warning: model 'm': 1 rows have no timestamp ('ts') and are left out of every query."


def test_type_checks_name_file_and_column(tmp_path):
    pred = {"id": ["a"], "ts": ["2026-01-01"], "s": ["high"], "y": [1]}
    with pytest.raises(ColumnError) as info:
        _, e = tiny(tmp_path, pred, None, {"id": "id", "timestamp": "ts", "score": "s", "label": "y"})
        e.log("m")
    msg = str(info.value)
    assert "column 'ts' (timestamp)" in msg and "expected timestamp or date" in msg
    assert "1 more" in msg                                 # the score's type is the second problem


def test_missing_column_suggests(tmp_path):
    pred = {"id": ["a"], "ts": [T0], "score": [0.3], "y": [1]}
    _, e = tiny(tmp_path, pred, None, {"id": "id", "timestamp": "ts", "score": "scroe", "label": "y"})
    with pytest.raises(ColumnError, match=r"column 'scroe' \(score\) is not in the predictions of model 'm' \(did you mean 'score'\?\)"):
        e.log("m")


def test_missing_files_and_empty_globs(tmp_path):
    g = make_workspace(tmp_path, "binary", n=50)
    ws = load_workspace(g.config)
    e = Engine(ws)
    e.log(ws.models[0])
    for p in (tmp_path / "out").iterdir():
        p.unlink()
    with pytest.raises(MissingFileError, match=r"No Parquet files match '.*out/\*\.parquet' \(the outcomes of model 'binary_model'\)"):
        Engine(ws).log(ws.models[0])
    (tmp_path / "pred").rename(tmp_path / "gone")
    text = (tmp_path / "lastmile.toml").read_text().replace("pred/*.parquet", "pred/part-0.parquet")
    (tmp_path / "lastmile.toml").write_text(text)
    with pytest.raises(MissingFileError, match=r"File '.*pred/part-0.parquet' \(the predictions of model 'binary_model'\) does not exist"):
        Engine(load_workspace(g.config)).log("binary_model")


def test_one_corrupt_file_among_many_is_named(tmp_path):
    g = make_workspace(tmp_path, "binary", n=300, files=5)
    (tmp_path / "pred" / "part-3.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(CorruptFileError, match=r"part-3\.parquet.*is not a readable Parquet file"):
        Engine(load_workspace(g.config)).log("binary_model")


def test_log_files_are_only_read(tmp_path):
    g = make_workspace(tmp_path, "binary", n=200, files=2)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.parquet")}
    e = Engine(load_workspace(g.config))
    e.data_warnings("binary_model")
    e.execute(e.log("binary_model").count())
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.parquet")} == before


def test_hive_partition_columns_are_segments(tmp_path):
    for day in ("2026-01-05", "2026-01-06"):
        d = tmp_path / "p" / f"market={day[-1]}x"
        d.mkdir(parents=True)
        pq.write_table(pa.table({"id": [day + "a", day + "b"], "ts": [T0, T0], "s": [0.1, 0.9], "y": [0, 1]}),
                       d / "part-0.parquet")
    m = {"name": "m", "task": "binary", "predictions": "p",
         "columns": {"id": "id", "timestamp": "ts", "score": "s", "label": "y", "segments": ["market"]}}
    ws = load_workspace(write_toml(tmp_path / "lastmile.toml", [m]))
    e = Engine(ws)
    sel = Selection.build("m", where=["market=5x"])
    t = sel.apply(e)
    assert e.execute(t.count().as_table()).column(0)[0].as_py() == 2
    keys = Grouping(by=("market",)).keys(e.log("m"), ws.models[0])
    assert set(keys) == {"market"}


def test_a_connection_per_thread(tmp_path):
    g = make_workspace(tmp_path, "binary", n=400)
    e = Engine(load_workspace(g.config))
    results, backends = [], []

    def work():
        t = e.log("binary_model")
        backends.append(id(e.backend))
        results.append(e.execute(t.aggregate(n=t.count())).to_pylist()[0]["n"])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == [400] * 4
    assert len(set(backends)) == 4


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_the_log_compiles_for_a_second_dialect(tmp_path, task):
    g = make_workspace(tmp_path, task, n=60, duplicate_outcomes=3)
    ws = load_workspace(g.config)
    e = Engine(ws)
    sel = Selection.build(ws.models[0].name, start="2026-03-03", end="2026-04-01", versions=["v1"],
                          where={"region": ["it's; \"odd\""]})
    t = sel.apply(e)
    keys = Grouping(by=("version", "period", "region")).keys(t, ws.models[0])
    sql = ibis.to_sql(t.group_by(**keys).aggregate(n=t.count()), dialect="trino")
    assert "DATE_TRUNC('WEEK'" in sql
    # values are literals the compiler escapes, never raw text
    assert "'it''s; \"odd\"'" in sql


def test_backend_and_its_options_come_from_the_workspace(tmp_path):
    g = make_workspace(tmp_path, "binary", n=30)
    text = g.config.read_text()
    g.config.write_text('[engine]\nbackend = "duckdb"\n[engine.options]\nthreads = 1\n' + text)
    e = Engine(load_workspace(g.config))
    assert e.backend.raw_sql("SELECT current_setting('threads')").fetchall() == [(1,)]
    g.config.write_text('[engine]\nbackend = "nosuchengine"\n' + text)
    from analytics.errors import BackendError
    with pytest.raises(BackendError, match="backend 'nosuchengine' is not available"):
        Engine(load_workspace(g.config)).log("binary_model")


def test_no_valid_score_means_no_decision(tmp_path):
    pred = {"id": ["a", "b", "c", "d"], "ts": [T0] * 4, "s": [float("nan"), None, 0.5, 0.49], "y": [1, 0, 1, 0]}
    _, e = tiny(tmp_path, pred, None, {"id": "id", "timestamp": "ts", "score": "s", "label": "y"})
    r = rows(e)
    assert [r[k][C.PRED] for k in "abcd"] == [None, None, 1, 0]


def test_the_latest_outcome_row_is_taken_whole(tmp_path):
    """A NULL in the latest outcome row stays NULL: fields never mix across rows."""
    pred = {"id": ["a", "b"], "ts": [T0, T0], "s": [0.9, 0.2], "amount": [1.0, 2.0]}
    out = {"id": ["a", "a", "b", "b"], "y": [0, None, 1, 0],
           "loss": [-5.0, None, -7.0, -8.0],
           "lts": [T0 + dt.timedelta(days=1), T0 + dt.timedelta(days=2), None, T0]}
    business = {"tp": 1.0, "fp": 0.0, "fn": "loss", "tn": 0.0}
    _, e = tiny(tmp_path, pred, out, COLS, business=business)
    t = e.log("m")
    r = {x[C.ID]: x for x in e.execute(t.select(C.ID, C.LABEL, "loss")).to_pylist()}
    assert (r["a"][C.LABEL], r["a"]["loss"]) == (None, None)      # the later row, nulls and all
    assert (r["b"][C.LABEL], r["b"]["loss"]) == (0, -8.0)          # a missing label_timestamp loses


def test_temporary_tables_live_for_the_block_only(tmp_path):
    g = make_workspace(tmp_path, "binary", n=100)
    e = Engine(load_workspace(g.config))

    def tables():
        return [r[0] for r in e.backend.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]

    with e.temporary(e.log("binary_model").select(C.ID, C.LABEL), "binary_model") as t:
        assert e.execute(t.count().as_table()).column(0)[0].as_py() == 100
        assert [n for n in tables() if n.startswith("lm_tmp_")]
    assert not [n for n in tables() if n.startswith("lm_tmp_")]


def test_snapshots_give_the_same_numbers_and_respect_the_size_limit(tmp_path):
    g = make_workspace(tmp_path, "binary", n=500, duplicate_outcomes=5, files=2)
    ws = load_workspace(g.config)
    plain, snap = Engine(ws), Engine(ws, snapshot=True)

    def summary(e):
        t = Selection.build("binary_model", start="2026-03-09", where={"region": ["EU"]}).apply(e)
        keys = Grouping(by=("version", "period")).keys(t, ws.models[0])
        q = t.group_by(**keys).aggregate(n=t.count(), y=t[C.LABEL].sum(), s=t[C.SCORE].sum())
        return sorted(e.execute(q).to_pylist(), key=lambda r: (r["version"], r["period"]))

    assert not plain.snapshotted("binary_model") and snap.snapshotted("binary_model")
    a, b = summary(plain), summary(snap)
    assert [{k: v for k, v in r.items() if k != "s"} for r in a] == [{k: v for k, v in r.items() if k != "s"} for r in b]
    assert all(abs(x["s"] - y["s"]) < 1e-9 for x, y in zip(a, b)) and len(a) > 5
    assert snap.log("binary_model").get_name().split(".")[-1].startswith("lm_log_")
    small = Engine(dataclasses.replace(ws, materialize_rows=499), snapshot=True)
    assert not small.snapshotted("binary_model")        # 500 predictions > 499
    assert not Engine(dataclasses.replace(ws, materialize_rows=0), snapshot=True).snapshotted("binary_model")


def test_a_snapshot_is_rebuilt_when_it_is_old(tmp_path):
    g = make_workspace(tmp_path, "binary", n=200, files=1)
    snap = Engine(load_workspace(g.config), snapshot=True, snapshot_seconds=0.0)
    count = lambda: snap.execute(snap.log("binary_model").count().as_table()).column(0)[0].as_py()  # noqa: E731
    assert count() == 200
    t = pq.read_table(tmp_path / "pred" / "part-0.parquet")
    pq.write_table(t.slice(0, 50), tmp_path / "pred" / "part-9.parquet")   # new rows arrive
    assert count() == 250
    fresh = Engine(load_workspace(g.config), snapshot=True, snapshot_seconds=3600)
    assert fresh.execute(fresh.log("binary_model").count().as_table()).column(0)[0].as_py() == 250


def test_threads_share_one_snapshot_through_their_own_cursors(tmp_path):
    import threading

    g = make_workspace(tmp_path, "binary", n=300, files=2)
    engine = Engine(load_workspace(g.config), snapshot=True)
    seen = []

    def work():
        t = engine.log("binary_model")
        seen.append((t.get_name(), engine.backend,   # kept alive, so ids stay distinct
                     engine.execute(t.count().as_table()).column(0)[0].as_py()))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(seen) == 3 and {n for _, _, n in seen} == {300}
    assert len({name for name, _, _ in seen}) == 1          # one snapshot table ...
    assert len({id(be) for _, be, _ in seen}) == 3          # ... read through three connections
    assert engine._snapshots["binary_model"][2] == 0        # built once


def test_snapshots_work_with_a_read_only_duckdb_database(tmp_path):
    import duckdb

    g = make_workspace(tmp_path, "binary", n=120, files=1)
    db = tmp_path / "lake.duckdb"
    duckdb.connect(str(db)).close()
    g.config.write_text(f'[engine]\nbackend = "duckdb"\n[engine.options]\ndatabase = "{db}"\nread_only = true\n'
                        + g.config.read_text())
    engine = Engine(load_workspace(g.config), snapshot=True)
    assert engine.snapshotted("binary_model")
    assert engine.execute(engine.log("binary_model").count().as_table()).column(0)[0].as_py() == 120


def test_materialize_rows_is_validated(tmp_path):
    g = make_workspace(tmp_path, "binary", n=20)
    text = g.config.read_text()
    g.config.write_text('[engine]\nmaterialize_rows = 100\n' + text)
    assert load_workspace(g.config).materialize_rows == 100
    g.config.write_text('[engine]\nmaterialize_rows = -1\n' + text)
    from analytics.errors import ConfigError
    with pytest.raises(ConfigError, match="materialize_rows must be a whole number"):
        load_workspace(g.config)
