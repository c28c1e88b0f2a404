"""Label sanity (binary): the positive rate of each period against the range of the
reference's per-period positive rates. Observed: how far outside that range, relative
to the reference's rate (0.25 = a quarter of the base rate beyond the range)."""

from __future__ import annotations

from ..registry import QualityCheck, register
from ..results import Finding, day_period, when
from ._stats import binom_greater, binom_less


def _run(ctx) -> list[Finding]:
    if ctx.spec.task != "binary":
        return []
    cfg = ctx.cfg("label_rate")
    min_labels = int(cfg["min_labels"])
    ref: dict = {}
    cur: dict = {}
    for r in ctx.daily():
        day = r["day"]
        for inside, acc in ((ctx.in_reference(day), ref), (ctx.in_current(day), cur)):
            if inside:
                k = day_period(day, ctx.period)
                a = acc.setdefault(k, [0, 0])
                a[0] += int(r["labeled"] or 0)
                a[1] += int(r["positives"] or 0)
    rates = [pos / n for n, pos in ref.values() if n >= min_labels]
    ref_n = sum(n for n, _ in ref.values())
    ref_rate = sum(p for _, p in ref.values()) / ref_n if ref_n else None
    out = []
    for k in sorted(cur):
        n, pos = cur[k]
        p = k.isoformat()
        if not rates or not ref_rate:
            reason = f"no reference period has {min_labels:,} labels"
        elif n < min_labels:
            reason = f"{n:,} labels in the period (min_labels {min_labels:,})"
        else:
            reason = None
        if reason:
            out.append(Finding("label_rate", "ok", None, f"Positive rate {when(p, ctx.period)}: not judged ({reason}).",
                               column=ctx.spec.columns.label, period=p, reason=reason))
            continue
        lo, hi = min(rates), max(rates)
        rate = pos / n
        excess = max(0.0, rate - hi, lo - rate) / ref_rate
        level, th = CHECK.level(excess, cfg)
        pv = binom_greater(pos, n, hi) if rate > hi else binom_less(pos, n, lo) if rate < lo else 1.0
        if level != "ok" and pv >= cfg["alpha"]:
            level, th = "ok", None
        msg = (f"{ctx.spec.columns.label}: positive rate {rate:.1%} of {n:,} labels {when(p, ctx.period)}, the reference's "
               f"periods ranged {lo:.1%} to {hi:.1%}")
        if level != "ok":
            msg += f"; {excess:.0%} of the base rate outside it, {level} beyond {th:.0%}"
        out.append(Finding("label_rate", level, excess, msg + ".", column=ctx.spec.columns.label, period=p,
                           threshold=th, details={"rate": rate, "labels": n, "reference_low": lo,
                                                  "reference_high": hi, "reference_rate": ref_rate}))
    return out


CHECK = register(QualityCheck(
    name="label_rate", title="Positive rate", scope="model", unit="share", warn=0.25, pull=1.0,
    settings={"min_labels": 100, "alpha": 1e-4},
    measures="how far the period's positive rate lies outside the range of the reference's per-period "
             "rates, as a share of the reference's base rate",
    run=_run,
    doc="Binary models: a label pipeline that writes every outcome as positive, or loses the "
        "positives. Periods with fewer than `min_labels` labels are not judged."))
