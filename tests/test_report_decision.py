"""Page 1 of the report is the decision: on the bundled sample, one recommendation
sentence per model with its money and evidence, key figures with their change, numbers
rounded for people and p-values only in the footnotes."""

import io
import re

import pypdf
import pytest

from analytics.log.engine import Engine
from analytics.render.report import model_input, sections
from analytics.render.report.decision import decision
from analytics.render.report.pdf import html_to_pdf, render_html
from analytics.render.report.svg import ChartSet
from analytics.config.workspace import SAMPLE_CONFIG, load_workspace

pytestmark = pytest.mark.skipif(not SAMPLE_CONFIG.is_file(), reason="bundled sample data not generated")


def _page_one(engine, model) -> tuple[str, dict]:
    """Page 1 of ``model``'s report, typeset alone (cover + decision, no charts)."""
    import datetime as dt

    mi = model_input(engine, engine.spec(model), ChartSet(enabled=False), dt.datetime(2026, 12, 1))
    k = sections.kpis(mi)
    h = sections.health(mi, {"kpis": k})
    c = sections.cover(mi, [k, h])
    c["decision"] = decision(mi, {"kpis": k, "health": h})
    html = render_html({"portfolio": False, "charts_on": False, "title": model, "sections": [c],
                        "running": None}, "part.html.j2")
    pdf = html_to_pdf(html, sheet="part.css")
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    return re.sub(r"\s+", " ", pages[0].extract_text()), c["decision"]


@pytest.fixture(scope="module")
def pages():
    engine = Engine(load_workspace(SAMPLE_CONFIG))
    return {m: _page_one(engine, m) for m in ("credit_default", "ticket_router", "delivery_eta")}


def test_every_recommendation_is_a_sentence_on_page_one(pages):
    for model, (text, dec) in pages.items():
        assert dec["recommendations"], model
        for r in dec["recommendations"]:
            head = r["sentence"].split(":")[0]
            assert head in text, (model, head, text[:600])
        assert "What to do" in text and "key figure" in text.lower() and "previous period" in text.lower()


def test_credit_default_page_one_switches_to_v3_and_moves_the_threshold_with_money(pages):
    text, dec = pages["credit_default"]
    assert "Switch credit_default from v1 to v3" in text
    assert "from 0.30 to 0.20" in text
    money = re.findall(r"\$\d[\d.,]*[kM]?", text)
    assert any(m == "$962k" for m in money), money
    switch = next(r for r in dec["recommendations"] if r["action"] == "switch")
    assert re.search(r"worth about \$\d[\d.]*k a month more", switch["sentence"])
    # the evidence in words; the exact p-value only as a footnote
    assert "very unlikely to be chance" in text
    body, _, notes = text.partition("AUC: paired DeLong")
    assert not re.search(r"\bp = ", body), body
    assert re.search(r"p = \d", notes)


def test_delivery_eta_page_one_says_pull_and_that_money_is_not_known(pages):
    text, _ = pages["delivery_eta"]
    assert "Pull delivery_eta" in text and "55.5% worse" in text
    assert "Switch delivery_eta from v1 to v2" in text and "no business values" in text


def test_page_one_numbers_are_rounded_for_people(pages):
    for model, (text, dec) in pages.items():
        body = text   # the facts line (dates) included: it holds no statistic
        # statistics to 3 significant digits: no 0.xxxx with four or more decimals
        assert not re.search(r"\b0\.\d{4,}", body), (model, re.findall(r"\b0\.\d{4,}", body))
        assert any(r["label"] for r in dec["kpis"])


def test_appendix_is_plain_language_without_code_names_or_flags():
    from analytics.metrics import METRICS
    from analytics.render.report.appendix import PLAIN, appendix

    s = appendix(tuple(METRICS))
    html = render_html({"s": s, "portfolio": False}, "sections/methods.html.j2")
    text = re.sub(r"<[^>]+>", " ", html)
    assert "Method notes" in text and "Ranges" in text and "Recommendations" in text
    assert not re.search(r"--[a-z]", text)                        # no command-line options
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text)             # no snake_case names
    assert not re.search(r"\b\w+\.\w+\(|\w+\(\)|`|\blastmile\b|\.toml|\.md\b", text)
    assert set(PLAIN) >= set(METRICS)                              # every metric has plain words
