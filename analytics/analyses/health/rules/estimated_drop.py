"""``estimated_drop``: while the latest week's labels are not in, its label-free estimate
of the primary metric against the reference (:mod:`analytics.analyses.estimate.health`;
warns, pulls only with ``[models.estimate] pull = true``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...estimate.health import estimate_reasons
from .registry import HealthRule, register_rule

if TYPE_CHECKING:
    from ..context import HealthContext


def evaluate(ctx: HealthContext) -> None:
    n0, nl0 = ctx.totals(0)
    for r in estimate_reasons(ctx.engine, ctx.spec, ctx.cur_end, ctx.versions, nl0 / n0 if n0 else None):
        ctx.findings.add(**r)


register_rule(HealthRule("estimated_drop", "current", "the label-free estimate of the primary metric, while "
                         "the labels are not in, worse than in the reference", evaluate))
