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

Support first, and a cap (the plan; everything runs in the engine): per
grouping (each column, each pair of columns)

1. one aggregate counts the labeled rows of every value (or combination);
   those with at least ``min_support`` are kept, and of those only the
   ``top_k`` (default :data:`TOP_K`) with the most labeled rows, ties broken
   by the values' order. When more values qualify, every row whose value is
   not kept (including the values below ``min_support``) is grouped as one
   segment named :data:`OTHER` (``"(other)"`` in each column of the
   grouping), which is ranked like any segment when it has ``min_support``
   labeled rows; the result's ``capped`` says what was grouped
   (:class:`Capped`). Without a cap, values below ``min_support`` are not
   tested, as before;
2. the rows get a small integer slot (the kept value's rank, or the
   "(other)" slot) from a join with the kept values, into a temporary table;
3. the ``sums`` query per slot: at most ``top_k + 1`` groups. The rest's
   aggregates are the overall sums minus the segment's (counts and sums are
   additive). For ROC / PR AUC, the overall per-score table is computed once
   per call, and per grouping one query gives each segment's rank sums and
   its rest's (:func:`analytics.metrics.rest.rest_score_query`: rows x
   log(rows)); average precision's rest takes (kept segments) x (distinct
   scores) rows, in batches (:func:`analytics.metrics.rest.rest_ap_query`).

So a column with 10,000 values costs about what a column with 50 does.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


import ibis

from analytics.errors import EmptySelectionError, SelectionError
from analytics.log.columns import C
from analytics.log.engine import Engine
from analytics.metrics import MetricValue, get_metric
from analytics.metrics.compute import (Keyed, finish_metrics, key_dict, materialized, plan_keyed,
                                       plan_queries, run_plan)
from analytics.metrics.queries import Rows, count
from analytics.metrics.rest import (AP_BATCH_ROWS, distinct_scores_query, overall_scores, rest_ap_query,
                                    rest_score_query)
from analytics.query.selection import Grouping, Selection
from analytics.stats.twosample import benjamini_hochberg, unpaired_test
from analytics.render import format as fmt
from analytics.results import record
from analytics.store.answers import remembered

#: Default minimum of labeled rows for a segment to be tested.
MIN_SUPPORT = 100

#: Default cap: the values (or combinations) of one grouping that are ranked, by labeled rows.
TOP_K = 50

#: The name of the segment that groups every value beyond the cap (in each column of its grouping).
OTHER = "(other)"

_SLOT, _RANK, _OTHER_SLOT = "lm_g0", "lm_rank", -1


#: A weak segment is one whose Benjamini-Hochberg q-value is below this.
SIGNIFICANT_Q = 0.05


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
    #: the "(other)" segment: how many values (or combinations) it groups; None for one value
    other_values: int | None = None

    def to_dict(self) -> dict[str, Any]:
        m = self.metric
        return {"where": dict(self.where), "n": self.n, "n_labeled": self.n_labeled, "value": m.value,
                "ci_low": m.ci_low, "ci_high": m.ci_high, "reason": m.reason, "rest_value": self.rest.value,
                "delta_vs_rest": self.delta_vs_rest, "p_value": self.p_value, "q_value": self.q_value,
                "impact": self.impact, "other_values": self.other_values}


@dataclass(frozen=True)
class Capped:
    """A grouping with more supported values than the cap: what was ranked, what grouped."""

    columns: tuple[str, ...]
    values: int            # distinct non-NULL values (or combinations)
    supported: int         # of which with at least min_support labeled rows
    ranked: int            # kept by the cap (top_k)
    other_values: int      # grouped as "(other)": values - ranked
    other_rows: int
    other_labeled: int
    min_support: int

    @property
    def sentence(self) -> str:
        what = "values" if len(self.columns) == 1 else "combinations"
        rows = "labeled row" if self.min_support == 1 else "labeled rows"
        return (f"{' and '.join(self.columns)}: {self.values:,} {what}, {self.supported:,} with at least "
                f"{self.min_support:,} {rows}; the {self.ranked:,} with the most labeled rows are ranked, "
                f"the other {self.other_values:,} ({self.other_rows:,} rows, {self.other_labeled:,} labeled) "
                f"are grouped as {OTHER}.")

    def to_dict(self) -> dict[str, Any]:
        return record(self, drop=("min_support",), sentence=self.sentence)


@dataclass(frozen=True)
class SegmentsResult:
    model: str
    metric: str
    overall: MetricValue
    segments: tuple[Segment, ...]
    min_support: int
    top_k: int = TOP_K
    #: the groupings whose values were capped (empty when every supported value is ranked)
    capped: tuple[Capped, ...] = ()

    def weak(self, alpha: float = SIGNIFICANT_Q) -> tuple[Segment, ...]:
        """The segments significantly worse than the rest: worse (positive impact) with
        a Benjamini-Hochberg q below ``alpha``, in ranking order. What a reader should act on;
        the rest of :attr:`segments` is within chance."""
        return tuple(s for s in self.segments if s.impact is not None and s.impact > 0
                     and s.q_value is not None and s.q_value < alpha)

    def none_significant(self, alpha: float = SIGNIFICANT_Q, where: str = "") -> str | None:
        """The sentence to show instead of a list when no segment is significantly worse
        (None when some is)."""
        if self.weak(alpha):
            return None
        worse = [s for s in self.segments if s.impact is not None and s.impact > 0]
        tested = f"{len(self.segments):,} segment{'s' if len(self.segments) != 1 else ''}"
        text = (f"No segment is significantly worse than the rest{(' ' + where) if where else ''}: of the "
                f"{tested} with at least {self.min_support:,} labeled predictions, none has q < {alpha:g}")
        if worse and worse[0].q_value is not None:
            w = worse[0]
            text += (f" (the weakest, {', '.join(f'{k} = {v}' for k, v in w.where.items())}, has "
                     f"q = {fmt.against(w.q_value, alpha, 2)}: within chance)")
        return text + "."

    def to_dict(self) -> dict[str, Any]:
        o = self.overall
        return {"model": self.model, "metric": self.metric, "min_support": self.min_support,
                "top_k": self.top_k, "capped": [c.to_dict() for c in self.capped],
                "overall": {"value": o.value, "ci_low": o.ci_low, "ci_high": o.ci_high, "n": o.n,
                            "reason": o.reason},
                "segments": [s.to_dict() for s in self.segments]}


@remembered("weak_segments")
def weak_segments(engine: Engine, selection: Selection, metric: str, min_support: int = MIN_SUPPORT,
                  pairs: bool = True, top_k: int = TOP_K) -> SegmentsResult:
    """Segments of ``selection`` ranked by how much ``metric`` falls short there (see module doc).

    ``top_k`` caps the values (or combinations) ranked per grouping: the ones
    with the most labeled rows; the rest form the "(other)" segment.

    >>> res = weak_segments(engine, Selection.build("credit_default"), "roc_auc")  # doctest: +SKIP
    >>> [c.sentence for c in res.capped]                                          # doctest: +SKIP
    """
    if top_k < 1:
        raise SelectionError(f"The cap on ranked values per segment column must be at least 1, not {top_k}.")
    spec = selection.check(engine)
    d = get_metric(metric, spec.task)
    if d.kind != "label":
        raise SelectionError(f"Weak segments compare label metrics; {metric!r} is {d.kind}: "
                             "use `lastmile metrics --by SEGMENT` instead.")
    if not spec.columns.segments:
        raise SelectionError(f"Model {spec.name!r} declares no segment columns to compare.")
    with materialized(engine, spec, selection.apply(engine), [metric]) as table:
        overall, found, capped = _compare(engine, spec, d, table, min_support, pairs, top_k)
    if overall is None:
        raise EmptySelectionError(f"The selection holds no predictions of model {spec.name!r} "
                                  f"({selection.describe()}).")
    qs = benjamini_hochberg([s.p_value for s in found])
    found = [Segment(**{**s.__dict__, "q_value": q}) for s, q in zip(found, qs)]
    found.sort(key=lambda s: (-(s.impact if s.impact is not None else -math.inf),
                              s.p_value if s.p_value is not None else 2.0))
    return SegmentsResult(spec.name, metric, overall, tuple(found), min_support, top_k, tuple(capped))


def _compare(engine: Engine, spec, d, table, min_support: int, pairs: bool, top_k: int):
    """The overall value, every supported segment (unranked, without q-values), what was capped."""
    metric = d.name
    overall_groups = run_plan(engine, plan_queries(spec, table, Grouping(), [metric], label_delay=False))
    if not overall_groups:
        return None, [], []
    total = overall_groups[()]
    overall = finish_metrics([d], total)[metric]
    cols = list(spec.columns.segments)
    groupings = [(c,) for c in cols] + (list(itertools.combinations(cols, 2)) if pairs else [])
    found: list[Segment] = []
    capped: list[Capped] = []
    with _overall_scores(engine, spec, d, table) as scores:
        for by in groupings:
            _grouping(engine, spec, d, table, by, min_support, top_k, total, scores, found, capped)
    return overall, found, capped


@contextmanager
def _overall_scores(engine: Engine, spec, d, table):
    """ROC / PR AUC: the overall per-score table (the same for every grouping), computed once."""
    if d.stage != "score" or C.SCORE not in table.columns:
        yield None
        return
    with engine.temporary(overall_scores(Rows(table, (), spec.task)), spec) as o:
        yield o


def _grouping(engine: Engine, spec, d, table, by, min_support: int, top_k: int, total: dict, scores,
              found: list, capped: list) -> None:
    """The supported segments of one grouping into ``found`` (and its cap into ``capped``)."""
    metric = d.name
    kept, values, supported, top = _supported(engine, spec, table, by, min_support, top_k)
    if not kept:
        return
    cap = supported > top_k
    value_cols = [c for c in table.columns if c not in spec.columns.segments]
    with engine.temporary(_slotted(table, value_cols, by, top, cap), spec) as slotted:
        plan = plan_keyed(spec, Keyed(slotted, (_SLOT,), ("slot",)), [metric])
        # ROC / PR AUC: each segment's own rank sums and its rest's come from rest_score_query
        scored = plan.queries.pop("score", None) is not None
        groups = run_plan(engine, plan)
        rests: dict[tuple, dict] = {}
        if scored:
            rests = _rest_scores(engine, spec, plan.rows, metric, scores,
                                 [k[0] for k, a in groups.items()
                                  if k[0] is not None and int(a.get("n_labeled") or 0) >= min_support])
    if cap:
        o = groups.get((_OTHER_SLOT,), {})
        capped.append(Capped(tuple(by), values, supported, len(kept), values - len(kept),
                             int(o.get("n") or 0), int(o.get("n_labeled") or 0), min_support))
    for key, a in groups.items():
        if key[0] is None or int(a.get("n_labeled") or 0) < min_support:
            continue
        rest = _rest(total, a)
        if scored:   # a segment without scores leaves every score to its rest
            r = rests.get(key)
            a["score"] = {k[4:]: v for k, v in r.items() if k.startswith("own_")} if r else {}
            rest["score"] = {k: v for k, v in r.items() if not k.startswith("own_")} if r \
                else dict(total.get("score") or {})
        value = finish_metrics([d], a)[metric]
        other = finish_metrics([d], rest)[metric]
        delta = value.value - other.value if value.value is not None and other.value is not None else None
        is_other = key[0] == _OTHER_SLOT
        where = {c: OTHER for c in by} if is_other else kept[key[0]]
        found.append(Segment(where=where, n=int(a["n"]), n_labeled=int(a["n_labeled"]),
                             metric=value, rest=other, delta_vs_rest=delta,
                             p_value=_p_value(d, value, other), q_value=None,
                             impact=_impact(d.higher_is_better, delta, int(a["n_labeled"])),
                             other_values=values - len(kept) if is_other else None))


def _rest_scores(engine: Engine, spec, rows, metric: str, scores, slots: list[int]) -> dict[tuple, dict]:
    """The rank sums of each slot's rest: ROC AUC's in one query (rows x log rows);
    average precision's (any score metric but ROC AUC) in batches of slots of at most
    :data:`~analytics.metrics.rest.AP_BATCH_ROWS` (slot, score) rows (see
    :mod:`analytics.metrics.rest`)."""
    rests = {(r[_SLOT],): r for r in engine.execute(rest_score_query(rows, scores), spec).to_pylist()}
    if metric == "roc_auc" or not slots:
        return rests
    n_scores = int(engine.execute(distinct_scores_query(rows), spec).to_pylist()[0]["n_scores"] or 0)
    step = max(1, AP_BATCH_ROWS // max(1, n_scores))
    slots = sorted(slots)
    for i in range(0, len(slots), step):
        for r in engine.execute(rest_ap_query(rows, slots[i:i + step], scores), spec).to_pylist():
            rests.setdefault((r[_SLOT],), {})["s_ap"] = r["s_ap"]
    return rests


def _supported(engine: Engine, spec, table, by: tuple[str, ...], min_support: int, top_k: int):
    """The kept values of grouping ``by`` ({rank: where}: at least ``min_support`` labeled
    rows, the ``top_k`` with the most), how many distinct values it has, how many are supported."""
    t = table.filter(*[table[c].notnull() for c in by])
    sup = t.group_by(list(by)).aggregate(lm_labeled=count(t[C.LABELED]))
    summary = sup.aggregate(values=sup.count(), supported=count(sup.lm_labeled >= min_support))
    s = engine.execute(summary, spec).to_pylist()[0]
    values, supported = int(s["values"] or 0), int(s["supported"] or 0)
    if not supported:
        return {}, values, supported, None
    ranked = _ranked(table, by, min_support)
    top = ranked.filter(ranked[_RANK] < top_k).select(*by, _RANK)
    kept = {int(r[_RANK]): key_dict(by, tuple(r[c] for c in by)) for r in engine.execute(top, spec).to_pylist()}
    return kept, values, supported, top


def _ranked(table, by: tuple[str, ...], min_support: int):
    """The supported values of ``by`` with their 0-based rank (most labeled rows first)."""
    t = table.filter(*[table[c].notnull() for c in by])
    sup = t.group_by(list(by)).aggregate(lm_labeled=count(t[C.LABELED]))
    sup = sup.filter(sup.lm_labeled >= min_support)
    order = [ibis.desc(sup.lm_labeled), *[sup[c] for c in by]]
    return sup.mutate(**{_RANK: ibis.row_number().over(order_by=order)})


def _slotted(table, value_cols: list[str], by: tuple[str, ...], top, cap: bool):
    """``table``'s value columns and a slot per row: its value's rank when kept (a join
    with the at most ``top_k`` kept values), the "(other)" slot for every other
    non-NULL value when ``cap``, else NULL."""
    top = top.rename({f"lm_k_{c}": c for c in by})
    j = table.left_join(top, [table[c] == top[f"lm_k_{c}"] for c in by])
    slot = j[_RANK].cast("int64")
    if cap:
        known = functools.reduce(operator.and_, [j[c].notnull() for c in by])
        slot = ibis.ifelse(known, slot.fill_null(_OTHER_SLOT), ibis.null().cast("int64"))
    return j.select(*value_cols, **{_SLOT: slot})


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
    by the registry's test for the metric (see :func:`analytics.stats.twosample.unpaired_test`)."""
    return unpaired_test(d, b, a).p_value


def _impact(higher_is_better: bool | None, delta: float | None, n_labeled: int) -> float | None:
    if delta is None:
        return None
    if higher_is_better is None:
        return n_labeled * abs(delta)
    return n_labeled * (-delta if higher_is_better else delta)
