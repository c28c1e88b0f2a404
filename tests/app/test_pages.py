"""Every analysis page shows the library's numbers for the filter bar's selection, and follows the filters."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.analyses.compare import compare_versions
from analytics.analyses.drift import compute_drift
from analytics.analyses.segments import weak_segments
from analytics.analyses.value import Assumptions, compute_value
from analytics.log.engine import Engine
from analytics.metrics.compute import compute_metrics
from analytics.query.selection import Grouping, Selection
from analytics.render import format as F
from .conftest import figures, metric_values, open_page


MODEL = "binary_model"


def table(at, i=0, column=None):
    """The i-th table on the page, or the first one with ``column``."""
    if column is not None:
        return next(d.value for d in at.dataframe if column in d.value.columns)
    return at.dataframe[i].value


def test_segments_table_equals_the_registry_and_follows_filters(app, app_engine):
    at = open_page(app, "segments")
    at.selectbox(key="seg_metric").set_value("accuracy")
    at.selectbox(key="seg_by").set_value("channel").run()

    def check(**sel):
        res = compute_metrics(app_engine, Selection.build(MODEL, **sel), Grouping(by=("channel",)), ["accuracy"])
        want = {r.group["channel"]: r.metrics["accuracy"].value for r in res.rows}
        shown = table(at, column="Accuracy (value)")
        got = dict(zip(shown["channel"], shown["Accuracy (value)"]))
        assert got == pytest.approx(want, abs=1e-12)
        assert list(shown["Accuracy (value)"]) == sorted(want.values())  # weakest first
        return got

    before = check()
    # the weakest segments: the significant ones (q < 0.05) first, the others within chance after
    # them (an expander), or a sentence when none is significant (issue #16: no noise listed as weak)
    res = weak_segments(app_engine, Selection.build(MODEL), "accuracy", pairs=False)
    significant = list(res.weak())[:8]
    others = [s for s in res.segments if s.impact is not None and s.impact > 0 and s not in significant][:50]
    ranked = table(at, column="q-value")
    name = lambda s: " × ".join(f"{k}={v}" for k, v in s.where.items())  # noqa: E731
    first = significant or others
    assert list(ranked["segment"]) == [name(s) for s in first]
    assert list(ranked["p-value"]) == [F.p_value(s.p_value) for s in first]
    if not significant:
        assert any(m.value.startswith("No segment is significantly worse") for m in at.markdown)
    at.multiselect(key="flt_seg_region").set_value(["EU"]).run()
    after = check(where={"region": ["EU"]})
    assert after != before
    assert at.query_params["metric"] == "accuracy" and at.query_params["by"] == "channel"
    # one segment's own time series
    at.selectbox(key="seg_pick").set_value("channel=web").run()
    series = figures(at)[-1]
    res = compute_metrics(app_engine, Selection.build(MODEL, where={"channel": ["web"], "region": ["EU"]}),
                          Grouping(by=("period", "version")), ["accuracy"])
    lines = [t for t in series["data"] if t.get("mode") == "lines+markers"]
    assert sorted(v for t in lines for v in t["y"]) == pytest.approx(
        sorted(r.metrics["accuracy"].value for r in res.rows), abs=1e-12)


def test_value_tiles_and_what_if_without_queries(app, app_engine, monkeypatch):
    at = open_page(app, "value")
    res = compute_value(app_engine, Selection.build(MODEL))
    assert metric_values(at)["Net value"] == F.money(res.rows[0].net_value, short=True)
    at.multiselect(key="flt_versions").set_value(["v1"]).run()
    res_v1 = compute_value(app_engine, Selection.build(MODEL, versions=["v1"]))
    assert metric_values(at)["Net value"] == F.money(res_v1.rows[0].net_value, short=True)
    assert res_v1.rows[0].net_value != res.rows[0].net_value

    calls = []
    original = Engine.execute
    monkeypatch.setattr(Engine, "execute", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    at.number_input(key="val_fp").set_value(-80.0)
    at.slider(key="val_threshold").set_value(0.3).run()
    assert calls == []  # the what-if is evaluated on the cached aggregates
    want = compute_value(app_engine, Selection.build(MODEL, versions=["v1"]), Grouping(by=("version",)),
                         Assumptions.from_spec(app_engine.spec(MODEL)).replace(fp=-80.0, threshold=0.3))
    what_if = table(at, 1)
    assert list(what_if["net value"]) == [F.money(r.net_value) for r in want.rows]
    curve = [t for t in figures(at)[-1]["data"] if t.get("mode") == "lines"]
    assert [t["name"] for t in curve] == ["v1"]


def test_compare_shows_the_comparison_of_the_picked_versions(app, app_engine):
    at = open_page(app, "compare")
    sel = Selection.build(MODEL)
    cmp = compare_versions(app_engine, sel, "v1", "v2")
    shown = metric_values(at)
    assert shown["ROC AUC: v1"] == F.num(cmp.metrics["roc_auc"].baseline)
    auc = cmp.metrics["roc_auc"]
    assert shown["Difference"] == F.delta(auc.delta)
    assert f"95% {F.interval(auc.ci_low, auc.ci_high)}" in "\n".join(c.value for c in at.caption)
    rows = table(at)
    assert len(rows) == len(cmp.metrics)
    at.selectbox(key="cmp_baseline").set_value("v2")
    at.multiselect(key="flt_seg_region").set_value(["EU"]).run()
    swapped = compare_versions(app_engine, Selection.build(MODEL, where={"region": ["EU"]}), "v2", "v1")
    assert metric_values(at)["ROC AUC: v2"] == F.num(swapped.metrics["roc_auc"].baseline)
    assert (at.query_params["baseline"], at.query_params["candidate"]) == ("v2", "v1")


def test_drift_table_follows_the_reference_window(app, app_engine):
    at = open_page(app, "drift")
    at.date_input(key="dr_ref").set_value((dt.date(2026, 3, 2), dt.date(2026, 3, 15))).run()
    ref = Selection.build(MODEL, "2026-03-02", "2026-03-16")
    first, last = dt.datetime(2026, 3, 30), dt.datetime(2026, 4, 27)
    cur = Selection.build(MODEL, first, last)
    res = compute_drift(app_engine, MODEL, ref, cur)
    shown = table(at)
    assert dict(zip(shown["target"], shown["PSI"]))["income"] == F.num(res.features["income"].psi)
    assert dict(zip(shown["target"], shown["why"]))["income"] == res.features["income"].why   # issue #16.4
    at.date_input(key="dr_ref").set_value((dt.date(2026, 3, 2), dt.date(2026, 3, 29))).run()
    res2 = compute_drift(app_engine, MODEL, Selection.build(MODEL, "2026-03-02", "2026-03-30"), cur)
    assert dict(zip(table(at)["target"], table(at)["PSI"]))["income"] == F.num(res2.features["income"].psi)
    assert at.query_params["ref_to"] == "2026-03-29"
    dist = figures(at)[0]
    assert [t["name"] for t in dist["data"]] == ["reference", "current"]
    over = figures(at)[1]   # the per-period chart draws the drift rule's own threshold
    assert [s["y0"] for s in over["layout"]["shapes"]] == [res.config.psi_threshold]
    at.radio(key="dr_stat").set_value("wasserstein_normed").run()
    over = figures(at)[1]
    assert [s["y0"] for s in over["layout"]["shapes"]] == [res.config.wasserstein_threshold]


def test_explore_table_csv_and_query(app, app_engine):
    at = open_page(app, "explore")
    at.multiselect(key="ex_metrics").set_value(["accuracy"])
    at.multiselect(key="ex_by").set_value(["version", "channel"]).run()
    res = compute_metrics(app_engine, Selection.build(MODEL), Grouping(by=("version", "channel")), ["accuracy"])
    shown = table(at)
    assert list(shown["Accuracy"]) == [
        F.pct(r.metrics["accuracy"].value) + "  " + F.interval(r.metrics["accuracy"].ci_low,
                                                               r.metrics["accuracy"].ci_high, "pct")
        for r in res.rows]
    at.toggle(key="ex_sql").set_value(True).run()
    sql = at.code[0].value
    assert "GROUP BY" in sql and '"channel"' in sql
    at.multiselect(key="flt_versions").set_value(["v2"]).run()
    assert "'v2'" in at.code[0].value
    assert list(table(at)["version"]) == ["v2", "v2"]


def test_overview_tiles_are_the_latest_week_and_follow_filters(app, app_engine):
    at = open_page(app, "overview")
    from analytics.metrics import get_metric  # noqa: PLC0415

    def expected(metric, **sel):
        res = compute_metrics(app_engine, Selection.build(MODEL, **sel), Grouping(by=("period",)))
        rows = sorted((r for r in res.rows if r.metrics[metric].value is not None), key=lambda r: r.group["period"])
        return F.by_kind(rows[-1].metrics[metric].value, get_metric(metric).fmt)

    tiles = metric_values(at)
    assert tiles["ROC AUC"] == expected("roc_auc")
    assert tiles["Recall"] == expected("recall")
    at.multiselect(key="flt_versions").set_value(["v1"])
    at.multiselect(key="flt_seg_channel").set_value(["web"]).run()
    tiles2 = metric_values(at)
    assert tiles2["ROC AUC"] == expected("roc_auc", versions=["v1"], where={"channel": ["web"]})
    assert tiles2 != tiles
    assert "Health" in "\n".join(m.value for m in at.markdown)
    chart = figures(at)[0]
    assert {t["name"] for t in chart["data"] if t.get("mode") == "lines+markers"} == {"v1"}


def test_portfolio_lists_every_model_and_opens_one(app, app_engine):
    at = open_page(app, "portfolio")
    assert any("binary_model" in m.value for m in at.markdown)
    res = compute_metrics(app_engine, Selection.build(MODEL), Grouping(by=("period",)), ["roc_auc"])
    last = sorted((r for r in res.rows if r.metrics["roc_auc"].value is not None), key=lambda r: r.group["period"])[-1]
    assert metric_values(at)["ROC AUC"] == F.num(last.metrics["roc_auc"].value)
    weeks = compute_value(app_engine, Selection.build(MODEL), Grouping(by=("period",))).rows
    settled = [r for r in weeks if r.net_value is not None and r.pending_share <= 0.2]
    assert metric_values(at)["Net value"] == F.money(settled[-1].net_value, short=True)
    at.button(key="pf_open_binary_model").click().run()
    assert at.title[0].value == "Model overview"
    assert at.query_params["model"] == MODEL


def test_report_builds_and_offers_the_pdf(app):
    at = open_page(app, "report", **{"from": "2026-03-09"})
    assert not at.get("download_button")
    at.toggle(key="rep_charts").set_value(False)
    at.button(key="rep_build").click().run()
    assert not at.error, [e.value for e in at.error]
    (status,) = at.get("status")  # st.status with the builder's progress lines
    assert any("binary_model" in m.value for m in status.markdown)
    (button,) = at.get("download_button")
    assert button.label == "Download the PDF"


def test_multiclass_value_matrix_what_if(tmp_path, monkeypatch):
    """Editing the value of (actual, predicted) pairs recomputes the value per version."""
    from streamlit.testing.v1 import AppTest

    from analytics.config.workspace import load_workspace
    from tests.factories import make_workspace

    from .conftest import APP_TIMEOUT, MAIN

    g = make_workspace(tmp_path, "multiclass", n=900, seed=4)
    monkeypatch.setenv("LASTMILE_CONFIG", str(g.config))
    at = open_page(AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT), "value")
    at.session_state["val_matrix"] = {"edited_rows": {0: {"alpha": 5.0}, 1: {"alpha": -2.0}},
                                      "added_rows": [], "deleted_rows": []}
    at.run()
    engine = Engine(load_workspace(g.config))
    a = Assumptions.from_spec(engine.spec("multiclass_model")).replace(
        value_matrix=(("alpha", "alpha", 5.0), ("beta", "alpha", -2.0)))
    want = compute_value(engine, Selection.build("multiclass_model"), Grouping(by=("version",)), a)
    shown = table(at, column="net value")
    assert list(shown["value"]) == [F.money(r.value) for r in want.rows]
    assert any(r.value for r in want.rows)


def test_report_page_builds_the_period_it_states(app, app_engine, monkeypatch):
    """No range chosen: the page states the last 28 days (what the PDF covers, not the whole
    history), the PDF's cover says the same period, and the file is named after it."""
    import io

    from pypdf import PdfReader

    from analytics.render.report import period_of

    import streamlit

    names = []
    real = streamlit.download_button

    def recording(*args, **kwargs):  # AppTest's media store drops file names: record them here
        names.append(kwargs.get("file_name"))
        return real(*args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", recording)
    at = open_page(app, "report")
    start, end = period_of(app_engine, MODEL)
    assert (end - start).days == 28
    stated = f"{F.date(start)} to {F.date(end - dt.timedelta(days=1))}"
    assert any(stated in m.value for m in at.markdown), [m.value for m in at.markdown]
    at.toggle(key="rep_charts").set_value(False)
    at.button(key="rep_build").click().run()
    assert names[-1] == f"{MODEL}_{start.date()}_{(end - dt.timedelta(days=1)).date()}.pdf"
    pdf = at.session_state["_lm_mem_report"][1]
    cover = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert stated in cover, cover[:400]
