"""Freshness: the age of the newest prediction (and of the newest outcome, when the
outcomes have a label timestamp) at ``now``, in multiples of the log's usual silence:
the 99th percentile of the gaps between consecutive hours that have rows in the
reference window (at least one hour). The newest rows are those of the whole log
up to ``now`` (when the selection reaches ``now``, of its predictions and their outcomes).
An hourly log that has been silent for 36 hours
is at 36x: pull."""

from __future__ import annotations

import datetime as _dt

import ibis

from ....log.columns import C
from ..registry import QualityCheck, register
from ..results import Finding


def usual_gap(hours: list[_dt.datetime]) -> float:
    """The 99th percentile of the gaps, in hours, between consecutive active hours (>= 1)."""
    hs = sorted(hours)
    gaps = sorted((b - a).total_seconds() / 3600 for a, b in zip(hs, hs[1:]))
    if not gaps:
        return 1.0
    return max(1.0, gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))])


def _run(ctx) -> list[Finding]:
    cfg = ctx.cfg("freshness")
    spec, engine, now = ctx.spec, ctx.engine, ctx.now
    if now is None:
        return []
    t = ctx.log
    stamps = [("predictions", spec.columns.timestamp, C.TS, "newest")]
    if spec.columns.label_timestamp:
        stamps.append(("outcomes", spec.columns.label_timestamp, C.LABEL_TS, "newest_outcome"))
    if ctx.current.end is None or ctx.current.end > now:   # the selection reaches now: its counts tell
        daily = ctx.daily()
        latest = {role: max((r[key] for r in daily if r.get(key) is not None), default=None)
                  for role, _, _, key in stamps}
    else:   # a selection that ends before now says nothing of now: the whole log
        log = engine.log(spec)
        nowl = ibis.literal(now)
        latest = engine.execute(log.aggregate(**{role: log[col].max(where=log[col] <= nowl)
                                                 for role, _, col, _ in stamps}), spec).to_pylist()[0]
    parts = []
    rs, re_ = ctx.reference.start, ctx.reference.end
    for i, (_, _, col, _) in enumerate(stamps):
        x = t[col]
        cond = x.notnull()
        if rs is not None:
            cond &= x >= ibis.literal(rs)
        if re_ is not None:
            cond &= x < ibis.literal(re_)
        parts.append(t.filter(cond).select(_r=ibis.literal(i), _h=x.truncate("h")).distinct())
    q = parts[0]
    for p in parts[1:]:
        q = q.union(p, distinct=False)
    hours: dict[int, list] = {}
    for r in engine.execute(q, spec).to_pylist():
        hours.setdefault(r["_r"], []).append(r["_h"])
    out = []
    for i, (role, name, _, _) in enumerate(stamps):
        newest = latest[role]
        if newest is None:
            out.append(Finding("freshness", "ok", None, f"No {role} up to {now:%Y-%m-%d %H:%M}: freshness not judged.",
                               column=name, reason=f"no {role}"))
            continue
        gap = usual_gap(hours.get(i, []))
        age = (now - newest).total_seconds() / 3600
        factor = age / gap
        level, th = CHECK.level(factor, cfg)
        msg = (f"{name}: the newest of the {role} is {age:,.1f} h old at {now:%Y-%m-%d %H:%M} "
               f"({factor:.1f}x the usual {gap:g} h silence)")
        if level != "ok":
            msg += f"; {level} beyond {th:g}x"
        out.append(Finding("freshness", level, factor, msg + ".", column=name, threshold=th,
                           details={"newest": newest.isoformat(), "age_hours": age, "usual_gap_hours": gap}))
    return out


CHECK = register(QualityCheck(
    name="freshness", title="Freshness", scope="model", unit="factor", warn=6.0, pull=24.0,
    measures="the newest row's age at `now` divided by the log's usual longest silence",
    run=_run,
    doc="A log that stopped arriving. `now` is explicit: `--now` (default: the latest prediction, "
        "so only outcomes lagging the predictions show); a scheduler passes the current time."))
