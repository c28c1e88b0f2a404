"""The executive PDF report: same KPIs as the registry, sane pages, fonts, bad cases.

Rendering is the slow part (queries, one browser, WeasyPrint), so each
workspace is rendered once per module and every test reads the same PDF.
Page 1 of each report is written as PNG under ``artifacts/report/`` for review.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
import subprocess
from pathlib import Path

import pypdf
import pytest

from analytics.cli import main
from analytics.config.workspace import load_workspace
from analytics.errors import DependencyError, LastmileError
from analytics.log.engine import Engine
from analytics.metrics import format_metric, format_value, get_metric, metric_names
from analytics.metrics.compute import compute_metrics
from analytics.query.selection import Selection
from analytics.render import format as fmt
from analytics.render.report import DEFAULT_DAYS, build_report, check_output_path
from analytics.render.report.sections import markdown_html
from analytics.render.report.svg import ChartSet
from .factories import START, make_workspace


ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "report"
BUSINESS = {"currency": "USD", "tp": 100.0, "fp": -10.0, "fn": -40.0, "tn": 0.0, "cost_per_1k": 0.5}
PERIOD = (START + dt.timedelta(days=28), START + dt.timedelta(days=56))
A4 = (595.28, 841.89)
LETTER = (612.0, 792.0)


def _text(pdf: bytes) -> list[str]:
    """Each page's text, whitespace collapsed."""
    return [re.sub(r"\s+", " ", p.extract_text()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def _png(pdf: bytes, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    src = ARTIFACTS / f"{name}.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(src),
                    str(ARTIFACTS / f"{name}-page1")], check=True)
    return ARTIFACTS / f"{name}-page1.png"


@pytest.fixture(scope="module")
def labeled(tmp_path_factory):
    """A binary model with business values, reported with charts on A4 for an explicit period."""
    g = make_workspace(tmp_path_factory.mktemp("report"), "binary", n=2500, seed=3, business=BUSINESS)
    engine = Engine(load_workspace(g.config))
    steps: list[str] = []
    pdf = build_report(engine, "binary_model", start=PERIOD[0], end=PERIOD[1], paper="A4", charts=True,
                       progress=steps.append, now=dt.datetime(2026, 5, 1, 9, 30))
    _png(pdf, "binary_model")
    return engine, pdf, _text(pdf), steps


@pytest.fixture(scope="module")
def unlabeled(tmp_path_factory):
    """No outcome at all: the report must still render, with explanations. Made by the CLI:
    `lastmile report --all --paper letter --no-charts`, with a second model whose files are gone."""
    folder = tmp_path_factory.mktemp("nolabels")
    broken = {"name": "broken_model", "task": "binary", "predictions": "gone/*.parquet",
              "columns": {"timestamp": "ts", "score": "score", "label": "y"}}
    g = make_workspace(folder, "regression", n=1500, seed=4, label_share=0.0, outcomes=False, extra_model=broken)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["report", "--config", str(g.config), "--all", "--paper", "Letter", "--no-charts",
                   "-o", str(folder / "portfolio.pdf")])
    assert rc == 0, err.getvalue()
    pdf = (folder / "portfolio.pdf").read_bytes()
    _png(pdf, "no_labels")
    return pdf, _text(pdf), out.getvalue(), err.getvalue()


def test_kpis_match_the_registry_for_the_same_bounds(labeled):
    engine, _pdf, pages, _ = labeled
    text = " ".join(pages)
    row = compute_metrics(engine, Selection.build("binary_model", *PERIOD)).rows[0]
    assert row.n > 0 and row.n_labeled > 0
    for name in metric_names("binary"):
        d, v = get_metric(name, "binary"), row.metrics[name]
        expected = f"{d.label} {format_metric(d, v)}"
        assert expected in text, f"{name}: {expected!r} not in the report"
    assert "2026-03-30 to 2026-04-26 (28 days)" in text   # the period, both days included
    assert "--start" not in text                           # no CLI flags for readers


def test_kpis_match_lastmile_metrics(labeled, capsys):
    """Every value and interval `lastmile metrics` prints for the period appears, as printed, in the KPI table."""
    engine, _pdf, pages, _ = labeled
    assert main(["metrics", "--config", str(engine.workspace.path), "--model", "binary_model",
                 "--start", "2026-03-30", "--end", "2026-04-27"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rule = lines.index(next(x for x in lines if x.startswith("---")))
    header = re.split(r"\s{2,}", lines[rule - 1].strip())
    name_at, value_at = header.index("metric"), header.index("value [95% CI]")
    printed = {cells[name_at]: cells[value_at]
               for cells in (re.split(r"\s{2,}", x.strip()) for x in lines[rule + 1:])}
    assert set(printed) == set(metric_names("binary"))
    text = " ".join(pages)
    for name, cell in printed.items():
        assert f"{get_metric(name, 'binary').label} {cell}" in text, (name, cell)


def test_change_against_the_previous_period(labeled):
    engine, _pdf, pages, _ = labeled
    text = " ".join(pages)
    length = PERIOD[1] - PERIOD[0]
    prev = compute_metrics(engine, Selection.build("binary_model", PERIOD[0] - length, PERIOD[0])).rows[0]
    cur = compute_metrics(engine, Selection.build("binary_model", *PERIOD)).rows[0]
    d = get_metric("roc_auc", "binary")
    change = cur.metrics["roc_auc"].value - prev.metrics["roc_auc"].value
    assert f"{format_value(d, prev.metrics['roc_auc'].value)} {fmt.delta(change, d.fmt)}" in text


def test_pages_paper_footer_and_sections(labeled):
    _engine, pdf, pages, steps = labeled
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    n = len(reader.pages)
    assert 4 <= n <= 20
    for i, (page, text) in enumerate(zip(reader.pages, pages), start=1):
        box = page.mediabox
        assert (float(box.width), float(box.height)) == pytest.approx(A4, abs=0.5)
        assert f"Page {i} of {n}" in text
    text = " ".join(pages)
    for title in ("Key figures", "Health checks", "Value and ROI", "Performance over time", "Version comparison",
                  "Drift", "Weak segments", "Label coverage", "Method notes"):
        assert title in text, title
    assert "A generated binary model" in pages[0] and "generated at 2026-05-01 09:30 utc" in pages[0].lower()
    assert any("key figures" in s for s in steps) and steps[-1] == "typesetting the PDF"


def test_charts_are_vector_and_fonts_embedded(labeled):
    _engine, pdf, _pages, _ = labeled
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    fonts, images = {}, 0

    def walk(resources):
        nonlocal images
        resources = resources.get_object() if resources is not None else {}
        for f in (resources.get("/Font") or {}).values():
            f = f.get_object()
            desc = f.get("/FontDescriptor")
            if desc is None and "/DescendantFonts" in f:
                desc = f["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            desc = desc.get_object()
            fonts[str(f["/BaseFont"])] = any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        for x in (resources.get("/XObject") or {}).values():
            x = x.get_object()
            if x.get("/Subtype") == "/Image":
                images += 1
            elif "/Resources" in x:
                walk(x["/Resources"])

    for page in reader.pages:
        walk(page.get("/Resources"))
    assert fonts and all(fonts.values()), fonts
    assert any("Liberation" in f or "DejaVu" in f for f in fonts)
    assert images == 0  # charts are vector drawings, not bitmaps
    assert len(reader.pages[0].extract_text()) > 0


def test_no_labels_still_renders_with_explanations(unlabeled):
    pdf, pages, out, err = unlabeled
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert 3 <= len(reader.pages) <= 20
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(LETTER, abs=0.5)
    text = " ".join(pages)
    assert "portfolio" in pages[0].lower() and "regression_model" in pages[0]
    assert "cannot be drawn over time" in text
    assert "No prediction in this window has a known outcome yet" in text
    assert "No business values are configured" in text
    assert f"({DEFAULT_DAYS} days)" in text
    assert "Charts were left out" in text and "Key figures" in text
    # a model whose logs cannot be read gets a page saying why; the others are reported
    assert "broken_model" in pages[0] and "Cannot be reported on: No Parquet files match" in pages[0]
    assert "This model cannot be reported on: No Parquet files match" in text
    assert "(the predictions of model 'broken_model')" in text
    # progress on stderr, the result on stdout
    assert "regression_model: key figures" in err and "typesetting the PDF" in err
    assert out.startswith("Wrote ") and "portfolio.pdf" in out


def test_no_charts_needs_no_browser(tmp_path):
    charts = ChartSet(enabled=False, browser_path=tmp_path / "no-chromium")
    assert charts.add(object(), alt="x") is None and charts.charts == []
    charts.render()
    charts.close()


def test_missing_browser_is_a_clear_error_before_any_work(tmp_path, binary_ws):
    _g, _ws, engine = binary_ws
    with pytest.raises(DependencyError, match=r"apt-get install chromium"):
        build_report(engine, "binary_model", browser_path=tmp_path / "no-chromium")


def test_unwritable_output_is_a_clear_error(tmp_path, binary_ws, capsys):
    g, _ws, _engine = binary_ws
    with pytest.raises(LastmileError, match="does not exist"):
        check_output_path(tmp_path / "missing" / "r.pdf")
    with pytest.raises(LastmileError, match="is a folder"):
        check_output_path(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.geteuid() != 0:  # root may write anywhere
            with pytest.raises(LastmileError, match="not writable"):
                check_output_path(locked / "r.pdf")
    finally:
        locked.chmod(0o700)
    rc = main(["report", "--config", str(g.config), "--model", "binary_model", "-o", str(tmp_path / "no" / "r.pdf")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: Cannot write the report") and "\n" == err[-1] and err.count("\n") == 1


def test_bad_paper_unknown_model_and_empty_period(binary_ws):
    _g, _ws, engine = binary_ws
    with pytest.raises(LastmileError, match=r"no predictions from 2027-01-01 to 2027-02-01; its data runs from "):
        build_report(engine, "binary_model", start="2027-01-01", end="2027-02-01", charts=False)
    with pytest.raises(LastmileError, match="Paper 'A5'"):
        build_report(engine, "binary_model", paper="A5", charts=False)
    with pytest.raises(LastmileError, match="did you mean 'binary_model'"):
        build_report(engine, "binary_mode", charts=False)


def test_method_notes_keep_methods_and_drop_usage():
    html = markdown_html("# Area\n\nIntro.\n\n## Definitions\n\nPSI is...\n\n```toml\nx = 1\n```\n\n"
                         "## Command line\n\n`lastmile x`\n\n### Flags\n\nmore\n\n## Tests\n\nKS.\n")
    assert "PSI is" in html and "KS." in html and "Area" in html
    assert "x = 1" not in html and "lastmile x" not in html and "Flags" not in html
    # usage paragraphs and list items inside a method section go too, the rest of the list stays
    html = markdown_html("## Rules\n\nDrift is tested by KS.\n\n`--by` groups by version.\n\n"
                         "JSON: `{...}`\n\n- PSI over deciles.\n- `--metric NAME` keeps one metric.\n- JS distance.\n")
    assert "KS" in html and "PSI over deciles" in html and "JS distance" in html
    assert "groups by version" not in html and "JSON" not in html and "keeps one metric" not in html
    assert html.count("<li>") == 2


def test_chapters_keep_the_reading_order():
    from analytics.render.report.sections import CHAPTERS, SECTIONS, START_ORDER

    keys = ["kpis"] + [key for key, _area, _builder in SECTIONS]
    assert [key for chapter in CHAPTERS for key in chapter] == keys
    assert sorted(START_ORDER) == sorted(keys) and START_ORDER[0] == "kpis"


def test_chapters_start_pages_and_nest_under_their_model(labeled):
    _engine, pdf, pages, _ = labeled
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    children: dict[str, list[tuple[str, int]]] = {}  # top-level bookmark -> its children (title, page)

    def walk(items, parent):
        last = None
        for item in items:
            if isinstance(item, list):
                walk(item, last)
            else:
                last = item.title
                children.setdefault(parent, []).append((item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline, None)
    assert [t for t, _p in children[None]] == ["binary_model", "Method notes"]
    titles = dict(children["binary_model"])
    assert list(titles)[:2] == ["What to do", "Key figures"] and list(titles)[-1] == "Label coverage"
    # each chapter opens a page: its first section's title is the first text under the page's header
    for first in ("Key figures", "Performance over time", "Drift"):
        assert pages[titles[first] - 1].find(first) < 80, (first, pages[titles[first] - 1][:120])
    notes = dict(children[None])["Method notes"]
    assert all("Method notes" in p for p in pages[notes - 1:])  # the notes' header on every page


def test_portfolio_notes_define_only_what_is_shown(unlabeled):
    """The notes are typeset early from the models' tasks; a model that cannot be reported on (a
    binary one here) takes its metrics out of them again."""
    _pdf, pages, _out, _err = unlabeled
    text = " ".join(pages)
    notes = text[text.index("Method notes Every number"):]
    assert "RMSE" in notes and "ROC AUC" not in notes


def test_kept_page_draws_the_same_svg_as_kaleido():
    """kaleido reloads its page after each figure; the report's browser keeps it. The SVGs are
    the same up to plotly's random element ids and attribute order."""
    import asyncio
    import xml.etree.ElementTree as ET
    from concurrent.futures import ThreadPoolExecutor

    from kaleido import Kaleido

    from analytics.render.charts import bar_by_group, compare_forest  # noqa: F401 - the app's chart module loads
    from analytics.render.report.svg import _kaleido_class, _style, find_browser, svg_of
    import plotly.graph_objects as go

    figures = [_style(go.Figure([go.Scatter(x=list(range(20)), y=[(i * k) % 7 for i in range(20)], name=f"v{k}")
                                 for k in range(3)], layout={"title": f"figure {n}"}), 720, 300) for n in range(3)]
    figures.append(_style(go.Figure([go.Bar(x=["a", "b", "c"], y=[3, 1, 2])]), 720, 300))

    async def draw(cls):
        k = cls(path=find_browser(), mathjax=False, n=1)
        await k.open()
        try:
            return [await svg_of(k, f, 720, 300) for f in figures]   # as the report draws, retries included
        finally:
            await k.close()

    def canonical(svg: str):
        ids = list(dict.fromkeys(re.findall(r'(?:trace|clip|defs-|legend|id=")([0-9a-f]{6})(?![0-9a-f])', svg)))
        for i, x in enumerate(ids):
            svg = svg.replace(x, f"ID{i}")
        return [(e.tag, sorted(e.attrib.items()), (e.text or "").strip()) for e in ET.fromstring(svg).iter()]

    kept_class = _kaleido_class(Kaleido)
    assert kept_class is not Kaleido  # kaleido still has the method the report overrides
    def run(coro_fn, cls):  # on a thread of its own: the browser tests may leave an event loop running here
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(lambda: asyncio.run(coro_fn(cls))).result()

    reloaded, kept = run(draw, Kaleido), run(draw, kept_class)
    assert [canonical(s) for s in kept] == [canonical(s) for s in reloaded]


def test_metric_definitions_are_not_broken_after_their_first_word(labeled):
    """WeasyPrint 70 broke the first line of some definitions after one word ("Among" alone on
    its line) when an inline interval note followed; each description is now a span of its own."""
    _engine, pdf, _pages, _ = labeled
    raw = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Of the cases the model flagged, the share" in raw  # the appendix's plain words for precision


def test_report_file_name_is_model_start_last_day():
    import datetime as dt

    from analytics.render.report import file_name

    s, e = dt.datetime(2026, 10, 26), dt.datetime(2026, 11, 23)
    assert file_name("credit_default", s, e) == "credit_default_2026-10-26_2026-11-22.pdf"
    assert file_name(None, s, e) == "portfolio_2026-10-26_2026-11-22.pdf"
    assert file_name("../etc/x y", None, None) == ".._etc_x_y_first_last.pdf"


def _fill(page) -> float:
    """Share of the page's content height (between the header and footer margins) above the
    lowest line of text on it."""
    height = float(page.mediabox.height)
    top, bottom = height - 20 * 72 / 25.4, 20 * 72 / 25.4   # the 20 mm margins of report.css
    ys = []

    def visit(text, cm, tm, _font, _size):
        if text.strip():
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            if bottom < y < top:
                ys.append(y)

    page.extract_text(visitor_text=visit)
    return (top - min(ys)) / (top - bottom) if ys else 0.0


def test_no_page_is_less_than_half_full_unless_a_chapter_ends_there(labeled):
    _engine, pdf, pages, _ = labeled
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    starts = set()   # pages on which a chapter (or the notes) begins

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            elif item.title in ("Key figures", "Performance over time", "Per-class performance", "Drift",
                                "Method notes", "binary_model"):
                starts.add(reader.get_destination_page_number(item))

    walk(reader.outline)
    n = len(reader.pages)
    fills = [_fill(p) for p in reader.pages]
    short = [(i + 1, round(f, 2)) for i, f in enumerate(fills)
             if f < 0.5 and i + 1 < n and (i + 1) not in starts]
    assert not short, (short, sorted(s + 1 for s in starts))
    assert 0 < min(fills) and max(fills) > 0.8   # the measure sees the pages


def test_no_word_runs_past_the_right_margin(labeled, tmp_path):
    from tests.test_report_overflow import RIGHT_MARGIN, word_boxes

    _engine, pdf, _pages, _ = labeled
    words = word_boxes(pdf, tmp_path)
    assert len(words) > 500
    limit = A4[0] - RIGHT_MARGIN + 1.0
    assert not [(p, round(x), w) for p, x, w in words if x > limit]


def test_a_chart_asked_before_kaleidos_page_loaded_is_asked_again(monkeypatch):
    """On a busy machine kaleido's page may not have run its scripts yet: the report waits and
    asks again (a CI run failed on it); any other error is raised at once."""
    import asyncio

    from analytics.render.report import svg

    pause = asyncio.sleep
    monkeypatch.setattr(svg.asyncio, "sleep", lambda s: pause(0))   # no waiting in the test

    class Page:
        def __init__(self, errors):
            self.errors, self.calls = list(errors), 0

        async def calc_fig(self, fig, opts):
            self.calls += 1
            if self.errors:
                raise RuntimeError(self.errors.pop(0))
            return b"<svg/>"

    early = Page(["ReferenceError: kaleido_scopes is not defined"] * 2)
    assert asyncio.run(svg.svg_of(early, None, 10, 10)) == "<svg/>" and early.calls == 3
    broken = Page(["TypeError: figure is bad"])
    with pytest.raises(RuntimeError, match="figure is bad"):
        asyncio.run(svg.svg_of(broken, None, 10, 10))
    assert broken.calls == 1
    never = Page(["ReferenceError: kaleido_scopes is not defined"] * (svg.LOAD_RETRIES + 1))
    with pytest.raises(RuntimeError, match="not defined"):
        asyncio.run(svg.svg_of(never, None, 10, 10))
    assert never.calls == svg.LOAD_RETRIES + 1
