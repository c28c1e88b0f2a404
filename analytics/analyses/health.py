"""The health verdict: for each model, healthy / warn / pull, with every reason
(or error: its logs cannot be read, so it cannot be checked at all).

``model_health(engine, model)`` evaluates the rules of ``[models.alerts]``
(defaults below; the user's description is :file:`analytics/docs/health.md`)
over three windows, all in whole days on the prediction timestamp:

* **current** -- the last 7 days up to ``now`` (default: the day of the latest
  prediction): traffic, latency and drift are judged here.
* **performance** -- labels arrive late, so label metrics are judged on the
  most recent 7-day window (stepping back a week at a time from the current
  one, at most ``lookback_weeks``) that has at least ``min_labels`` labeled
  predictions and a label coverage of at least ``min_label_coverage``.
* **reference** -- what "normal" was: ``reference_start``/``reference_end`` of
  ``[models.alerts]``, else the drift module's default reference window
  (``[models.drift]`` or the first 28 days of data).

Every version with at least ``min_rows`` predictions in the current window is
checked (or the ``versions`` listed); drift is measured on the version with
the most current traffic. The rules, each with a ``warn`` and a ``pull``
level:

* ``floors`` / ``ceilings`` -- a metric below its floor (above its ceiling);
  label metrics on the performance window, operational ones on the current;
* ``drop`` -- the primary metric worse than in the reference window by at
  least a relative ``warn``/``pull`` amount *and* significantly so (the
  difference's test, as in :mod:`analytics.analyses.compare`, at ``alpha``);
* ``drifted_features`` -- the share of features the drift module flags (its
  documented rule, :class:`analytics.analyses.drift.rule.DriftRule`; each feature named
  with the rule's numbers, ranked by the importance proxy of
  :mod:`analytics.analyses.drift.importance`);
* ``prediction_psi`` -- the score/prediction flagged by the same drift rule
  (``pull``: also PSI at or above it);
* ``net_value`` -- net value (value module) on the performance window;
* ``latency_p95`` -- p95 latency in ms, and its ratio to the reference p95;
* ``label_coverage`` -- the share labeled among predictions ``after_weeks``
  weeks old (labels that should have arrived by then).
* ``estimated_drop`` -- while the latest week's labels are not in, its label-free
  estimate of the primary metric against the reference (:mod:`.estimate.health`;
  warns, pulls only with ``[models.estimate] pull = true``).

The status is the worst level among the reasons. A rule that cannot be
evaluated adds an ``info`` reason saying why (it does not change the status).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import ibis

from analytics.config.alerts import AlertSettings
from analytics.config.times import parse_time
from analytics.config.workspace import ModelSpec
from analytics.errors import EmptySelectionError, LastmileError
from analytics.log.columns import C
from analytics.log.engine import Engine
from analytics.metrics import PRIMARY_METRIC, get_metric
from analytics.metrics.compute import compute_metrics
from analytics.query.selection import Grouping, Selection
from analytics.stats.twosample import unpaired_test
from .drift import compute_drift, default_reference
from .drift.importance import feature_importance
from .estimate.health import estimate_reasons
from .value import compute_value

#: From best to worst: ``error`` (the model's logs cannot be read) outranks ``pull``,
#: since nothing about the model is known while monitoring itself is broken.
STATUSES = ("healthy", "warn", "pull", "error")
LEVELS = ("info", "warn", "pull", "error")
_RANK = {"healthy": 0, "info": 0, "warn": 1, "pull": 2, "error": 3}
WEEK = _dt.timedelta(days=7)

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Reason:
    """One finding: which rule, on what, the observed value against which threshold."""

    rule: str
    metric: str | None
    observed: float | None
    threshold: float | None
    level: str                 # info | warn | pull | error
    period: str
    message: str
    version: str | None = None
    #: drift reasons: per drifted target, {"feature", "why", "importance", "importance_metric", ...}
    details: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = {"rule": self.rule, "metric": self.metric, "observed": self.observed,
               "threshold": self.threshold, "level": self.level, "period": self.period,
               "version": self.version, "message": self.message}
        if self.details:
            out["details"] = [dict(d) for d in self.details]
        return out


@dataclass(frozen=True)
class Health:
    """A model's status (the worst level among its reasons) and every reason."""

    model: str
    status: str
    reasons: tuple[Reason, ...]
    windows: Mapping[str, tuple[_dt.datetime, _dt.datetime]] = field(default_factory=dict)
    versions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "status": self.status, "versions": list(self.versions),
                "windows": {k: {"start": a.isoformat(), "end": b.isoformat()} for k, (a, b) in self.windows.items()},
                "reasons": [r.to_dict() for r in self.reasons]}


def worst(levels: Sequence[str]) -> str:
    """The status implied by reason levels."""
    rank = max((_RANK[lv] for lv in levels), default=0)
    return STATUSES[rank]


# --------------------------------------------------------------------------- evaluation


def _day(ts: _dt.datetime) -> _dt.datetime:
    return _dt.datetime(ts.year, ts.month, ts.day)


def _period(start: _dt.datetime, end: _dt.datetime) -> str:
    """``start`` to the last day before ``end``, as people read it."""
    return f"{start.date().isoformat()} to {(end - _dt.timedelta(days=1)).date().isoformat()}"


def _fmt(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.4g}" if abs(x) < 1e5 else f"{x:,.0f}"


def _level(observed: float, warn: float | None, pull: float | None, below: bool) -> tuple[str | None, float | None]:
    """Which level ``observed`` reaches (pull first) and the threshold it crossed."""
    for lv, th in (("pull", pull), ("warn", warn)):
        if th is not None and (observed < th if below else observed > th):
            return lv, th
    return None, None


class _Check:
    """Collects reasons while one model is evaluated."""

    def __init__(self):
        self.reasons: list[Reason] = []

    def add(self, rule, metric, observed, threshold, level, period, message, version=None, details=()):
        self.reasons.append(Reason(rule, metric, observed, threshold, level, period, message, version,
                                   tuple(details)))

    def info(self, rule, period, message, metric=None, version=None):
        self.add(rule, metric, None, None, "info", period, message, version)


def _weekly_counts(engine: Engine, spec: ModelSpec, end: _dt.datetime, weeks: int) -> dict[tuple[int, str], tuple[int, int]]:
    """(weeks back, version) -> (predictions, labeled) for the 7-day windows ending at ``end``."""
    t = engine.log(spec)
    start = end - weeks * WEEK
    t = t.filter((t[C.TS] >= ibis.literal(start)) & (t[C.TS] < ibis.literal(end)))
    k = ibis.cases(*[(t[C.TS] >= ibis.literal(end - (i + 1) * WEEK), i) for i in range(weeks)], else_=weeks)
    agg = t.group_by(k=k, v=t[C.VERSION]).aggregate(n=t.count(), nl=t[C.LABELED].cast("int64").sum())
    return {(int(r["k"]), str(r["v"])): (int(r["n"]), int(r["nl"] or 0)) for r in engine.execute(agg, spec).to_pylist()}


def _metrics(engine: Engine, selection: Selection, grouping: Grouping, metrics: Sequence[str]) -> dict[str, Any]:
    """Registry metrics per version (empty when the selection holds no rows)."""
    try:
        result = compute_metrics(engine, selection, grouping, metrics=metrics, label_delay=False)
    except EmptySelectionError:
        return {}
    return {str(r.group.get("version")): r for r in result.rows}


def model_health(engine: Engine, model: str | ModelSpec, now: _dt.datetime | None = None) -> Health:
    """Evaluate every ``[models.alerts]`` rule of one model (see the module docstring)."""
    spec = engine.spec(model)
    cfg = AlertSettings.from_spec(spec)
    g = cfg.general
    chk = _Check()
    t = engine.log(spec)
    if now is None:
        now = engine.execute(t.aggregate(hi=t[C.TS].max()), spec).to_pylist()[0]["hi"]
        if now is None:
            chk.add("traffic", "volume", 0.0, None, "warn", "all data", f"Model {spec.name!r} has no predictions.")
            return Health(spec.name, "warn", tuple(chk.reasons))
    cur_end = _day(now) + _dt.timedelta(days=1)
    cur_start = cur_end - WEEK
    cur_period = _period(cur_start, cur_end)
    cov_rule = cfg.rules["label_coverage"]
    weeks = max(int(g["lookback_weeks"]), int(cov_rule["after_weeks"]) + 1)
    counts = _weekly_counts(engine, spec, cur_end, weeks)
    windows = {"current": (cur_start, cur_end)}

    # which versions: those serving now (or the ones listed)
    current = {v: n for (k, v), (n, _) in counts.items() if k == 0}
    if g["versions"]:
        versions = tuple(g["versions"])
    else:
        versions = tuple(sorted(v for v, n in current.items() if n >= g["min_rows"]))
    if not versions:
        chk.add("traffic", "volume", float(sum(current.values())), float(g["min_rows"]), "warn", cur_period,
                f"No version has at least {g['min_rows']:,} predictions in the current window ({cur_period}).")
        return Health(spec.name, worst([r.level for r in chk.reasons]), tuple(chk.reasons), windows, ())
    champion = max(versions, key=lambda v: current.get(v, 0))

    def totals(k):
        n = sum(counts.get((k, v), (0, 0))[0] for v in versions)
        nl = sum(counts.get((k, v), (0, 0))[1] for v in versions)
        return n, nl

    # the performance window: the latest week with enough labels
    perf_k = next((k for k in range(int(g["lookback_weeks"]))
                   if totals(k)[1] >= g["min_labels"] and totals(k)[1] >= g["min_label_coverage"] * totals(k)[0]),
                  None)
    perf = None
    if perf_k is None:
        chk.add("performance_window", "label_coverage", None, float(g["min_labels"]), "warn", cur_period,
                f"No 7-day window in the last {g['lookback_weeks']} weeks has {g['min_labels']:,} labeled "
                f"predictions with {g['min_label_coverage']:.0%} coverage: performance cannot be checked.")
    else:
        perf = (cur_start - perf_k * WEEK, cur_end - perf_k * WEEK)
        windows["performance"] = perf

    # the reference window
    if g["reference_start"] or g["reference_end"]:
        rs = parse_time(g["reference_start"], "reference_start")
        re_ = parse_time(g["reference_end"], "reference_end")
        ref_sel = Selection.build(spec.name, rs, re_)
    else:
        ref_sel = default_reference(engine, spec)[0]
    if ref_sel.start and ref_sel.end:
        windows["reference"] = (ref_sel.start, ref_sel.end)
    ref_period = _period(ref_sel.start, ref_sel.end) if ref_sel.start and ref_sel.end else ref_sel.describe()

    cur_sel = Selection.build(spec.name, cur_start, cur_end, versions)
    perf_sel = Selection.build(spec.name, perf[0], perf[1], versions) if perf else None
    perf_period = _period(*perf) if perf else ""
    by_version = Grouping(by=("version",))

    # ---- floors and ceilings
    thresholds = [(m, lv, True) for m, lv in cfg.floors.items()] + [(m, lv, False) for m, lv in cfg.ceilings.items()]
    label_ms = [m for m, _, _ in thresholds if get_metric(m, None).kind == "label"
                and spec.task in get_metric(m, None).tasks]
    op_ms = [m for m, _, _ in thresholds if get_metric(m, None).kind != "label"
             and spec.task in get_metric(m, None).tasks]
    drop = cfg.rules["drop"]
    drop_metric = drop["metric"] or spec.compare.get("primary_metric") or PRIMARY_METRIC[spec.task]
    lat = cfg.rules["latency_p95"]
    use_latency = bool(lat["enabled"] and spec.columns.latency_ms)

    perf_wanted = tuple(dict.fromkeys(label_ms + ([drop_metric] if drop["enabled"] else []))) if perf else ()
    cur_wanted = tuple(dict.fromkeys(op_ms + (["latency_p95"] if use_latency else [])))
    if perf_k == 0:  # labels are in for the current week: one registry call serves both
        perf_rows = cur_rows = _metrics(engine, cur_sel, by_version, perf_wanted + cur_wanted)
    else:
        perf_rows = _metrics(engine, perf_sel, by_version, perf_wanted) if perf_wanted else {}
        cur_rows = _metrics(engine, cur_sel, by_version, cur_wanted) if cur_wanted else {}

    for metric, lv, is_floor in thresholds:
        mdef = get_metric(metric, None)
        if spec.task not in mdef.tasks:
            continue
        rows, period = (perf_rows, perf_period) if mdef.kind == "label" else (cur_rows, cur_period)
        for v in versions:
            r = rows.get(v)
            mv = r.metrics.get(metric) if r else None
            if mv is None or mv.value is None:
                if rows or mdef.kind != "label":
                    chk.info("floor" if is_floor else "ceiling", period,
                             f"{metric} of {v} cannot be checked: {mv.reason if mv else 'no rows'}.", metric, v)
                continue
            level, th = _level(mv.value, lv.get("warn"), lv.get("pull"), below=is_floor)
            if level:
                word = "below its floor" if is_floor else "above its ceiling"
                chk.add("floor" if is_floor else "ceiling", metric, mv.value, th, level, period,
                        f"{v}: {metric} is {_fmt(mv.value)} (95% interval {_fmt(mv.ci_low)} to {_fmt(mv.ci_high)}, "
                        f"n = {mv.n:,}), {word} {_fmt(th)} ({level}) in {period}.", v)

    # ---- the reference window's values: per version, and the reference champion's
    ref_wanted = tuple(dict.fromkeys(([drop_metric] if drop["enabled"] and perf_rows else [])
                                     + (["latency_p95"] if use_latency else [])))
    ref_rows = _metrics(engine, ref_sel, by_version, ref_wanted) if ref_wanted else {}
    ref_champion = max(ref_rows, key=lambda v: ref_rows[v].n, default=None)

    def reference(v: str, metric: str):
        """The reference value of ``v``, else of the reference window's main version."""
        src = v if v in ref_rows else ref_champion
        mv = ref_rows[src].metrics.get(metric) if src is not None else None
        return (mv, src) if mv is not None and mv.value is not None else (None, None)

    # ---- drop of the primary metric against the reference window
    if drop["enabled"] and perf_rows:
        mdef = get_metric(drop_metric, spec.task)
        for v in versions:
            cur_mv = perf_rows[v].metrics[drop_metric] if v in perf_rows else None
            ref_mv, src = reference(v, drop_metric)
            if cur_mv is None or ref_mv is None or cur_mv.value is None:
                chk.info("drop", perf_period, f"{v}: no {drop_metric} in both the reference ({ref_period}) "
                         f"and the performance window: no drop check.", drop_metric, v)
                continue
            if not ref_mv.value or mdef.higher_is_better is None:
                continue
            test = unpaired_test(mdef, ref_mv, cur_mv, g["alpha"])
            worse = -test.delta if mdef.higher_is_better else test.delta
            rel = worse / abs(ref_mv.value)
            significant = test.p_value is not None and test.p_value < g["alpha"]
            level, th = _level(rel, drop["warn"], drop["pull"], below=False)
            if level and significant:
                of = "" if src == v else f" ({src}'s)"
                chk.add("drop", drop_metric, rel, th, level, perf_period,
                        f"{v}: {drop_metric} {'fell' if mdef.higher_is_better else 'rose'} from {_fmt(ref_mv.value)}{of} in the reference {ref_period} to "
                        f"{_fmt(cur_mv.value)} in {perf_period}: {rel:.1%} worse (difference {_fmt(test.delta)}, "
                        f"interval {_fmt(test.ci_low)} to {_fmt(test.ci_high)}, p = {test.p_value:.2g}), beyond "
                        f"the {th:.0%} {level} level.", v)

    # ---- latency
    if use_latency:
        for v in versions:
            mv = cur_rows[v].metrics["latency_p95"] if v in cur_rows else None
            if mv is None or mv.value is None:
                continue
            level, th = _level(mv.value, lat["warn"], lat["pull"], below=False)
            ref_mv, src = reference(v, "latency_p95")
            if level:
                chk.add("latency_p95", "latency_p95", mv.value, th, level, cur_period,
                        f"{v}: p95 latency is {_fmt(mv.value)} ms, above the {level} ceiling of {_fmt(th)} ms.", v)
            elif ref_mv is not None and ref_mv.value:
                ratio = mv.value / ref_mv.value
                level, th = _level(ratio, lat["warn_ratio"], lat["pull_ratio"], below=False)
                if level:
                    of = "" if src == v else f" ({src}'s)"
                    chk.add("latency_p95", "latency_p95", mv.value, th * ref_mv.value, level, cur_period,
                            f"{v}: p95 latency is {_fmt(mv.value)} ms in {cur_period}, {ratio:.1f}x the "
                            f"reference{of} {_fmt(ref_mv.value)} ms ({ref_period}); {level} from {th:g}x.", v)

    # ---- label coverage of predictions old enough to be labeled
    if cov_rule["enabled"]:
        k = int(cov_rule["after_weeks"])
        n, nl = totals(k)
        c_start, c_end = cur_start - k * WEEK, cur_end - k * WEEK
        c_period = _period(c_start, c_end)
        if n:
            cov = nl / n
            level, th = _level(cov, cov_rule["warn"], cov_rule["pull"], below=True)
            if level:
                chk.add("label_coverage", "label_coverage", cov, th, level, c_period,
                        f"Only {cov:.1%} of the {n:,} predictions of {c_period} ({k} week{'s' if k != 1 else ''} earlier) "
                        "have a label; "
                        f"{level} below {th:.0%}.")
        else:
            chk.info("label_coverage", c_period, f"No predictions in {c_period}: label coverage not checked.",
                     "label_coverage")

    # ---- drift (on the version with the most current traffic)
    _drift_rules(engine, spec, cfg, chk, ref_sel, cur_start, cur_end, champion, ref_period, cur_period)

    # ---- net value
    nv = cfg.rules["net_value"]
    if nv["enabled"] and spec.business is not None and perf_sel is not None:
        try:
            vrows = {str(r.group.get("version")): r for r in compute_value(engine, perf_sel, by_version).rows}
        except LastmileError as exc:
            chk.info("net_value", perf_period, f"Net value cannot be computed: {exc}", "net_value")
            vrows = {}
        for v, r in sorted(vrows.items()):
            if r.net_value is None:
                continue
            level, th = _level(r.net_value, nv["warn"], nv["pull"], below=True)
            if level:
                chk.add("net_value", "net_value", r.net_value, th, level, perf_period,
                        f"{v}: net value is {_fmt(r.net_value)} {spec.business.currency} in {perf_period} "
                        f"(value against the baseline minus compute cost), below {_fmt(th)} ({level}).", v)

    # ---- estimated drop: label-free estimates where the labels are not in yet
    n0, nl0 = totals(0)
    for r in estimate_reasons(engine, spec, cur_end, versions, nl0 / n0 if n0 else None):
        chk.add(**r)

    return Health(spec.name, worst([r.level for r in chk.reasons]), tuple(chk.reasons), windows, versions)


def _drift_rules(engine: Engine, spec: ModelSpec, cfg: AlertSettings, chk: _Check, ref_sel: Selection,
                 cur_start: _dt.datetime, cur_end: _dt.datetime, champion: str, ref_period: str,
                 cur_period: str) -> None:
    """``drifted_features`` and ``prediction_psi`` on the champion's current week."""
    rf, rp = cfg.rules["drifted_features"], cfg.rules["prediction_psi"]
    if not (rf["enabled"] or rp["enabled"]):
        return
    cur = Selection.build(spec.name, cur_start, cur_end, (champion,))
    try:
        try:
            res = compute_drift(engine, spec, ref_sel.replace(versions=(champion,)), cur)
        except EmptySelectionError:  # the champion is newer than the reference: compare with all of it
            res = compute_drift(engine, spec, ref_sel.replace(versions=()), cur)
    except LastmileError as exc:
        chk.info("drift", cur_period, f"Drift of {champion} cannot be measured against the reference "
                 f"({ref_period}): {exc}", version=champion)
        return
    if rf["enabled"] and res.features:
        drifted = res.drifted_features
        share = len(drifted) / len(res.features)
        level, th = _level(share, rf["warn"], rf["pull"], below=False)
        details = _drift_details(engine, spec, res, drifted, ref_sel, cur) if drifted else []
        listed = "; ".join(_detail_text(d) for d in details)
        if level is None and drifted:  # a drifted feature below the share threshold: worth a note
            chk.info("drifted_features", cur_period, f"{champion}: drifted feature(s): {listed}; "
                     f"{share:.0%} of the features (warn from {rf['warn']:.0%}).", version=champion)
        elif level:
            chk.add("drifted_features", None, share, th, level, cur_period,
                    f"{champion}: {len(drifted)} of {len(res.features)} features drifted in {cur_period} against "
                    f"the reference {ref_period}, by the drift rule{_ranked(details)}: {listed}; {level} from "
                    f"{th:.0%} of the features.", champion, details)
    pred = res.prediction
    if rp["enabled"] and pred is not None and pred.drifted and rp["warn"] is not None:
        level, th = "warn", res.config.psi_threshold
        if rp["pull"] is not None and pred.psi is not None and pred.psi >= rp["pull"]:
            level, th = "pull", rp["pull"]
        chk.add("prediction_psi", "psi", pred.psi, th, level, cur_period,
                f"{champion}: the distribution of its predictions shifted in {cur_period} against the "
                f"reference {ref_period}: {pred.name} {pred.why} (drift rule: {pred.rule}); {level}.", champion,
                [{"feature": pred.name, "role": "prediction", "why": pred.why, "rule": pred.rule,
                  "psi": pred.psi}])


def _drift_details(engine: Engine, spec: ModelSpec, res, drifted: Sequence[str], ref_sel: Selection,
                   cur: Selection) -> list[dict[str, Any]]:
    """Per drifted feature: the rule's sentence and the importance proxy, most important first
    (features whose importance cannot be computed last, by name)."""
    out = []
    for name in drifted:
        f = res.features[name]
        try:
            imp = feature_importance(engine, spec, name, res.reference or ref_sel, res.current or cur)
        except LastmileError as exc:
            imp = None
            why_not = str(exc)
        out.append({"feature": name, "why": f.why, "rule": f.rule, "psi": f.psi,
                    "importance": imp.value if imp else None,
                    "importance_metric": imp.metric if imp else None,
                    "importance_worse": imp.worse if imp else None,
                    "importance_reason": imp.reason if imp else why_not})
    return sorted(out, key=lambda d: (d["importance"] is None, -(d["importance"] or 0.0), d["feature"]))


def _ranked(details: Sequence[Mapping[str, Any]]) -> str:
    metric = next((d["importance_metric"] for d in details if d["importance"] is not None), None)
    return f", most important for {metric} first" if metric and len(details) > 1 else ""


def _detail_text(d: Mapping[str, Any]) -> str:
    """"income: normed Wasserstein 0.36 >= 0.2 (moves roc_auc by 0.0016)"."""
    if d["importance"] is None:
        return f"{d['feature']}: {d['why']}"
    sign = "" if d["importance_worse"] is None else (" for the worse" if d["importance_worse"] else "")
    return (f"{d['feature']}: {d['why']} (its shift alone moves {d['importance_metric']} by "
            f"{d['importance']:.2g}{sign})")


def unreadable(model: str, exc: LastmileError) -> Health:
    """The verdict of a model that cannot be checked: status ``error``, the error's
    sentence as its one reason."""
    reason = Reason("error", None, None, None, "error", "all data",
                    f"Model {model!r} cannot be checked: {exc}")
    return Health(model, "error", (reason,))


def checked_health(engine: Engine, spec: ModelSpec, now: _dt.datetime | None = None) -> Health:
    """:func:`model_health`, except that a model whose logs cannot be read (any input
    problem met while checking it) gets status ``error`` instead of raising."""
    try:
        return model_health(engine, spec, now)
    except LastmileError as exc:
        return unreadable(spec.name, exc)


def portfolio_health(engine: Engine, now: _dt.datetime | None = None) -> tuple[Health, ...]:
    """:func:`checked_health` of every model: a model whose logs cannot be read has
    status ``error`` and the others are still checked."""
    return tuple(checked_health(engine, spec, now) for spec in engine.workspace.models)
