"""How much a feature's drift matters to the model's performance: a simple proxy.

For a feature, its bins (numeric: the reference deciles PSI uses; categorical:
its categories) split the windows. In each bin the model's primary metric
(``roc_auc`` for binary, ``macro_f1`` for multiclass, ``mae`` for regression;
``[models.compare] primary_metric`` overrides) is computed on the reference
window's labelled rows, by the metrics registry, in the engine (one grouped
query). The proxy is the change of the bin-weighted metric that the feature's
shift alone brings about:

    impact = sum over bins b of  (c_b - r_b) * metric_ref(b)

with ``r_b`` and ``c_b`` the reference and current shares of the bin (over
the bins whose reference metric rests on at least :data:`MIN_BIN_LABELS`
labelled rows; the shares are renormalised over them). ``importance =
|impact|``, in the metric's unit: "had the model kept performing in each bin
as it did in the reference, the new mix of this feature alone would move the
metric by this much". ``worse`` says whether that move is for the worse. A
feature that did not move has importance ~0 whatever the noise of the per-bin
metric (the weights are differences of shares); the current window needs no
labels (labels arrive late). It is not a causal estimate; it ranks drifted
features in the health reasons (``analytics/docs/drift.md``, "Which drift
matters").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import ibis

from analytics.config.workspace import ModelSpec
from analytics.log.engine import Engine
from analytics.metrics.compute import Keyed, finish_metrics, plan_keyed, run_plan, value_columns
from analytics.metrics.registry import PRIMARY_METRIC, get_metric
from analytics.query.selection import Selection
from analytics.render import format as fmt
from . import distribution, queries as q, targets
from analytics.results import record

__all__ = ["FeatureImportance", "feature_importance", "primary_metric"]

#: A bin's metric on fewer labelled rows than this is not compared (too noisy).
MIN_BIN_LABELS = 20


@dataclass(frozen=True)
class FeatureImportance:
    """The proxy for one feature: ``value`` = |impact| (None with ``reason`` when it cannot be computed)."""

    feature: str
    metric: str
    value: float | None
    impact: float | None = None       # signed: the metric's change from the mix shift
    worse: bool | None = None         # is that change for the worse?
    bins: int = 0                     # bins compared
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return record(self)

    def describe(self) -> str:
        """"importance 0.012 roc_auc (worse)" or why it is missing."""
        if self.value is None:
            return f"importance unknown: {self.reason}"
        word = "" if self.worse is None or self.value == 0 else (" for the worse" if self.worse else " for the better")
        return f"moves {self.metric} by {fmt.sig(self.value, 2)}{word}"


def primary_metric(spec: ModelSpec) -> str:
    return spec.compare.get("primary_metric") or PRIMARY_METRIC[spec.task]


def _by_bin(engine: Engine, spec: ModelSpec, sel: Selection, bin_expr, metric: str) -> dict[Any, tuple[float | None, int]]:
    """``{bin: (metric value, labelled rows)}`` over the rows of ``sel``."""
    t = sel.apply(engine)
    keyed = Keyed(t.mutate(lm_g0=bin_expr(t)), ("lm_g0",), ("bin",))
    cols = ["lm_g0"] + [c for c in value_columns(spec, [metric]) if c in keyed.t.columns]
    with engine.temporary(keyed.t.select(*cols), spec) as narrow:
        plan = plan_keyed(spec, replace(keyed, t=narrow), [metric])
        groups = run_plan(engine, plan)
    out = {}
    for k, a in groups.items():
        mv = finish_metrics(plan.defs, a)[metric]
        out[k[0]] = (mv.value, int(a.get("n_labeled") or 0))
    return out


def feature_importance(engine: Engine, model: str | ModelSpec, feature: str, reference: Selection,
                       current: Selection, metric: str | None = None) -> FeatureImportance:
    """The importance proxy of ``feature`` (see the module docstring) between two windows."""
    spec = engine.spec(model)
    metric = metric or primary_metric(spec)
    if not spec.columns.label:
        return FeatureImportance(feature, metric, None, reason="the model has no label column")
    tgt = targets(engine, spec, [feature], prediction=False, label=False)[0]
    frame = distribution(engine, spec, feature, reference, current)
    if tgt.kind == "numeric":
        edges = [float(e) for e in frame["upper"].to_list() if e is not None]
        keys: list[Any] = list(range(len(edges) + 1))

        def bin_expr(t):
            x = tgt.value(t)
            return ibis.ifelse(x.isnull(), -1, q.bin_index(x, edges))
    else:
        keys = frame["bin"].to_list()

        def bin_expr(t):
            return tgt.value(t)
    ref = _by_bin(engine, spec, reference, bin_expr, metric)
    rc, cc = frame["ref_count"].to_list(), frame["cur_count"].to_list()
    ok = [i for i, b in enumerate(keys)
          if b in ref and ref[b][0] is not None and ref[b][1] >= MIN_BIN_LABELS]
    r_tot, c_tot = sum(rc[i] for i in ok), sum(cc[i] for i in ok)
    if not ok or not r_tot or not c_tot:
        return FeatureImportance(feature, metric, None,
                                 reason=f"no bin of {feature!r} has {metric} in the reference window "
                                        f"(at least {MIN_BIN_LABELS} labelled rows)")
    impact = sum((cc[i] / c_tot - rc[i] / r_tot) * ref[keys[i]][0] for i in ok)
    hib = get_metric(metric, spec.task).higher_is_better
    worse = None if hib is None else (impact < 0 if hib else impact > 0)
    return FeatureImportance(feature, metric, abs(impact), impact, worse, len(ok))
