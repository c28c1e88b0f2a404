"""The evaluation: every target against the reference, for every key of the current selection
at once, from the engine's aggregates (:mod:`.queries`) finished by the statistic registry,
and decided by the rule (:mod:`.rule`)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from analytics.config.workspace import ModelSpec
from analytics.errors import EmptySelectionError
from analytics.log.engine import Engine
from analytics.query.selection import Selection
from . import queries as q
from .results import DriftConfig, FeatureDrift
from .target import Target, target_logs
from .statistics import finish as finish_stats, for_kind as stats_for_kind, names as stat_names

#: A categorical target with more categories than this is not compared (reason given).
MAX_CATEGORIES = 10_000


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


@dataclass(frozen=True)
class _Evaluation:
    """Per target, per current key: a FeatureDrift; plus row counts per window."""

    by_target: dict[Target, dict[Any, FeatureDrift]]
    ref_rows: int
    cur_rows: dict[Any, int]


Stats = dict[tuple[int, Any], tuple[dict, list[str]]]   # (target index, key) -> (statistics, reasons)


@contextmanager
def _counts_table(engine: Engine, spec: ModelSpec, raw):
    """The per-window counts (:func:`queries.windowed`) of the per-target counts ``raw``,
    kept in a temporary table (:meth:`Engine.temporary`) for the queries that read
    them. ``raw`` is computed once inside that statement (a CTE: the windows read it
    twice)."""
    with engine.temporary(q.windowed(raw), spec) as counts:
        yield counts


def evaluate(engine: Engine, spec: ModelSpec, reference: Selection, current: Selection, key,
              tgts: Sequence[Target], cfg: DriftConfig, current_label: str) -> _Evaluation:
    """Every target against the reference, for every key of the current selection at once.

    Per log read (see :func:`logs`): one scan per target builds the per-value
    counts of every window; the window sizes, the reference summaries, the
    numeric statistics and the category counts are then small queries on them.
    """
    n_ref: dict[int, int] = {}
    n_cur: dict[tuple[int, Any], int] = {}
    rows_ref, rows_cur = 0, {}
    stats: Stats = {}
    for log, idx in target_logs(engine, spec, tgts):
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


def quantile_edges(summary: Mapping[str, Any], bins: int) -> list[float]:
    """Distinct reference quantile edges, ascending (equal edges merged)."""
    return sorted({float(summary[f"e{j}"]) for j in range(1, bins) if summary[f"e{j}"] is not None})


def _numeric_stats(engine: Engine, spec: ModelSpec, counts, idx: list[int], n_ref: dict[int, int],
                   cfg: DriftConfig) -> Stats:
    """Every numeric statistic of the registry, finished from the aggregates it needs: the
    reference summary and the sorted pass (:func:`queries.numeric_query`) for all, and the
    queries some statistics bring of their own."""
    summ = {r[q.F]: r for r in engine.execute(q.reference_summary_query(counts, idx, cfg.bins), spec).to_pylist()}
    edges = {j: quantile_edges(summ[j], cfg.bins) for j in idx}
    more = [s.pooled for s in stats_for_kind("numeric") if s.pooled is not None]
    res = engine.execute(q.numeric_query(counts, edges, more), spec)
    pooled_cols = res.column_names[len(q.NUMERIC_BASE) + max(len(e) for e in edges.values()) + 1:]
    rows = res.to_pylist()
    extra = _own_queries(engine, spec, counts, idx, "numeric")
    ref_bins = {r[q.F]: r for r in rows if r[q.IS_REF]}
    out: Stats = {}
    for r in rows:
        if r[q.IS_REF]:
            continue
        j, nb = r[q.F], len(edges[r[q.F]]) + 1
        agg = {"n_ref": n_ref[j], "n_cur": int(r["n"]), "ks_num": r["ks_num"], "wasserstein": r["wasserstein"],
               "ref_var": summ[j]["var"], "ref_bins": [ref_bins[j][f"b{b}"] for b in range(nb)],
               "cur_bins": [r[f"b{b}"] for b in range(nb)], **{c: r[c] for c in pooled_cols},
               **extra.get((j, r[q.KEY]), {})}
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
