"""Weak segments: where does the model do worst, and is it more than noise?

For one label metric, every value of each segment column and (with ``pairs``)
every combination of two segment columns' values that has at least
``min_support`` labeled rows is compared with *the rest* (every other row of
the selection):

* the segment's metric with its 95% interval (the registry's method);
* ``delta_vs_rest`` = segment - rest;
* a two-sided p-value for "segment and rest differ": two-proportion z test
  (pooled) for proportions, DeLong-based z for ROC AUC (independent groups),
  Welch's t for means, otherwise a normal approximation from the two standard
  errors;
* Benjamini-Hochberg q-values over every tested segment (false discovery rate);
* ``impact`` = labeled rows x shortfall, the shortfall being how much worse
  the segment is than the rest in the metric's bad direction (negative when it
  is better; metrics without a direction use the absolute difference).
  Segments are ranked by impact, highest first.

Cost: per grouping (each column, each pair) one ``sums`` query (plus the
score query for ROC/PR AUC); the rest's aggregates are the overall sums minus
the segment's (counts and sums are additive); for ROC / PR AUC one more query
gives every segment's score sums and its complement's, per distinct score in the
engine (:func:`analytics.metrics.queries.score_with_complement_query`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any


from .engine import Engine
from .errors import EmptySelectionError, SelectionError
from .metrics import MetricValue, get_metric
from .metrics.compute import finish_metrics, key_dict, materialized, plan_queries, run_plan
from .metrics.queries import REST, score_with_complement_query
from .selection import Grouping, Selection
from .stats import benjamini_hochberg, unpaired_test

#: Default minimum of labeled rows for a segment to be tested.
MIN_SUPPORT = 100


@dataclass(frozen=True)
class Segment:
    """One segment compared with the rest of the selection."""

    where: dict[str, Any]
    n: int
    n_labeled: int
    metric: MetricValue
    rest: MetricValue
    delta_vs_rest: float | None
    p_value: float | None
    q_value: float | None
    impact: float | None

    def to_dict(self) -> dict[str, Any]:
        m = self.metric
        return {"where": dict(self.where), "n": self.n, "n_labeled": self.n_labeled, "value": m.value,
                "ci_low": m.ci_low, "ci_high": m.ci_high, "reason": m.reason, "rest_value": self.rest.value,
                "delta_vs_rest": self.delta_vs_rest, "p_value": self.p_value, "q_value": self.q_value,
                "impact": self.impact}


@dataclass(frozen=True)
class SegmentsResult:
    model: str
    metric: str
    overall: MetricValue
    segments: tuple[Segment, ...]
    min_support: int

    def to_dict(self) -> dict[str, Any]:
        o = self.overall
        return {"model": self.model, "metric": self.metric, "min_support": self.min_support,
                "overall": {"value": o.value, "ci_low": o.ci_low, "ci_high": o.ci_high, "n": o.n,
                            "reason": o.reason},
                "segments": [s.to_dict() for s in self.segments]}


def weak_segments(engine: Engine, selection: Selection, metric: str, min_support: int = MIN_SUPPORT,
                  pairs: bool = True) -> SegmentsResult:
    """Segments of ``selection`` ranked by how much ``metric`` falls short there (see module doc)."""
    spec = selection.check(engine)
    d = get_metric(metric, spec.task)
    if d.kind != "label":
        raise SelectionError(f"Weak segments compare label metrics; {metric!r} is {d.kind}: "
                             "use `lastmile metrics --by SEGMENT` instead.")
    if not spec.columns.segments:
        raise SelectionError(f"Model {spec.name!r} declares no segment columns to compare.")
    with materialized(engine, spec, selection.apply(engine), [metric]) as table:
        overall, found = _compare(engine, spec, d, table, min_support, pairs)
    if overall is None:
        raise EmptySelectionError(f"The selection holds no predictions of model {spec.name!r} "
                                  f"({selection.describe()}).")
    qs = benjamini_hochberg([s.p_value for s in found])
    found = [Segment(**{**s.__dict__, "q_value": q}) for s, q in zip(found, qs)]
    found.sort(key=lambda s: (-(s.impact if s.impact is not None else -math.inf),
                              s.p_value if s.p_value is not None else 2.0))
    return SegmentsResult(spec.name, metric, overall, tuple(found), min_support)


def _compare(engine: Engine, spec, d, table, min_support: int, pairs: bool):
    """The overall value and every supported segment (unranked, without q-values)."""
    metric = d.name
    overall_groups = run_plan(engine, plan_queries(spec, table, Grouping(), [metric], label_delay=False))
    if not overall_groups:
        return None, []
    total = overall_groups[()]
    overall = finish_metrics([d], total)[metric]
    cols = list(spec.columns.segments)
    groupings = [(c,) for c in cols] + (list(itertools.combinations(cols, 2)) if pairs else [])
    found: list[Segment] = []
    for by in groupings:
        plan = plan_queries(spec, table, Grouping(by=by), [metric], label_delay=False)
        # ROC / PR AUC: each segment's score sums and its rest's come from one query
        scored = plan.queries.pop("score", None) is not None
        groups = run_plan(engine, plan)
        scores: dict[tuple, dict] = {}
        if scored:
            for r in engine.execute(score_with_complement_query(plan.rows), spec).to_pylist():
                scores[(tuple(r[k] for k in plan.rows.keys), r[REST])] = r
        for key, a in groups.items():
            if any(v is None for v in key) or int(a.get("n_labeled") or 0) < min_support:
                continue
            rest = _rest(total, a)
            if scored:
                a["score"] = scores.get((key, False), {})
                rest["score"] = scores.get((key, True), {})
            value = finish_metrics([d], a)[metric]
            other = finish_metrics([d], rest)[metric]
            delta = value.value - other.value if value.value is not None and other.value is not None else None
            found.append(Segment(where=key_dict(by, key), n=int(a["n"]), n_labeled=int(a["n_labeled"]),
                                 metric=value, rest=other, delta_vs_rest=delta,
                                 p_value=_p_value(d, value, other), q_value=None,
                                 impact=_impact(d.higher_is_better, delta, int(a["n_labeled"]))))
    return overall, found


def _rest(total: dict, part: dict) -> dict:
    """Aggregates of every row outside ``part``: additive sums and confusion counts subtracted."""
    rest: dict[str, Any] = {}
    for k, v in total.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            rest[k] = v - (part.get(k) or 0)
        elif k == "cm":
            cm = dict(v)
            for pair, cnt in (part.get("cm") or {}).items():
                cm[pair] = cm.get(pair, 0) - cnt
            rest[k] = {p: c for p, c in cm.items() if c}
        elif k == "classes":
            rest[k] = v
    return rest


def _p_value(d, a: MetricValue, b: MetricValue) -> float | None:
    """Two-sided p-value of segment ``a`` against the rest ``b`` (independent groups),
    by the registry's test for the metric (see :func:`analytics.stats.unpaired_test`)."""
    return unpaired_test(d, b, a).p_value


def _impact(higher_is_better: bool | None, delta: float | None, n_labeled: int) -> float | None:
    if delta is None:
        return None
    if higher_is_better is None:
        return n_labeled * abs(delta)
    return n_labeled * (-delta if higher_is_better else delta)
