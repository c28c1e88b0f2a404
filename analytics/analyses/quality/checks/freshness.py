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

from analytics.render import format as fmt
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
    hourly = ctx.hourly()
    found = [("predictions", spec.columns.timestamp, *_predictions(ctx, hourly))]
    if spec.columns.label_timestamp:
        found.append(("outcomes", spec.columns.label_timestamp, *_outcomes(ctx)))
    out = []
    for role, name, newest, hours in found:
        if newest is None:
            out.append(Finding("freshness", "ok", None, f"No {role} up to {now:%Y-%m-%d %H:%M}: freshness not judged.",
                               column=name, reason=f"no {role}"))
            continue
        gap = usual_gap(hours)
        age = (now - newest).total_seconds() / 3600
        factor = age / gap
        level, th = CHECK.level(factor, cfg)
        msg = (f"{name}: the newest of the {role} is {fmt.sig(age)} h old at {now:%Y-%m-%d %H:%M} "
               f"({fmt.against(factor, th)}x the usual {gap:g} h silence)")
        if level != "ok":
            msg += f"; {level} beyond {th:g}x"
        out.append(Finding("freshness", level, factor, msg + ".", column=name, threshold=th,
                           details={"newest": newest.isoformat(), "age_hours": age, "usual_gap_hours": gap}))
    return out


def _in_reference(ctx, hour) -> bool:
    rs, re_ = ctx.reference.start, ctx.reference.end
    return (rs is None or hour >= rs) and (re_ is None or hour < re_)


def _predictions(ctx, hourly) -> tuple:
    """The newest prediction up to ``now`` and the reference's active hours (shared counts)."""
    now, engine, spec = ctx.now, ctx.engine, ctx.spec
    hours = sorted({r["hour"] for r in hourly if r["n"] and _in_reference(ctx, r["hour"])})
    if ctx.current.end is None or ctx.current.end > now:   # the selection reaches now: its counts tell
        newest = max((r["newest"] for r in hourly if r["newest"] is not None), default=None)
    else:   # a selection that ends before now says nothing of now: the whole log
        log = engine.log(spec)
        newest = engine.execute(log.aggregate(x=log[C.TS].max(where=log[C.TS] <= ibis.literal(now))),
                                spec).to_pylist()[0]["x"]
    return newest, hours


def _outcomes(ctx) -> tuple:
    """The newest outcome up to ``now`` and the reference's active outcome hours (one query
    over the outcomes of the windows' predictions; the whole log's when the selection ends
    before ``now``)."""
    now = ctx.now
    t = ctx.log if ctx.current.end is None or ctx.current.end > now else ctx.engine.log(ctx.spec)
    x = t[C.LABEL_TS]
    q = t.filter(x.notnull()).group_by(_h=x.truncate("h")).aggregate(
        newest=x.max(where=x <= ibis.literal(now)))
    rows = ctx.engine.execute(q, ctx.spec).to_pylist()
    newest = max((r["newest"] for r in rows if r["newest"] is not None), default=None)
    return newest, sorted(r["_h"] for r in rows if _in_reference(ctx, r["_h"]))


CHECK = register(QualityCheck(
    name="freshness", title="Freshness", scope="model", unit="factor", warn=6.0, pull=24.0,
    measures="the newest row's age at `now` divided by the log's usual longest silence",
    run=_run,
    doc="A log that stopped arriving. `now` is explicit: `--now` (default: the latest prediction, "
        "so only outcomes lagging the predictions show); a scheduler passes the current time."))
