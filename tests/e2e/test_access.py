"""Sign-in and per-model access in a real browser (issue #21).

A real OIDC provider (oidc-provider-mock) on 127.0.0.1 and the dashboard started by
`lastmile serve` over a two-model team workspace: ana (group risk, analyst of
binary_model) and olaf (group ops, viewer of secret_model) sign in and each sees only
their model, on every page and through crafted URLs; report downloads obey the same
rule; the audit trail records the steps; hostile text stays text.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.access import audit
from analytics.config.workspace import load_workspace

from ..access_factory import CLIENT_SECRET, COOKIE_SECRET, LASTMILE, SECRET, SECRET_DESCRIPTION, team_workspace
from ..hostile import DESCRIPTION, VALUE_MARKUP
from .conftest import CHROMIUM, ROOT, free_port, no_exception, shot, stop, wait_healthy, wait_idle

pytestmark = pytest.mark.e2e
PAGES = ("overview", "segments", "compare", "drift", "value", "operations")


@pytest.fixture(scope="module")
def idp():
    from oidc_provider_mock import User, run_server_in_thread

    users = [User(sub="ana", claims={"email": "ana@example.com", "groups": ["risk"]}),
             User(sub="olaf", claims={"email": "olaf@example.com", "groups": ["ops"]})]
    with run_server_in_thread(user_claims=users) as srv:
        yield f"http://localhost:{srv.server_port}"


@pytest.fixture(scope="module")
def team(idp, tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    folder = tmp_path_factory.mktemp("team-e2e")
    cache = tmp_path_factory.mktemp("team-e2e-state")
    cfg = team_workspace(folder, f'provider = "oidc"\nserver_metadata_url = "{idp}/.well-known/openid-configuration"\n'
                                 'client_id = "lastmile"\nclient_secret = "env:LM_CS"\ncookie_secret = "env:LM_CK"\n')
    port = free_port()
    env = dict(os.environ, LM_CS=CLIENT_SECRET, LM_CK=COOKIE_SECRET, LASTMILE_CACHE_DIR=str(cache),
               LASTMILE_WORKERS="0", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([*LASTMILE, "serve", "--config", str(cfg),
                             "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://localhost:{port}"
    try:
        wait_healthy(url, proc)
        yield url, audit.audit_path(load_workspace(cfg), cache)
    finally:
        stop(proc)


def sign_in(chromium, url: str, sub: str):
    ctx = chromium.new_context(viewport={"width": 1440, "height": 1400}, accept_downloads=True)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    alerts: list[str] = []
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    page.alerts = alerts
    page.goto(url)
    wait_idle(page)
    assert "binary_model" not in page.inner_text("body") and SECRET not in page.inner_text("body")
    page.get_by_role("button", name=re.compile("Sign in")).click()
    page.locator(f"button[name=sub][value={sub}]").click()        # the provider's one-click user
    page.wait_for_url(re.compile(re.escape(url)))
    wait_idle(page)
    return ctx, page


def body(page) -> str:
    return page.inner_text("body")


#: the navigation: links drawn by app/components/nav.py (they carry the view's parameters)
NAV_LINKS = '[data-testid="stSidebar"] [data-testid="stPageLink"] a'


TITLES = {"overview": "Model overview", "segments": "Segments", "compare": "Compare versions", "drift": "Drift",
          "value": "Value", "operations": "Operations"}


def nav(page) -> list[str]:
    return [t.strip() for t in page.locator(NAV_LINKS).all_inner_texts()]


def test_ana_sees_only_her_model_everywhere(team, chromium):
    url, _ = team
    ctx, page = sign_in(chromium, url, "ana")
    try:
        assert "binary_model" in body(page) and SECRET not in body(page)
        assert "Explore" in " ".join(nav(page)) and "Report" in " ".join(nav(page))
        for p in PAGES:                                               # through the navigation
            page.locator(NAV_LINKS).filter(has_text=TITLES[p]).first.click()
            page.wait_for_url(re.compile(f"/{p}"))
            wait_idle(page)
            no_exception(page)
            text = body(page)
            assert SECRET not in text and SECRET_DESCRIPTION not in text, p
            # segment values, feature, segment and version names with markup stay text
            assert page.locator("b", has_text=re.compile(r"^(EU|f|x|v2)$")).count() == 0, p
            assert page.locator("img[src=x]").count() == 0, p
        page.goto(f"{url}/overview?model={SECRET}")                 # a crafted link
        wait_idle(page)
        text = body(page)
        assert f"Unknown model '{SECRET}'; the workspace has: binary_model." in text
        assert SECRET_DESCRIPTION not in text
        page.goto(f"{url}/overview?model=no_such_model")
        wait_idle(page)
        assert "Unknown model 'no_such_model'; the workspace has: binary_model." in body(page)
        # hostile text stays text: the description's <img onerror> and a segment value's <b>
        assert DESCRIPTION in body(page) and page.locator("img[src=x]").count() == 0
        page.goto(f"{url}/segments")
        wait_idle(page)
        page.get_by_text("One segment over time").wait_for()        # the segment list is drawn
        text = body(page)
        assert VALUE_MARKUP in text or "EU" not in text
        assert page.locator("b", has_text=re.compile("^EU$")).count() == 0
        assert not page.alerts
        shot(page, "access_ana_segments")
    finally:
        ctx.close()


def test_ana_s_portfolio_report_holds_only_her_model(team, chromium):
    from pypdf import PdfReader

    url, trail = team
    ctx, page = sign_in(chromium, url, "ana")
    try:
        page.goto(f"{url}/report")
        wait_idle(page)
        page.get_by_text("Every model (portfolio)").click()
        wait_idle(page)
        page.get_by_test_id("stCheckbox").get_by_text("Charts").click()   # quicker without charts
        wait_idle(page)
        page.get_by_role("button", name=re.compile("Build the PDF")).click()
        button = page.get_by_role("button", name=re.compile("Download the PDF"))
        button.wait_for(timeout=180_000)
        with page.expect_download(timeout=60_000) as dl:
            button.click()
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(Path(dl.value.path()).read_bytes())).pages)
        assert "binary_model" in text and SECRET not in text and SECRET_DESCRIPTION not in text
        assert "<img src=x onerror=alert(1)>" in text                # typeset as text
        wait_idle(page)
    finally:
        ctx.close()
    events = audit.read(trail, user="ana@example.com")
    actions = [(e.action, e.page, e.model) for e in events]
    assert ("report", "Report", None) in actions and ("download", "Report", None) in actions
    assert ("view", "Report", "binary_model") in actions
    assert all(e.model in (None, "binary_model") for e in events)


def test_olaf_the_viewer_sees_only_his_model_and_no_downloads(team, chromium):
    url, trail = team
    ctx, page = sign_in(chromium, url, "olaf")
    try:
        assert SECRET in body(page) and "binary_model" not in body(page)
        assert not any("Explore" in n or "Report" in n for n in nav(page))
        for p in ("segments", "report", "explore"):                # report/explore: not his pages
            page.goto(f"{url}/{p}?model=binary_model")
            wait_idle(page)
            no_exception(page)
            text = body(page)
            assert "binary_model\n" not in text and "Download" not in text, p
            assert page.get_by_role("button", name=re.compile("Build the PDF")).count() == 0
        page.goto(f"{url}/overview?model=binary_model")
        wait_idle(page)
        assert f"Unknown model 'binary_model'; the workspace has: {SECRET}." in body(page)
        assert page.get_by_role("button", name=re.compile("Re-read the logs")).count() == 0
        page.get_by_role("button", name=re.compile("Sign out")).click()
        page.get_by_role("button", name="End session").click()      # the provider's sign-out form
        page.wait_for_url(re.compile(re.escape(url)))
        wait_idle(page)
        assert SECRET not in body(page) and "Sign in" in body(page)
    finally:
        ctx.close()
    events = audit.read(trail, user="olaf@example.com")
    steps = [(e.action, e.page) for e in events]
    assert ("sign-in", None) in steps and ("view", "Portfolio") in steps and ("view", "Segments") in steps
    assert all(e.model in (None, SECRET) for e in events)
