"""What a health check finds: reasons, the verdict, and the small helpers every rule
uses to word them (levels, numbers, periods)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

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
        out = {"rule": self.rule, "metric": self.metric, "observed": self.observed,
               "threshold": self.threshold, "level": self.level, "period": self.period,
               "version": self.version, "message": self.message}
        if self.details:
            out["details"] = [dict(d) for d in self.details]
        return out


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
        return {"model": self.model, "status": self.status, "versions": list(self.versions),
                "shadow_versions": list(self.shadows),
                "windows": {k: {"start": a.isoformat(), "end": b.isoformat()} for k, (a, b) in self.windows.items()},
                "reasons": [r.to_dict() for r in self.reasons]}


def worst(levels: Sequence[str]) -> str:
    """The status implied by reason levels."""
    rank = max((_RANK[lv] for lv in levels), default=0)
    return STATUSES[rank]


def day(ts: _dt.datetime) -> _dt.datetime:
    return _dt.datetime(ts.year, ts.month, ts.day)


def span_text(start: _dt.datetime, end: _dt.datetime) -> str:
    """``start`` to the last day before ``end``, as people read it."""
    return f"{start.date().isoformat()} to {(end - _dt.timedelta(days=1)).date().isoformat()}"


def fmt(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.4g}" if abs(x) < 1e5 else f"{x:,.0f}"


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
