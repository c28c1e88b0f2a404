"""``volume_drop``: this week's predictions against the reference's typical week.
``warn`` / ``pull`` are relative drops (0.5: half the usual traffic or less).

One computation of volume, shared with the data-quality ``volume`` check: the same
per-(day, version) counts (the health context's quality run, one aggregate) and the
same definition (:func:`analytics.analyses.quality.checks.volume.volume_table`: the
reference's median rows per weekday, summed over the current window's days), with the
current week as one period. Traffic is the serving versions' (a shadow's re-scores are
not traffic). Settings: ``[models.alerts.volume_drop]`` (``enabled``, ``warn``,
``pull``; defaults in :data:`analytics.config.alerts.RULE_DEFAULTS`).

**One drop, one reason.** The ``quality`` rule runs first and judges each day of the
week (``[models.quality.volume]``). When the week's drop also crosses a level here, the
two are one reason: this rule's, at the worse of the two levels, naming the days the
quality check flagged (the quality reason is taken out). A drop only some days show
stays the quality rule's reason; a drop only the week shows is this rule's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analytics.errors import LastmileError
from analytics.render import format as F

from ...quality.checks.volume import ALL, volume_table
from ..reasons import WEEK, crossed, worst
from .registry import HealthRule, register_rule

if TYPE_CHECKING:
    from ..context import HealthContext


def expected_per_week(ref_rows: int, ref_days: float) -> float | None:
    """The reference's mean predictions per 7 days (None for an empty window). The rule
    now reads the reference's typical week (weekday medians, :func:`volume_table`)."""
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


def week_volume(ctx: HealthContext) -> tuple[int, float | None]:
    """``(rows, expected)`` of the serving versions over the current week."""
    q = ctx.quality()
    if isinstance(q, LastmileError):
        raise q
    rows = volume_table(list(q.daily), (ctx.ref_sel.start, ctx.ref_sel.end), (ctx.cur_start, ctx.cur_end),
                        None, q.shadows)
    row = next((r for r in rows if r["version"] == ALL), None)
    return (row["rows"], row["expected"]) if row else (0, None)


def evaluate(ctx: HealthContext) -> None:
    s = ctx.cfg.rules["volume_drop"]
    ref = ctx.ref_sel
    if not s["enabled"] or not (ref.start and ref.end):
        return
    try:
        current, expected = week_volume(ctx)
    except LastmileError as exc:
        ctx.findings.info("volume_drop", ctx.cur_period, f"Volume cannot be compared: {exc}", "volume")
        return
    drop, level, th = volume_drop(current, expected, s["warn"], s["pull"])
    if not expected:
        ctx.findings.info("volume_drop", ctx.cur_period, f"No predictions in the reference ({ctx.ref_period}): "
                          "volume not compared.", "volume")
        return
    if not level:
        return
    daily = [r for r in ctx.findings.reasons if r.rule == "quality" and r.metric == "volume" and r.version is None]
    for r in daily:  # the same drop, seen day by day: one reason
        ctx.findings.reasons.remove(r)
    by_day = "".join(f" By day: {r.message[0].lower()}{r.message[1:]}" for r in daily)
    ctx.findings.add("volume_drop", "volume", drop, th, worst([level, *(r.level for r in daily)]), ctx.cur_period,
                     f"Model {ctx.spec.name!r} made {F.count(current)} predictions in {ctx.cur_period}, {drop:.0%} "
                     f"below the reference's typical {F.count(round(expected))} for these days ({ctx.ref_period}); "
                     f"{level} from a {th:.0%} drop.{by_day}")


register_rule(HealthRule("volume_drop", "current", "this week's predictions far below the reference's "
                         "typical week (one reason with the quality rule's days)", evaluate,
                         settings="volume_drop"))
