"""Like-for-like version comparisons: the days both versions served, and strata.

A challenger that went live later than the champion has only seen the later
weeks. Comparing all of the champion's labeled rows with all of the challenger's
then compares periods, not models (the sample's ``delivery_eta``: ``v1``'s MAE
comes mostly from the months before the road works, ``v2`` only saw them).

* :func:`served_days` and :func:`served_together` find the days, within the selection, on which both
  versions have predictions. An unpaired comparison uses only those days by
  default (:data:`WINDOWS`: ``"overlap"``), and says so.
* :func:`stratified_tests` compares each metric within each period (day, week or
  month) of that window and combines the periods (Cochran-Mantel-Haenszel for
  rates, inverse-variance weighting for every other metric; see
  :mod:`analytics.stats.twosample`), so a traffic split that changed over time cannot bias
  the answer either.

A paired comparison (shadow scoring) is like for like by construction: both
versions scored the same ids, so it needs neither.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Sequence

import ibis
import ibis.expr.types as ir

from analytics.config.workspace import ModelSpec
from analytics.log.columns import C
from analytics.log.engine import Engine
from analytics.metrics import get_metric
from analytics.metrics.compute import registry_rows
from analytics.query.selection import Grouping, period_start
from analytics.stats.twosample import Stratum, Test, stratified_test

#: ``overlap``: the days both versions served (the default); ``all``: every row in the selection.
WINDOWS = ("overlap", "all")
#: Periods a stratified comparison can use.
STRATA = ("day", "week", "month")


@dataclass(frozen=True)
class ComparisonWindow:
    """Which rows a comparison used, in words and numbers a reader can check."""

    rule: str                       # "overlap" | "all" | "paired"
    days: int | None = None         # days both versions served (rule "overlap")
    first: _dt.date | None = None   # first and last such day
    last: _dt.date | None = None

    def describe(self) -> str:
        if self.rule == "paired":
            return "the ids both versions scored (paired)"
        if self.rule == "all":
            return "every labeled row of each version in the selection"
        if not self.days:
            return "no day on which both versions served"
        return (f"the {self.days:,} day{'s' if self.days != 1 else ''} both versions served, "
                f"{self.first} to {self.last}")

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "days": self.days,
                "start": self.first.isoformat() if self.first else None,
                "end": (self.last + _dt.timedelta(days=1)).isoformat() if self.last else None,
                "description": self.describe()}


def served_days(engine: Engine, spec: ModelSpec, two: ir.Table, baseline: str,
                candidate: str) -> dict[str, set[_dt.date]]:
    """Per version, the days (on the prediction timestamp) on which it has at least
    one prediction in ``two``: one small aggregate in the engine (days x 2 rows)."""
    t = two.filter(two[C.VERSION].isin([ibis.literal(baseline), ibis.literal(candidate)]))
    per = t.group_by([period_start(t[C.TS], "day").name("day"), t[C.VERSION].name("ver")]).aggregate(
        n=t.count())
    out: dict[str, set[_dt.date]] = {baseline: set(), candidate: set()}
    for r in engine.execute(per, spec).to_pylist():
        out[r["ver"]].add(r["day"])
    return out


def served_together(days: dict[str, set[_dt.date]]) -> tuple[_dt.date, ...]:
    """The days on which every version of ``days`` served, sorted."""
    sets = list(days.values())
    return tuple(sorted(set.intersection(*sets))) if sets else ()


def on_days(two: ir.Table, days: Sequence[_dt.date]) -> ir.Table:
    """``two`` restricted to the given days (bound as literals)."""
    return two.filter(period_start(two[C.TS], "day").isin([ibis.literal(d) for d in days]))


def window_of(days: Sequence[_dt.date]) -> ComparisonWindow:
    return ComparisonWindow("overlap", len(days), days[0] if days else None, days[-1] if days else None)


def stratified_tests(engine: Engine, spec: ModelSpec, table: ir.Table, baseline: str, candidate: str,
                     names: Sequence[str], period: str, alpha: float) -> dict[str, Test]:
    """Each metric of ``names`` per (version, period) from the registry, then each
    metric's stratified test over the periods in which both versions have a value."""
    cells: dict[Any, dict[str, Any]] = {}
    for r in registry_rows(engine, spec, table, Grouping(by=("version", "period"), period=period), names):
        cells.setdefault(r.group["period"], {})[str(r.group["version"])] = r.metrics
    out: dict[str, Test] = {}
    for name in names:
        strata = []
        for sides in cells.values():
            b, c = sides.get(baseline, {}).get(name), sides.get(candidate, {}).get(name)
            if b is None or c is None or b.value is None or c.value is None:
                continue
            strata.append(Stratum(b.value, b.se, b.n, c.value, c.se, c.n))
        out[name] = stratified_test(get_metric(name, spec.task), strata, alpha)
    return out
