"""The one gate: who the user is, which models they may see, what they may do.

Every run passes through :func:`gate` (``app/main.py`` before the navigation, and
``run_page`` for the page itself). It identifies the user by the workspace's
``[auth] provider``:

* ``none``: the one local user of a loopback server (``lastmile serve`` refuses any
  other bind), admin of every model;
* ``oidc``: Streamlit's ``st.login`` / ``st.user`` (Authlib underneath); the groups
  come from the ID token's ``[auth] groups_claim`` (default ``groups``);
* ``header``: the user and groups headers of a trusted reverse proxy. The headers
  are believed only when the server binds loopback, or when the
  connection's peer address is one of ``[auth] trusted_proxies``; anyone else is
  refused (and the refusal is audited).

The :class:`Access` it returns carries a workspace *restricted* to the user's models
(:meth:`analytics.config.workspace.Workspace.restricted`) and an engine seen through it
(:func:`analytics.log.scoped.scoped_engine`): a page cannot list, query or report a
model the user may not see, because the library does not know it. Capabilities
(explore, downloads, reports, "show the query", re-reading the logs) follow the role
(:mod:`analytics.access.policy`). What users do is appended to the audit trail
(:mod:`analytics.access.audit`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

import streamlit as st

from analytics.access import audit
from analytics.access.bind import bind_kind, header_trusted
from analytics.access.policy import LOCAL, Principal, can, parse_groups, roles_for
from analytics.log.scoped import scoped_engine
from analytics.config.cachedir import cache_root
from analytics.log.engine import Engine
from analytics.config.workspace import Workspace

from . import resources

log = logging.getLogger("lastmile.auth")

#: Pages that need a capability on at least one model (url_path -> capability).
PAGE_NEEDS = {"explore": "explore", "report": "report"}
_SIGNED = "_lm_auth_signed_in"   # who this session's sign-in was audited for
_SEEN = "_lm_auth_seen"          # the last (page, model) audited as a view


@dataclass(frozen=True)
class Access:
    """What the gate decided for this run."""

    principal: Principal
    provider: str
    #: model -> role, the models this user may see
    roles: Mapping[str, str]
    #: the workspace with only those models
    workspace: Workspace
    audit_path: Any = None
    ip: str | None = None
    full: Workspace | None = field(default=None, repr=False)

    def role(self, model: str | None) -> str | None:
        return self.roles.get(model) if model else None

    def can(self, capability: str, model: str | None = None) -> bool:
        """``capability`` on ``model`` (None: on at least one model)."""
        if model is None:
            return any(can(r, capability) for r in self.roles.values())
        return can(self.roles.get(model), capability)

    def models_with(self, capability: str) -> tuple[str, ...]:
        return tuple(m for m, r in self.roles.items() if can(r, capability))

    def scoped(self, capability: str | None = None) -> Workspace:
        """The user's workspace, or only the models on which they have ``capability``."""
        return self.workspace if capability is None else self.workspace.restricted(self.models_with(capability))

    def engine(self, workspace: Workspace | None = None) -> Engine:
        """The shared engine, seen through ``workspace`` (default: the user's)."""
        return scoped_engine(resources.engine(), (workspace or self.workspace).model_names)

    def record(self, action: str, **fields) -> None:
        """Append an event to the audit trail (a failure to write is logged, never shown as data)."""
        try:
            audit.record(self.audit_path, self.principal.name, action, ip=self.ip, **fields)
        except OSError:
            log.exception("cannot write the audit trail at %s", self.audit_path)


def _stop(message: str, kind: str = "error") -> None:
    getattr(st, kind)(message)
    st.stop()


def _oidc_principal(auth) -> Principal:
    user = st.user
    if not user.is_logged_in:
        st.title("Lastmile")
        st.markdown("The dashboard shows each team the models it is allowed to see. Sign in to continue.")
        if st.button("Sign in", type="primary", icon=":material/login:", key="lm_login"):
            try:
                st.login()
            except Exception:  # noqa: BLE001 - Streamlit's sign-in settings are missing or wrong
                log.exception("st.login failed")
                _stop("Sign-in is not configured on this server: start the dashboard with `lastmile serve`, "
                      "which writes the settings from the workspace's [auth].")
        st.stop()
    claims = user.to_dict()
    ident = str(claims.get("sub") or claims.get("email") or "")
    if not ident:
        _stop("The identity provider sent no subject or email for this account; ask an admin.")
    email = claims.get("email")
    return Principal(ident, str(email) if email else None, parse_groups(claims.get(auth.groups_claim)))


def _peer() -> str | None:
    """The connection's peer address (None: loopback or a unix socket). ``lastmile serve``
    makes it the TCP peer's, never an X-Forwarded-For."""
    ip = st.context.ip_address
    return ip if isinstance(ip, str) and ip else None


def _bind() -> str:
    return bind_kind(st.get_option("server.address"))


def _headers():
    return st.context.headers


def _header_principal(auth, ws: Workspace, path, ip: str | None) -> Principal:
    headers = _headers()
    if not header_trusted(auth, _bind(), ip):
        try:
            audit.record(path, "(untrusted)", "denied", ip=ip,
                         detail=f"{auth.user_header} from a peer not in [auth] trusted_proxies")
        except OSError:
            log.exception("cannot write the audit trail at %s", path)
        _stop("This dashboard takes identities only from its sign-in proxy; open it through the proxy's address.")
    users = list(headers.get_all(auth.user_header)) if hasattr(headers, "get_all") else [headers.get(auth.user_header)]
    users = [u.strip() for u in users if u and u.strip()]
    if len(set(users)) != 1:
        _stop(f"The sign-in proxy sent {'no' if not users else 'more than one'} {auth.user_header} header; "
              "ask an admin to check its configuration.")
    user = users[0]
    sent = list(headers.get_all(auth.groups_header)) if hasattr(headers, "get_all") else [headers.get(auth.groups_header)]
    if len(set(g for g in sent if g is not None)) > 1:   # a client's own header beside the proxy's
        _stop(f"The sign-in proxy sent more than one {auth.groups_header} header; "
              "ask an admin to check its configuration.")
    groups = parse_groups(sent[0] if sent else None)
    return Principal(user, user if "@" in user else None, groups)


def gate() -> Access:
    """Identify the user and decide which models they see (stops the run if nobody or nothing)."""
    ws = resources.workspace()
    auth = ws.auth
    path = audit.audit_path(ws, cache_root())
    ip = _peer()
    if auth.provider == "none":
        principal, roles = LOCAL, {m: "admin" for m in ws.model_names}
    else:
        principal = _oidc_principal(auth) if auth.provider == "oidc" else _header_principal(auth, ws, path, ip)
        roles = roles_for(principal, ws.access, ws.model_names)
    access = Access(principal=principal, provider=auth.provider, roles=MappingProxyType(roles),
                    workspace=ws.restricted(roles), audit_path=path, ip=ip, full=ws)
    if auth.provider != "none" and st.session_state.get(_SIGNED) != principal.name:
        st.session_state[_SIGNED] = principal.name
        access.record("sign-in", detail=f"{auth.provider}; groups: {', '.join(principal.groups) or 'none'}")
    if not roles:
        access.record("denied", detail="no [[access.grant]] gives this user a model")
        sidebar_user(access)
        _stop(f"You are signed in as {principal.name}, but no model is shared with you yet; "
              "ask an admin to add your group to the workspace's [access].", "warning")
    return access


def visible_pages(pages: dict[str, list], access: Access) -> dict[str, list]:
    """The navigation without the pages the user has no use for (Explore and Report need analyst)."""
    out = {}
    for section, items in pages.items():
        keep = [p for p in items if PAGE_NEEDS.get(p.url_path) is None or access.can(PAGE_NEEDS[p.url_path])]
        if keep:
            out[section] = keep
    return out


def sidebar_user(access: Access) -> None:
    """Who is signed in, and the sign-out (OIDC; behind a proxy, sign-out is the proxy's)."""
    if access.provider == "none":
        return
    sb = st.sidebar
    roles = sorted(set(access.roles.values()), key=["viewer", "analyst", "admin"].index)
    sb.caption(f"Signed in as **{_md(access.principal.name)}**" + (f" ({', '.join(roles)})" if roles else ""))
    if access.provider == "oidc":
        sb.button("Sign out", icon=":material/logout:", key="lm_logout", on_click=st.logout)


def _md(text: str) -> str:
    from .components.text import escape_md
    return escape_md(text)


def viewed(access: Access, page: str, model: str | None, detail: str | None = None) -> None:
    """Audit a page view once per (page, model) change in this session."""
    key = (page, model)
    if st.session_state.get(_SEEN) != key:
        st.session_state[_SEEN] = key
        access.record("view", page=page, model=model, detail=detail)


def download_button(access: Access, model: str | None, page: str, label: str, data, *, file_name: str,
                    mime: str, action: str = "download", **kwargs) -> bool:
    """``st.download_button`` for users who may download ``model``'s data (analyst+); the
    download is audited. Others see nothing (returns False)."""
    if not (access.can("download", model) if model else access.can("download")):
        return False
    on_click: Callable[[], None] = lambda: access.record(action, page=page, model=model, detail=file_name)  # noqa: E731
    st.download_button(label, data, file_name=file_name, mime=mime, on_click=on_click, **kwargs)
    return True
