"""``label_coverage``: the share labeled among predictions ``after_weeks`` weeks old
(labels that should have arrived by then)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analytics.render import format as fmt

from ..reasons import WEEK, crossed
from .registry import HealthRule, register_rule

if TYPE_CHECKING:
    from ..context import HealthContext


def evaluate(ctx: HealthContext) -> None:
    chk, cov_rule, totals, cur_start, cur_end = ctx.findings, ctx.cfg.rules["label_coverage"], ctx.totals, ctx.cur_start, ctx.cur_end
    if cov_rule["enabled"]:
        k = int(cov_rule["after_weeks"])
        n, nl = totals(k)
        c_start, c_end = cur_start - k * WEEK, cur_end - k * WEEK
        c_period = fmt.date_range(c_start, c_end)
        if n:
            cov = nl / n
            level, th = crossed(cov, cov_rule["warn"], cov_rule["pull"], below=True)
            if level:
                chk.add("label_coverage", "label_coverage", cov, th, level, c_period,
                        f"Only {fmt.pct_against(cov, th)} of the {n:,} predictions of {c_period} ({k} week{'s' if k != 1 else ''} earlier) "
                        "have a label; "
                        f"{level} below {fmt.pct(th, 0)}.")
        else:
            chk.info("label_coverage", c_period, f"No predictions in {c_period}: label coverage not checked.",
                     "label_coverage")


register_rule(HealthRule("label_coverage", "coverage", "too few labels among predictions old enough to have "
                         "them", evaluate, settings="label_coverage"))
