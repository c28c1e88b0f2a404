"""AppTest fixtures: the dashboard over a generated workspace (or the bundled sample)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from streamlit.components.v2 import manifest_scanner
from streamlit.testing.v1 import AppTest

from analytics.config.workspace import load_workspace
from analytics.log.engine import Engine
from ..factories import make_workspace


ROOT = Path(__file__).resolve().parents[2]
MAIN = str(ROOT / "app" / "main.py")
#: Seconds an AppTest run may take: generous, so a loaded CI machine does not fail a page
#: that is only slow (no test asserts on speed; bench/ measures it).
APP_TIMEOUT = 240
BUSINESS = {"currency": "USD", "tp": 100.0, "fp": -20.0, "fn": -50.0, "tn": 0.0, "cost_per_1k": 2.0}


def _scan_once(scan):
    """Streamlit's component scan, done once a test process: every new AppTest's first
    run() scans the metadata of every installed distribution for custom components
    (streamlit/components/v2/manifest_scanner.py; 0.4 s of CPU, 2-5 s on a loaded
    machine, for each of the suite's AppTests). The installed set does not change
    during a run, so the first scan's answer stands; the app registers no components."""
    if getattr(scan, "lastmile_once", False):
        return scan
    found: list = []

    @functools.wraps(scan)
    def once(*args, **kwargs):
        if not found:
            found.append(scan(*args, **kwargs))
        return list(found[0])
    once.lastmile_once = True
    return once


# the component manager imports the scanner's function when it scans (not at its import)
manifest_scanner.scan_component_manifests = _scan_once(manifest_scanner.scan_component_manifests)


@pytest.fixture(autouse=True)
def in_process(monkeypatch):
    """Answers computed in the test's process (tests count and patch the engine's queries), and
    only when a page asks (no background computation ahead); tests/app/test_shared_cache.py
    covers the worker processes and the answers computed ahead."""
    monkeypatch.setenv("LASTMILE_WORKERS", "0")
    monkeypatch.setenv("LASTMILE_PRECOMPUTE", "0")


@pytest.fixture(scope="session")
def app_ws(tmp_path_factory):
    """A binary workspace with business values, segments, features and two versions."""
    folder = tmp_path_factory.mktemp("appws")
    g = make_workspace(folder, "binary", n=4000, seed=3, business=BUSINESS)
    return g.config


@pytest.fixture(scope="session")
def app_engine(app_ws):
    return Engine(load_workspace(app_ws))


@pytest.fixture
def app(app_ws, monkeypatch):
    """A fresh AppTest session on the workspace (not yet run)."""
    monkeypatch.setenv("LASTMILE_CONFIG", str(app_ws))
    return AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT)


def open_page(at: AppTest, page: str, **params) -> AppTest:
    """Run the app once, then switch to ``views/<page>.py`` with URL parameters."""
    at.query_params.update(params)
    at.run()
    if page != "portfolio":
        at.switch_page(f"views/{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def figures(at: AppTest) -> list[dict]:
    """Every plotly figure on the page, as its JSON spec."""
    out = []
    for el in at.get("plotly_chart"):
        out.append(json.loads(el.proto.spec))
    return out


def metric_values(at: AppTest) -> dict[str, str]:
    """KPI tiles by label -> shown value."""
    return {m.label: m.value for m in at.metric}


def texts(at: AppTest) -> str:
    """All markdown, captions, info/warning/error text on the page."""
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)
