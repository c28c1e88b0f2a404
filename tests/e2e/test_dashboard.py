"""The dashboard in a real browser: every tab renders, filters and links work, the PDF downloads."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from .conftest import no_exception, shot, wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-sample")]  # one server (conftest), one worker

PAGES = ["", "overview", "segments", "compare", "drift", "quality", "value", "operations", "explore", "report"]


def params(tab) -> dict[str, list[str]]:
    return parse_qs(urlparse(tab.url).query)


def tile(tab, label: str) -> str:
    """The value of the KPI tile whose label starts with ``label``."""
    m = tab.locator('[data-testid="stMetric"]').filter(has=tab.locator(
        '[data-testid="stMetricLabel"]', has_text=label)).first
    return m.locator('[data-testid="stMetricValue"]').inner_text()


@pytest.mark.parametrize("path", PAGES)
def test_every_page_opens_without_an_error(server, tab, path):
    tab.goto(f"{server}/{path}")
    wait_idle(tab)
    no_exception(tab)
    assert tab.locator('[data-testid="stAlertContentError"]').count() == 0
    assert tab.locator("h1").count() == 1
    shot(tab, path or "portfolio")


def test_a_filter_change_updates_numbers_and_url(server, tab):
    tab.goto(f"{server}/operations?model=credit_default")
    wait_idle(tab)
    before = tile(tab, "Predictions")
    tab.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="Versions").click()
    tab.get_by_role("option", name="v2").click()
    tab.keyboard.press("Escape")
    wait_idle(tab)
    tab.wait_for_function("() => window.location.search.includes('version=v2')")
    after = tile(tab, "Predictions")
    assert after != before
    assert params(tab)["version"] == ["v2"]
    no_exception(tab)


def test_portfolio_click_through_opens_the_model(server, tab):
    tab.goto(server)
    wait_idle(tab)
    tab.get_by_role("button", name=re.compile("Open")).nth(2).click()
    tab.wait_for_url(re.compile(r"/overview"))
    wait_idle(tab)
    tab.get_by_text("delivery_eta · regression").wait_for()
    assert params(tab)["model"] == ["delivery_eta"]
    no_exception(tab)


def test_a_shared_url_restores_its_view(server, tab):
    url = (f"{server}/segments?model=credit_default&metric=accuracy&by=channel"
           f"&where=region%3DEU&from=2026-07-01&to=2026-09-30")
    tab.goto(url)
    wait_idle(tab)
    sidebar = tab.locator('[data-testid="stSidebar"]')
    assert "2026-07-01" in sidebar.locator('[data-testid="stDateInput"] input').first.input_value()
    tab.get_by_role("heading", name="Accuracy by channel").wait_for()
    q = params(tab)
    assert q["where"] == ["region=EU"] and q["metric"] == ["accuracy"]
    # a reload (a new session) shows the same view
    tab.reload()
    wait_idle(tab)
    tab.get_by_role("heading", name="Accuracy by channel").wait_for()
    assert "2026-07-01" in tab.locator('[data-testid="stSidebar"] [data-testid="stDateInput"] input').first.input_value()
    shot(tab, "segments_shared_url")
    no_exception(tab)


def test_the_pdf_report_downloads(server, tab):
    tab.goto(f"{server}/report?model=delivery_eta")
    wait_idle(tab)
    tab.get_by_role("button", name=re.compile("Build the PDF")).click()
    button = tab.get_by_role("button", name=re.compile("Download the PDF"))
    button.wait_for(timeout=120_000)
    with tab.expect_download(timeout=60_000) as dl:
        button.click()
    path = dl.value.path()
    with open(path, "rb") as f:
        assert f.read(5) == b"%PDF-"
    # <model>_<start>_<last day>.pdf: the period the page states and the cover shows (issue #17)
    assert re.fullmatch(r"delivery_eta_\d{4}-\d\d-\d\d_\d{4}-\d\d-\d\d\.pdf", dl.value.suggested_filename)
    shot(tab, "report_built")
    no_exception(tab)


def test_two_sessions_at_once_do_not_interfere(server, chromium):
    """Two browsers query different models at the same time (one DuckDB connection per session thread)."""
    contexts = [chromium.new_context(viewport={"width": 1440, "height": 1000}) for _ in range(2)]
    try:
        a, b = (c.new_page() for c in contexts)
        a.goto(f"{server}/operations?model=credit_default", wait_until="commit")
        b.goto(f"{server}/operations?model=delivery_eta&version=v2", wait_until="commit")
        for tab in (a, b):
            wait_idle(tab)
            no_exception(tab)
            assert tab.locator('[data-testid="stAlertContentError"]').count() == 0
        assert params(a) == {"model": ["credit_default"]}
        assert params(b) == {"model": ["delivery_eta"], "version": ["v2"]}
        assert tile(a, "Predictions") != tile(b, "Predictions")
    finally:
        for c in contexts:
            c.close()


def test_a_shadow_version_is_compared_paired(server, tab):
    tab.goto(f"{server}/compare?model=credit_default&baseline=v1&candidate=v3")
    wait_idle(tab)
    assert tile(tab, "Paired on") != ""
    assert tab.get_by_text(re.compile(r"overlap 100\.0%")).count() == 1
    shot(tab, "compare_paired")
    no_exception(tab)
