"""Duplicate prediction ids: the share of predictions whose id repeats within their
version (the rows :func:`analytics.log.defects.repeated_ids` finds), per period."""

from __future__ import annotations

from ..registry import QualityCheck, register
from ..results import Finding, when


def _run(ctx) -> list[Finding]:
    c = ctx.spec.columns
    if not c.id:
        return []
    cfg = ctx.cfg("duplicate_ids")
    rows = ctx.repeated_rows()
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
