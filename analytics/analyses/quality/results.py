"""What a quality run returns: one :class:`Finding` per check, column (or file),
period and version; a :class:`QualityResult` holding them with the windows used."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Mapping

LEVELS = ("ok", "info", "warn", "pull")
_RANK = {lv: i for i, lv in enumerate(LEVELS)}


def rank(level: str) -> int:
    return _RANK.get(level, 0)


@dataclass(frozen=True)
class Finding:
    """One check's answer for one column (or file) in one period and version.

    ``observed`` is None when the check cannot be computed there, and ``reason`` says
    why; ``level`` is ok, info, warn or pull; ``threshold`` the level crossed."""

    check: str
    level: str
    observed: float | None
    message: str
    column: str | None = None
    period: str | None = None
    version: str | None = None
    file: str | None = None
    threshold: float | None = None
    reason: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "column": self.column, "period": self.period, "version": self.version,
                "file": self.file, "level": self.level, "observed": self.observed,
                "threshold": self.threshold, "reason": self.reason, "message": self.message,
                "details": dict(self.details)}


@dataclass(frozen=True)
class QualityResult:
    model: str
    period: str                                   # day | week | month
    reference: tuple[_dt.datetime, _dt.datetime]
    current: tuple[_dt.datetime | None, _dt.datetime | None]
    now: _dt.datetime | None
    findings: tuple[Finding, ...]
    #: check -> {"warn": x, "pull": y}: the levels this run used
    levels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: the shared per-(day, version) counts over both windows (``Context.daily``): what the
    #: volume check and the health ``volume_drop`` rule both read (not in the JSON)
    daily: tuple[Mapping[str, Any], ...] = ()
    #: the shadow versions left out of the volume (analytics.analyses.roles)
    shadows: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        """healthy, warn or pull: the worst level among the findings."""
        worst = max((rank(f.level) for f in self.findings), default=0)
        return {3: "pull", 2: "warn"}.get(worst, "healthy")

    def problems(self, level: str = "warn") -> tuple[Finding, ...]:
        """Findings at ``level`` or worse, worst first, then by period."""
        out = [f for f in self.findings if rank(f.level) >= rank(level)]
        return tuple(sorted(out, key=lambda f: (-rank(f.level), f.check, f.column or "", f.period or "")))

    def to_dict(self) -> dict[str, Any]:
        def iso(x):
            return x.isoformat() if x is not None else None
        return {"model": self.model, "status": self.status, "period": self.period,
                "reference": {"start": iso(self.reference[0]), "end": iso(self.reference[1])},
                "current": {"start": iso(self.current[0]), "end": iso(self.current[1])},
                "now": iso(self.now), "rows": [f.to_dict() for f in self.findings]}


def day_period(day: _dt.date, period: str) -> _dt.date:
    """The date that starts the period holding ``day`` (weeks start on Monday)."""
    if period == "week":
        return day - _dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def when(period_start: str | None, period: str) -> str:
    """"on 2026-08-11", "in the week of 2026-08-10", "in 2026-08" (a period as people read it)."""
    if not period_start:
        return ""
    if period == "week":
        return f"in the week of {period_start}"
    if period == "month":
        return f"in {period_start[:7]}"
    return f"on {period_start}"
