"""``quality``: the data-quality checks of ``[models.quality]``, by day over the current
window (:mod:`analytics.analyses.quality`; one reason per check and column, at the
check's own warn and pull levels)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...quality.health import health_reasons
from .registry import HealthRule, register_rule

if TYPE_CHECKING:
    from ..context import HealthContext


def evaluate(ctx: HealthContext) -> None:
    for r in health_reasons(ctx.engine, ctx.spec, ctx.ref_sel, ctx.cur_start, ctx.cur_end, ctx.now,
                            result=ctx.quality()):
        ctx.findings.add(**r)


register_rule(HealthRule("quality", "current", "a data-quality check of the current window past its "
                         "warn or pull level", evaluate))
