"""Run the quality checks of one model: reference window against each period.

The engine does the counting, in few passes whatever the number of checks:

1. the reference window, one aggregate: every column check's reference aggregates
   (missing counts, min/max, quantiles...) for every watched column;
2. the reference's categories of the categorical columns (one grouped query);
3. the current selection grouped by period, one aggregate: every column check's
   per-period aggregates, with the reference values as literals;
4. per (day, version): rows, labeled rows, positives (volume and label checks share it);
5. only when needed: the top new categories, repeated ids, the freshness hours.

Python then turns these few hundred numbers into findings (levels, sentences).
A level is given only when the observed value crosses it and, for counts, the
difference is significant (the check's ``alpha``): small periods do not alarm by chance.
"""

from __future__ import annotations

import datetime as _dt
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterable

import ibis

from analytics.analyses.drift import default_reference
from analytics.analyses.roles import version_roles
from analytics.config.quality import QualitySettings
from analytics.config.times import parse_time
from analytics.errors import DataError, LastmileError
from analytics.log.columns import C
from analytics.log.defects import as_timestamp, repeated_ids
from analytics.log.engine import Engine
from analytics.query.selection import Selection, period_start
from analytics.render import format as fmt
from analytics.store.answers import remembered

from .checks import CHECKS
from .checks.new_categories import category_values, new_values
from .checks.schema import schema_conflict, schema_findings
from .columns import Column, watched_columns
from .registry import QualityCheck
from .results import Finding, QualityResult, day_period, when

#: A categorical column with more reference categories than this is treated as an identifier.
MAX_CATEGORIES = 1000


@dataclass
class Context:
    """What a model check gets: the engine, the windows, the settings, shared counts."""

    engine: Engine
    spec: Any
    settings: QualitySettings
    reference: Selection
    current: Selection
    period: str
    now: _dt.datetime | None
    columns: tuple[Column, ...] = ()
    #: shadow versions (analytics.analyses.roles): their re-scores are not traffic, so the
    #: volume check leaves them out
    shadows: tuple[str, ...] = ()
    #: the log the checks read: the model's log, or a temporary table of its rows in
    #: the two windows (a log queried in place is joined once, not once per query)
    log: Any = None
    _hourly: list[dict] | None = field(default=None, repr=False)
    _daily: list[dict] | None = field(default=None, repr=False)

    def cfg(self, name: str) -> dict[str, Any]:
        return dict(self.settings.checks[name])

    def hourly(self) -> list[dict]:
        """Per (hour, version) over the reference and the current selection: ``n``,
        ``labeled``, (binary) ``positives`` and ``newest``, the newest prediction up to
        ``now``. One query, shared by the checks (volume, positive rate, freshness...).
        Without ``now``, ``now`` becomes the newest prediction of the two windows."""
        if self._hourly is None:
            t = self.log
            t = t.filter(_window(self.engine, t, self.reference) | _window(self.engine, t, self.current))
            aggs = {"n": t.count(), "labeled": t[C.LABELED].cast("int64").sum()}
            if self.spec.task == "binary":
                aggs["positives"] = (t[C.LABELED] & (t[C.LABEL] == 1)).cast("int64").sum()
            aggs["newest"] = t[C.TS].max(where=t[C.TS] <= ibis.literal(self.now)) if self.now is not None \
                else t[C.TS].max()
            q = t.group_by(hour=t[C.TS].truncate("h"), version=t[C.VERSION]).aggregate(**aggs)
            self._hourly = self.engine.execute(q, self.spec).to_pylist()
            if self.now is None:
                self.now = max((r["newest"] for r in self._hourly if r["newest"] is not None), default=None)
        return self._hourly

    def daily(self) -> list[dict]:
        """:meth:`hourly` summed per (day, version): ``day``, ``version``, ``n``, ``labeled``,
        ``positives``, ``newest``."""
        if self._daily is None:
            acc: dict[tuple, dict] = {}
            for r in self.hourly():
                day = r["hour"].date()
                a = acc.setdefault((day, r["version"]), {"day": day, "version": r["version"], "n": 0, "labeled": 0,
                                                         "positives": 0, "newest": None})
                a["n"] += int(r["n"])
                a["labeled"] += int(r["labeled"] or 0)
                a["positives"] += int(r.get("positives") or 0)
                if r["newest"] is not None and (a["newest"] is None or r["newest"] > a["newest"]):
                    a["newest"] = r["newest"]
            self._daily = sorted(acc.values(), key=lambda a: (a["day"], str(a["version"])))
        return self._daily

    def repeated_rows(self) -> dict[_dt.date, tuple[int, int]]:
        """Per period of the selection: (predictions, those whose id repeats within their
        version), from the raw predictions (:func:`analytics.log.defects.repeated_ids`)."""
        engine, spec = self.engine, self.spec
        c = spec.columns
        if not engine.repeated_ids(spec):   # none anywhere (one cached aggregate): the shared counts
            rows: dict[_dt.date, tuple[int, int]] = {}
            for r in self.daily():
                if self.in_current(r["day"]):
                    k = day_period(r["day"], self.period)
                    rows[k] = (rows.get(k, (0, 0))[0] + int(r["n"]), 0)
            return rows
        pred = engine.raw(spec, "predictions")
        rep = repeated_ids(spec, pred)
        cond = pred[c.id] == rep._lm_rid
        if c.version:
            cond &= pred[c.version].identical_to(rep._lm_rv)
        j = pred.left_join(rep, cond)
        ts = as_timestamp(j[c.timestamp])
        keep = ts.notnull()
        if self.current.start is not None:
            keep &= ts >= ibis.literal(self.current.start)
        if self.current.end is not None:
            keep &= ts < ibis.literal(self.current.end)
        j = j.filter(keep)
        q = j.group_by(_p=period_start(as_timestamp(j[c.timestamp]), self.period)).aggregate(
            n=j.count(), dup=j._lm_rid.notnull().cast("int64").sum())
        return {r["_p"]: (int(r["n"]), int(r["dup"] or 0)) for r in engine.execute(q, spec).to_pylist()}

    def in_reference(self, day: _dt.date) -> bool:
        d = _dt.datetime(day.year, day.month, day.day)
        return (self.reference.start is None or d >= self.reference.start) and \
            (self.reference.end is None or d < self.reference.end)

    def in_current(self, day: _dt.date) -> bool:
        d = _dt.datetime(day.year, day.month, day.day)
        return (self.current.start is None or d >= self.current.start) and \
            (self.current.end is None or d < self.current.end)


def _window(engine: Engine, t, sel: Selection):
    preds = sel.predicates(engine, t)
    cond = preds[0] if preds else ibis.literal(True)
    for p in preds[1:]:
        cond = cond & p
    return cond


@contextmanager
def _checked_log(engine: Engine, spec, ref: Selection, cur: Selection, columns: tuple[Column, ...]):
    """The log the checks read (see :attr:`Context.log`)."""
    t = engine.log(spec)
    if engine.snapshotted(spec):
        yield t
        return
    keep = [C.TS, C.VERSION, C.LABEL, C.LABELED] + [x for x in (C.LABEL_TS,) if x in t.columns] \
        + [c.name for c in columns]
    expr = t.filter(_window(engine, t, ref) | _window(engine, t, cur)).select(*dict.fromkeys(keep))
    with engine.temporary(expr, spec) as table:
        yield table


def _fmt_period(p) -> str | None:
    return p.isoformat() if isinstance(p, (_dt.date, _dt.datetime)) else p


def _applies(check: QualityCheck, col: Column) -> bool:
    return check.scope == "column" or check.scope == col.kind


def reference_selection(engine: Engine, spec, settings: QualitySettings) -> Selection:
    """``[models.quality] reference_start/_end``, else the drift module's default reference."""
    g = settings.general
    ref = default_reference(engine, spec)[0]
    if g["reference_start"] or g["reference_end"]:
        rs = parse_time(g["reference_start"], "[models.quality] reference_start") or ref.start
        re_ = parse_time(g["reference_end"], "[models.quality] reference_end") or ref.end
        ref = Selection.build(spec.name, rs, re_)
    return ref


def run_quality(engine: Engine, model, *, start=None, end=None, period: str = "week",
                now: _dt.datetime | None = None, reference: Selection | None = None,
                checks: Iterable[str] | None = None) -> QualityResult:
    """Every enabled quality check of ``model`` for each ``period`` of ``[start, end)``
    against the reference window.

    ``now``: when freshness is judged (default: the latest prediction, so only a lag of
    the outcomes behind the predictions shows; a scheduler passes the current time).
    ``reference``: the reference selection (default :func:`reference_selection`).
    ``checks``: names to run (default: every enabled check).

    The checks on the log are a remembered answer (:mod:`analytics.store.answers`):
    ``now=None`` resolves to the log's latest prediction, which the key (the stored files)
    holds; the raw files' schemas (the ``schema`` check, read from their footers, outside
    the store) are read every time and are part of the key.

    >>> res = run_quality(engine, "delivery_eta", period="day")      # doctest: +SKIP
    >>> [(f.check, f.column, f.period) for f in res.problems("pull")]  # doctest: +SKIP
    """
    spec = engine.spec(model)
    if period not in ("day", "week", "month"):
        raise DataError(f"Period {period!r} is not one of day, week, month.")
    settings = QualitySettings.from_spec(spec)
    names = tuple(n for n in (checks or CHECKS) if CHECKS[n] and settings.enabled(n))
    schema = tuple(schema_findings(engine, spec, settings)) if "schema" in names else ()
    return _quality(engine, model, start, end, period, now, reference, names, schema)


@remembered("run_quality")
def _quality(engine: Engine, model, start, end, period: str, now, reference: Selection | None,
             names: tuple[str, ...], schema: tuple[Finding, ...]) -> QualityResult:
    """:func:`run_quality` of the checks ``names``, the raw files' ``schema`` findings given."""
    spec = engine.spec(model)
    settings = QualitySettings.from_spec(spec)
    wanted = [CHECKS[n] for n in names]
    current = Selection.build(spec.name, start, end)
    try:
        ref = reference or reference_selection(engine, spec, settings)
        log_schema = engine.log(spec).schema()
        ctx = Context(engine, spec, settings, ref, current, period, parse_time(now, "now"),
                      watched_columns(spec, log_schema, engine.exact_quantiles),
                      shadows=version_roles(engine, spec).shadow)
        findings = list(schema)
        with _checked_log(engine, spec, ref, current, ctx.columns) as log:
            ctx.log = log
            ctx.hourly()   # the shared counts (and ``now``, when not given)
            findings += _column_findings(ctx, [c for c in wanted if c.scope != "model"])
            for chk in wanted:
                if chk.scope == "model" and chk.name != "schema":
                    findings += chk.run(ctx)
    except LastmileError as exc:
        sentence = schema_conflict(schema)
        if sentence:
            raise DataError(f"{sentence} ({exc})") from None
        raise
    levels = {c.name: {"warn": settings.checks[c.name]["warn"], "pull": settings.checks[c.name]["pull"]}
              for c in wanted}
    return QualityResult(spec.name, period, (ref.start, ref.end), (current.start, current.end), ctx.now,
                         tuple(findings), levels, tuple(ctx.daily()), ctx.shadows)


def _reference_pass(ctx: Context, pairs) -> tuple[dict, dict]:
    """Passes 1 and 2: every column check's reference aggregates, and the reference's categories."""
    engine, spec = ctx.engine, ctx.spec
    # 1. the reference window
    rt = ctx.reference.apply(engine, ctx.log)
    aggs: dict[str, Any] = {"_n": rt.count()}
    for i, col, chk in pairs:
        if chk.reference:
            aggs.update({f"c{i}__{chk.name}__{k}": e for k, e in chk.reference(col, rt).items()})
    ref_row = engine.execute(rt.aggregate(**aggs), spec).to_pylist()[0]
    refs: dict[tuple[int, str], dict] = {}
    for i, col, chk in pairs:
        pre = f"c{i}__{chk.name}__"
        refs[(i, chk.name)] = {"n": ref_row["_n"], **{k[len(pre):]: v for k, v in ref_row.items()
                                                      if k.startswith(pre)}}
    # 2. the reference's categories
    cats = _reference_categories(ctx, rt, [(i, col) for i, col in enumerate(ctx.columns)
                                           if col.kind == "categorical"])
    for i, col, chk in pairs:
        if col.kind == "categorical":
            refs[(i, chk.name)]["categories"] = cats.get(i)
    return refs, cats


def _column_findings(ctx: Context, checks: list[QualityCheck]) -> list[Finding]:
    """Passes 1-3 of the module docstring, then each column check's evaluation."""
    if not checks or not ctx.columns:
        return []
    engine, spec = ctx.engine, ctx.spec
    pairs = [(i, col, chk) for i, col in enumerate(ctx.columns) for chk in checks if _applies(chk, col)]
    refs, cats = _reference_pass(ctx, pairs)

    # 3. the current selection, per period
    ct = ctx.current.apply(engine, ctx.log)
    aggs = {"_n": ct.count()}
    names: dict[tuple[int, str], list[tuple[str, str]]] = {}
    for i, col, chk in pairs:
        part = chk.current(col, ct, refs[(i, chk.name)], ctx.cfg(chk.name))
        names[(i, chk.name)] = [(f"c{i}__{chk.name}__{k}", k) for k in part]
        aggs.update({full: part[k] for full, k in names[(i, chk.name)]})
    q = ct.group_by(_period=period_start(ct[C.TS], ctx.period)).aggregate(**aggs)
    rows = sorted(engine.execute(q, spec).to_pylist(), key=lambda r: r["_period"])

    min_rows = int(ctx.settings.general["min_rows"])
    out: list[Finding] = []
    for row in rows:
        p = _fmt_period(row["_period"])
        for i, col, chk in pairs:
            cur = {"n": row["_n"], **{k: row[full] for full, k in names[(i, chk.name)]}}
            ref, cfg = refs[(i, chk.name)], ctx.cfg(chk.name)
            if not ref["n"]:
                out.append(_null(chk, col, p, "the reference window holds no rows", ctx.period))
                continue
            if row["_n"] < min_rows:
                out.append(_null(chk, col, p, f"only {row['_n']:,} rows in the period (min_rows {min_rows})", ctx.period))
                continue
            m = chk.evaluate(cur, ref, cfg)
            if m.observed is None:
                out.append(_null(chk, col, p, m.text, ctx.period))
                continue
            level, th = chk.level(m.observed, cfg)
            if level != "ok" and m.p_value is not None and m.p_value >= cfg.get("alpha", 1.0):
                level, th = "ok", None   # beyond the level, but within what chance gives
            out.append(Finding(chk.name, level, m.observed, _sentence(chk, col.name, p, m.text, level, th, ctx.period),
                               column=col.name, period=p, threshold=th, details=m.details))
    # 5. the new categories' names, only where there are some
    new = [f for f in out if f.check == "new_categories" and f.observed]
    if new:
        out = _name_new_categories(ctx, ct, out, new, cats)
    return out


def _null(chk: QualityCheck, col: Column, period, reason: str, unit: str) -> Finding:
    return Finding(chk.name, "ok", None, f"{chk.title} of {col.name} {when(period, unit)}: not computed ({reason}).",
                   column=col.name, period=period, reason=reason)


def _sentence(chk: QualityCheck, column: str | None, period, text: str, level: str, th, unit: str) -> str:
    where = f"{column}: " if column else ""
    tail = f"; {level} beyond {_num(th, chk.unit)}" if level in ("warn", "pull") else ""
    return f"{where}{text} {when(period, unit)}{tail}."


def _num(x, unit: str) -> str:
    """A check's threshold in its unit (the one formatter's share, multiple, number)."""
    if x is None:
        return "n/a"
    if unit == "share":
        return fmt.pct(x)
    if unit in ("ratio", "factor"):
        return fmt.ratio(x)
    if unit == "hours":
        return f"{fmt.sig(x)} h"
    return fmt.sig(x)


def _reference_categories(ctx: Context, rt, cols: list[tuple[int, Column]]) -> dict[int, dict | None]:
    """Column index -> {category: rows} in the reference (None: an identifier-like column)."""
    if not cols:
        return {}
    parts = []
    for i, col in cols:
        s = col.text(rt)
        part = rt.select(_c=ibis.literal(i), _v=s).filter(s.notnull())
        parts.append(part.group_by("_c", "_v").aggregate(_k=part.count()))
    q = parts[0]
    for p in parts[1:]:
        q = q.union(p, distinct=False)
    out: dict[int, dict | None] = {i: {} for i, _ in cols}
    for r in ctx.engine.execute(q, ctx.spec).to_pylist():
        out[r["_c"]][r["_v"]] = int(r["_k"])
    return {i: (d if len(d) <= MAX_CATEGORIES else None) for i, d in out.items()}


def _name_new_categories(ctx: Context, ct, out: list[Finding], new: list[Finding],
                         cats: dict[int, dict | None]) -> list[Finding]:
    """The top 5 new categories (share of the period's values) of each period that has any."""
    by_col = {}
    for f in new:
        by_col.setdefault(f.column, set()).add(f.period)
    parts = []
    cols = {c.name: (i, c) for i, c in enumerate(ctx.columns)}
    for name in by_col:
        i, col = cols[name]
        s = col.text(ct)
        values = category_values({"categories": cats[i]}, ctx.cfg("new_categories"), col)
        part = ct.filter(new_values(s, values)).select(_c=ibis.literal(i), _p=period_start(ct[C.TS], ctx.period),
                                                      _v=s)
        parts.append(part.group_by("_c", "_p", "_v").aggregate(_k=part.count()))
    q = parts[0]
    for p in parts[1:]:
        q = q.union(p, distinct=False)
    counts: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for r in ctx.engine.execute(q, ctx.spec).to_pylist():
        counts.setdefault((ctx.columns[r["_c"]].name, _fmt_period(r["_p"])), []).append((r["_v"], int(r["_k"])))
    result = []
    for f in out:
        key = (f.column, f.period)
        if f.check == "new_categories" and key in counts:
            valid = f.details.get("valid") or 1
            top = sorted(counts[key], key=lambda vk: (-vk[1], vk[0]))[:5]
            named = [{"value": v, "share": k / valid} for v, k in top]
            listed = ", ".join(f"{d['value']!r} ({d['share']:.1%})" for d in named)
            msg = f.message.rstrip(".") + f"; the new ones: {listed}."
            f = Finding(**{**f.__dict__, "message": msg, "details": {**f.details, "top": named}})
        result.append(f)
    return result
