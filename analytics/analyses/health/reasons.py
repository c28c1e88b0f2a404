"""What a health check finds: reasons, the verdict, and the small helpers every rule
uses (levels, thresholds). Numbers, money and periods in the reasons' sentences are
worded by :mod:`analytics.render.format` (3 significant digits; the threshold and
window that decide are always named)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from analytics.results import record

#: From best to worst: ``error`` (the model's logs cannot be read) outranks ``pull``,
#: since nothing about the model is known while monitoring itself is broken.
STATUSES = ("healthy", "warn", "pull", "error")
LEVELS = ("info", "warn", "pull", "error")
_RANK = {"healthy": 0, "info": 0, "warn": 1, "pull": 2, "error": 3}
WEEK = _dt.timedelta(days=7)

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Reason:
    """One finding: which rule, on what, the observed value against which threshold."""

    rule: str
    metric: str | None
    observed: float | None
    threshold: float | None
    level: str                 # info | warn | pull | error
    period: str
    message: str
    version: str | None = None
    #: drift reasons: per drifted target, {"feature", "why", "importance", "importance_metric", ...}
    details: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return record(self, drop=() if self.details else ("details",))


@dataclass(frozen=True)
class Health:
    """A model's status (the worst level among its reasons) and every reason."""

    model: str
    status: str
    reasons: tuple[Reason, ...]
    windows: Mapping[str, tuple[_dt.datetime, _dt.datetime]] = field(default_factory=dict)
    versions: tuple[str, ...] = ()
    #: shadow versions with current traffic: left out of the verdict (analytics.analyses.roles)
    shadows: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return record(self, rename={"shadows": "shadow_versions"},
                      windows={k: {"start": a.isoformat(), "end": b.isoformat()} for k, (a, b) in self.windows.items()})


def worst(levels: Sequence[str]) -> str:
    """The status implied by reason levels."""
    rank = max((_RANK[lv] for lv in levels), default=0)
    return STATUSES[rank]


def day(ts: _dt.datetime) -> _dt.datetime:
    return _dt.datetime(ts.year, ts.month, ts.day)


def crossed(observed: float, warn: float | None, pull: float | None, below: bool) -> tuple[str | None, float | None]:
    """Which level ``observed`` reaches (pull first) and the threshold it crossed."""
    for lv, th in (("pull", pull), ("warn", warn)):
        if th is not None and (observed < th if below else observed > th):
            return lv, th
    return None, None


class Findings:
    """Collects reasons while one model is evaluated."""

    def __init__(self):
        self.reasons: list[Reason] = []

    def add(self, rule, metric, observed, threshold, level, period, message, version=None, details=()):
        self.reasons.append(Reason(rule, metric, observed, threshold, level, period, message, version,
                                   tuple(details)))

    def info(self, rule, period, message, metric=None, version=None):
        self.add(rule, metric, None, None, "info", period, message, version)
