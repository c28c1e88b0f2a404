"""``net_value``: net value (the value module) on the performance window, below a floor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analytics.errors import LastmileError

from ...value import compute_value
from ..context import BY_VERSION as by_version
from ..reasons import crossed, fmt
from .registry import HealthRule, register_rule

if TYPE_CHECKING:
    from ..context import HealthContext


def evaluate(ctx: HealthContext) -> None:
    engine, spec, chk, perf_sel, perf_period = ctx.engine, ctx.spec, ctx.findings, ctx.perf_sel, ctx.perf_period
    nv = ctx.cfg.rules["net_value"]
    if nv["enabled"] and spec.business is not None and perf_sel is not None:
        try:
            vrows = {str(r.group.get("version")): r for r in compute_value(engine, perf_sel, by_version).rows}
        except LastmileError as exc:
            chk.info("net_value", perf_period, f"Net value cannot be computed: {exc}", "net_value")
            vrows = {}
        for v, r in sorted(vrows.items()):
            if r.net_value is None or ctx.is_shadow(v):  # a shadow's value is value if promoted, not realized
                continue
            level, th = crossed(r.net_value, nv["warn"], nv["pull"], below=True)
            if level:
                chk.add("net_value", "net_value", r.net_value, th, level, perf_period,
                        f"{v}: net value is {fmt(r.net_value)} {spec.business.currency} in {perf_period} "
                        f"(value against the baseline minus compute cost), below {fmt(th)} ({level}).", v)



register_rule(HealthRule("net_value", "performance", "net value (value against the baseline minus compute "
                         "cost) below a floor", evaluate, settings="net_value"))
