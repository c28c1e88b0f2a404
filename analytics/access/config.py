"""``[auth]``, ``[access]`` and ``[audit]`` of ``lastmile.toml``: schema and validation.

```toml
[auth]
provider = "oidc"                     # none (default) | oidc | header
server_metadata_url = "https://idp.example.com/.well-known/openid-configuration"
client_id = "lastmile"
client_secret = "env:LASTMILE_OIDC_CLIENT_SECRET"   # secrets only by environment variable
cookie_secret = "env:LASTMILE_COOKIE_SECRET"
redirect_uri = "https://lastmile.example.com/oauth2callback"
allowed_hosts = ["lastmile.example.com"]

[[access.grant]]
groups = ["risk"]                     # and/or emails = ["ana@example.com"]
models = ["credit_default"]           # or ["*"]
role = "analyst"                      # viewer | analyst | admin

[audit]
path = "/var/log/lastmile/audit.jsonl"
```

Every problem is reported (the workspace parser collects them) with the key it is
about and a did-you-mean for a misspelt key, provider or role. Secrets are never
read from the file: ``client_secret`` and ``cookie_secret`` name an environment
variable (``env:VAR``), resolved when the server starts (:func:`resolve_secret`).
"""

from __future__ import annotations

import re
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analytics.errors import ConfigError, suggest

PROVIDERS = ("none", "oidc", "header")
ROLES = ("viewer", "analyst", "admin")
#: oauth2-proxy's names (``--set-xauthrequest`` / ``--pass-user-headers``)
USER_HEADER = "X-Forwarded-Email"
GROUPS_HEADER = "X-Forwarded-Groups"

AUTH_KEYS = {"provider", "server_metadata_url", "client_id", "client_secret", "cookie_secret",
             "redirect_uri", "groups_claim", "user_header", "groups_header", "trusted_proxies",
             "allowed_hosts"}
ACCESS_KEYS = {"grant"}
GRANT_KEYS = {"groups", "emails", "models", "role"}
AUDIT_KEYS = {"path"}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AuthConfig:
    """``[auth]``: how users sign in (see analytics/docs/workspace.md)."""

    provider: str = "none"
    server_metadata_url: str | None = None
    client_id: str | None = None
    #: ``env:VAR`` references, resolved at start (never the secret itself)
    client_secret: str | None = None
    cookie_secret: str | None = None
    redirect_uri: str | None = None
    groups_claim: str = "groups"
    user_header: str = USER_HEADER
    groups_header: str = GROUPS_HEADER
    trusted_proxies: tuple[Network, ...] = ()
    allowed_hosts: tuple[str, ...] = ()

    def trusts(self, address: str | None) -> bool:
        """Whether ``address`` (a peer's IP) is one of ``trusted_proxies``."""
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        return any(ip in net for net in self.trusted_proxies)


@dataclass(frozen=True)
class Grant:
    """One ``[[access.grant]]``: these groups and emails see these models with this role."""

    role: str
    models: tuple[str, ...]          # ("*",) = every model
    groups: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()     # lower case


@dataclass(frozen=True)
class AccessConfig:
    grants: tuple[Grant, ...] = ()


@dataclass(frozen=True)
class AuditConfig:
    #: ``[audit] path`` resolved against the workspace folder; None: the state folder
    path: Path | None = None


def _unknown(table: Mapping[str, Any], allowed: set[str], where: str, problems: list[str]) -> None:
    for key in table:
        if key not in allowed:
            problems.append(f"{where}: unknown key {key!r}{suggest(key, allowed)}.")


def _table(raw: Mapping[str, Any], key: str, problems: list[str]) -> Mapping[str, Any]:
    val = raw.get(key, {})
    if not isinstance(val, dict):
        problems.append(f"[{key}] must be a table.")
        return {}
    return val


def _strings(value: Any, what: str, problems: list[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{what} must be a list of non-empty strings.")
        return ()
    return tuple(dict.fromkeys(v.strip() for v in value))


def parse_auth(raw: Mapping[str, Any], problems: list[str]) -> AuthConfig:
    a = _table(raw, "auth", problems)
    _unknown(a, AUTH_KEYS, "[auth]", problems)
    kw: dict[str, Any] = {}
    provider = a.get("provider", "none")
    if provider not in PROVIDERS:
        problems.append(f"[auth] provider {provider!r} is not one of none, oidc, header{suggest(provider, PROVIDERS)}.")
        provider = "none"
    kw["provider"] = provider
    for key in ("server_metadata_url", "client_id", "redirect_uri", "groups_claim", "user_header", "groups_header"):
        if key in a:
            v = a[key]
            if not isinstance(v, str) or not v.strip():
                problems.append(f"[auth] {key} must be a non-empty string.")
            else:
                kw[key] = v.strip()
    for key in ("client_secret", "cookie_secret"):
        if key in a:
            v = a[key]
            if not isinstance(v, str) or not v.startswith("env:") or not v[4:].strip():
                problems.append(f"[auth] {key} must name an environment variable, as \"env:VARIABLE\" "
                                "(a secret does not belong in the workspace file).")
            else:
                kw[key] = v
    for key in ("server_metadata_url", "redirect_uri"):
        url = kw.get(key)
        if url and not url.startswith(("https://", "http://")):
            problems.append(f"[auth] {key} must be an http(s) URL; got {url!r}.")
    if kw.get("redirect_uri") and not kw["redirect_uri"].endswith("/oauth2callback"):
        problems.append("[auth] redirect_uri must end with /oauth2callback (Streamlit's sign-in callback).")
    nets: list[Network] = []
    for item in _strings(a.get("trusted_proxies", []), "[auth] trusted_proxies", problems):
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            problems.append(f"[auth] trusted_proxies: {item!r} is not an IP address or network (such as 10.0.0.0/24).")
    kw["trusted_proxies"] = tuple(nets)
    hosts = _strings(a.get("allowed_hosts", []), "[auth] allowed_hosts", problems)
    for h in hosts:
        if "/" in h or re.fullmatch(r"[^:\[\]]+:\d+", h):
            problems.append(f"[auth] allowed_hosts: {h!r} must be a host name such as lastmile.example.com "
                            "(no scheme, path or port).")
    kw["allowed_hosts"] = tuple(h.lower() for h in hosts)
    if provider == "oidc":
        for key in ("server_metadata_url", "client_id", "client_secret", "cookie_secret"):
            if key not in kw and key not in a:
                problems.append(f"[auth] provider \"oidc\" needs {key}.")
    return AuthConfig(**kw)


def parse_access(raw: Mapping[str, Any], model_names: tuple[str, ...], problems: list[str]) -> AccessConfig:
    acc = _table(raw, "access", problems)
    _unknown(acc, ACCESS_KEYS, "[access]", problems)
    items = acc.get("grant", [])
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(g, dict) for g in items):
        problems.append("[[access.grant]] must be an array of tables.")
        return AccessConfig()
    grants = []
    for i, g in enumerate(items):
        where = f"[[access.grant]] #{i + 1}"
        _unknown(g, GRANT_KEYS, where, problems)
        role = g.get("role", "viewer")
        if role not in ROLES:
            problems.append(f"{where}: role {role!r} is not one of viewer, analyst, admin{suggest(role, ROLES)}.")
            role = "viewer"
        groups = _strings(g.get("groups", []), f"{where}: groups", problems)
        emails = tuple(e.lower() for e in _strings(g.get("emails", []), f"{where}: emails", problems))
        if not groups and not emails:
            problems.append(f"{where}: give groups or emails (who the grant is for).")
        if "models" not in g:
            problems.append(f"{where}: missing key 'models' (model names, or [\"*\"] for every model).")
        models = _strings(g.get("models", []), f"{where}: models", problems)
        for m in models:
            if m != "*" and m not in model_names:
                problems.append(f"{where}: unknown model {m!r}{suggest(m, model_names)}; "
                                f"the workspace has: {', '.join(model_names) or 'no models'}.")
        grants.append(Grant(role=role, models=models, groups=groups, emails=emails))
    return AccessConfig(grants=tuple(grants))


def parse_audit(raw: Mapping[str, Any], root: Path, log_paths: tuple[str, ...], problems: list[str]) -> AuditConfig:
    a = _table(raw, "audit", problems)
    _unknown(a, AUDIT_KEYS, "[audit]", problems)
    if "path" not in a:
        return AuditConfig()
    p = a["path"]
    if not isinstance(p, str) or not p.strip() or "://" in p:
        problems.append("[audit] path must be a local file path (the audit trail is a JSON-lines file).")
        return AuditConfig()
    path = Path(p).expanduser()
    path = (path if path.is_absolute() else root / path).resolve()
    for log in log_paths:
        if "://" in log:
            continue
        folder = Path(log).resolve()
        folder = folder if folder.is_dir() else folder.parent
        # a glob's folder: the part before the first wildcard
        parts = [part for part in folder.parts]
        for j, part in enumerate(parts):
            if any(ch in part for ch in "*?["):
                folder = Path(*parts[:j])
                break
        if path == folder or folder in path.parents:
            problems.append(f"[audit] path {str(path)!r} is inside the log folder {str(folder)!r}; "
                            "keep the audit trail apart from the logs.")
            break
    return AuditConfig(path=path)


def check_policy(auth: AuthConfig, access: AccessConfig, problems: list[str]) -> None:
    """What only the sections together can tell."""
    if auth.provider != "none" and not access.grants:
        problems.append(f"[auth] provider {auth.provider!r} signs users in, but no [[access.grant]] "
                        "gives anyone a model; add one (e.g. groups = [\"team\"], models = [\"*\"]).")
    if auth.provider != "oidc":
        stray = sorted(k for k in ("server_metadata_url", "client_id", "client_secret", "cookie_secret",
                                   "redirect_uri") if getattr(auth, k))
        if stray:
            problems.append(f"[auth] {', '.join(stray)} only apply to provider \"oidc\" "
                            f"(the provider is {auth.provider!r}).")


def resolve_secret(reference: str | None, what: str, environ: Mapping[str, str]) -> str:
    """The value of an ``env:VAR`` reference; a missing variable is one sentence."""
    if not reference:
        raise ConfigError(f"[auth] {what} is not set; give it as \"env:VARIABLE\".")
    var = reference[4:].strip()
    value = environ.get(var, "")
    if not value:
        raise ConfigError(f"[auth] {what} reads the environment variable {var}, which is not set.")
    return value


def parse_access_sections(raw: Mapping[str, Any], root: Path, model_names: tuple[str, ...], models,
                          problems: list[str]) -> dict[str, Any]:
    """``[auth]``, ``[access]``, ``[audit]`` of a parsed workspace file (problems appended), as
    the :class:`Workspace` fields ``auth``, ``access``, ``audit``."""
    auth = parse_auth(raw, problems)
    access = parse_access(raw, model_names, problems)
    logs = tuple(p for m in models for p in (m.predictions, m.outcomes) if p)
    audit = parse_audit(raw, root, logs, problems)
    check_policy(auth, access, problems)
    return {"auth": auth, "access": access, "audit": audit}
