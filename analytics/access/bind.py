"""What ``lastmile serve`` checks before it starts, and the Streamlit settings it passes.

* ``provider = "none"`` only on a loopback address: an open port
  without sign-in would show every model to anyone who can reach it.
* ``provider = "header"`` only on loopback (only processes on the same machine, the
  proxy, can connect), or with ``[auth] trusted_proxies`` (the app then ignores the
  user header of any other peer, see ``app/auth.py``).
* Any non-loopback bind needs ``[auth] allowed_hosts``: Streamlit refuses a WebSocket
  whose ``Host`` is not listed (``server.allowedHosts``), which closes DNS rebinding.
  On loopback the default list is ``localhost``, ``127.0.0.1`` and ``::1``.
* OIDC: Streamlit reads its sign-in settings from a secrets file; :func:`oidc_secrets`
  builds it from the workspace and the environment and :func:`write_private` writes
  it into the state folder with mode 0600 (never beside the logs).
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from pathlib import Path

from analytics.errors import ConfigError
from analytics.access.config import AuthConfig, resolve_secret

UNIX = "unix://"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def bind_kind(host: str | None) -> str:
    """``"unix"``, ``"loopback"`` or ``"network"`` (an empty host binds every interface)."""
    if not host:
        return "network"
    if host.startswith(UNIX):
        return "unix"
    if host.lower() == "localhost":
        return "loopback"
    try:
        return "loopback" if ipaddress.ip_address(host.strip("[]")).is_loopback else "network"
    except ValueError:
        return "network"   # a host name: resolved by the system, may be any interface


def check_bind(auth: AuthConfig, host: str) -> None:
    """Refuse (one sentence, :class:`ConfigError`) a bind the workspace's ``[auth]`` does not allow."""
    kind = bind_kind(host)
    if kind == "unix":   # measured: Streamlit 1.67's server (Starlette/uvicorn) raises at start
        raise ConfigError(f"Cannot serve on {host}: Streamlit's server does not support unix sockets "
                          "(measured with Streamlit 1.67); bind 127.0.0.1 behind the proxy instead.")
    if kind != "network":
        return
    if auth.provider == "none":
        raise ConfigError(
            f"Refusing to serve on {host} without sign-in: anyone who can reach the port would see every "
            "model; set [auth] provider = \"oidc\" or \"header\" in the workspace (analytics/docs/deploy.md), "
            "or bind 127.0.0.1.")
    if auth.provider == "header" and not auth.trusted_proxies:
        raise ConfigError(
            f"Refusing to serve on {host} with [auth] provider = \"header\": anyone who can reach the port "
            "could send the user header; bind 127.0.0.1 behind the proxy, or list the "
            "proxy's addresses in [auth] trusted_proxies.")
    if not auth.allowed_hosts:
        raise ConfigError(
            f"Refusing to serve on {host} without [auth] allowed_hosts: list the host names users open "
            "(for example allowed_hosts = [\"lastmile.example.com\"]) so a request for another host is refused.")


def header_trusted(auth: AuthConfig, kind: str, peer: str | None) -> bool:
    """Whether the user header of a connection from ``peer`` (None: loopback or a unix
    socket) may be believed, the server binding a ``kind`` address (:func:`bind_kind`)."""
    if kind != "network":   # loopback / unix socket: only processes on this machine connect
        return True
    if peer is None:        # a loopback peer on an open bind: trusted only when listed
        return auth.trusts("127.0.0.1") or auth.trusts("::1")
    return auth.trusts(peer)


def allowed_hosts(auth: AuthConfig, host: str) -> tuple[str, ...]:
    """The Host names Streamlit accepts on its WebSocket (``server.allowedHosts``)."""
    hosts = list(auth.allowed_hosts)
    if bind_kind(host) == "loopback":
        hosts += [h for h in LOOPBACK_HOSTS if h not in hosts]
    return tuple(hosts)


def streamlit_flags(auth: AuthConfig, host: str, port: int) -> list[str]:
    """The hardening every served dashboard gets (``streamlit run`` flags)."""
    flags = [
        "--server.address", host, "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.enableXsrfProtection", "true",
        # CORS protection on: no cross-origin reads, WebSockets only from the app's own origin
        "--server.enableCORS", "true",
        "--server.maxUploadSize", "1",        # the app has no uploader; Streamlit needs >= 1 MB
        "--server.enableAgentApi", "false",
        "--client.toolbarMode", "minimal",
        "--client.showErrorDetails", "none",  # tracebacks go to the server log only
        "--runner.postScriptGC", "false",
    ]
    for h in allowed_hosts(auth, host):
        flags += ["--server.allowedHosts", h]
    return flags


def redirect_uri(auth: AuthConfig, host: str, port: int) -> str:
    if auth.redirect_uri:
        return auth.redirect_uri
    name = "localhost" if bind_kind(host) != "network" else (auth.allowed_hosts[0] if auth.allowed_hosts else host)
    return f"http://{name}:{port}/oauth2callback"


def oidc_secrets(auth: AuthConfig, environ: Mapping[str, str], host: str, port: int) -> str:
    """The ``[auth]`` section of Streamlit's secrets file for ``st.login`` (TOML text)."""
    values = {
        "redirect_uri": redirect_uri(auth, host, port),
        "cookie_secret": resolve_secret(auth.cookie_secret, "cookie_secret", environ),
        "client_id": auth.client_id or "",
        "client_secret": resolve_secret(auth.client_secret, "client_secret", environ),
        "server_metadata_url": auth.server_metadata_url or "",
    }
    if len(values["cookie_secret"]) < 32:
        raise ConfigError("[auth] cookie_secret is shorter than 32 characters; use a random one, e.g. "
                          "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`.")
    lines = ["# Written by `lastmile serve` from the workspace's [auth]; rewritten at every start.", "[auth]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` readable by this user only (0600, folder 0700)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    return path
