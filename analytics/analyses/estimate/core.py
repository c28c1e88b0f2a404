"""estimate_performance: label-free estimates per group, with intervals, the guard and the backtest.

The flow (``analytics/docs/estimate.md``):

1. each version's reference window (:mod:`.reference`);
2. fit on it: per version (and class) a calibration chosen by cross-validated
   calibration error (:mod:`.classify`, :mod:`.calibration`), or the error
   models (:mod:`.regression`);
3. per group, period and version: per-bin aggregates in the engine, turned into
   expected confusion matrices / error sums, pooled over versions;
4. the realized metrics of the same groups (the metric registry: the same
   numbers as ``lastmile metrics``), for the backtest and the guard;
5. the guard marks a group unreliable, with its reasons.

Groups are the grouping's; the period is always added internally (the backtest
needs it) and, when not asked for, summed out again.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from ...engine import Engine
from ...errors import EmptySelectionError, SelectionError
from ...metrics.compute import annotate, compute_on_table, key_dict
from ...selection import Grouping, Selection
from .config import EstimateConfig
from .expected import BINARY_METRICS, MULTICLASS_METRICS, ClassMasses, binary_metrics, multiclass_metrics, none
from .reference import reference_windows
from .regression import REGRESSION_METRICS, ErrorSums, error_sums, fit_error_model, regression_metrics
from .result import BacktestRow, EstimateResult, EstimateRow

METRICS = {"binary": BINARY_METRICS, "multiclass": MULTICLASS_METRICS, "regression": REGRESSION_METRICS}
#: The metric the backtest guard watches.
PRIMARY = {"binary": "roc_auc", "multiclass": "macro_f1", "regression": "mae"}
#: A matured period needs at least this many labeled rows to count in the backtest.
MIN_BACKTEST_LABELS = 100


class _Fit:
    """What was fitted on the reference: calibrations or the error model, and per-version reasons."""

    def __init__(self, engine: Engine, spec, cfg: EstimateConfig):
        self.spec, self.cfg = spec, cfg
        self.windows = reference_windows(engine, spec, cfg)
        self.cals: dict = {}
        self.model = None
        if spec.task == "regression":
            self.model = fit_error_model(engine, spec, self.windows, cfg.sample_rows)
        else:
            from .classify import fit_calibrations
            self.cals = fit_calibrations(engine, spec, self.windows)

    def labels(self, v: str) -> tuple[int, int | None]:
        """(labeled reference rows of version v, positives (binary) or None)."""
        if self.spec.task == "regression":
            return (self.model.counts.get(v, 0) if self.model else 0), None
        cal = self.cals.get((v, 0))
        if cal is None:
            return 0, None
        return cal.n, (cal.positives if self.spec.task == "binary" else None)

    def reasons(self, v: str) -> list[str]:
        cfg = self.cfg
        w = self.windows.get(v)
        where = f"its reference window {w.describe()}" if w else "any reference window"
        n, pos = self.labels(v)
        if n < cfg.min_reference_labels:
            return [f"version {v}: only {n:,} labeled rows in {where}; at least {cfg.min_reference_labels:,} "
                    "are needed to calibrate an estimate"]
        if pos is not None and min(pos, n - pos) < cfg.min_reference_positives:
            return [f"version {v}: {min(pos, n - pos):,} labeled rows of its rarer class in {where}; at least "
                    f"{cfg.min_reference_positives} are needed"]
        return []

    def reference_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for v, w in sorted(self.windows.items()):
            d = w.to_dict()
            if self.spec.task == "regression":
                d["n_labeled"] = self.labels(v)[0]
            else:
                cal0 = self.cals.get((v, 0))
                d["n_labeled"] = cal0.n if cal0 else 0
                if self.spec.task == "binary":
                    d["calibration"] = cal0.to_dict() if cal0 else None
                else:
                    d["calibration"] = {c: self.cals[(v, k)].to_dict()
                                        for k, c in enumerate(self.spec.columns.classes) if (v, k) in self.cals}
            out[v] = d
        res = {"versions": out}
        if self.model is not None:
            res["error_model"] = self.model.to_dict()
        return res

    @property
    def calibrated(self) -> bool:
        return any(c.method == "isotonic" for c in self.cals.values())


def _estimates(task: str, sums, fit: _Fit):
    if task == "binary":
        return binary_metrics(sums), None
    if task == "multiclass":
        return multiclass_metrics(sums)
    if fit.model is None:
        return {k: none("no error model: too few labeled reference rows") for k in REGRESSION_METRICS}, None
    return regression_metrics(sums, fit.model), None


def _outside(task: str, sums) -> float | None:
    if isinstance(sums, ClassMasses):
        rows = sums.rows
        return max(m.outside for m in sums.per_class) / rows if rows else None
    rows = sums.rows
    return sums.outside / rows if rows else None


#: The length of one period, to reach back for the backtest's history.
HISTORY_PERIODS = {"day": _dt.timedelta(days=1), "week": _dt.timedelta(weeks=1), "month": _dt.timedelta(days=31)}


def _per_period(engine: Engine, spec, fit: _Fit, table, inner_by: tuple, period: str):
    """Per group (with its period): the pooled sums, the versions in it, and (estimates,
    per-class estimates, the registry's realized row)."""
    task = spec.task
    names = METRICS[task]
    mass_by = inner_by + (() if "version" in inner_by else ("version",))
    keyed = annotate(spec, table, Grouping(by=mass_by, period=period), label_delay=False)
    if task == "regression":
        raw = error_sums(engine, spec, keyed.t, keyed.keys, fit.model) if fit.model else {}
    else:
        from .classify import masses
        raw = masses(engine, spec, keyed.t, keyed.keys, fit.cals)
    vpos = mass_by.index("version")
    inner: dict[tuple, Any] = {}
    versions: dict[tuple, set] = {}
    for k, s in raw.items():
        d = key_dict(mass_by, k)
        ik = tuple(d[n] for n in inner_by)
        inner[ik] = inner[ik].merged(s) if ik in inner else s
        versions.setdefault(ik, set()).add(str(k[vpos]))
    realized = compute_on_table(engine, spec, table, Grouping(by=inner_by, period=period),
                                metrics=names, label_delay=False)
    per: dict[tuple, tuple] = {}
    for r in realized.rows:
        ik = tuple(r.group[n] for n in inner_by)
        s = inner.get(ik)
        est, pc = _estimates(task, s, fit) if s is not None else ({m: none("no scored predictions") for m in names}, None)
        per[ik] = (est, pc, r)
    return inner, versions, per


def estimate_performance(engine: Engine, selection: Selection, grouping: Grouping = Grouping()) -> EstimateResult:
    """Estimated metrics for every group of ``selection`` (see the module docstring)."""
    spec = selection.check(engine)
    grouping.check(spec)
    if spec.task == "binary" and not spec.columns.score or spec.task == "multiclass" and not spec.columns.class_scores:
        raise SelectionError(f"Model {spec.name!r} declares no scores (columns.score / class_scores): "
                             "estimates without labels are made from the scores.")
    cfg = EstimateConfig.from_spec(spec)
    task = spec.task
    names = METRICS[task]
    fit = _Fit(engine, spec, cfg)

    user = tuple(grouping.by)
    inner_by = user + (() if "period" in user else ("period",))
    table = selection.apply(engine)
    inner, versions, per = _per_period(engine, spec, fit, table, inner_by, grouping.period)
    if not per:
        raise EmptySelectionError(
            f"The selection holds no predictions of model {spec.name!r} ({selection.describe()}).")
    ppos = inner_by.index("period")
    primary = PRIMARY[task]
    backtest: list[BacktestRow] = []
    missed: dict[tuple, list[tuple[str, bool]]] = {}   # series -> [(period, covered)] in period order

    def judge(groups: dict, record: bool) -> None:
        for ik in sorted(groups, key=lambda k: str(k[ppos])):
            est, _, r = groups[ik]
            series = ik[:ppos] + ik[ppos + 1:]
            matured = r.n and r.n_labeled / r.n >= cfg.matured_coverage and r.n_labeled >= MIN_BACKTEST_LABELS
            if not matured:
                continue
            for m in names:
                rv = r.metrics.get(m)
                if rv is not None and rv.value is not None and est[m].value is not None:
                    if record:
                        backtest.append(BacktestRow(dict(r.group), m, est[m], rv.value, r.n_labeled))
                    if m == primary and est[m].covers(rv.value) is not None:
                        missed.setdefault(series, []).append((str(ik[ppos]), bool(est[m].covers(rv.value))))

    if selection.start is not None:
        # the guard's backtest also looks at the matured periods just before the selection
        back = HISTORY_PERIODS[grouping.period] * (cfg.backtest_periods + 2)
        hist = selection.replace(start=selection.start - back, end=selection.start)
        try:
            judge(_per_period(engine, spec, fit, hist.apply(engine), inner_by, grouping.period)[2], False)
        except EmptySelectionError:
            pass
    judge(per, True)

    def backtest_reason(series: tuple, upto: str | None) -> list[str]:
        hist = [h for h in missed.get(series, []) if upto is None or h[0] <= upto][-cfg.backtest_periods:]
        misses = [p for p, ok in hist if not ok]
        if len(misses) >= cfg.backtest_misses:
            return [f"backtest: the realized {primary} fell outside the estimate's 95% interval in {len(misses)} "
                    f"of the last {len(hist)} matured periods ({', '.join(misses)}): the labels disagree with the "
                    "scores' calibration, so P(y|x) has likely changed and estimates are not to be trusted"]
        return []

    def guard(sums, vers, est) -> tuple[list[str], float | None]:
        reasons: list[str] = []
        for v in sorted(vers):
            reasons += fit.reasons(v)
        share = _outside(task, sums) if sums is not None else None
        if share is not None and share > cfg.max_outside_share:
            what = "scores" if task != "regression" else "rows (prediction or a numeric feature)"
            reasons.append(f"{share:.0%} of the {what} lie outside the central 99% of the reference's (at most "
                           f"{cfg.max_outside_share:.0%}): the calibration would extrapolate")
        if all(e.value is None for e in est.values()):
            reasons.append("nothing could be estimated")
        return reasons, share

    rows: list[EstimateRow] = []
    if "period" in user:
        for ik, (est, pc, r) in per.items():
            reasons, share = guard(inner.get(ik), versions.get(ik, set()), est)
            reasons += backtest_reason(ik[:ppos] + ik[ppos + 1:], str(ik[ppos]))
            rows.append(EstimateRow(dict(r.group), r.n, r.n_labeled, est, dict(r.metrics) if r.n_labeled else None,
                                    not reasons, tuple(reasons), pc, share))
    else:
        merged: dict[tuple, Any] = {}
        mvers: dict[tuple, set] = {}
        for ik, s in inner.items():
            uk = ik[:ppos] + ik[ppos + 1:]
            merged[uk] = merged[uk].merged(s) if uk in merged else s
            mvers.setdefault(uk, set()).update(versions.get(ik, set()))
        realized = compute_on_table(engine, spec, table, Grouping(by=user, period=grouping.period),
                                    metrics=names, label_delay=False)
        for r in realized.rows:
            uk = tuple(r.group[n] for n in user)
            s = merged.get(uk)
            est, pc = _estimates(task, s, fit) if s is not None else ({m: none("no scored predictions") for m in names}, None)
            reasons, share = guard(s, mvers.get(uk, set()), est)
            reasons += backtest_reason(uk, None)
            rows.append(EstimateRow(dict(r.group), r.n, r.n_labeled, est, dict(r.metrics) if r.n_labeled else None,
                                    not reasons, tuple(reasons), pc, share))
    rows.sort(key=lambda r: tuple((r.group[k] is None, str(r.group[k])) for k in user))
    return EstimateResult(spec.name, task, user, names, fit.reference_dict(), fit.calibrated, tuple(rows),
                          tuple(backtest))
