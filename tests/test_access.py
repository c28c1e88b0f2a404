"""Access (issue #21): the workspace's [auth]/[access]/[audit], the policy, the audit trail,
serve's bind rules and the engine restricted to a user's models."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from analytics.access import audit
from analytics.access.bind import allowed_hosts, bind_kind, check_bind, header_trusted, streamlit_flags
from analytics.access.config import AccessConfig, AuthConfig, Grant, parse_auth
from analytics.access.policy import Principal, can, parse_groups, roles_for
from analytics.log.scoped import scoped_engine
from analytics.log.engine import Engine
from analytics.errors import ConfigError, UnknownModelError
from analytics.render.report import report_specs
from analytics.config.workspace import load_workspace, parse_workspace

from .access_factory import COOKIE_SECRET, LASTMILE, SECRET, team_workspace

ROOT = Path(__file__).resolve().parents[1]
MODEL = {"name": "m", "task": "binary", "predictions": "logs/p.parquet",
         "columns": {"timestamp": "ts", "label": "y", "score": "s"}}
OIDC = {"provider": "oidc", "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
        "client_id": "lastmile", "client_secret": "env:CS", "cookie_secret": "env:CK"}
GRANT = {"grant": [{"groups": ["risk"], "models": ["m"], "role": "viewer"}]}


def problems_of(raw: dict, root: Path = Path("/data")) -> tuple[str, ...]:
    try:
        parse_workspace({"models": [MODEL], **raw}, root=root)
    except ConfigError as exc:
        return exc.problems
    return ()


# ------------------------------------------------------------------ config


@pytest.mark.parametrize("raw, expected", [
    ({"auth": {"provder": "oidc"}}, "[auth]: unknown key 'provder' (did you mean 'provider'?)."),
    ({"auth": {"provider": "oicd"}}, "[auth] provider 'oicd' is not one of none, oidc, header (did you mean 'oidc'?)."),
    ({"auth": dict(OIDC, client_secret="hunter2"), "access": GRANT}, "client_secret must name an environment variable"),
    ({"auth": {"provider": "oidc", "client_id": "x"}, "access": GRANT}, "[auth] provider \"oidc\" needs server_metadata_url."),
    ({"auth": dict(OIDC, redirect_uri="https://x.example.com/callback"), "access": GRANT}, "must end with /oauth2callback"),
    ({"auth": {"provider": "header", "trusted_proxies": ["10.0.0.300"]}, "access": GRANT}, "'10.0.0.300' is not an IP address"),
    ({"auth": {"allowed_hosts": ["https://x.example.com"]}}, "must be a host name"),
    ({"auth": {"provider": "header"}}, "no [[access.grant]] gives anyone a model"),
    ({"auth": {"provider": "header", "client_id": "x"}, "access": GRANT}, "client_id only apply to provider \"oidc\""),
    ({"access": {"grant": [{"groups": ["a"], "models": ["n"], "role": "viewer"}]}}, "unknown model 'n'"),
    ({"access": {"grant": [{"groups": ["a"], "models": ["m"], "role": "analist"}]}}, "(did you mean 'analyst'?)"),
    ({"access": {"grant": [{"models": ["m"]}]}}, "give groups or emails"),
    ({"access": {"grant": [{"groups": ["a"]}]}}, "missing key 'models'"),
    ({"access": {"grants": []}}, "[access]: unknown key 'grants' (did you mean 'grant'?)."),
    ({"audit": {"paht": "a.jsonl"}}, "[audit]: unknown key 'paht' (did you mean 'path'?)."),
    ({"audit": {"path": "logs/audit.jsonl"}}, "is inside the log folder"),
])
def test_config_problems_name_the_key(raw, expected):
    probs = problems_of(raw)
    assert any(expected in p for p in probs), probs


def test_a_valid_team_configuration_parses():
    ws = parse_workspace({"models": [MODEL], "auth": dict(OIDC, allowed_hosts=["LM.example.com"]),
                          "access": {"grant": [{"emails": ["Ana@X.io"], "models": ["*"], "role": "admin"}]},
                          "audit": {"path": "state/audit.jsonl"}}, root=Path("/data"))
    assert ws.auth.provider == "oidc" and ws.auth.allowed_hosts == ("lm.example.com",)
    assert ws.access.grants == (Grant("admin", ("*",), emails=("ana@x.io",)),)
    assert ws.audit.path == Path("/data/state/audit.jsonl")
    assert load_workspace(ROOT / "sample_data" / "lastmile.toml").auth == AuthConfig()  # default: none


# ------------------------------------------------------------------ policy

POLICY = AccessConfig((
    Grant("viewer", ("*",), groups=("staff",)),
    Grant("analyst", ("fraud",), groups=("risk",)),
    Grant("admin", ("credit",), emails=("ana@x.io",)),
))
MODELS = ("credit", "fraud", "eta")


@pytest.mark.parametrize("who, expected", [
    (Principal("u1", None, ("staff",)), {"credit": "viewer", "fraud": "viewer", "eta": "viewer"}),
    (Principal("u2", None, ("risk",)), {"fraud": "analyst"}),
    (Principal("u3", None, ("risk", "staff")), {"credit": "viewer", "fraud": "analyst", "eta": "viewer"}),
    (Principal("u4", "ANA@x.io", ()), {"credit": "admin"}),
    (Principal("ana@x.io"), {"credit": "admin"}),               # a proxy's user header is the email
    (Principal("u5", "bob@x.io", ("Risk",)), {}),               # group names are exact
    (Principal("u6", None, ("ris",)), {}),
])
def test_roles_are_the_highest_grant_of_the_user(who, expected):
    assert roles_for(who, POLICY, MODELS) == expected


@pytest.mark.parametrize("role, capability, allowed", [
    ("viewer", "view", True), ("viewer", "explore", False), ("viewer", "download", False),
    ("viewer", "show_query", False), ("viewer", "refresh", False),
    ("analyst", "explore", True), ("analyst", "download", True), ("analyst", "report", True),
    ("analyst", "show_query", True), ("analyst", "refresh", False),
    ("admin", "refresh", True), ("admin", "download", True), (None, "view", False),
])
def test_capabilities_nest(role, capability, allowed):
    assert can(role, capability) is allowed


def test_groups_from_a_header_or_a_claim():
    assert parse_groups("risk, ops,,risk") == ("risk", "ops")
    assert parse_groups(["a b", "c"]) == ("a b", "c")
    assert parse_groups(None) == ()


# ------------------------------------------------------------------ the engine knows only the user's models


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    folder = tmp_path_factory.mktemp("team")
    cfg = team_workspace(folder, 'provider = "oidc"\nserver_metadata_url = "http://127.0.0.1:1/x"\n'
                                 'client_id = "lastmile"\nclient_secret = "env:LM_CS"\ncookie_secret = "env:LM_CK"\n')
    return cfg, load_workspace(cfg)


def test_a_model_not_shared_is_the_unknown_model_sentence(team):
    _, ws = team
    eng = scoped_engine(Engine(ws), ["binary_model"])
    with pytest.raises(UnknownModelError) as hidden:
        eng.log(SECRET)
    with pytest.raises(UnknownModelError) as missing:
        eng.log("no_such")
    assert str(hidden.value) == f"Unknown model {SECRET!r}; the workspace has: binary_model."
    assert str(missing.value) == "Unknown model 'no_such'; the workspace has: binary_model."
    assert [s.name for s in report_specs(eng.workspace, None)] == ["binary_model"]   # the portfolio PDF
    assert eng.log("binary_model").count().to_pyarrow().as_py() == 1500
    assert scoped_engine(eng, ["binary_model"]).base is eng.base                      # one shared engine


# ------------------------------------------------------------------ audit trail


def test_the_audit_trail_appends_private_lines(tmp_path):
    path = tmp_path / "state" / "audit.jsonl"
    audit.record(path, "ana@x.io", "view", model="m", page="Overview", ts="2026-12-01T10:00:00.000000Z")
    audit.record(path, "bob@x.io", "download", model="m", page="Segments", detail="m_segments.csv")
    threads = [threading.Thread(target=lambda i=i: [audit.record(path, f"u{i}", "view", detail="x" * 3000)
                                                    for _ in range(25)]) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert len(lines) == 102 and all(json.loads(line) for line in lines)
    assert json.loads(lines[0]) == {"ts": "2026-12-01T10:00:00.000000Z", "user": "ana@x.io", "action": "view",
                                    "model": "m", "page": "Overview"}
    with path.open("a") as fh:
        fh.write('{"ts": "broken\n')   # a torn line is skipped, not fatal
    assert [e.user for e in audit.read(path, user="BOB@x.io")] == ["bob@x.io"]
    assert len(audit.read(path, since=audit.parse_since("2026-12-02"))) == 101
    assert audit.parse_since("2h", now=dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone.utc)) == \
        dt.datetime(2026, 1, 1, 10, tzinfo=dt.timezone.utc)
    with pytest.raises(ConfigError, match="--since 'yesterday'"):
        audit.parse_since("yesterday")


def test_lastmile_audit_lists_the_trail(team, tmp_path, monkeypatch):
    cfg, ws = team
    path = audit.audit_path(ws, Path(os.environ["LASTMILE_CACHE_DIR"]))
    assert "lastmile" in str(path) and cfg.parent not in path.parents      # the state folder, not the logs'
    audit.record(path, "ana@x.io", "view", model="binary_model", page="Overview")
    audit.record(path, "bob@x.io", "report", detail="portfolio")
    from analytics.cli import main
    assert main(["audit", "--config", str(cfg), "--user", "bob@x.io", "--format", "json", "--since", "1h"]) == 0


def test_lastmile_audit_json_from_a_fresh_process(team):
    cfg, ws = team
    path = audit.audit_path(ws, Path(os.environ["LASTMILE_CACHE_DIR"]))
    audit.record(path, "carol@x.io", "refresh", page="Overview")
    out = subprocess.run([*LASTMILE, "audit", "--config", str(cfg), "--format", "json",
                          "--user", "carol@x.io"], capture_output=True, text=True, env=os.environ, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    events = json.loads(out.stdout)["events"]
    assert [(e["user"], e["action"]) for e in events] == [("carol@x.io", "refresh")]


# ------------------------------------------------------------------ serve's rules


def auth(**kw) -> AuthConfig:
    problems: list[str] = []
    a = parse_auth({"auth": kw}, problems)
    return a


@pytest.mark.parametrize("cfg, host, refused", [
    ({}, "127.0.0.1", None),
    ({}, "localhost", None),
    ({}, "::1", None),
    ({}, "unix:///run/lastmile.sock", "does not support unix sockets"),
    ({}, "0.0.0.0", "without sign-in"),
    ({}, "10.1.2.3", "without sign-in"),
    ({}, "lastmile.internal", "without sign-in"),
    ({"provider": "header"}, "127.0.0.1", None),
    ({"provider": "header"}, "unix:///run/lastmile.sock", "does not support unix sockets"),
    ({"provider": "header"}, "0.0.0.0", "trusted_proxies"),
    ({"provider": "header", "trusted_proxies": ["10.0.0.5"]}, "0.0.0.0", "allowed_hosts"),
    ({"provider": "header", "trusted_proxies": ["10.0.0.5"], "allowed_hosts": ["lm.example.com"]}, "0.0.0.0", None),
    ({"provider": "oidc"}, "0.0.0.0", "allowed_hosts"),
    ({"provider": "oidc", "allowed_hosts": ["lm.example.com"]}, "0.0.0.0", None),
])
def test_bind_rules(cfg, host, refused):
    if refused is None:
        check_bind(auth(**cfg), host)
    else:
        with pytest.raises(ConfigError, match=refused) as exc:
            check_bind(auth(**cfg), host)
        assert str(exc.value).count(". ") == 0 and str(exc.value).endswith(".")  # one sentence


@pytest.mark.parametrize("kind, peer, trusted", [
    ("loopback", None, True), ("unix", None, True),
    ("network", "10.0.0.5", True), ("network", "10.0.1.77", True),
    ("network", "10.9.9.9", False), ("network", None, False), ("network", "not-an-ip", False),
])
def test_a_user_header_is_believed_only_from_a_trusted_peer(kind, peer, trusted):
    a = auth(provider="header", trusted_proxies=["10.0.0.5", "10.0.1.0/24"])
    assert header_trusted(a, kind, peer) is trusted


def test_hardening_flags():
    flags = streamlit_flags(auth(), "127.0.0.1", 8501)
    pairs = dict(zip(flags[::2], flags[1::2]))
    assert pairs["--server.enableXsrfProtection"] == "true"
    assert pairs["--server.enableCORS"] == "true"         # Streamlit's CORS *protection*: cross-origin off
    assert pairs["--client.toolbarMode"] == "minimal"
    assert pairs["--client.showErrorDetails"] == "none"
    assert pairs["--server.enableAgentApi"] == "false"
    assert [v for k, v in zip(flags[::2], flags[1::2]) if k == "--server.allowedHosts"] == \
        ["localhost", "127.0.0.1", "::1"]
    assert allowed_hosts(auth(provider="oidc", allowed_hosts=["lm.example.com"]), "0.0.0.0") == ("lm.example.com",)
    assert bind_kind("") == "network" and bind_kind("127.8.0.1") == "loopback"


def test_serve_refuses_an_open_bind_without_sign_in(tmp_path):
    out = subprocess.run([*LASTMILE, "serve", "--host", "0.0.0.0"],
                         capture_output=True, text=True, env=os.environ, cwd=ROOT, timeout=60)
    assert out.returncode == 2
    assert out.stderr.startswith("error: Refusing to serve on 0.0.0.0 without sign-in")
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_serve_writes_the_sign_in_secrets_private_in_the_state_folder(team, monkeypatch):
    from analytics.cli.commands.serve import command
    cfg, ws = team
    env = dict(os.environ, LM_CS="the-client-secret", LM_CK=COOKIE_SECRET)
    cmd, child_env = command(ws, "127.0.0.1", 8599, env)
    assert child_env["LASTMILE_PRECOMPUTE"] == "1"   # a team's server computes the shared answers ahead
    assert command(ws, "127.0.0.1", 8599, {**env, "LASTMILE_PRECOMPUTE": "0"})[1]["LASTMILE_PRECOMPUTE"] == "0"
    secrets = Path(cmd[cmd.index("--secrets.files") + 1])
    assert secrets.is_file() and stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert Path(os.environ["LASTMILE_CACHE_DIR"]) in secrets.parents and cfg.parent not in secrets.parents
    import tomllib
    section = tomllib.loads(secrets.read_text())["auth"]
    assert section == {"redirect_uri": "http://localhost:8599/oauth2callback", "cookie_secret": COOKIE_SECRET,
                       "client_id": "lastmile", "client_secret": "the-client-secret",
                       "server_metadata_url": "http://127.0.0.1:1/x"}
    assert child_env["LASTMILE_CONFIG"] == str(cfg.resolve())
    assert "the-client-secret" not in cfg.read_text()
    with pytest.raises(ConfigError, match="reads the environment variable LM_CS, which is not set"):
        command(ws, "127.0.0.1", 8599, {k: v for k, v in env.items() if k != "LM_CS"})


# ------------------------------------------------------------------ the served app: Host and Origin


def _handshake(port: int, host: str, origin: str | None = None) -> str:
    """The status line of a WebSocket handshake on Streamlit's stream with these headers."""
    import base64
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall((f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: streamlit\r\n"
                   + (f"Origin: {origin}\r\n" if origin else "") + "\r\n").encode())
        return s.recv(200).decode(errors="replace").split("\r\n")[0]


def test_the_served_app_refuses_a_foreign_host_or_origin(team):
    """DNS rebinding (Host) and cross-site pages (Origin) cannot open the WebSocket."""
    import time
    import urllib.request

    from .e2e.conftest import free_port

    cfg, _ = team
    port = free_port()
    env = dict(os.environ, LM_CS="x", LM_CK=COOKIE_SECRET, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([*LASTMILE, "serve", "--config", str(cfg), "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
        assert " 101 " in _handshake(port, f"localhost:{port}")
        assert " 101 " in _handshake(port, f"127.0.0.1:{port}", origin=f"http://127.0.0.1:{port}")
        assert " 403 " in _handshake(port, "evil.example")
        assert " 403 " in _handshake(port, f"evil.example:{port}", origin=f"http://evil.example:{port}")
        assert " 101 " not in _handshake(port, f"localhost:{port}", origin="http://evil.example")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
