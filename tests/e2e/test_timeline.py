"""The health timeline in a real browser (issue #20): the overview and the portfolio
draw the recorded verdicts as status bands, with the version releases marked.

The history is seeded through :class:`~analytics.alerts.history.History` (the same
writer `lastmile check` and `check --backfill` use) in a state folder of its own, and
a server of its own reads it through LASTMILE_CACHE_DIR. A real backfill of the sample
costs several seconds per model and day, too slow for the suite.
"""

from __future__ import annotations

import datetime as _dt
import subprocess
from pathlib import Path

import pytest

from analytics.alerts.history import History
from analytics.config.cachedir import state_dir
from analytics.config.workspace import load_workspace

from .conftest import CHROMIUM, SAMPLE, free_port, no_exception, shot, start_server, wait_healthy, wait_idle

pytestmark = pytest.mark.e2e

# (model, day the verdict is as of, status, rules)
SEED = [
    ("credit_default", "2026-10-12", "warn", ["latency_p95"]),
    ("credit_default", "2026-10-15", "pull", ["drop", "latency_p95"]),
    ("credit_default", "2026-10-18", "warn", ["latency_p95"]),
    ("credit_default", "2026-10-21", "warn", ["latency_p95"]),
    ("delivery_eta", "2026-10-12", "warn", ["drop"]),
    ("delivery_eta", "2026-10-15", "pull", ["drop"]),
    ("delivery_eta", "2026-10-21", "pull", ["drop"]),
    ("ticket_router", "2026-10-12", "warn", ["prediction_psi"]),
    ("ticket_router", "2026-10-21", "healthy", []),
]


def seed(cache_root) -> None:
    history = History.in_state_dir(state_dir(load_workspace(SAMPLE).path, cache_root))
    with history.connect() as con:
        run = history.start_run(con, "backfill", "e2e", False, _dt.datetime(2026, 10, 22))
        for model, day, status, rules in SEED:
            end = _dt.datetime.fromisoformat(day)
            reasons = [{"rule": r, "level": status, "message": f"{model}: the {r} rule ({status})."}
                       for r in rules]
            history.add_verdict(con, run, {
                "model": model, "status": status, "reasons": reasons, "versions": ["v1", "v2", "v3"],
                "windows": {"current": {"start": (end - _dt.timedelta(days=7)).isoformat(), "end": end.isoformat()}},
            }, end.isoformat(), event="backfill")


@pytest.fixture(scope="module")
def seeded_server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    cache = tmp_path_factory.mktemp("timeline-cache")
    seed(cache)
    port = free_port()
    proc = start_server(SAMPLE, port, env={"LASTMILE_CACHE_DIR": str(cache)})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def timeline(tab):
    """The plotly chart inside the open "Health over time" expander."""
    box = tab.locator('[data-testid="stExpander"]').filter(has_text="Health over time")
    box.wait_for()
    plot = box.locator('[data-testid="stPlotlyChart"] .js-plotly-plot')
    plot.wait_for()
    tab.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .barlayer path').length > 0")
    return box, plot


def legend(plot) -> set[str]:
    return {t.strip() for t in plot.locator(".legendtext").all_text_contents()}


def test_the_overview_draws_the_models_status_bands_and_releases(seeded_server, tab):
    tab.goto(f"{seeded_server}/overview?model=credit_default")
    wait_idle(tab)
    no_exception(tab)
    box, plot = timeline(tab)
    assert {"warn", "pull", "release"} <= legend(plot)
    assert "healthy" not in legend(plot)           # credit_default was never healthy in the seed
    # three bands: warn, pull, warn (two warn verdicts in a row are one band)
    assert plot.locator(".barlayer .point path").count() == 3
    texts = plot.locator(".scatterlayer .textpoint").all_text_contents()
    assert {"v2", "v3"} <= set(texts)              # the release markers of later versions
    assert plot.locator(".ytick").all_text_contents() == ["credit_default"]
    box.scroll_into_view_if_needed()
    shot(tab, "timeline_overview")


def test_the_portfolio_draws_one_row_per_model(seeded_server, tab):
    tab.goto(seeded_server)
    wait_idle(tab)
    no_exception(tab)
    box, plot = timeline(tab)
    assert {"healthy", "warn", "pull", "release"} <= legend(plot)
    assert set(plot.locator(".ytick").all_text_contents()) == {"credit_default", "delivery_eta", "ticket_router"}
    box.scroll_into_view_if_needed()
    shot(tab, "timeline_portfolio")
