"""The gate (issue #21) in AppTest: sign-in, per-model access, roles, the audit trail,
and the header provider's refusal of a forged identity."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.access import audit
from analytics.config.workspace import load_workspace

from ..access_factory import SECRET, SECRET_DESCRIPTION, team_workspace
from .conftest import APP_TIMEOUT, MAIN, texts

OIDC = ('provider = "oidc"\nserver_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"\n'
        'client_id = "lastmile"\nclient_secret = "env:LM_CS"\ncookie_secret = "env:LM_CK"\n')
HEADER = 'provider = "header"\ntrusted_proxies = ["10.0.0.5"]\nallowed_hosts = ["lm.example.com"]\n'
RISK = {"is_logged_in": True, "sub": "ana", "email": "ana@example.com", "groups": ["risk"]}
OPS = {"is_logged_in": True, "sub": "olaf", "email": "olaf@example.com", "groups": ["ops"]}
BOSS = {"is_logged_in": True, "sub": "b", "email": "boss@example.com", "groups": []}


@pytest.fixture(scope="module")
def oidc_ws(tmp_path_factory):
    return team_workspace(tmp_path_factory.mktemp("oidc"), OIDC)


def everything(at: AppTest) -> str:
    """Every text the page shows, with the options of its select boxes and the button labels."""
    parts = [texts(at)] + [str(e.value) for kind in ("title", "header", "subheader", "text", "code")
                           for e in getattr(at, kind)]
    parts += [str(o) for sb in at.selectbox for o in sb.options]
    parts += [b.label for b in at.button] + [str(m.label) for m in at.metric]
    return "\n".join(parts)


def session(ws: Path, monkeypatch, user: dict | None, page: str | None = None, **params) -> AppTest:
    monkeypatch.setenv("LASTMILE_CONFIG", str(ws))
    at = AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT)
    if user is not None:
        at.user = dict(user)
    at.query_params.update(params)
    at.run()
    if page:
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def trail(ws: Path) -> list[audit.AuditEvent]:
    return audit.read(audit.audit_path(load_workspace(ws), Path(os.environ["LASTMILE_CACHE_DIR"])))


def test_a_stranger_sees_the_sign_in_and_no_model(oidc_ws, monkeypatch):
    at = session(oidc_ws, monkeypatch, {"is_logged_in": False})
    shown = everything(at)
    assert "Sign in" in shown
    assert "binary_model" not in shown and SECRET not in shown and SECRET_DESCRIPTION not in shown


def test_each_team_sees_only_its_models(oidc_ws, monkeypatch):
    risk = session(oidc_ws, monkeypatch, RISK)          # the portfolio
    shown = everything(risk)
    assert "binary_model" in shown and SECRET not in shown and SECRET_DESCRIPTION not in shown
    ops = session(oidc_ws, monkeypatch, OPS, "overview")
    assert ops.selectbox(key="flt_model").options == [SECRET]
    assert "binary_model" not in everything(ops)
    events = trail(oidc_ws)
    assert ("ana@example.com", "sign-in") in [(e.user, e.action) for e in events]
    assert ("olaf@example.com", "view", SECRET, "Model overview") in [(e.user, e.action, e.model, e.page) for e in events]


def test_a_url_naming_another_model_is_the_unknown_model_sentence(oidc_ws, monkeypatch):
    hidden = session(oidc_ws, monkeypatch, RISK, model=SECRET)        # a crafted link to the home page
    missing = session(oidc_ws, monkeypatch, RISK, model="no_such_model")
    (w1,), (w2,) = hidden.warning, missing.warning
    assert w1.value.replace(SECRET.replace("_", "\\_"), "X") == w2.value.replace("no\\_such\\_model", "X")
    assert "the workspace has: binary\\_model." in w1.value
    assert SECRET_DESCRIPTION not in everything(hidden) and not hidden.error
    hidden.switch_page("views/overview.py").run()                    # and the pages after it
    assert hidden.selectbox(key="flt_model").value == "binary_model"
    assert SECRET_DESCRIPTION not in everything(hidden) and "model" not in hidden.query_params or \
        hidden.query_params["model"] == "binary_model"


def test_roles_decide_pages_downloads_and_the_re_read(oidc_ws, monkeypatch):
    viewer = session(oidc_ws, monkeypatch, OPS, "segments")
    assert not [b for b in viewer.get("download_button")]          # no CSV for a viewer
    assert "Re-read the logs" not in [b.label for b in viewer.button]
    for page in ("explore", "report"):                                # not in a viewer's navigation
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            viewer.switch_page(f"views/{page}.py")
    analyst = session(oidc_ws, monkeypatch, RISK, "explore")
    assert "Explore" in [t.value for t in analyst.title]
    assert analyst.get("download_button") and "Re-read the logs" not in [b.label for b in analyst.button]
    boss = session(oidc_ws, monkeypatch, BOSS, "overview")
    assert "Re-read the logs" in [b.label for b in boss.button]
    assert boss.selectbox(key="flt_model").options == ["binary_model", SECRET]
    boss.button(key="lm_refresh").click().run()
    assert ("boss@example.com", "refresh") in [(e.user, e.action) for e in trail(oidc_ws)]


def test_a_user_without_a_grant_sees_no_model(oidc_ws, monkeypatch):
    at = session(oidc_ws, monkeypatch, {"is_logged_in": True, "sub": "eve", "email": "eve@example.com"})
    shown = everything(at)
    assert "no model is shared with you" in shown
    assert "binary_model" not in shown and SECRET not in shown
    assert ("eve@example.com", "denied") in [(e.user, e.action) for e in trail(oidc_ws)]


@pytest.fixture(scope="module")
def header_ws(tmp_path_factory):
    return team_workspace(tmp_path_factory.mktemp("header"), HEADER)


@pytest.mark.parametrize("peer, allowed", [("10.0.0.5", True), ("10.9.9.9", False), (None, False)])
def test_a_forged_user_header_from_an_untrusted_peer_is_refused(header_ws, monkeypatch, peer, allowed):
    import app.auth as gate
    monkeypatch.setattr(gate, "_bind", lambda: "network")           # served on 0.0.0.0 behind a proxy
    monkeypatch.setattr(gate, "_peer", lambda: peer)
    monkeypatch.setattr(gate, "_headers", lambda: {"X-Forwarded-Email": "boss@example.com",
                                                   "X-Forwarded-Groups": "risk,ops"})
    at = session(header_ws, monkeypatch, None)
    shown = everything(at)
    if allowed:
        assert "binary_model" in shown and SECRET in shown
    else:
        assert "only from its sign-in proxy" in shown
        assert "binary_model" not in shown and SECRET not in shown
        denied = [e for e in trail(header_ws) if e.action == "denied"]
        assert denied and denied[-1].user == "(untrusted)" and denied[-1].ip == peer
