"""``latency_p95``: p95 latency in ms above its ceiling, or its ratio to the reference p95."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analytics.render import format as fmt

from ..reasons import crossed
from .registry import HealthRule, register_rule

if TYPE_CHECKING:
    from ..context import HealthContext


def evaluate(ctx: HealthContext) -> None:
    versions, chk, cur_rows, reference = ctx.versions, ctx.findings, ctx.cur_rows, ctx.reference
    use_latency, lat, cur_period, ref_period = ctx.use_latency, ctx.cfg.rules["latency_p95"], ctx.cur_period, ctx.ref_period
    if use_latency:
        for v in versions:
            mv = cur_rows[v].metrics["latency_p95"] if v in cur_rows else None
            if mv is None or mv.value is None:
                continue
            level, th = crossed(mv.value, lat["warn"], lat["pull"], below=False)
            ref_mv, src = reference(v, "latency_p95")
            if level:
                chk.add("latency_p95", "latency_p95", mv.value, th, level, cur_period,
                        f"{v}: p95 latency is {fmt.against(mv.value, th)} ms in {cur_period}, above the {level} "
                        f"ceiling of {fmt.sig(th)} ms.", v)
            elif ref_mv is not None and ref_mv.value:
                ratio = mv.value / ref_mv.value
                level, th = crossed(ratio, lat["warn_ratio"], lat["pull_ratio"], below=False)
                if level:
                    of = "" if src == v else f" ({src}'s)"
                    chk.add("latency_p95", "latency_p95", mv.value, th * ref_mv.value, level, cur_period,
                            f"{v}: p95 latency is {fmt.sig(mv.value)} ms in {cur_period}, "
                            f"{fmt.against(ratio, th)}x the reference{of} {fmt.sig(ref_mv.value)} ms "
                            f"({ref_period}); {level} from {th:g}x.", v)


register_rule(HealthRule("latency_p95", "current", "p95 latency above a ceiling in ms, or a multiple of the "
                         "reference's p95", evaluate, settings="latency_p95"))
