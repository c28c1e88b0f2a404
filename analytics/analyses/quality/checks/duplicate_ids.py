"""Duplicate prediction ids: the share of predictions whose id repeats within their
version (the rows :func:`analytics.defects.repeated_ids` finds), per period."""

from __future__ import annotations

import ibis

from ....defects import as_timestamp, repeated_ids
from ....selection import period_start
from ..registry import QualityCheck, register
from ..results import Finding, when


def _run(ctx) -> list[Finding]:
    spec, engine = ctx.spec, ctx.engine
    c = spec.columns
    if not c.id:
        return []
    cfg = ctx.cfg("duplicate_ids")
    if engine.repeated_ids(spec):
        pred = engine.raw(spec, "predictions")
        rep = repeated_ids(spec, pred)
        cond = pred[c.id] == rep._lm_rid
        if c.version:
            cond &= pred[c.version].identical_to(rep._lm_rv)
        j = pred.left_join(rep, cond)
        ts = as_timestamp(j[c.timestamp])
        keep = ts.notnull()
        if ctx.current.start is not None:
            keep &= ts >= ibis.literal(ctx.current.start)
        if ctx.current.end is not None:
            keep &= ts < ibis.literal(ctx.current.end)
        j = j.filter(keep)
        q = j.group_by(_p=period_start(as_timestamp(j[c.timestamp]), ctx.period)).aggregate(
            n=j.count(), dup=j._lm_rid.notnull().cast("int64").sum())
        rows = {r["_p"]: (int(r["n"]), int(r["dup"] or 0)) for r in engine.execute(q, spec).to_pylist()}
    else:   # no id repeats anywhere (one cached aggregate): the periods from the shared counts
        from ..compute import day_period
        rows = {}
        for r in ctx.daily():
            if ctx.in_current(r["day"]):
                k = day_period(r["day"], ctx.period)
                rows[k] = (rows.get(k, (0, 0))[0] + int(r["n"]), 0)
    out = []
    for k in sorted(rows):
        n, dup = rows[k]
        share = dup / n if n else 0.0
        level, th = CHECK.level(share, cfg)
        p = k.isoformat()
        msg = f"{c.id}: {dup:,} of {n:,} predictions {when(p, ctx.period)} repeat an id within their version ({share:.2%})"
        if level != "ok":
            msg += f"; {level} beyond {th:.1%}"
        out.append(Finding("duplicate_ids", level, share, msg + ".", column=c.id, period=p, threshold=th,
                           details={"rows": n, "repeated": dup}))
    return out


CHECK = register(QualityCheck(
    name="duplicate_ids", title="Duplicate ids", scope="model", unit="share", warn=0.0, pull=0.01,
    measures="the share of predictions whose id another prediction of the same version repeats",
    run=_run,
    doc="A retried request logged twice, a replayed batch. Only the latest of them gets the id's "
        "outcome (see `lastmile validate`); the others count as unlabeled."))
