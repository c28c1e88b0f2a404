"""The dashboard leads with the decision, in the user's theme: time presets, light and dark
theme, and the Back button walking back through the views a user opened."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from .conftest import no_exception, shot, wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-sample")]  # one server (conftest), one worker


def params(tab) -> dict[str, list[str]]:
    return parse_qs(urlparse(tab.url).query)


def test_time_presets_set_the_range_and_the_url(server, tab):
    tab.goto(f"{server}/overview?model=credit_default")
    wait_idle(tab)
    sidebar = tab.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("7d", exact=True).click(timeout=120_000)
    tab.wait_for_function("() => window.location.search.includes('from=2026-11-16')")
    wait_idle(tab)
    assert params(tab)["from"] == ["2026-11-16"]
    assert "2026-11-16" in sidebar.locator('[data-testid="stDateInput"] input').first.input_value()
    sidebar.get_by_text("All", exact=True).click()
    tab.wait_for_function("() => !window.location.search.includes('from=')")
    wait_idle(tab)
    no_exception(tab)
    shot(tab, "exec_presets")


def _luminance(rgb: str) -> float:
    r, g, b = (int(x) for x in re.findall(r"\d+", rgb)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_theme_follows_the_system_setting_and_charts_stay_readable(server, chromium, scheme):
    ctx = chromium.new_context(viewport={"width": 1280, "height": 1200}, color_scheme=scheme)
    tab = ctx.new_page()
    tab.set_default_timeout(30_000)
    try:
        tab.goto(f"{server}/overview?model=credit_default")
        wait_idle(tab)
        tab.locator(".js-plotly-plot .xtick text").first.wait_for(timeout=120_000)
        bg = tab.evaluate("() => getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor")
        tick = tab.evaluate("() => getComputedStyle(document.querySelector('.js-plotly-plot .xtick text')).fill")
        dark = scheme == "dark"
        assert (_luminance(bg) < 80) == dark, bg
        # axis labels contrast with the page
        assert abs(_luminance(tick) - _luminance(bg)) > 90, (tick, bg)
        no_exception(tab)
        shot(tab, f"exec_theme_{scheme}")
    finally:
        ctx.close()


def test_the_portfolio_leads_with_what_to_do(server, chromium):
    ctx = chromium.new_context(viewport={"width": 1280, "height": 1400})
    tab = ctx.new_page()
    tab.set_default_timeout(30_000)
    try:
        tab.goto(server)
        wait_idle(tab)
        board = tab.locator('[class*="st-key-pf_decisions"]')
        board.get_by_text("Switch credit_default from v1 to v3").wait_for(timeout=120_000)
        assert "Pull delivery_eta" in board.inner_text()
        # the board is above the first model card
        first_card = tab.get_by_role("heading", name="credit_default").first
        assert board.bounding_box()["y"] < first_card.bounding_box()["y"]
        no_exception(tab)
        shot(tab, "exec_portfolio_1280")
    finally:
        ctx.close()


def test_back_walks_through_the_same_views_one_press_each(server, chromium):
    """Five views opened from the navigation, then Back four times: each press shows the
    previous view, with the URL it had and its heading (one history entry per click)."""
    ctx = chromium.new_context(viewport={"width": 1280, "height": 1200})
    tab = ctx.new_page()
    tab.set_default_timeout(120_000)
    try:
        tab.goto(f"{server}/overview?model=delivery_eta")
        wait_idle(tab)
        seen = [(tab.url, tab.locator("h1").inner_text())]
        for title in ("Segments", "Compare versions", "Value", "Operations"):
            tab.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]').filter(has_text=title).click()
            tab.wait_for_function("t => document.querySelector('h1') && document.querySelector('h1').innerText === t",
                                  arg=title if title != "Compare versions" else "Compare versions")
            wait_idle(tab)
            seen.append((tab.url, tab.locator("h1").inner_text()))
        assert all("model=delivery_eta" in u for u, _ in seen), seen
        assert len({u for u, _ in seen}) == 5, seen
        for url, heading in reversed(seen[:-1]):
            tab.go_back()
            tab.wait_for_function("t => document.querySelector('h1') && document.querySelector('h1').innerText === t",
                                  arg=heading)
            wait_idle(tab)
            assert (tab.url, tab.locator("h1").inner_text()) == (url, heading)
        no_exception(tab)
    finally:
        ctx.close()


WIDTHS = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]')].map(d => {
  const s = d.querySelector('.dvn-scroller'); return s ? [s.scrollWidth, s.clientWidth] : null; }).filter(x => x)"""

TILES = """() => [...document.querySelectorAll('[data-testid="stMetricValue"]')].map(d => {
  const e = d.querySelector('div') || d; return [e.innerText, e.scrollWidth, e.clientWidth]; })"""


def _nothing_cut_off(chromium, server, paths, selector: str, measure: str) -> None:
    """On each page at 1280 px (sidebar open), every ``selector`` element's content fits
    its box: ``measure`` gives [..., scrollWidth, clientWidth] per element."""
    ctx = chromium.new_context(viewport={"width": 1280, "height": 1200})
    tab = ctx.new_page()
    tab.set_default_timeout(120_000)
    try:
        for path in paths:
            tab.goto(f"{server}/{path}?model=credit_default")
            wait_idle(tab)
            tab.locator(selector).first.wait_for()
            widths = tab.evaluate(measure)
            assert widths and all(w[-2] <= w[-1] + 1 for w in widths), (path, widths)
        no_exception(tab)
    finally:
        ctx.close()


def test_no_table_is_cut_off_at_1280_px(server, chromium):
    """Every table shows all its columns at 1280 px with the sidebar open (no horizontal scroll)."""
    _nothing_cut_off(chromium, server, ("value", "drift", "compare", "segments"),
                     '[data-testid="stDataFrame"] .dvn-scroller', WIDTHS)


def test_no_tile_value_is_cut_off_at_1280_px(server, chromium):
    """Every tile shows its whole value at 1280 px with the sidebar open (no "12.6 …")."""
    _nothing_cut_off(chromium, server, ("overview", "operations", "value", "drift"),
                     '[data-testid="stMetricValue"]', TILES)
