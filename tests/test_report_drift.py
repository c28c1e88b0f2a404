"""The report's drift table builds its columns from the drift statistic registry (#14):
a statistic registered here appears in the section's table data and its HTML, with no
change to the section or its template."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.analyses.drift.statistics import STATISTICS, DriftStatistic, register, shown
from analytics.config.workspace import load_workspace
from analytics.log.engine import Engine
from analytics.render import format as fmt
from analytics.render.report import model_input, render_html
from analytics.render.report.drift import drift
from analytics.render.report.svg import ChartSet
from .factories import make_workspace
from .test_report_overflow import RIGHT_MARGIN, page_width, word_boxes

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    """The drift section of a small binary model, with a size-ratio statistic registered
    for the section's build only."""
    g = make_workspace(tmp_path_factory.mktemp("report_drift"), "binary", n=2000, seed=3)
    engine = Engine(load_workspace(g.config), snapshot=True)
    spec = engine.spec("binary_model")
    mi = model_input(engine, spec, ChartSet(enabled=False), NOW)
    register(DriftStatistic(name="size_ratio", kinds=("numeric",), needs=("sizes",), label="Size ratio test",
                            finish=lambda a: a["n_cur"] / a["n_ref"], doc="values current / reference (a test)."))
    try:
        columns = [s.label for s in shown()]
        out = drift(mi, {"kpis": {"versions": list(engine.versions(spec))}})
    finally:
        STATISTICS.pop("size_ratio")
    return out, columns


def test_the_table_has_one_column_per_shown_statistic_in_registry_order(section):
    s, columns = section
    assert s["empty"] is None, s["empty"]
    assert s["columns"] == columns and s["columns"][-1] == "Size ratio test"
    assert {"PSI", "JS distance", "KS", "Wasserstein (norm.)", "χ² p"} <= set(s["columns"])
    assert all(len(r["stats"]) == len(columns) for r in s["rows"])


def test_the_registered_statistic_fills_its_cells(section):
    s, columns = section
    i = columns.index("Size ratio test")
    numeric = [r for r in s["rows"] if r["kind"] == "numeric"]
    categorical = [r for r in s["rows"] if r["kind"] == "categorical"]
    assert numeric and categorical
    for r in numeric:
        n_ref, n_cur = (int(x.replace(",", "")) for x in r["n"].split(" / "))
        assert r["stats"][i] == fmt.num(n_cur / n_ref)
    assert all(r["stats"][i] == fmt.MISSING for r in categorical)   # not of its kind


def test_the_template_shows_the_registered_column(section):
    s, _ = section
    html = render_html({"portfolio": False, "charts_on": False, "title": "t", "sections": [s], "running": None},
                       "part.html.j2")
    table = html.split("<table", 1)[1].split("</table>", 1)[0]
    assert "<th class=\"r stat\">Size ratio test</th>" in table
    assert table.count("<tr>") == len(s["rows"]) + 1


def test_the_wider_table_stays_inside_the_page(section, tmp_path):
    """One column per statistic (seven here): the headers and cells wrap, no word passes the margin."""
    from analytics.render.report.pdf import html_to_pdf

    s, _ = section
    html = render_html({"portfolio": False, "charts_on": False, "title": "t", "sections": [s], "running": None},
                       "part.html.j2")
    pdf = html_to_pdf(html, sheet="part.css")
    words = word_boxes(pdf, tmp_path)
    assert any(w.lower() == "size" for _, _, w in words)   # the measure sees the registered column (its header)
    limit = page_width(pdf) - RIGHT_MARGIN + 1.0
    assert [(p, round(x), w) for p, x, w in words if x > limit] == []
