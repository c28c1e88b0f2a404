"""Hostile text is shown as text (issue #13, point 7): descriptions are never Markdown,
plotly never reads names as markup, CSV cells never start a formula, names show verbatim.
The workspace is :func:`tests.hostile.hostile_workspace`."""

from __future__ import annotations

import csv
import io
import json
import re

import plotly.graph_objects as go
import polars as pl
import pytest

from analytics import cli
from analytics.render import charts
from analytics.render.charts.base import plain, template_text
from analytics.render.output import frame_to_csv, to_csv
from .hostile import (DESCRIPTION, FEATURE, FORMULA, MODEL, SEG_DASHES, SEG_MARKUP, VALUE_MARKUP,
                      hostile_workspace)



@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return hostile_workspace(tmp_path_factory.mktemp("hostile"))


def _json(fig) -> str:
    """The figure as JSON with its characters as they are (plotly's own ``to_json``
    writes ``<`` and ``&`` as ``\\u003c`` and ``\\u0026``)."""
    d = fig.to_dict() if isinstance(fig, go.Figure) else fig
    return json.dumps(d, ensure_ascii=False, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))


def _no_markup(fig: go.Figure) -> str:
    """The figure's JSON, asserted free of the raw markup (Lastmile's own hover markup is
    ``<extra>`` only)."""
    text = _json(fig)
    assert "<b>" not in text and "</b>" not in text, text[:400]
    return text


# --------------------------------------------------------------------------- charts

def test_every_chart_escapes_user_text():
    esc = plain(SEG_MARKUP)
    assert esc == "&lt;b&gt;x&lt;/b&gt;" and plain("a & b") == "a &amp; b"
    assert template_text("%{y} <i>") == "%&#123;y} &lt;i&gt;"
    periods = ["2026-03-02", "2026-03-09"]
    over = pl.DataFrame({"period": periods * 2, "version": ["<b>v1</b>"] * 2 + ["v2"] * 2,
                         "roc_auc": [0.7, 0.72, 0.69, 0.71], "roc_auc_ci_low": [0.6] * 4,
                         "roc_auc_ci_high": [0.8] * 4, "n": [10] * 4, "latency_p50": [1.0] * 4,
                         "latency_p95": [2.0] * 4, "net_value": [-5.0, 3.0, 1.0, 2.0]})
    by_seg = pl.DataFrame({"segment": [f"{SEG_MARKUP}={VALUE_MARKUP}", "a--b=web"], "roc_auc": [0.6, 0.7],
                           "roc_auc_ci_low": [0.5, 0.6], "roc_auc_ci_high": [0.7, 0.8], "n": [5, 6]})
    dist = pl.DataFrame({"bin": [VALUE_MARKUP, "NA"], "ref_share": [0.5, 0.5], "cur_share": [0.4, 0.6]})
    drift = pl.DataFrame({"period": periods, "feature": [FEATURE, FEATURE], "psi": [0.1, 0.3]})
    title = f"ROC AUC by {SEG_MARKUP} & {FEATURE}"
    figs = {
        "over_time": charts.metric_over_time(over, "roc_auc", label="<b>AUC</b>", title=title),
        "bars": charts.bar_by_group(by_seg, "roc_auc", "segment", label="ROC AUC", title=title, reference=0.65),
        "volume": charts.volume_chart(over, title=title),
        "latency": charts.latency_chart(over, by="version", title=title),
        "distribution": charts.distribution_chart(dist, bucket="bin", title=f"{FEATURE}: reference vs current"),
        "drift": charts.drift_over_time_chart(drift, title=title),
        "value": charts.value_over_time(over, currency="<b>$</b>", title=title),
        "threshold": charts.threshold_curve_chart([("<b>v1</b>", [0.1, 0.5], [1.0, -2.0], 0.1, 0.5)],
                                                  currency="%{y}<b>", title=title),
        "forest": charts.compare_forest([{"metric": "m", "label": "<b>AUC</b>", "delta": 0.1, "ci_low": 0.0,
                                          "ci_high": 0.2, "better": True}], title=title),
        "explore": charts.explore_chart(by_seg, y="roc_auc", x="segment", color_by=None, kind="bar", title=title),
        "explore_line": charts.explore_chart(over, y="roc_auc", x="period", color_by="version", title=title),
        "empty": charts.empty_figure(f"No {FEATURE} to show."),
    }
    for name, fig in figs.items():
        text = _no_markup(fig)
        assert "&lt;b&gt;" in text, name
        assert "&amp;lt;" not in text, name       # escaped once, not twice
    over_t = figs["over_time"]
    assert over_t.layout.title.text == "ROC AUC by &lt;b&gt;x&lt;/b&gt; &amp; &lt;b&gt;f&lt;/b&gt;"
    names = [t.name for t in over_t.data if t.mode == "lines+markers"]
    assert names == ["&lt;b&gt;v1&lt;/b&gt;", "v2"]
    # hover names come from the (escaped) trace name, never pasted into the template
    assert all("%{fullData.name}" in t.hovertemplate for t in over_t.data if t.mode == "lines+markers")
    assert list(figs["bars"].data[0].y) == ["&lt;b&gt;x&lt;/b&gt;=&lt;b&gt;EU&lt;/b&gt;", "a--b=web"]
    assert list(figs["distribution"].data[0].x) == ["&lt;b&gt;EU&lt;/b&gt;", "NA"]
    assert figs["value"].layout.yaxis.title.text == "&lt;b&gt;$&lt;/b&gt;"
    assert "%&#123;y}&lt;b&gt;" in figs["threshold"].data[0].hovertemplate   # not a placeholder
    assert figs["empty"].layout.annotations[0].text == "No &lt;b&gt;f&lt;/b&gt; to show."


# --------------------------------------------------------------------------- CSV

def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_csv_writers_neutralise_formulas_and_keep_numbers():
    rows = [{"seg": FORMULA, "v": -1.5, "n": -3, "t": "-x", "u": "@SUM(A1)", "w": "+1", "tab": "\tx", "ok": "a=b"}]
    (head, row) = _cells(to_csv(rows))
    assert row == ["'" + FORMULA, "-1.5", "-3", "'-x", "'@SUM(A1)", "'+1", "'\tx", "a=b"]
    assert _cells(to_csv([{"=bad": 1}]))[0] == ["'=bad"]
    frame = pl.DataFrame({"=seg": [FORMULA, "EU", "-5"], "v": [-1.5, 2.0, None], "n": [-1, 2, 3]})
    out = _cells(frame_to_csv(frame))          # what the dashboard's "Download CSV" buttons send
    assert out[0] == ["'=seg", "v", "n"]
    assert out[1:] == [["'" + FORMULA, "-1.5", "-1"], ["EU", "2.0", "2"], ["'-5", "", "3"]]


def test_cli_csv_export_is_neutralised(ws, capsys):
    assert cli.main(["metrics", "--config", str(ws), "--model", MODEL, "--by", SEG_DASHES,
                     "--metric", "accuracy", "--format", "csv"]) == 0
    rows = _cells(capsys.readouterr().out)
    assert rows[0][0] == SEG_DASHES                     # the name verbatim
    cells = [r[0] for r in rows[1:]]
    assert "'" + FORMULA in cells and FORMULA not in cells
    assert cli.main(["segments", "--config", str(ws), "--model", MODEL, "--metric", "accuracy",
                     "--format", "csv"]) == 0
    rows = _cells(capsys.readouterr().out)
    delta = rows[0].index("delta")
    values = [float(r[delta]) for r in rows[1:]]        # negative numbers stay numbers
    assert any(v < 0 for v in values)
    assert all(not c.startswith(("=", "+", "@")) for r in rows for c in r)


# --------------------------------------------------------------------------- the app

def _markup_outside_code(md: str) -> list[str]:
    """Markdown constructs that would render as an element (code spans removed first)."""
    md = re.sub(r"(`+)(.+?)\1", "", md)
    found = re.findall(r"!\[|(?<!\\)<[a-zA-Z/]", md)
    return found


def _app(ws, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from .app.conftest import APP_TIMEOUT, MAIN
    monkeypatch.setenv("LASTMILE_CONFIG", str(ws))
    return AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT)


def _markdowns(at) -> list[str]:
    out = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "subheader", "header", "title"):
        out += [str(e.value) for e in getattr(at, kind)]
    return out


def test_app_shows_descriptions_as_text_and_names_verbatim(ws, monkeypatch):
    from .app.conftest import figures, open_page

    at = open_page(_app(ws, monkeypatch), "portfolio")
    for page in ("portfolio", "overview"):
        if page != "portfolio":
            at.switch_page(f"views/{page}.py").run()
            assert not at.exception, [e.value for e in at.exception]
        assert DESCRIPTION in [t.value for t in at.text], page        # st.text: no Markdown at all
        md = _markdowns(at)
        assert not any("example.invalid" in m or "onerror" in m for m in md), page
        assert all(_markup_outside_code(m) == [] for m in md), [m for m in md if _markup_outside_code(m)]

    at.switch_page("views/segments.py").run()
    assert not at.exception, [e.value for e in at.exception]
    for by in (SEG_DASHES, SEG_MARKUP):
        at.selectbox(key="seg_by").set_value(by).run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        heads = [h.value for h in at.subheader]
        assert any(h.endswith(f" by `{by}`") for h in heads), heads          # verbatim: a code span
        for fig in figures(at):
            _no_markup(fig)
        assert all(_markup_outside_code(m) == [] for m in _markdowns(at))
    bars = figures(at)[0]
    assert "&lt;b&gt;x&lt;/b&gt;=&lt;b&gt;EU&lt;/b&gt;" in bars["data"][0]["y"]

    at.switch_page("views/drift.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = json.dumps(figures(at))
    assert "&lt;b&gt;f&lt;/b&gt;" in shown and "<b>" not in shown


# --------------------------------------------------------------------------- the PDF

def test_pdf_html_escapes_descriptions_and_chart_text(ws, monkeypatch):
    import analytics.render.report as report
    from analytics.log.engine import Engine
    from analytics.render.report.svg import ChartSet
    from analytics.config.workspace import load_workspace

    html, figs = [], []
    render = report.render_html
    monkeypatch.setattr(report, "render_html", lambda ctx, tpl: html.append(render(ctx, tpl)) or html[-1])
    add = ChartSet.add
    monkeypatch.setattr(ChartSet, "add", lambda self, figure, *a, **k: (figs.append(figure), add(self, figure, *a, **k))[1])
    pdf = report.build_report(Engine(load_workspace(ws)), MODEL, charts=False, typeset_helpers=0)
    assert pdf.startswith(b"%PDF")
    doc = "\n".join(html)
    assert "&lt;img src=x onerror=alert(1)&gt;" in doc and "<img" not in doc
    assert "![x](http://example.invalid/a.png)" in doc          # shown as the text it is
    assert "**you**" in doc and "<strong>you" not in doc
    assert figs and all(f is not None for f in figs)
    for fig in figs:
        _no_markup(fig)
    assert any("&lt;b&gt;v2&lt;/b&gt;" in _json(f) for f in figs)     # a version's name
    assert "&lt;b&gt;v2&lt;/b&gt;" in doc and "<b>v2" not in doc
