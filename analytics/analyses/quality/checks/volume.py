"""Volume: predictions per period and version against the reference's typical volume.
Shadow versions are left out (their re-scores are not traffic).

The typical volume of a period is the sum, over its days, of the reference's median
rows on that weekday (weekly seasonality; the overall median when the reference has
fewer than two of each weekday). Observed: the ratio of the rows to that. A level
needs the ratio beyond it (below ``warn``/``pull``, or above ``warn_high``/``pull_high``)
and the difference beyond chance (Poisson, ``alpha``).

:func:`volume_table` is the one computation of volume: per (period, version) the rows,
the expected rows and their ratio. The health ``volume_drop`` rule calls it too, on the
same per-day counts, with the current week as one period.
"""

from __future__ import annotations

import datetime as _dt
import statistics
from typing import Any

from ..registry import QualityCheck, register
from ..results import Finding, day_period, when
from ._stats import poisson_two_sided

ALL = "all"


def _days(lo: _dt.date, hi: _dt.date):
    d = lo
    while d <= hi:
        yield d
        d += _dt.timedelta(days=1)


def volume_table(daily: list[dict], reference: tuple, current: tuple, period: str | None,
                 shadows=()) -> list[dict[str, Any]]:
    """Per (period, version) -- ``version`` ``"all"`` is every serving row -- of the current
    window: ``rows``, ``expected`` (None when the version is not in the reference) and
    ``ratio``.

    ``daily``: rows ``{"day": date, "version": str, "n": int}`` over both windows;
    ``reference`` / ``current``: ``(start, end)`` datetimes (None: open); ``period``:
    day, week or month, or None for the whole (bounded) current window as one period,
    each of its days counted even after the last day of data (the health ``volume_drop``
    rule). ``shadows``: versions left out (a shadow's re-scores are not
    traffic). Days without a row count as zero between the first and the last day of data."""
    daily = [r for r in daily if str(r["version"]) not in set(shadows)]
    if not daily:
        return []
    counts: dict[tuple[_dt.date, str], int] = {}
    for r in daily:
        day = r["day"] if isinstance(r["day"], _dt.date) else r["day"].date()
        for v in (str(r["version"]), ALL):
            counts[(day, v)] = counts.get((day, v), 0) + int(r["n"])
    first = min(d for d, _ in counts)
    last = max(d for d, _ in counts)
    versions = sorted({v for _, v in counts} - {ALL}) + [ALL]

    def clip(window):
        lo = max(first, window[0].date()) if window[0] else first
        hi = min(last, (window[1] - _dt.timedelta(microseconds=1)).date()) if window[1] else last
        return lo, hi

    rlo, rhi = clip(reference)
    ref_days = list(_days(rlo, rhi))
    typical: dict[str, dict[int, float] | None] = {}
    for v in versions:
        if not any(counts.get((d, v)) for d in ref_days):
            typical[v] = None
            continue
        by_wd: dict[int, list[int]] = {}
        for d in ref_days:
            by_wd.setdefault(d.weekday(), []).append(counts.get((d, v), 0))
        if len(by_wd) == 7 and all(len(x) >= 2 for x in by_wd.values()):
            typical[v] = {wd: float(statistics.median(x)) for wd, x in by_wd.items()}
        else:
            overall = float(statistics.median([counts.get((d, v), 0) for d in ref_days]))
            typical[v] = {wd: overall for wd in range(7)}
    # one period (the health rule's week): every day of the window counts, rows or not
    clo, chi = clip(current) if period else (current[0].date(), (current[1] - _dt.timedelta(microseconds=1)).date())
    out: dict[tuple[_dt.date, str], dict] = {}
    for d in _days(clo, chi):
        p = day_period(d, period) if period else clo
        for v in versions:
            row = out.setdefault((p, v), {"period": p, "version": v, "rows": 0,
                                          "expected": 0.0 if typical[v] is not None else None})
            row["rows"] += counts.get((d, v), 0)
            if typical[v] is not None:
                row["expected"] += typical[v][d.weekday()]
    for row in out.values():
        e = row["expected"]
        row["ratio"] = row["rows"] / e if e else None
    return sorted(out.values(), key=lambda r: (r["period"], r["version"] == ALL, r["version"]))


def _level(ratio: float, cfg) -> tuple[str, float | None]:
    for lv in ("pull", "warn"):
        lo, hi = cfg.get(lv), cfg.get(f"{lv}_high")
        if lo is not None and ratio < lo:
            return lv, lo
        if hi is not None and ratio > hi:
            return lv, hi
    return "ok", None


def _run(ctx) -> list[Finding]:
    cfg = ctx.cfg("volume")
    rows = volume_table(ctx.daily(), (ctx.reference.start, ctx.reference.end),
                        (ctx.current.start, ctx.current.end), ctx.period, ctx.shadows)
    out = []
    everyone = f"all serving versions ({', '.join(ctx.shadows)}: shadow, left out)" if ctx.shadows \
        else "all versions"
    for r in rows:
        p, v = r["period"].isoformat(), r["version"]
        who = everyone if v == ALL else v
        if r["ratio"] is None:
            reason = f"{v} has no rows in the reference window" if r["expected"] is None else "no rows expected"
            out.append(Finding("volume", "ok", None, f"Volume of {who} {when(p, ctx.period)}: not judged ({reason}).",
                               period=p, version=v, reason=reason, details={"rows": r["rows"]}))
            continue
        level, th = _level(r["ratio"], cfg)
        pv = poisson_two_sided(r["rows"], r["expected"])
        if level != "ok" and pv >= cfg["alpha"]:
            level, th = "ok", None
        if v != ALL and not cfg["per_version"]:
            level, th = "ok", None     # a version's share is a routing decision; judged on all rows
        msg = (f"{who}: {r['rows']:,} predictions {when(p, ctx.period)}, {r['ratio']:.2f}x the reference's typical "
               f"{r['expected']:,.0f}")
        if level != "ok":
            msg += f"; {level} beyond {th:g}x"
        out.append(Finding("volume", level, r["ratio"], msg + ".", period=p, version=v, threshold=th,
                           details={"rows": r["rows"], "expected": r["expected"], "p_value": pv}))
    return out


CHECK = register(QualityCheck(
    name="volume", title="Volume", scope="model", unit="ratio", warn=0.6, pull=0.25, direction="below",
    settings={"warn_high": 2.0, "pull_high": 4.0, "alpha": 1e-4, "per_version": False},
    measures="predictions in the period divided by the reference's typical volume for the same weekdays",
    run=_run,
    doc="A day with half the traffic, a day lost by the logging pipeline, a retry storm. Judged on "
        "every row of the model (`version = all`); `per_version = true` judges each version against "
        "its own reference volume too (off by default: a traffic split is a routing decision)."))
