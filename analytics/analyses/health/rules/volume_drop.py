"""``volume_drop``: this week's predictions against the reference window's average per
7 days. ``warn`` / ``pull`` are relative drops (0.5: half the usual traffic or less).

Traffic is the model's, all versions together, on the current window; the reference
average is its rows times 7 over its length in days (one count in the engine). Settings:
``[models.alerts.volume_drop]`` (``enabled``, ``warn``, ``pull``; defaults in
:data:`analytics.config.alerts.RULE_DEFAULTS`).
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING

import ibis

from ..reasons import WEEK, crossed
from .registry import HealthRule, register_rule

if TYPE_CHECKING:
    from ..context import HealthContext


def expected_per_week(ref_rows: int, ref_days: float) -> float | None:
    """The reference's average predictions per 7 days (None for an empty window)."""
    return ref_rows * WEEK.days / ref_days if ref_days > 0 else None


def volume_drop(current: int, expected: float | None, warn: float | None,
                pull: float | None) -> tuple[float | None, str | None, float | None]:
    """``(drop, level, threshold)``: the relative drop ``1 - current / expected`` and the
    level it reaches (None: no expected volume, or no level reached)."""
    if not expected:
        return None, None, None
    drop = 1.0 - current / expected
    level, th = crossed(drop, warn, pull, below=False)
    return drop, level, th


def _reference_rows(ctx: HealthContext) -> int:
    t = ctx.engine.log(ctx.spec)
    keep = functools.reduce(operator.and_, ctx.ref_sel.predicates(ctx.engine, t), ibis.literal(True))
    t = t.filter(keep)
    return int(ctx.engine.execute(t.aggregate(n=t.count()), ctx.spec).to_pylist()[0]["n"])


def evaluate(ctx: HealthContext) -> None:
    s = ctx.cfg.rules["volume_drop"]
    if not s["enabled"]:
        return
    ref = ctx.ref_sel
    if not (ref.start and ref.end):
        return
    current = sum(n for (k, _v), (n, _nl) in ctx.counts.items() if k == 0)
    expected = expected_per_week(_reference_rows(ctx), (ref.end - ref.start).total_seconds() / 86_400)
    drop, level, th = volume_drop(current, expected, s["warn"], s["pull"])
    if expected is None or not expected:
        ctx.findings.info("volume_drop", ctx.cur_period, f"No predictions in the reference ({ctx.ref_period}): "
                          "volume not compared.", "volume")
    elif level:
        ctx.findings.add("volume_drop", "volume", drop, th, level, ctx.cur_period,
                         f"Model {ctx.spec.name!r} made {current:,} predictions in {ctx.cur_period}, {drop:.0%} "
                         f"below the reference's average of {expected:,.0f} per 7 days ({ctx.ref_period}); "
                         f"{level} from a {th:.0%} drop.")


register_rule(HealthRule("volume_drop", "current", "this week's predictions far below the reference's "
                         "average per 7 days", evaluate, settings="volume_drop"))
