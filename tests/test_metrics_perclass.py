"""Per-class metrics and the confusion matrix against scikit-learn.

``confusion_matrix(y, p, labels=classes)`` and
``precision_recall_fscore_support(y, p, labels=classes, zero_division=np.nan)``
computed row by row from the generated truth; Lastmile's null (with a reason)
is scikit-learn's NaN. Cases: a generated multiclass workspace grouped by
version and channel; a hand-made log with a class never predicted, a class
absent from the labels, predictions outside the classes, labels outside them
and unlabeled rows; the CLI's table, JSON and CSV; the bundled sample's story
(ticket_router v1 sends technical tickets to account).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn import metrics as skm

from analytics.cli import main
from analytics.config.workspace import load_workspace
from analytics.errors import SelectionError
from analytics.log.engine import Engine
from analytics.metrics.perclass import PER_CLASS_METRICS, class_metrics, compute_per_class
from analytics.query.selection import Grouping, Selection
from .factories import CLASSES, make_workspace, write_toml


TOL = 1e-9
SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "lastmile.toml"


def _same(got, expected) -> bool:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return got is None
    return got is not None and abs(got - expected) <= TOL


def check_row(row, y, p, classes) -> None:
    """One group's confusion matrix and per-class metrics against scikit-learn."""
    classes = list(classes)
    cm = skm.confusion_matrix(y, p, labels=classes)
    assert [list(r) for r in row.confusion.counts] == cm.tolist()
    prec, rec, f1, support = skm.precision_recall_fscore_support(y, p, labels=classes, zero_division=np.nan)
    for i, c in enumerate(classes):
        got = row.cls(c)
        assert got.support == support[i], c
        assert _same(got.precision.value, prec[i]), (c, got.precision, prec[i])
        assert _same(got.recall.value, rec[i]), (c, got.recall, rec[i])
        assert _same(got.f1.value, f1[i]), (c, got.f1, f1[i])
        for m in PER_CLASS_METRICS:
            v = got.metric(m)
            if v.value is None:
                assert v.reason, (c, m)
            else:
                assert v.ci_low is not None and v.ci_low <= v.value <= v.ci_high, (c, m, v)
                assert 0.0 <= v.ci_low and v.ci_high <= 1.0
    normed = row.confusion.row_normalized
    for i, s in enumerate(row.confusion.support):
        if s:
            assert normed[i] == pytest.approx([x / s for x in row.confusion.counts[i]], abs=TOL)
        else:
            assert all(x is None for x in normed[i])


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    g = make_workspace(tmp_path_factory.mktemp("multiclass"), "multiclass", n=1500, seed=11)
    return g, Engine(load_workspace(g.config))


def test_generated_matches_sklearn_per_group(generated):
    g, engine = generated
    df = g.frame()
    res = compute_per_class(engine, Selection.build("multiclass_model"), Grouping(by=("version", "channel")))
    assert res.classes == CLASSES and len(res.rows) == 4
    lab = df[df.y_true.notna()]   # unlabeled rows are left out
    for row in res.rows:
        sub = lab[(lab.ver == row.group["version"]) & (lab.channel == row.group["channel"])]
        probs = sub[[f"p_{c}" for c in CLASSES]].to_numpy()
        p = np.array(CLASSES)[probs.argmax(1)]
        check_row(row, sub.y_true.astype(str).to_numpy(), p, CLASSES)
        assert row.confusion.total == len(sub)
    whole = compute_per_class(engine, Selection.build("multiclass_model"))
    assert sum(whole.rows[0].confusion.support) == len(lab) < len(df)


@pytest.fixture(scope="module")
def awkward(tmp_path_factory):
    """Classes a, b, c, d: d is never a label, c never predicted; some predictions are 'e'
    (outside the classes), some labels 'z' (outside them too: not a valid label), some rows unlabeled."""
    folder = tmp_path_factory.mktemp("awkward")
    rng = np.random.default_rng(5)
    n = 900
    y = rng.choice(["a", "b", "c"], n).astype(object)
    p = np.where(rng.random(n) < 0.6, y, rng.choice(["a", "b", "d", "e"], n)).astype(object)
    p[p == "c"] = "a"
    y[rng.random(n) < 0.1] = None
    y[:7] = "z"
    (folder / "p").mkdir()
    scores = {f"p_{c}": rng.random(n) for c in "abcd"}
    pq.write_table(pa.table({"ts": pa.array([dt.datetime(2026, 3, 2) + dt.timedelta(hours=i) for i in range(n)],
                                            pa.timestamp("us")),
                             "ver": np.where(np.arange(n) % 3 == 0, "v1", "v2"),
                             "y": pa.array(list(y), pa.string()), "pred": pa.array(list(p), pa.string()),
                             **scores}), folder / "p" / "a.parquet")
    cfg = write_toml(folder / "lastmile.toml", [{
        "name": "m", "task": "multiclass", "predictions": "p",
        "columns": {"timestamp": "ts", "version": "ver", "label": "y", "prediction": "pred",
                    "class_scores": {c: f"p_{c}" for c in "abcd"}}}])
    return Engine(load_workspace(cfg)), y, p, np.where(np.arange(n) % 3 == 0, "v1", "v2"), cfg


def test_never_predicted_absent_label_and_outside_classes(awkward):
    engine, y, p, ver, _cfg = awkward
    res = compute_per_class(engine, Selection.build("m"), Grouping(by=("version",)))
    assert res.classes == ("a", "b", "c", "d")
    for row in res.rows:
        keep = (ver == row.group["version"]) & np.isin(y.astype(str), list("abcd"))
        check_row(row, y[keep].astype(str), p[keep].astype(str), "abcd")
        c, d = row.cls("c"), row.cls("d")
        # never predicted: precision null with its reason (not 0); recall 0; F1 0
        assert c.predicted == 0 and c.precision.value is None and "never predicted" in c.precision.reason
        assert c.recall.value == 0.0 and c.f1.value == 0.0
        # absent from the labels: recall null; precision 0 (every 'd' prediction is wrong)
        assert d.support == 0 and d.recall.value is None and "no labeled row" in d.recall.reason
        assert d.precision.value == 0.0 and d.f1.value == 0.0
        assert all(x is None for x in row.confusion.row_normalized[3])
        # predictions outside the classes: counted per true class, against recall only
        other = (p[keep] == "e")
        assert sum(row.confusion.other_predicted) == other.sum() > 0
        assert row.confusion.total == keep.sum()


def test_class_neither_true_nor_predicted_has_null_f1():
    c = class_metrics("x", 0, 0, 0, 100)
    assert c.precision.value is c.recall.value is c.f1.value is None
    assert all(c.metric(m).reason for m in PER_CLASS_METRICS)
    small = class_metrics("y", 3, 4, 5, 100)
    assert "at least 30" in small.precision.reason and small.precision.value == pytest.approx(0.75)


def test_intervals_are_wilson_and_bootstrap():
    from analytics.stats import intervals as iv

    c = class_metrics("k", 80, 100, 120, 1000)
    assert (c.precision.ci_low, c.precision.ci_high) == pytest.approx(iv.wilson(80, 100)[:2])
    assert (c.recall.ci_low, c.recall.ci_high) == pytest.approx(iv.wilson(80, 120)[:2])
    assert c.f1.value == pytest.approx(160 / 220) and c.f1.ci_low < c.f1.value < c.f1.ci_high
    # the F1 interval agrees with a brute-force bootstrap over the 1,000 rows themselves
    cells = np.repeat(np.arange(4), [80, 20, 40, 860])   # tp, fp, fn, tn
    rng = np.random.default_rng(0)
    draws = np.stack([np.bincount(rng.choice(cells, cells.size), minlength=4) for _ in range(2000)])
    brute = 2 * draws[:, 0] / (2 * draws[:, 0] + draws[:, 1] + draws[:, 2])
    lo, hi = np.quantile(brute, [0.025, 0.975])
    assert c.f1.ci_low == pytest.approx(lo, abs=0.01) and c.f1.ci_high == pytest.approx(hi, abs=0.01)
    assert class_metrics("k", 80, 100, 120, 1000).f1 == c.f1   # seeded: the same counts, the same interval


def test_other_tasks_are_refused(tmp_path):
    g = make_workspace(tmp_path, "binary", n=200, seed=1)
    with pytest.raises(SelectionError, match="multiclass"):
        compute_per_class(Engine(load_workspace(g.config)), Selection.build("binary_model"))
    assert main(["metrics", "--config", str(g.config), "--model", "binary_model", "--per-class"]) == 2


# ------------------------------------------------------------------ CLI


def _cli(capsys, *args) -> str:
    assert main(["metrics", *args]) == 0
    return capsys.readouterr().out


def test_cli_json_extends_the_metrics_rows(awkward, capsys):
    engine, *_rest, cfg = awkward
    out = json.loads(_cli(capsys, "--config", str(cfg), "--model", "m", "--by", "version", "--per-class",
                          "--format", "json"))
    res = compute_per_class(engine, Selection.build("m"), Grouping(by=("version",)))
    assert [r["group"] for r in out["rows"]] == [{"version": "v1"}, {"version": "v2"}]
    for row in out["rows"]:
        assert "macro_f1" in row["metrics"]
        ref = res.row(**row["group"])
        assert list(row["per_class"]) == ["a", "b", "c", "d"]
        assert row["confusion"]["classes"] == ["a", "b", "c", "d"]
        assert row["confusion"]["counts"] == [list(r) for r in ref.confusion.counts]
        assert row["confusion"]["other_predicted"] == list(ref.confusion.other_predicted)
        assert row["confusion"]["row_normalized"][3] == [None] * 4
        c = row["per_class"]["c"]
        assert c["precision"]["value"] is None and c["precision"]["reason"]
        assert set(c) == {"support", "predicted", "precision", "recall", "f1"}
        b = row["per_class"]["b"]
        assert b["recall"]["value"] == pytest.approx(ref.cls("b").recall.value, abs=TOL)
        assert b["recall"]["ci_low"] <= b["recall"]["value"] <= b["recall"]["ci_high"]


def test_cli_table_and_csv(awkward, capsys):
    *_rest, cfg = awkward
    text = _cli(capsys, "--config", str(cfg), "--model", "m", "--per-class", "--metric", "accuracy")
    assert "Per class" in text and "precision [95% CI]" in text and "never predicted" in text
    assert "Confusion matrix (all rows)" in text and "other" in text
    csv = _cli(capsys, "--config", str(cfg), "--model", "m", "--by", "version", "--per-class", "--format", "csv")
    import csv as _csv
    lines = list(_csv.DictReader(io.StringIO(csv)))
    assert len(lines) == 8 and lines[0]["version"] == "v1" and lines[0]["class"] == "a"
    assert {"support", "precision_ci_low", "f1_reason", "predicted_d", "predicted_other"} <= set(lines[0])
    c = next(x for x in lines if x["class"] == "c")
    assert c["precision"] == "" and c["precision_reason"]


# ------------------------------------------------------------------ the bundled sample


@pytest.fixture(scope="module")
def sample_router():
    engine = Engine(load_workspace(SAMPLE))
    return compute_per_class(engine, Selection.build("ticket_router"), Grouping(by=("version",)))


def test_sample_v1_misses_technical_tickets(sample_router):
    v1, v2 = sample_router.row(version="v1"), sample_router.row(version="v2")
    tech = v1.cls("technical")
    others = [c.recall.value for c in v1.per_class if c.cls != "technical"]
    # v1's recall on technical is poor, clearly below every other class and below v2's (intervals apart)
    assert tech.recall.value < 0.5 and tech.recall.ci_high < min(others) - 0.2
    assert tech.recall.ci_high < v2.cls("technical").recall.ci_low
    # ... because it sends technical tickets to account: the largest off-diagonal cell of v1
    i, j = v1.confusion.classes.index("technical"), v1.confusion.classes.index("account")
    row = v1.confusion.counts[i]
    assert row[j] == max(x for k, x in enumerate(row) if k != i) and v1.confusion.row_normalized[i][j] > 0.3


# ------------------------------------------------------------------ the PDF report


def test_report_has_the_per_class_section_for_ticket_router():
    import re
    import pypdf

    from analytics.render.report import build_report
    from analytics.render.report.perclass import per_class

    engine = Engine(load_workspace(SAMPLE))
    start, end = dt.datetime(2026, 8, 3), dt.datetime(2026, 9, 28)   # both versions serve
    pdf = build_report(engine, "ticket_router", start=start, end=end, paper="A4", charts=False,
                       progress=lambda s: None, now=dt.datetime(2026, 10, 1))
    text = " ".join(re.sub(r"\s+", " ", p.extract_text()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Per-class performance" in text
    want = compute_per_class(engine, Selection.build("ticket_router", start=start, end=end),
                             Grouping(by=("version",))).row(version="v1")
    from analytics.metrics import format_metric, get_metric
    tech = want.cls("technical")
    assert f"technical {tech.support:,} {tech.predicted:,} {format_metric(get_metric('precision'), tech.precision)}" \
        f" {format_metric(get_metric('recall'), tech.recall)}" in text
    assert "v1 misses 'technical'" in text and "go to 'account'" in text   # the cover's highlight

    class _Binary:   # other tasks: the section does not apply (and renders nothing)
        spec = type("S", (), {"task": "binary"})()
    assert per_class(_Binary(), {})["applies"] is False
