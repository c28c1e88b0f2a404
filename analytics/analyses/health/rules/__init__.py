"""The health rules, one module each, registered in the order their reasons appear
(:mod:`.registry`). Adding one: a module here that calls
:func:`~.registry.register_rule`, its import below, and its settings' defaults in
``RULE_DEFAULTS`` (``analytics/config/alerts.py``, where the workspace validates them)."""

from . import floors, drop, latency, label_coverage, drift, quality, net_value, estimated_drop, volume_drop  # noqa: F401,E501
from .registry import RULES, HealthRule, register_rule

__all__ = ["RULES", "HealthRule", "register_rule"]
