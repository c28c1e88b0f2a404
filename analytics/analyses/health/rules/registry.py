"""The health rule table: one :class:`HealthRule` per rule, evaluated in order.

A rule is one small function ``evaluate(ctx)`` that reads the shared
:class:`~analytics.analyses.health.context.HealthContext` and adds its reasons to
``ctx.findings``. Its settings' schema and defaults are ``[models.alerts.<name>]`` in
:data:`analytics.config.alerts.RULE_DEFAULTS` (the workspace validates them before any
rule module is imported). Registering a rule is one call, :func:`register_rule`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping

from analytics.config.alerts import RULE_DEFAULTS

if TYPE_CHECKING:
    from ..context import HealthContext

WINDOWS = ("current", "performance", "reference", "coverage")


@dataclass(frozen=True)
class HealthRule:
    """One rule of the verdict."""

    name: str                                   # the reason's ``rule`` (and its settings table)
    window: str                                 # which window it judges (see WINDOWS)
    reason: str                                 # what its reason says, in words
    evaluate: Callable[["HealthContext"], None]  # adds reasons to ctx.findings
    settings: str | None = None                 # its [models.alerts.<settings>] table, if any

    @property
    def defaults(self) -> Mapping[str, Any]:
        return RULE_DEFAULTS.get(self.settings or "", {})


RULES: list[HealthRule] = []


def register_rule(rule: HealthRule) -> HealthRule:
    """Append ``rule`` to the table (rules run in registration order)."""
    if any(r.name == rule.name for r in RULES):
        raise ValueError(f"health rule {rule.name!r} is registered twice")
    if rule.window not in WINDOWS:
        raise ValueError(f"health rule {rule.name!r}: window must be one of {WINDOWS}")
    if rule.settings is not None and rule.settings not in RULE_DEFAULTS:
        raise ValueError(f"health rule {rule.name!r}: add its defaults to RULE_DEFAULTS "
                         "(analytics/config/alerts.py) so that the workspace validates them")
    RULES.append(rule)
    return rule
