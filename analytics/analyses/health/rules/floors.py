"""``floors`` / ``ceilings``: a metric below its floor (above its ceiling); label metrics
on the performance window, operational ones on the current window."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analytics.metrics import get_metric

from analytics.render import format as fmt

from ..reasons import crossed
from .registry import HealthRule, register_rule

if TYPE_CHECKING:
    from ..context import HealthContext


def evaluate(ctx: HealthContext) -> None:
    spec, versions, chk = ctx.spec, ctx.versions, ctx.findings
    perf_rows, cur_rows, perf_period, cur_period = ctx.perf_rows, ctx.cur_rows, ctx.perf_period, ctx.cur_period
    for metric, lv, is_floor in ctx.thresholds():
        mdef = get_metric(metric, None)
        if spec.task not in mdef.tasks:
            continue
        rows, period = (perf_rows, perf_period) if mdef.kind == "label" else (cur_rows, cur_period)
        for v in versions:
            r = rows.get(v)
            mv = r.metrics.get(metric) if r else None
            if mv is None or mv.value is None:
                if rows or mdef.kind != "label":
                    chk.info("floor" if is_floor else "ceiling", period,
                             f"{metric} of {v} cannot be checked: {mv.reason if mv else 'no rows'}.", metric, v)
                continue
            level, th = crossed(mv.value, lv.get("warn"), lv.get("pull"), below=is_floor)
            if level:
                word = "below its floor" if is_floor else "above its ceiling"
                chk.add("floor" if is_floor else "ceiling", metric, mv.value, th, level, period,
                        f"{v}: {metric} is {fmt.against(mv.value, th)} (95% interval {fmt.sig(mv.ci_low)} to "
                        f"{fmt.sig(mv.ci_high)}, n = {mv.n:,}), {word} {fmt.sig(th)} ({level}) in {period}.", v)


register_rule(HealthRule("floor", "performance", "a metric below its floor (floors) or above its ceiling "
                         "(ceilings): label metrics on the performance window, operational ones on the current",
                         evaluate))
