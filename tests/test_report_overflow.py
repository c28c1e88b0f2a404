"""No text of the PDF runs past the page's right margin: wide tables wrap their long
cells instead (the value table's "compute cost is 0.00038% of value" pushed its last
column off the page)."""

import datetime as dt
import io
import re
import subprocess

import pypdf
import pytest

from analytics.config.workspace import load_workspace
from analytics.log.engine import Engine
from analytics.render.report import model_input, sections
from analytics.render.report.pdf import html_to_pdf, render_html
from analytics.render.report.svg import ChartSet
from tests.factories import make_workspace

MM = 72 / 25.4
RIGHT_MARGIN = 16 * MM          # report.css: @page margin 20mm 16mm
#: tiny compute cost: every return on compute is above 1,000x, said as a share of value
BUSINESS = {"currency": "USD", "tp": 10000.0, "fp": -100.0, "fn": -4000.0, "tn": 0.0, "cost_per_1k": 0.0001}


def word_boxes(pdf: bytes, folder) -> list[tuple[int, float, str]]:
    """(page, right edge in points, word) of every word, from poppler's ``pdftotext -bbox``."""
    src, out = folder / "part.pdf", folder / "words.html"
    src.write_bytes(pdf)
    subprocess.run(["pdftotext", "-bbox", str(src), str(out)], check=True)
    words, page = [], 0
    for line in out.read_text(encoding="utf-8").splitlines():
        if "<page " in line:
            page += 1
        m = re.search(r'xMax="([\d.]+)"[^>]*>([^<]*)</word>', line)
        if m:
            words.append((page, float(m.group(1)), m.group(2)))
    return words


def page_width(pdf: bytes) -> float:
    return float(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].mediabox.width)


@pytest.fixture(scope="module")
def value_part(tmp_path_factory):
    g = make_workspace(tmp_path_factory.mktemp("overflow"), "binary", n=1500, seed=5, versions=("v1", "v2", "v3"),
                       business=BUSINESS)
    engine = Engine(load_workspace(g.config))
    mi = model_input(engine, engine.spec("binary_model"), ChartSet(enabled=False), dt.datetime(2026, 5, 1))
    k = sections.kpis(mi)
    v = sections.value(mi, {"kpis": k})
    html = render_html({"portfolio": False, "charts_on": False, "title": "binary_model", "sections": [v],
                        "running": None}, "part.html.j2")
    return html_to_pdf(html, sheet="part.css"), v, tmp_path_factory.mktemp("words")


def test_the_value_table_says_cost_shares_and_stays_inside_the_page(value_part):
    pdf, section, folder = value_part
    shown = " ".join(str(r.get("returns")) for r in section["rows"])
    assert "of value" in shown, shown     # the long wording this test is about
    limit = page_width(pdf) - RIGHT_MARGIN + 1.0
    words = word_boxes(pdf, folder)
    assert any(w == "Total" for _, _, w in words)   # the measure sees the table
    beyond = [(p, round(x), w) for p, x, w in words if x > limit]
    assert not beyond, beyond

