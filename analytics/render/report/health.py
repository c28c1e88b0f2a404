"""The report's health section: the verdict and every reason as of the period's end."""

from __future__ import annotations

import datetime as _dt

from analytics.analyses.health import model_health
from analytics.render import format as fmt


def health(mi, earlier: dict) -> dict:
    """The one-line verdict and every reason (health module), as of the end of the report period."""
    now = mi.selection.end - _dt.timedelta(microseconds=1) if mi.selection.end else None
    h = model_health(mi.engine, mi.spec, now=now)
    findings = [r for r in h.reasons if r.level != "info"]
    words = {"healthy": "Healthy", "warn": "Needs attention", "pull": "Pull the model"}
    if findings:
        worst = next(r for r in findings if r.level == h.status) if h.status != "healthy" else findings[0]
        headline = f"{words[h.status]}: {worst.message}"
    else:
        headline = f"{words[h.status]}: every health check that could be evaluated passed."
    rows = [{"rule": r.rule.replace("_", " "), "level": r.level, "metric": r.metric or "", "version": r.version or "",
             "observed": fmt.num(r.observed), "threshold": fmt.num(r.threshold), "period": r.period,
             "message": r.message} for r in sorted(h.reasons, key=lambda r: ("pull", "warn", "info").index(r.level))]
    windows = {k: f"{fmt.date(a)} to {fmt.date(b - _dt.timedelta(days=1))}" for k, (a, b) in h.windows.items()}
    return {"template": "health.html.j2", "title": "Health checks", "status": h.status, "rows": rows,
            "windows": windows, "empty": None, "result": h,
            "verdict": {"status": h.status, "headline": headline,
                        "reasons": [r.message for r in findings if r.message not in headline]},
            "summary": {"status": h.status, "headline": headline}}
