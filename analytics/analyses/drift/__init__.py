"""Drift: has what the model sees (features), says (predictions) or meets (labels) changed?

Each *target* -- every feature, the prediction and the label -- is compared
between a reference window and a current window (or every period of a
selection, :func:`drift_over_time`). The statistics are defined exactly as
the reference implementations (see :mod:`analytics.stats.drift`) and computed
in the engine from sorted aggregates (see :mod:`analytics.analyses.drift.queries`):
nothing proportional to the log comes back to Python. The user's guide,
with the methods, thresholds and default windows, is ``analytics/docs/drift.md``.

Kinds: integer and float columns are *numeric* (even with few distinct
values), string and boolean columns *categorical*. Numeric targets get
``ks_statistic``, ``ks_p_value``, ``wasserstein``, ``wasserstein_normed``,
``psi`` and ``js_distance``; categorical ones ``chi2_p_value``, ``psi`` and
``js_distance``. Missing numeric values (NULL, NaN, +-inf) are left out of the
statistics and counted (``missing_ref``, ``missing_cur``); missing categorical
values are their own category ``(missing)``. Label drift uses labelled rows only.

Decision: one rule per kind, :class:`analytics.analyses.drift.rule.DriftRule` (its
docstring and ``analytics/docs/drift.md`` say it): effect sizes decide
(numeric: ``psi >= psi_threshold`` or ``wasserstein_normed >=
wasserstein_threshold``; categorical: ``psi >= psi_threshold`` or
``js_distance >= js_threshold``); while either window holds fewer than
``large_n`` values the KS / chi-square p-value must also be below
``p_value_threshold``. Each result carries the rule (``rule``) and the
sentence that applies it to its numbers (``why``).
"""

from __future__ import annotations

import datetime as _dt
import functools
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import ibis
import polars as pl

from analytics.config.drift import DriftSettings
from analytics.config.times import parse_time
from analytics.config.workspace import ModelSpec
from analytics.errors import EmptySelectionError, SelectionError, suggest
from analytics.log.columns import C
from analytics.log.defects import null_features
from analytics.log.engine import Engine
from analytics.log.joined import build_log
from analytics.query.selection import PERIODS, Selection, period_start
from analytics.results import jsonable
from analytics.store.answers import remembered
from . import queries as q
from .remember import by_period
from .rule import DriftRule
from .statistics import STATISTICS, finish as finish_stats, for_kind as stats_for_kind, names as stat_names

__all__ = [
    "DriftConfig", "FeatureDrift", "DriftResult", "compute_drift", "drift_over_time",
    "distribution", "default_reference", "resolve_windows", "decide",
    "DriftRule",
]

#: Default length of the reference and current windows.
DEFAULT_WINDOW = _dt.timedelta(days=28)
#: A categorical target with more categories than this is not compared (reason given).
MAX_CATEGORIES = 10_000


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class DriftConfig(DriftSettings):
    """``[models.drift]`` (:class:`~analytics.config.drift.DriftSettings`) and the decision rule it sets."""

    def rule(self, kind: str) -> DriftRule:
        """The decision rule for ``kind`` (numeric | categorical) with these thresholds."""
        return DriftRule.for_kind(kind, self)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FeatureDrift:
    """Drift of one target between the reference and one current window.

    Statistics that do not apply to the kind, or cannot be computed, are
    ``None``; ``reason`` says why when one that applies is missing.
    """

    name: str
    kind: str                      # numeric | categorical
    method: str                    # the rule that decided: wasserstein_psi | js_psi (small n: ks | chi2) | none
    drifted: bool
    #: ``(name, value)`` of every statistic of the kind, in registry order
    #: (:mod:`analytics.analyses.drift.statistics`); read them as attributes (``f.psi``)
    stats: tuple[tuple[str, float | None], ...] = ()
    n_ref: int = 0                 # values compared (numeric: non-missing; label: labelled)
    n_cur: int = 0
    reason: str | None = None
    missing_ref: int = 0           # numeric values left out (NULL, NaN, inf)
    missing_cur: int = 0
    rule: str = ""                 # the decision rule, in words (the part that applies to n_ref, n_cur)
    why: str = ""                  # the rule applied to the numbers: "PSI 0.41 >= 0.2"

    def __getattr__(self, name: str) -> float | None:
        """A statistic by name: its value, or None when it does not apply to the kind."""
        if name.startswith("_") or name not in STATISTICS:
            raise AttributeError(name)
        return dict(self.__dict__.get("stats", ())).get(name)

    def statistics(self) -> dict[str, float | None]:
        """Every registered statistic (None where it does not apply), in registry order."""
        have = dict(self.stats)
        return {n: have.get(n) for n in STATISTICS}

    def row(self) -> dict[str, Any]:
        """The table row of this target (the columns of :data:`_FRAME_SCHEMA` after role, feature)."""
        return {"kind": self.kind, "method": self.method, "drifted": self.drifted, **self.statistics(),
                "n_ref": self.n_ref, "n_cur": self.n_cur, "reason": self.reason, "missing_ref": self.missing_ref,
                "missing_cur": self.missing_cur, "rule": self.rule, "why": self.why}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "method": self.method, "drifted": self.drifted}
        out.update({name: getattr(self, name) for name in stat_names(self.kind)})
        out.update(n_ref=self.n_ref, n_cur=self.n_cur, rule=self.rule, why=self.why, reason=self.reason)
        if self.kind == "numeric":
            out.update(missing_ref=self.missing_ref, missing_cur=self.missing_cur)
        return out


@dataclass(frozen=True)
class DriftResult:
    """Drift of every feature, the prediction and the label of one model."""

    model: str
    features: dict[str, FeatureDrift]
    prediction: FeatureDrift | None
    label: FeatureDrift | None
    reference_n: int
    current_n: int
    reference: Selection | None = None
    current: Selection | None = None
    config: DriftConfig = field(default_factory=DriftConfig)

    @property
    def drifted_features(self) -> tuple[str, ...]:
        return tuple(n for n, f in self.features.items() if f.drifted)

    def targets(self) -> list[tuple[str, FeatureDrift]]:
        """``(role, result)`` for every target: features, then prediction, then label."""
        out = [("feature", f) for f in self.features.values()]
        out += [(role, f) for role, f in (("prediction", self.prediction), ("label", self.label)) if f]
        return out

    def to_dict(self) -> dict[str, Any]:
        def window(sel: Selection | None, n: int) -> dict[str, Any]:
            d: dict[str, Any] = {"n": n}
            if sel is not None:
                d.update(start=sel.start, end=sel.end, versions=list(sel.versions),
                         where={k: list(v) for k, v in sel.where})
            return d

        return jsonable({
            "model": self.model,
            "features": {n: f.to_dict() for n, f in self.features.items()},
            "prediction": self.prediction.to_dict() if self.prediction else None,
            "label": self.label.to_dict() if self.label else None,
            "reference": window(self.reference, self.reference_n),
            "current": window(self.current, self.current_n),
        })

    def to_polars(self) -> pl.DataFrame:
        """One row per target (columns: role, feature and every FeatureDrift field)."""
        rows = [{"role": role, "feature": f.name, **f.row()} for role, f in self.targets()]
        return pl.DataFrame(rows, schema=_FRAME_SCHEMA)


_FRAME_SCHEMA = {
    "role": pl.Utf8, "feature": pl.Utf8, "kind": pl.Utf8, "method": pl.Utf8, "drifted": pl.Boolean,
    **{name: pl.Float64 for name in STATISTICS},
    "n_ref": pl.Int64, "n_cur": pl.Int64, "reason": pl.Utf8, "missing_ref": pl.Int64,
    "missing_cur": pl.Int64, "rule": pl.Utf8, "why": pl.Utf8,
}


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """Something whose distribution is compared: a feature, the prediction or the label."""

    name: str           # as shown (the user's column name where there is one)
    role: str           # feature | prediction | label
    kind: str           # numeric | categorical
    column: str         # column of the canonical log
    labeled_only: bool = False
    empty: bool = False  # a feature whose column has no values at all (Parquet type null)

    def value(self, t):
        col = t[self.column]
        if self.kind == "numeric":
            return q.numeric_value(col)
        if self.labeled_only:  # unlabelled is not a category: those rows are left out
            return q.segment_text(col)
        return q.category_value(col)


def _column_kind(typ) -> str:
    if typ.is_integer() or typ.is_floating() or typ.is_decimal():
        return "numeric"
    return "categorical"


def targets(engine: Engine, spec: ModelSpec, features: Sequence[str] | None = None,
            prediction: bool = True, label: bool = True) -> list[Target]:
    """The targets of a model: its features (or the chosen ones), the prediction and the label."""
    schema = engine.log(spec).schema()
    declared = spec.columns.features
    chosen = declared if features is None else tuple(features)
    for f in chosen:
        if f not in declared:
            raise SelectionError(f"Model {spec.name!r} has no feature {f!r}{suggest(f, declared)}; "
                                 f"its features are: {', '.join(declared) or 'none declared'}.")
    empty = null_features(engine, spec)
    out = [Target(f, "feature", _column_kind(schema[f]), f, empty=f in empty) for f in chosen]
    c = spec.columns
    if prediction:
        if spec.task == "binary" and c.score:
            out.append(Target(c.score, "prediction", "numeric", C.SCORE))
        elif spec.task == "regression":
            out.append(Target(c.prediction, "prediction", "numeric", C.PRED))
        else:
            out.append(Target(c.prediction or "predicted class", "prediction", "categorical", C.PRED))
    if label and c.label:
        kind = "numeric" if spec.task == "regression" else "categorical"
        out.append(Target(c.label, "label", kind, C.LABEL, labeled_only=True))
    return out


# --------------------------------------------------------------------------- decision


def decide(kind: str, n_ref: int, n_cur: int, stats: Mapping[str, float | None],
           cfg: DriftConfig) -> tuple[str, str, bool]:
    """``(method, rule, drifted)`` by the documented default (:class:`DriftRule`)."""
    rule = cfg.rule(kind)
    d = rule.decide(n_ref, n_cur, stats)
    return d.method, rule.text(n_ref, n_cur), d.drifted


def _result(t: Target, cfg: DriftConfig, n_ref: int, n_cur: int, stats: dict[str, Any],
            reasons: list[str], missing_ref: int = 0, missing_cur: int = 0) -> FeatureDrift:
    if t.empty:
        reasons = [f"feature {t.name!r} has no values (all null)"]
        method, rule, drifted, why = "none", "", False, f"not decided: {reasons[0]}"
    elif n_ref == 0 or n_cur == 0:
        which = "reference" if n_ref == 0 else "current"
        what = "labelled rows" if t.labeled_only else "values"
        reasons = [f"no {what} in the {which} window"] + reasons
        method, rule, drifted, why = "none", "", False, f"not decided: {reasons[0]}"
    else:
        r = cfg.rule(t.kind)
        d = r.decide(n_ref, n_cur, stats)
        method, rule, drifted, why = d.method, r.text(n_ref, n_cur), d.drifted, d.why
    return FeatureDrift(name=t.name, kind=t.kind, method=method, drifted=bool(drifted), n_ref=n_ref,
                        n_cur=n_cur, reason="; ".join(reasons) or None, missing_ref=missing_ref,
                        missing_cur=missing_cur, rule=rule, why=why,
                        stats=tuple((n, stats[n]) for n in stat_names(t.kind) if n in stats))


# --------------------------------------------------------------------------- the evaluation


@dataclass(frozen=True)
class _Evaluation:
    """Per target, per current key: a FeatureDrift; plus row counts per window."""

    by_target: dict[Target, dict[Any, FeatureDrift]]
    ref_rows: int
    cur_rows: dict[Any, int]


Stats = dict[tuple[int, Any], tuple[dict, list[str]]]   # (target index, key) -> (statistics, reasons)


def _prediction_log(engine: Engine, spec: ModelSpec):
    """The canonical log built over an *empty* outcomes table: every prediction row and
    column, NULL labels, and no join to pay for (the join never adds or drops a
    prediction row: at most one outcome per id). A log already joined (a snapshot or the
    store) is read as it is."""
    if not spec.outcomes or engine.prejoined(spec):
        return engine.log(spec)
    return build_log(spec, engine.raw(spec, "predictions"), engine.raw(spec, "outcomes"),
                     ts_range=engine.workspace.timestamp_range(), labels=False)


def _logs(engine: Engine, spec: ModelSpec, tgts: Sequence[Target]) -> list[tuple[Any, list[int]]]:
    """Which log each target is read from: ``[(log table, target indexes), ...]``.

    Targets whose column comes from the prediction files are read from
    :func:`_prediction_log`; labels (and features logged with the outcomes)
    from the joined log. A log already joined (snapshot, store) serves every target in one pass.
    """
    if not spec.outcomes or engine.prejoined(spec):
        return [(engine.log(spec), list(range(len(tgts))))]
    pred_cols = set(engine.raw(spec, "predictions").columns)
    light = [i for i, t in enumerate(tgts) if t.role == "prediction" or (t.role == "feature" and t.column in pred_cols)]
    full = [i for i in range(len(tgts)) if i not in light]
    out = []
    if light:
        out.append((_prediction_log(engine, spec), light))
    if full:
        out.append((engine.log(spec), full))
    return out


@contextmanager
def _counts_table(engine: Engine, spec: ModelSpec, raw):
    """The per-window counts (:func:`queries.windowed`) of the per-target counts ``raw``,
    kept in a temporary table (:meth:`Engine.temporary`) for the queries that read
    them. ``raw`` is computed once inside that statement (a CTE: the windows read it
    twice)."""
    with engine.temporary(q.windowed(raw), spec) as counts:
        yield counts


def _evaluate(engine: Engine, spec: ModelSpec, reference: Selection, current: Selection, key,
              tgts: Sequence[Target], cfg: DriftConfig, current_label: str) -> _Evaluation:
    """Every target against the reference, for every key of the current selection at once.

    Per log read (see :func:`_logs`): one scan per target builds the per-value
    counts of every window; the window sizes, the reference summaries, the
    numeric statistics and the category counts are then small queries on them.
    """
    n_ref: dict[int, int] = {}
    n_cur: dict[tuple[int, Any], int] = {}
    rows_ref, rows_cur = 0, {}
    stats: Stats = {}
    for log, idx in _logs(engine, spec, tgts):
        st = q.flagged(log, reference.predicates(engine, log), current.predicates(engine, log), key,
                       **{f"v{j}": tgts[i].value for j, i in enumerate(idx)})
        with _counts_table(engine, spec, q.value_counts(st, [tgts[i].kind for i in idx])) as counts:
            sizes = engine.execute(q.window_sizes_query(counts), spec).to_pylist()
            ref_sizes = [r for r in sizes if r[q.IS_REF]]
            cur_sizes = [r for r in sizes if not r[q.IS_REF]]
            if not ref_sizes:
                raise EmptySelectionError(f"The reference window ({reference.describe()}) of model "
                                          f"{spec.name!r} holds no rows; choose other reference bounds.")
            if not cur_sizes:
                raise EmptySelectionError(f"The {current_label} ({current.describe()}) of model {spec.name!r} "
                                          "holds no rows; choose other bounds.")
            rows_ref = int(ref_sizes[0]["rows"])
            rows_cur = {r[q.KEY]: int(r["rows"]) for r in cur_sizes}
            n_ref.update({idx[r[q.F]]: int(r["valid"]) for r in ref_sizes})
            n_cur.update({(idx[r[q.F]], r[q.KEY]): int(r["valid"]) for r in cur_sizes})
            live = [j for j, i in enumerate(idx)
                    if n_ref[i] and any(n_cur[(i, k)] for k in rows_cur)]
            numeric = [j for j in live if tgts[idx[j]].kind == "numeric"]
            categorical = [j for j in live if tgts[idx[j]].kind == "categorical"]
            local: Stats = {}
            if numeric:
                local.update(_numeric_stats(engine, spec, counts, numeric,
                                            {j: n_ref[idx[j]] for j in numeric}, cfg))
            if categorical:
                local.update(_categorical_stats(engine, spec, counts, categorical))
            stats.update({(idx[j], k): v for (j, k), v in local.items()})

    out: dict[Target, dict[Any, FeatureDrift]] = {}
    for i, t in enumerate(tgts):
        counted = t.kind == "numeric" and not t.labeled_only  # missing values are left out, and counted
        out[t] = {k: _result(t, cfg, n_ref[i], n_cur[(i, k)], *stats.get((i, k), ({}, [])),
                             missing_ref=rows_ref - n_ref[i] if counted else 0,
                             missing_cur=rows - n_cur[(i, k)] if counted else 0)
                  for k, rows in rows_cur.items()}
    return _Evaluation(out, rows_ref, rows_cur)


def _edges(summary: Mapping[str, Any], bins: int) -> list[float]:
    """Distinct reference quantile edges, ascending (equal edges merged)."""
    return sorted({float(summary[f"e{j}"]) for j in range(1, bins) if summary[f"e{j}"] is not None})


def _numeric_stats(engine: Engine, spec: ModelSpec, counts, idx: list[int], n_ref: dict[int, int],
                   cfg: DriftConfig) -> Stats:
    """Every numeric statistic of the registry, finished from the aggregates it needs: the
    reference summary and the sorted pass (:func:`queries.numeric_query`) for all, and the
    queries some statistics bring of their own."""
    summ = {r[q.F]: r for r in engine.execute(q.reference_summary_query(counts, idx, cfg.bins), spec).to_pylist()}
    edges = {j: _edges(summ[j], cfg.bins) for j in idx}
    rows = engine.execute(q.numeric_query(counts, n_ref, {j: summ[j]["x_max"] for j in idx},
                                          {j: summ[j]["g_max"] for j in idx}, edges), spec).to_pylist()
    extra = _own_queries(engine, spec, counts, idx, "numeric")
    ref_bins = {r[q.F]: r for r in rows if r[q.IS_REF]}
    out: Stats = {}
    for r in rows:
        if r[q.IS_REF]:
            continue
        j, nb = r[q.F], len(edges[r[q.F]]) + 1
        agg = {"n_ref": n_ref[j], "n_cur": int(r["n"]), "ks_num": r["ks_num"], "wasserstein": r["wasserstein"],
               "ref_var": summ[j]["var"], "ref_bins": [ref_bins[j][f"b{b}"] for b in range(nb)],
               "cur_bins": [r[f"b{b}"] for b in range(nb)], **extra.get((j, r[q.KEY]), {})}
        out[(j, r[q.KEY])] = finish_stats("numeric", agg)
    return out


def _own_queries(engine: Engine, spec: ModelSpec, counts, idx: list[int], kind: str) -> dict[tuple, dict]:
    """The columns of the engine queries registered statistics bring (one run per query),
    by ``(target, key)``."""
    out: dict[tuple, dict] = {}
    for query in dict.fromkeys(s.query for s in stats_for_kind(kind) if s.query is not None):
        for r in engine.execute(query(counts, idx), spec).to_pylist():
            out.setdefault((r[q.F], r[q.KEY]), {}).update({k: v for k, v in r.items() if k not in (q.F, q.KEY)})
    return out


def _categorical_stats(engine: Engine, spec: ModelSpec, counts, idx: list[int]) -> Stats:
    limit = 20 * MAX_CATEGORIES
    rows = engine.execute(q.categorical_query(counts, idx, limit + 1), spec).to_pylist()
    extra = _own_queries(engine, spec, counts, idx, "categorical")
    ref: dict[int, dict[str, int]] = {}
    cur: dict[tuple[int, Any], dict[str, int]] = {}
    for r in rows:
        j = r[q.F]
        if r[q.IS_REF]:
            ref.setdefault(j, {})[r[q.X]] = int(r["c"])
        else:
            cur.setdefault((j, r[q.KEY]), {})[r[q.X]] = int(r["c"])
    out: Stats = {}
    for (j, k), cc in cur.items():
        rr = ref.get(j, {})
        cats = sorted(set(rr) | set(cc))
        if len(rows) > limit or len(cats) > MAX_CATEGORIES:
            out[(j, k)] = ({}, [f"more than {MAX_CATEGORIES:,} categories: not compared"])
            continue
        rc = [rr.get(c, 0) for c in cats]
        kc = [cc.get(c, 0) for c in cats]
        agg = {"n_ref": sum(rc), "n_cur": sum(kc), "ref_bins": rc, "cur_bins": kc, **extra.get((j, k), {})}
        out[(j, k)] = finish_stats("categorical", agg)
    return out


# --------------------------------------------------------------------------- the API


@remembered("compute_drift")
def compute_drift(engine: Engine, model: str | ModelSpec, reference: Selection, current: Selection,
                  features: Sequence[str] | None = None, config: DriftConfig | None = None, *,
                  prediction: bool = True, label: bool = True) -> DriftResult:
    """Drift of each feature (all declared ones, or ``features``), the prediction and the label.

    ``config`` overrides the model's ``[models.drift]``; ``prediction=False`` /
    ``label=False`` leave those targets out (``None`` in the result).
    """
    spec = engine.spec(model)
    cfg = config or DriftConfig.from_spec(spec)
    tgts = targets(engine, spec, features, prediction=prediction, label=label)
    ev = _evaluate(engine, spec, reference, current, ibis.literal(0), tgts, cfg, "current window")
    res = {t: by_key[0] for t, by_key in ev.by_target.items()}
    feats = {t.name: f for t, f in res.items() if t.role == "feature"}
    pred = next((f for t, f in res.items() if t.role == "prediction"), None)
    lab = next((f for t, f in res.items() if t.role == "label"), None)
    return DriftResult(model=spec.name, features=feats, prediction=pred, label=lab,
                       reference_n=ev.ref_rows, current_n=ev.cur_rows[0],
                       reference=reference, current=current, config=cfg)


@remembered("drift_over_time", periods=functools.partial(by_period, targets=targets))
def drift_over_time(engine: Engine, model: str | ModelSpec, reference: Selection, selection: Selection,
                    period: str = "week", features: Sequence[str] | None = None,
                    config: DriftConfig | None = None, *, prediction: bool = True,
                    label: bool = True) -> pl.DataFrame:
    """Drift of every target in each period of ``selection`` against ``reference``.

    One row per (period, target): ``period`` (date that starts it), ``role``,
    ``feature`` and the :class:`FeatureDrift` fields. All periods are served by
    the same queries (one pass per target over the sorted values).
    """
    if period not in PERIODS:
        raise SelectionError(f"Period {period!r} is not one of day, week, month.")
    spec = engine.spec(model)
    cfg = config or DriftConfig.from_spec(spec)
    tgts = targets(engine, spec, features, prediction=prediction, label=label)
    ev = _evaluate(engine, spec, reference, selection, lambda t: period_start(t[C.TS], period),
                   tgts, cfg, "selection")
    rows = []
    for t, by_key in ev.by_target.items():
        for k, f in by_key.items():
            rows.append({"period": k, "role": t.role, "feature": t.name, **f.row()})
    frame = pl.DataFrame(rows, schema={"period": pl.Date, **_FRAME_SCHEMA})
    return frame.sort(["period", "role", "feature"])


def distribution(engine: Engine, model: str | ModelSpec, feature: str, reference: Selection,
                 current: Selection, config: DriftConfig | None = None) -> pl.DataFrame:
    """The two distributions a chart compares, on the bins PSI and Jensen-Shannon use.

    ``feature`` is a feature name, or the prediction's / label's name (or the
    words ``prediction`` / ``label``). Columns: ``bin`` (a category, or a
    numeric interval as text), ``lower``, ``upper`` (numeric: the bin's edges,
    NULL for infinite), ``ref_count``, ``cur_count``, ``ref_share``, ``cur_share``.
    """
    spec = engine.spec(model)
    cfg = config or DriftConfig.from_spec(spec)
    every = targets(engine, spec)
    t = next((x for x in every if x.role == "feature" and x.name == feature), None) \
        or next((x for x in every if x.role != "feature" and feature in (x.name, x.role)), None)
    if t is None:
        names = [x.name for x in every]
        raise SelectionError(f"Model {spec.name!r} has no feature {feature!r}{suggest(feature, names)}; "
                             f"choose from: {', '.join(names)}.")
    log, _ = _logs(engine, spec, [t])[0]
    st = q.flagged(log, reference.predicates(engine, log), current.predicates(engine, log), ibis.literal(0),
                   v0=t.value)
    vc = q.windowed(q.value_counts(st, [t.kind]))
    if t.kind == "numeric":
        summary = engine.execute(q.reference_summary_query(vc, [0], cfg.bins), spec).to_pylist()
        if not summary:
            raise EmptySelectionError(f"The reference window ({reference.describe()}) of model {spec.name!r} "
                                      f"holds no values of {t.name!r}.")
        edges = _edges(summary[0], cfg.bins)
        b = vc.filter(vc[q.XN].notnull())
        b = b.group_by([b[q.IS_REF], q.bin_index(b[q.XN], edges).name("_bin")]).aggregate(c=b.c.sum())
        rows = engine.execute(b, spec).to_pylist()
        bounds = [None] + edges + [None]
        labels = [f"({'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"
                  for lo, hi in zip(bounds[:-1], bounds[1:])]
        keys = list(range(len(edges) + 1))
        counts = {(r[q.IS_REF], r["_bin"]): int(r["c"]) for r in rows}
        data = {"bin": labels, "lower": bounds[:-1], "upper": bounds[1:]}
    else:
        rows = engine.execute(q.categorical_query(vc, [0], 2 * MAX_CATEGORIES + 1), spec).to_pylist()
        keys = sorted({r[q.X] for r in rows})
        counts = {(r[q.IS_REF], r[q.X]): int(r["c"]) for r in rows}
        data = {"bin": keys, "lower": [None] * len(keys), "upper": [None] * len(keys)}
    rc = [counts.get((True, k), 0) for k in keys]
    cc = [counts.get((False, k), 0) for k in keys]
    data.update(ref_count=rc, cur_count=cc,
                ref_share=[x / sum(rc) if sum(rc) else None for x in rc],
                cur_share=[x / sum(cc) if sum(cc) else None for x in cc])
    return pl.DataFrame(data, schema={"bin": pl.Utf8, "lower": pl.Float64, "upper": pl.Float64,
                                      "ref_count": pl.Int64, "cur_count": pl.Int64,
                                      "ref_share": pl.Float64, "cur_share": pl.Float64})


# --------------------------------------------------------------------------- windows


def _day(ts: _dt.datetime) -> _dt.datetime:
    return _dt.datetime(ts.year, ts.month, ts.day)


def resolve_windows(engine: Engine, model: str | ModelSpec, reference_start=None, reference_end=None,
                    current_start=None, current_end=None, versions: Sequence[str] = (),
                    where=()) -> tuple[Selection, Selection]:
    """Reference and current selections from the bounds given, the others by default.

    Defaults (``analytics/docs/drift.md``): the reference starts at
    ``[models.drift] reference_start`` or the first day of data and lasts 28
    days (or ends at ``reference_end``); the current window ends after the last
    day of data and lasts 28 days. With nothing given and under 8 weeks of
    data, the reference is the first half of the days and the current the rest.
    """
    spec = engine.spec(model)
    cfg = DriftConfig.from_spec(spec)
    rs, re_ = parse_time(reference_start, "--reference-start"), parse_time(reference_end, "--reference-end")
    cs, ce = parse_time(current_start, "--current-start"), parse_time(current_end, "--current-end")
    explicit = any(x is not None for x in (rs, re_, cs, ce, cfg.reference_start, cfg.reference_end))
    if None in (rs, re_, cs, ce):
        t = _prediction_log(engine, spec)
        row = engine.execute(t.aggregate(lo=t[C.TS].min(), hi=t[C.TS].max()), spec).to_pylist()[0]
        if row["lo"] is None:
            raise EmptySelectionError(f"Model {spec.name!r} has no predictions: no window to compare.")
        first, after = _day(row["lo"]), _day(row["hi"]) + _dt.timedelta(days=1)
        if not explicit and after - first < 2 * DEFAULT_WINDOW:
            mid = first + _dt.timedelta(days=max((after - first).days // 2, 1))
            rs, re_, cs, ce = first, mid, mid, after
        rs = rs or cfg.reference_start or first
        re_ = re_ or cfg.reference_end or rs + DEFAULT_WINDOW
        ce = ce or after
        cs = cs or ce - DEFAULT_WINDOW
    ref = Selection.build(spec.name, rs, re_, versions, where)
    cur = Selection.build(spec.name, cs, ce, versions, where)
    return ref, cur


def default_reference(engine: Engine, model: str | ModelSpec, versions: Sequence[str] = (),
                      where=()) -> tuple[Selection, Selection]:
    """The documented default ``(reference, current)`` windows (see :func:`resolve_windows`)."""
    return resolve_windows(engine, model, versions=versions, where=where)
