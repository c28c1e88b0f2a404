"""The dashboard leads with the decision, in the user's theme: time presets, light and dark
theme, and the Back button walking back through the views a user opened."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from .conftest import no_exception, shot, wait_idle

pytestmark = pytest.mark.e2e


def params(tab) -> dict[str, list[str]]:
    return parse_qs(urlparse(tab.url).query)


def test_time_presets_set_the_range_and_the_url(server, tab):
    tab.goto(f"{server}/overview?model=credit_default")
    wait_idle(tab)
    sidebar = tab.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("button", name="7 days").click()
    tab.wait_for_function("() => window.location.search.includes('from=2026-11-16')")
    wait_idle(tab)
    assert params(tab)["from"] == ["2026-11-16"]
    assert "2026-11-16" in sidebar.locator('[data-testid="stDateInput"] input').first.input_value()
    sidebar.get_by_role("button", name="All").click()
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
        tab.locator(".js-plotly-plot").first.wait_for()
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
        board.get_by_text("Switch credit_default from v1 to v3").wait_for()
        assert "Pull delivery_eta" in board.inner_text()
        # the board is above the first model card
        first_card = tab.get_by_role("heading", name="credit_default").first
        assert board.bounding_box()["y"] < first_card.bounding_box()["y"]
        no_exception(tab)
        shot(tab, "exec_portfolio_1280")
    finally:
        ctx.close()
