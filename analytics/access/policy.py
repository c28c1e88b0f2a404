"""Who may see which model, with which role.

A signed-in user (:class:`Principal`: an id, an email, groups) gets, for each
model, the highest role any ``[[access.grant]]`` gives one of their groups or
their email. Roles nest: an analyst can do what a viewer can, an admin what an
analyst can.

========  ==========================================================
viewer    see the model's pages, the portfolio card, the report page's summary
analyst   + Explore, CSV and PDF downloads, "show the query"
admin     + re-read the logs / refresh the store (for every user)
========  ==========================================================

>>> from analytics.access.config import AccessConfig, Grant
>>> policy = AccessConfig((Grant("viewer", ("*",), groups=("all",)), Grant("admin", ("fraud",), emails=("ana@x.io",))))
>>> roles_for(Principal("ana", "Ana@x.io", ("all",)), policy, ("credit", "fraud"))
{'credit': 'viewer', 'fraud': 'admin'}
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.access.config import ROLES, AccessConfig

#: capability -> the lowest role that has it
CAPABILITIES = {
    "view": "viewer",
    "explore": "analyst",
    "download": "analyst",
    "report": "analyst",
    "show_query": "analyst",
    "refresh": "admin",
}


@dataclass(frozen=True)
class Principal:
    """Who is asking: a stable id (the OIDC subject or the proxy's user header), an email, groups."""

    id: str
    email: str | None = None
    groups: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """What the audit trail and the sidebar show: the email when known."""
        return self.email or self.id


#: The one user of an unauthenticated loopback server: every model, every capability.
LOCAL = Principal("local")


def rank(role: str) -> int:
    return ROLES.index(role)


def roles_for(principal: Principal, access: AccessConfig, model_names: tuple[str, ...]) -> dict[str, str]:
    """``{model: role}`` for the models ``principal`` may see (in workspace order)."""
    email = (principal.email or "").lower()
    ident = principal.id.lower()
    groups = set(principal.groups)
    best: dict[str, str] = {}
    for g in access.grants:
        if not (groups.intersection(g.groups) or (email and email in g.emails) or ident in g.emails):
            continue
        for m in (model_names if "*" in g.models else g.models):
            if m in model_names and (m not in best or rank(g.role) > rank(best[m])):
                best[m] = g.role
    return {m: best[m] for m in model_names if m in best}


def can(role: str | None, capability: str) -> bool:
    """Whether ``role`` (None: no access) has ``capability`` (a key of :data:`CAPABILITIES`)."""
    if role is None:
        return False
    return rank(role) >= rank(CAPABILITIES[capability])


def parse_groups(value: str | list | tuple | None) -> tuple[str, ...]:
    """Groups from a header (``"a,b"``, as oauth2-proxy sends them) or a token claim (a list or a string)."""
    if value is None:
        return ()
    if isinstance(value, str):
        items = value.split(",")
    else:
        items = [str(v) for v in value]
    return tuple(dict.fromkeys(i.strip() for i in items if i and i.strip()))
