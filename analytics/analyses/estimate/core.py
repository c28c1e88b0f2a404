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

from analytics.config.estimate import EstimateConfig
from analytics.errors import EmptySelectionError, SelectionError
from analytics.log.engine import Engine
from analytics.metrics.compute import annotate, compute_on_table, key_dict
from analytics.query.selection import Grouping, Selection
from analytics.store.answers import remembered
from .classify import fit_calibrations, masses
from .expected import BINARY_METRICS, MULTICLASS_METRICS, binary_metrics, multiclass_metrics, none
from .guard import PRIMARY, Guard
from .reference import reference_windows
from .regression import REGRESSION_METRICS, ErrorSums, error_sums, fit_error_model, regression_metrics
from .result import EstimateResult, EstimateRow

METRICS = {"binary": BINARY_METRICS, "multiclass": MULTICLASS_METRICS, "regression": REGRESSION_METRICS}


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


def _nothing(task: str) -> dict:
    return {m: none("no scored predictions") for m in METRICS[task]}


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
        est, pc = _estimates(task, s, fit) if s is not None else (_nothing(task), None)
        per[ik] = (est, pc, r)
    return inner, versions, per


@remembered("estimate_performance")
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
    g = Guard(cfg, fit, task, inner_by.index("period"))
    if selection.start is not None:
        # the guard's backtest also looks at the matured periods just before the selection
        back = HISTORY_PERIODS[grouping.period] * (cfg.backtest_periods + 2)
        hist = selection.replace(start=selection.start - back, end=selection.start)
        g.judge(_per_period(engine, spec, fit, hist.apply(engine), inner_by, grouping.period)[2], record=False)
    g.judge(per, record=True)
    if "period" in user:
        rows = [g.row(r, est, pc, inner.get(ik), versions.get(ik, set()), g.series(ik), str(ik[g.ppos]))
                for ik, (est, pc, r) in per.items()]
    else:
        rows = _without_period(engine, spec, fit, g, table, user, grouping.period, inner, versions)
    rows.sort(key=lambda r: tuple((r.group[k] is None, str(r.group[k])) for k in user))
    return EstimateResult(spec.name, task, user, names, fit.reference_dict(), fit.calibrated, tuple(rows),
                          tuple(g.backtest))


def _without_period(engine: Engine, spec, fit: _Fit, g: "Guard", table, user: tuple, period: str,
                    inner: dict, versions: dict) -> list[EstimateRow]:
    """The user's groups when they do not include the period: the periods' sums added up,
    the registry's realized values for the same groups, the series' latest backtest."""
    merged: dict[tuple, Any] = {}
    mvers: dict[tuple, set] = {}
    for ik, s in inner.items():
        uk = g.series(ik)
        merged[uk] = merged[uk].merged(s) if uk in merged else s
        mvers.setdefault(uk, set()).update(versions.get(ik, set()))
    realized = compute_on_table(engine, spec, table, Grouping(by=user, period=period),
                                metrics=METRICS[spec.task], label_delay=False)
    rows = []
    for r in realized.rows:
        uk = tuple(r.group[n] for n in user)
        s = merged.get(uk)
        est, pc = _estimates(spec.task, s, fit) if s is not None else (_nothing(spec.task), None)
        rows.append(g.row(r, est, pc, s, mvers.get(uk, set()), uk, None))
    return rows
