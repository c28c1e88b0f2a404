"""``drop``: the primary metric worse than in the reference window by a relative
``warn``/``pull`` amount *and* significantly so (the difference's test at ``alpha``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analytics.metrics import get_metric
from analytics.stats.twosample import unpaired_test

from analytics.render import format as fmt

from ..reasons import crossed
from .registry import HealthRule, register_rule

if TYPE_CHECKING:
    from ..context import HealthContext


def evaluate(ctx: HealthContext) -> None:
    spec, versions, chk, g = ctx.spec, ctx.versions, ctx.findings, ctx.general
    drop, drop_metric, perf_rows, reference = ctx.cfg.rules["drop"], ctx.drop_metric, ctx.perf_rows, ctx.reference
    perf_period, ref_period = ctx.perf_period, ctx.ref_period
    if drop["enabled"] and perf_rows:
        mdef = get_metric(drop_metric, spec.task)
        for v in versions:
            cur_mv = perf_rows[v].metrics[drop_metric] if v in perf_rows else None
            ref_mv, src = reference(v, drop_metric)
            if cur_mv is None or ref_mv is None or cur_mv.value is None:
                chk.info("drop", perf_period, f"{v}: no {drop_metric} in both the reference ({ref_period}) "
                         f"and the performance window: no drop check.", drop_metric, v)
                continue
            if not ref_mv.value or mdef.higher_is_better is None:
                continue
            test = unpaired_test(mdef, ref_mv, cur_mv, g["alpha"])
            worse = -test.delta if mdef.higher_is_better else test.delta
            rel = worse / abs(ref_mv.value)
            significant = test.p_value is not None and test.p_value < g["alpha"]
            level, th = crossed(rel, drop["warn"], drop["pull"], below=False)
            if level and significant:
                of = "" if src == v else f" ({src}'s)"
                chk.add("drop", drop_metric, rel, th, level, perf_period,
                        f"{v}: {drop_metric} {'fell' if mdef.higher_is_better else 'rose'} from "
                        f"{fmt.sig(ref_mv.value)}{of} in the reference {ref_period} to {fmt.sig(cur_mv.value)} in "
                        f"{perf_period}: {fmt.pct_against(rel, th)} worse (difference {fmt.signed(test.delta)}, "
                        f"interval {fmt.signed(test.ci_low)} to {fmt.signed(test.ci_high)}; "
                        f"{fmt.chance(test.p_value)}: {fmt.p_against(test.p_value, g['alpha'])}), beyond the "
                        f"{fmt.pct(th, 0)} {level} level.", v)


register_rule(HealthRule("drop", "performance", "the primary metric significantly worse than in the reference "
                         "window, by a relative amount", evaluate, settings="drop"))
