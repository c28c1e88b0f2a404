"""Quality problems as health reasons (``lastmile check``, the portfolio, the PDF).

The current window is checked by day against the health reference; each (check,
column, version) at warn or pull becomes one reason at its worst level, naming the
days. Returned as plain dicts of :class:`analytics.analyses.health.Reason`'s fields (rule
``quality``, metric the check's name), so this module does not import the health one.
"""

from __future__ import annotations

from analytics.errors import LastmileError

from .checks import CHECKS
from .compute import run_quality
from .results import rank


def day_quality(engine, spec, reference, start, end, now=None):
    """The quality run health reads: by day over ``[start, end)`` against ``reference``
    (a :class:`QualityResult`), or the :class:`LastmileError` that stopped it."""
    try:
        return run_quality(engine, spec, start=start, end=end, period="day", now=now, reference=reference)
    except LastmileError as exc:
        return exc


def health_reasons(engine, spec, reference, start, end, now=None, result=None) -> list[dict]:
    """The reasons of the quality rule (``result``: :func:`day_quality`'s answer, if already run)."""
    res = day_quality(engine, spec, reference, start, end, now) if result is None else result
    if isinstance(res, LastmileError):   # like any rule that cannot be evaluated: an info reason
        return [{"rule": "quality", "metric": None, "observed": None, "threshold": None, "level": "info",
                 "period": f"{start:%Y-%m-%d} to {end:%Y-%m-%d}",
                 "message": f"Data quality cannot be checked: {res}", "version": None}]
    groups: dict[tuple, list] = {}
    for f in res.problems("warn"):
        groups.setdefault((f.check, f.column, f.version, f.file), []).append(f)
    out = []
    for (check, column, version, _), fs in groups.items():
        worst = max(fs, key=lambda f: (rank(f.level), f.observed or 0))
        days = sorted({f.period for f in fs if f.period})
        when = (days[0] if len(days) == 1 else f"{days[0]} to {days[-1]} ({len(days)} days)") if days \
            else f"{start:%Y-%m-%d} to {end:%Y-%m-%d}"
        more = f" (worst of {len(fs)} days)" if len(fs) > 1 else ""
        out.append({"rule": "quality", "metric": check, "observed": worst.observed, "threshold": worst.threshold,
                    "level": worst.level, "period": when,
                    "message": f"Data quality, {CHECKS[check].title.lower()}: {worst.message.rstrip('.')}{more}.",
                    "version": version if version not in (None, "all") else None})
    return out
