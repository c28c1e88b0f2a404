"""Defects in the logs (issue #13, points 2, 3, 5, 6): implausible timestamps, ids repeated
within a version, columns differing only in case, features without values, string labels
that never equal ``positive_label``. Each test writes the smallest workspace that shows it."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn import metrics as skm

from analytics.analyses.drift import compute_drift, default_reference
from analytics.cli import main
from analytics.config.workspace import load_workspace, parse_workspace
from analytics.errors import ColumnError, ConfigError
from analytics.log.columns import C
from analytics.log.engine import Engine
from analytics.log.validation import validate_path
from analytics.metrics.compute import compute_metrics
from analytics.query.selection import Grouping, Selection
from .factories import make_workspace, write_toml


MODEL = "binary_model"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def set_ts(folder: Path, row: int, when: dt.datetime) -> None:
    """Overwrite the timestamp of one prediction row of a generated workspace."""
    path = folder / "pred" / "part-0.parquet"
    t = pq.read_table(path)
    ts = t.column("ts").to_pylist()
    ts[row] = when
    t = t.set_column(t.schema.get_field_index("ts"), "ts", pa.array(ts, type=pa.timestamp("us")))
    pq.write_table(t, path)


# ------------------------------------------------------------------ point 2: timestamps


def test_a_timestamp_in_9999_is_counted_left_out_and_stops_nothing(tmp_path, capsys):
    g = make_workspace(tmp_path, "binary", n=400, seed=3)
    set_ts(tmp_path, 7, dt.datetime(9999, 12, 31))
    cfg = str(g.config)

    code, out, _ = run(capsys, "validate", "--config", cfg, "--format", "json")
    problems = json.loads(out)["models"][MODEL]["problems"]
    assert code == 2 and any(p.startswith(f"Model {MODEL!r}: 1 rows have an implausible timestamp ('ts'")
                             for p in problems), problems

    code, out, err = run(capsys, "drift", "--config", cfg, "--model", MODEL, "--format", "json")
    assert code == 0, err
    assert "internal error" not in err and "1 rows have an implausible timestamp" in err
    doc = json.loads(out)
    assert doc["current"]["end"].startswith("2026-")  # the windows come from the plausible rows

    code, out, err = run(capsys, "check", "--config", cfg, "--format", "json")
    assert code in (0, 3, 4), err
    assert [m["model"] for m in json.loads(out)["models"]] == [MODEL]

    code, _, err = run(capsys, "metrics", "--config", cfg, "--model", MODEL, "--format", "json")
    assert code == 0, err

    pdf = tmp_path / "r.pdf"
    code, _, err = run(capsys, "report", "--config", cfg, "--model", MODEL, "--no-charts", "-o", str(pdf))
    assert code == 0, err
    assert pdf.read_bytes()[:4] == b"%PDF"


def test_check_reports_every_model_when_one_has_a_timestamp_in_9999(tmp_path, capsys):
    models = []
    for i, name in enumerate(("a", "b", "c")):
        g = make_workspace(tmp_path / name, "binary", n=300, seed=i)
        m = tomllib.loads(g.config.read_text())["models"][0]
        m.update(name=f"model_{name}", predictions=f"{name}/pred/*.parquet", outcomes=f"{name}/out/*.parquet")
        models.append(m)
    set_ts(tmp_path / "b", 0, dt.datetime(9999, 12, 31, 23, 59, 59))
    cfg = write_toml(tmp_path / "lastmile.toml", models)
    code, out, err = run(capsys, "check", "--config", str(cfg), "--format", "json")
    assert code in (0, 3, 4), err
    assert [m["model"] for m in json.loads(out)["models"]] == ["model_a", "model_b", "model_c"]


def test_a_row_in_year_1_is_not_the_drift_reference(tmp_path):
    g = make_workspace(tmp_path, "binary", n=400, seed=4)
    set_ts(tmp_path, 0, dt.datetime(1, 1, 1))
    engine = Engine(load_workspace(g.config))
    ref, cur = default_reference(engine, MODEL)
    first = min(t for t in g.predictions["ts"][1:]).astype("datetime64[us]").item()
    assert ref.start == dt.datetime(first.year, first.month, first.day)
    res = compute_drift(engine, MODEL, ref, cur)
    assert res.reference_n > 50 and res.current_n > 50
    warnings = engine.data_warnings(MODEL)
    assert [w.count for w in warnings if w.column == "ts"] == [1]


def test_the_plausible_range_is_configurable(tmp_path):
    g = make_workspace(tmp_path, "binary", n=200, seed=5)
    set_ts(tmp_path, 0, dt.datetime(1969, 7, 20))
    set_ts(tmp_path, 1, dt.datetime(2099, 1, 1))
    text = g.config.read_text()

    def rows(engine_toml: str) -> int:
        g.config.write_text(engine_toml + text)
        engine = Engine(load_workspace(g.config))
        t = engine.log(MODEL)
        return int(engine.execute(t.aggregate(n=t.count())).column(0)[0].as_py())

    assert rows("") == 198
    assert rows('[engine]\ntimestamp_min = "1960-01-01"\n') == 199
    assert rows('[engine]\ntimestamp_min = 1960-01-01\ntimestamp_max_ahead = "30000d"\n') == 200
    ws = parse_workspace({"engine": {"timestamp_max_ahead": "36h"}, "models": [
        tomllib.loads(text)["models"][0]]}, root=tmp_path)
    now = dt.datetime(2026, 1, 1)
    assert ws.timestamp_range(now) == (dt.datetime(1970, 1, 1), dt.datetime(2026, 1, 2, 12))
    with pytest.raises(ConfigError) as exc:
        parse_workspace({"engine": {"timestamp_min": "soon", "timestamp_max_ahead": "a day"},
                         "models": [tomllib.loads(text)["models"][0]]}, root=tmp_path)
    assert len(exc.value.problems) == 2
    assert "timestamp_min must be an ISO date" in exc.value.problems[0]
    assert "timestamp_max_ahead must be a duration" in exc.value.problems[1]


# ------------------------------------------------------------------ point 3: repeated ids


def repeated_ids_workspace(folder: Path, ids: int = 500, repeats: int = 4, seed: int = 0):
    """``ids * repeats`` predictions of one version (each id scored ``repeats`` times, the
    score growing more accurate over time), plus a shadow version scoring every id once,
    and one outcome per id."""
    rng = np.random.default_rng(seed)
    (folder / "pred").mkdir(parents=True)
    (folder / "out").mkdir()
    y = rng.integers(0, 2, ids)
    start = dt.datetime(2026, 3, 2)
    rows = []
    for k in range(repeats):
        noise = 1.6 - 0.4 * k  # the latest scoring is the best one
        score = 1 / (1 + np.exp(-(2.0 * (y - 0.5) * 2 + rng.normal(0, noise * 2, ids))))
        for i in range(ids):
            rows.append((f"id{i:04d}", start + dt.timedelta(days=i % 20, hours=k), "v1", float(score[i])))
    shadow = 1 / (1 + np.exp(-(2.0 * (y - 0.5) + rng.normal(0, 1.5, ids))))
    rows += [(f"id{i:04d}", start + dt.timedelta(days=i % 20, hours=9), "v3", float(shadow[i])) for i in range(ids)]
    ids_, ts, ver, sc = zip(*rows)
    pq.write_table(pa.table({"pid": list(ids_), "ts": pa.array(ts, type=pa.timestamp("us")),
                             "ver": list(ver), "score": list(sc)}), folder / "pred" / "part-0.parquet")
    pq.write_table(pa.table({"pid": [f"id{i:04d}" for i in range(ids)], "y": y.astype(np.int64)}),
                   folder / "out" / "part-0.parquet")
    cfg = write_toml(folder / "lastmile.toml", [{
        "name": MODEL, "task": "binary", "predictions": "pred/*.parquet", "outcomes": "out/*.parquet",
        "columns": {"id": "pid", "timestamp": "ts", "version": "ver", "score": "score", "label": "y"}}])
    latest = {}
    for pid, t, v, s in rows:  # brute force: the latest prediction of each (id, version)
        if (pid, v) not in latest or t > latest[(pid, v)][0]:
            latest[(pid, v)] = (t, s)
    return cfg, y, latest


def test_an_outcome_labels_the_latest_prediction_of_its_id_in_each_version(tmp_path, capsys):
    cfg, y, latest = repeated_ids_workspace(tmp_path)
    engine = Engine(load_workspace(cfg))
    res = compute_metrics(engine, Selection.build(MODEL), Grouping(by=("version",)), ["roc_auc", "volume"])
    for v, n in (("v1", 2000), ("v3", 500)):
        row = res.row(version=v)
        assert row.n == n and row.n_labeled == 500
        want = skm.roc_auc_score(y, [latest[(f"id{i:04d}", v)][1] for i in range(len(y))])
        assert row.metrics["roc_auc"].value == pytest.approx(want, abs=1e-9)
    # every outcome labelled the latest row of each id (and only that row)
    t = engine.log(MODEL)
    got = engine.execute(t.filter(t[C.LABELED]).select(C.ID, C.VERSION, C.SCORE)).to_pylist()
    assert sorted((r[C.ID], r[C.VERSION], round(r[C.SCORE], 12)) for r in got) == \
        sorted((pid, v, round(s, 12)) for (pid, v), (_, s) in latest.items())
    # the warning, and validate's count
    w = [w for w in engine.data_warnings(MODEL) if w.column == "pid"]
    assert len(w) == 1 and w[0].count == 1500 and "(500 ids)" in w[0].message
    assert engine.repeated_ids(MODEL)
    # the command line reads an in-memory snapshot of the joined log: the same rule
    code, out, err = run(capsys, "metrics", "--config", str(cfg), "--model", MODEL, "--by", "version",
                         "--format", "json")
    assert code == 0 and "1,500 predictions repeat an id ('pid') within their version (500 ids)" in err
    doc = json.loads(out)
    labeled = {r["group"]["version"]: r["n_labeled"] for r in doc["rows"]}
    assert labeled == {"v1": 500, "v3": 500}, doc
    code, out, _ = run(capsys, "validate", "--config", str(cfg), "--format", "json")
    assert code == 2 and any("1,500 predictions repeat an id" in p
                             for p in json.loads(out)["models"][MODEL]["problems"])


def test_repeated_ids_with_equal_timestamps_label_exactly_one_row(tmp_path):
    (tmp_path / "pred").mkdir()
    (tmp_path / "out").mkdir()
    ts = dt.datetime(2026, 3, 2)
    pq.write_table(pa.table({"pid": ["a", "a", "a", "b"], "ts": pa.array([ts] * 4, type=pa.timestamp("us")),
                             "score": [0.2, 0.7, 0.7, 0.4]}), tmp_path / "pred" / "p.parquet")
    pq.write_table(pa.table({"pid": ["a", "b"], "y": [1, 0]}), tmp_path / "out" / "o.parquet")
    cfg = write_toml(tmp_path / "lastmile.toml", [{
        "name": MODEL, "task": "binary", "predictions": "pred/*.parquet", "outcomes": "out/*.parquet",
        "columns": {"id": "pid", "timestamp": "ts", "score": "score", "label": "y"}}])
    engine = Engine(load_workspace(cfg))
    t = engine.log(MODEL)
    got = engine.execute(t.filter(t[C.LABELED]).select(C.ID, C.SCORE)).to_pylist()
    assert sorted((r[C.ID], r[C.SCORE]) for r in got) == [("a", 0.7), ("b", 0.4)]


# ------------------------------------------------------------------ point 5: case collisions


@pytest.mark.parametrize("names,declared", [(("P", "p"), "p"), (("region", "Region"), "region")])
def test_columns_differing_only_in_case_are_refused_in_one_sentence(tmp_path, capsys, names, declared):
    g = make_workspace(tmp_path, "binary", n=100, outcomes=False)
    path = tmp_path / "pred" / "part-0.parquet"
    t = pq.read_table(path)
    extra = [c for c in names if c not in t.column_names]
    for c in extra:
        t = t.append_column(c, pa.array(["x"] * t.num_rows))
    pq.write_table(t, path)
    text = g.config.read_text()
    if declared == "p":  # declare the colliding column as the score
        g.config.write_text(text.replace('score = "score"', 'score = "p"'))
    code, out, err = run(capsys, "metrics", "--config", str(g.config), "--model", MODEL)
    assert code == 2 and out == ""
    msg = err.strip()
    assert len(msg.splitlines()) == 1 and str(path) in msg
    assert f"has columns {names[0]!r} and {names[1]!r}, which differ only in case" in msg
    assert "_1" not in msg
    code, out, _ = run(capsys, "validate", "--config", str(g.config), "--format", "json")
    assert code == 2 and "differ only in case" in json.dumps(json.loads(out)["models"][MODEL]["problems"])
    with pytest.raises(ColumnError):
        Engine(load_workspace(g.config)).log(MODEL)


def test_undeclared_columns_differing_in_case_are_harmless(tmp_path, capsys):
    g = make_workspace(tmp_path, "binary", n=100, outcomes=False)
    path = tmp_path / "pred" / "part-0.parquet"
    t = pq.read_table(path)
    t = t.append_column("Extra", pa.array([1] * t.num_rows)).append_column("extra", pa.array([2] * t.num_rows))
    pq.write_table(t, path)
    code, _, err = run(capsys, "validate", "--config", str(g.config))
    assert code == 0, err


# ------------------------------------------------------------------ point 6: odd types


def test_a_feature_without_values_is_a_drift_note_not_a_block(tmp_path, capsys):
    g = make_workspace(tmp_path, "binary", n=600, seed=6)
    path = tmp_path / "pred" / "part-0.parquet"
    t = pq.read_table(path)
    t = t.set_column(t.schema.get_field_index("plan"), "plan", pa.nulls(t.num_rows, pa.null()))
    pq.write_table(t, path)
    assert pq.read_schema(path).field("plan").type == pa.null()
    code, out, err = run(capsys, "validate", "--config", str(g.config))
    assert code == 0, out
    assert "Feature 'plan' has no values (Parquet type null); drift leaves it out." in out
    code, out, err = run(capsys, "drift", "--config", str(g.config), "--model", MODEL, "--format", "json")
    assert code == 0, err
    feats = json.loads(out)["features"]
    assert feats["plan"]["reason"] == "feature 'plan' has no values (all null)"
    assert feats["plan"]["drifted"] is False and feats["plan"]["method"] == "none"
    assert feats["income"]["n_ref"] > 0 and feats["income"]["reason"] is None
    code, out, err = run(capsys, "metrics", "--config", str(g.config), "--model", MODEL, "--format", "json")
    assert code == 0, err
    code, out, err = run(capsys, "check", "--config", str(g.config), "--format", "json")
    assert code in (0, 3, 4), err


@pytest.mark.parametrize("positive,flagged", [(1, True), ("yes", False)])
def test_string_labels_that_never_equal_positive_label_are_reported(tmp_path, capsys, positive, flagged):
    g = make_workspace(tmp_path, "binary", n=200, seed=7)
    path = tmp_path / "out" / "part-0.parquet"
    t = pq.read_table(path)
    words = pa.array(["yes" if v else "no" for v in t.column("y").to_pylist()])
    pq.write_table(t.set_column(t.schema.get_field_index("y"), "y", words), path)
    text = g.config.read_text()
    g.config.write_text(text.replace('[models.columns]', f'[models.columns]\npositive_label = {json.dumps(positive)}'))
    report = validate_path(g.config)
    problems = report.models[0].problems
    hit = [p for p in problems if "are strings and none equals positive_label" in p]
    assert bool(hit) is flagged and report.ok is (not flagged), problems
    if flagged:
        assert hit[0] == (f"Model {MODEL!r}: {int(t.num_rows):,} labels in 'y' are strings and none equals "
                          "positive_label 1; every row would count as negative (set positive_label to the "
                          "positive class).")
