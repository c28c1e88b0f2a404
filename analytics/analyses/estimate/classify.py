"""Binary and multiclass estimation: the engine queries and their per-bin aggregates.

Two kinds of query, both grouped aggregates (no row reaches Python):

* the reference: per version, fold and score bin, the labeled rows, their
  positives and score sum (multiclass: per class, one-vs-rest), which
  :func:`.calibration.choose_calibration` turns into a calibration per version
  (and class);
* the periods: per group key, version, score bin and decision, the rows and
  the sums of their scores and squared scores (multiclass: per class and
  one-vs-rest decision; plus, per decided class, the sums of products of the
  class probabilities).

:mod:`.expected` turns them into expected confusion matrices, metrics and intervals.
"""

from __future__ import annotations

from typing import Any, Sequence

import ibis
import numpy as np

from analytics.config.workspace import ModelSpec
from analytics.log.columns import C
from analytics.log.engine import Engine
from .calibration import BINS, FOLDS, Calibration, choose_calibration
from .expected import ClassMasses, Masses
from .reference import Window, in_reference


def score_bin(x):
    """The bin of a probability: floor(x * BINS), the last bin holding 1.0."""
    b = (x * BINS).floor().cast("int64")
    return ibis.least(ibis.greatest(b, 0), BINS - 1)


def row_order(t, spec: ModelSpec):
    """A deterministic, portable row number: by timestamp, then id (every engine has it)."""
    keys = [t[C.TS]] + ([t[C.ID]] if spec.columns.id else []) + [t[C.VERSION]]
    return ibis.row_number().over(order_by=keys)


def fold(t, spec: ModelSpec):
    """The cross-validation fold of each row: consecutive rows (in time) go to different folds."""
    return (row_order(t, spec) % FOLDS).cast("int64")


def _scores(spec: ModelSpec) -> list[tuple[str | None, str]]:
    """(class name or None, canonical score column) per one-vs-rest score."""
    if spec.task == "binary":
        return [(None, C.SCORE)]
    return [(c, C.proba(i)) for i, c in enumerate(spec.columns.classes)]


def fit_calibrations(engine: Engine, spec: ModelSpec, windows: dict[str, Window]) -> dict[tuple[str, int], Calibration]:
    """(version, class index) -> the calibration chosen on that version's reference."""
    t = engine.log(spec)
    r = t.filter(t[C.LABELED], in_reference(t, windows))
    parts = []
    for k, (cls, col) in enumerate(_scores(spec)):
        s = r.filter(r[col].notnull())
        y = s[C.LABEL] if cls is None else (s[C.LABEL] == ibis.literal(cls)).cast("int64")
        parts.append(s.select(v=s[C.VERSION], k=ibis.literal(k, "int64"), f=fold(s, spec),
                              b=score_bin(s[col]), y=y, p=s[col]))
    u = parts[0]
    for p in parts[1:]:
        u = u.union(p, distinct=False)
    agg = u.group_by("v", "k", "f", "b").aggregate(n=u.count(), pos=u.y.sum(), s1=u.p.sum())
    res = engine.execute(agg, spec)
    arrays: dict[tuple[str, int], list[np.ndarray]] = {}
    cols = {c: res.column(c).to_numpy(zero_copy_only=False) for c in ("k", "f", "b", "n", "pos", "s1")}
    vs = res.column("v").to_pylist()
    for i, v in enumerate(vs):
        key = (str(v), int(cols["k"][i]))
        a = arrays.setdefault(key, [np.zeros((FOLDS, BINS)) for _ in range(3)])
        f, b = int(cols["f"][i]), int(cols["b"][i])
        a[0][f, b] += cols["n"][i]
        a[1][f, b] += cols["pos"][i]
        a[2][f, b] += cols["s1"][i]
    out: dict[tuple[str, int], Calibration] = {}
    n_scores = len(_scores(spec))
    for v in windows:
        for k in range(n_scores):
            n, pos, s1 = arrays.get((v, k), [np.zeros((FOLDS, BINS)) for _ in range(3)])
            out[(v, k)] = choose_calibration(n, pos, s1)
    return out


def masses(engine: Engine, spec: ModelSpec, t, keys: Sequence[str],
           cals: dict[tuple[str, int], Calibration]) -> dict[tuple, Any]:
    """Group key (the values of ``keys``) -> :class:`Masses` (binary) or
    :class:`ClassMasses` (multiclass), pooled over versions with each version's
    calibration. ``t`` is the selection's log annotated with the key columns."""
    scores = _scores(spec)
    valid = [t[col].notnull() for _, col in scores] + [t[C.PRED].notnull()]
    s = t.filter(*valid)
    parts = []
    for k, (cls, col) in enumerate(scores):
        d = s[C.PRED] if cls is None else (s[C.PRED] == ibis.literal(cls)).cast("int64")
        parts.append(s.select(*keys, v=s[C.VERSION], k=ibis.literal(k, "int64"), b=score_bin(s[col]),
                              d=d.cast("int64"), p=s[col]))
    u = parts[0]
    for p in parts[1:]:
        u = u.union(p, distinct=False)
    agg = u.group_by(*keys, "v", "k", "b", "d").aggregate(n=u.count(), s1=u.p.sum(), s2=(u.p * u.p).sum())
    res = engine.execute(agg, spec).to_pydict()
    cells: dict[tuple, np.ndarray] = {}
    for i in range(len(res["n"])):
        g = tuple(res[k][i] for k in keys)
        key = (g, str(res["v"][i]), int(res["k"][i]))
        a = cells.setdefault(key, np.zeros((3, BINS, 2)))
        b, d = int(res["b"][i]), int(res["d"][i])
        a[0, b, d] += res["n"][i]
        a[1, b, d] += res["s1"][i] or 0.0
        a[2, b, d] += res["s2"][i] or 0.0
    out: dict[tuple, Any] = {}
    classes = spec.columns.classes if spec.task == "multiclass" else ()
    for (g, v, k), a in cells.items():
        cal = cals.get((v, k)) or Calibration("identity", 0, 0)
        if spec.task == "binary":
            out.setdefault(g, Masses()).add(a[0], a[1], a[2], cal)
        else:
            out.setdefault(g, ClassMasses.empty(classes)).per_class[k].add(a[0], a[1], a[2], cal)
    if spec.task == "multiclass":
        _class_products(engine, spec, s, keys, classes, out)
    return out


def _class_products(engine: Engine, spec: ModelSpec, s, keys, classes, out) -> None:
    """Per group and decided class c: sum of p_k p_l over its rows (k < l), into ``S``."""
    K = len(classes)
    pairs = [(k, l) for k in range(K) for l in range(k + 1, K)]
    aggs = {f"x{k}_{l}": (s[C.proba(k)] * s[C.proba(l)]).sum() for k, l in pairs}
    agg = s.group_by(*keys, c=s[C.PRED]).aggregate(**aggs)
    res = engine.execute(agg, spec).to_pydict()
    index = {c: i for i, c in enumerate(classes)}
    for i in range(len(res["c"])):
        g = tuple(res[k][i] for k in keys)
        c = index.get(res["c"][i])
        if c is None or g not in out:
            continue
        S = out[g].S
        for k, l in pairs:
            x = res[f"x{k}_{l}"][i] or 0.0
            S[c, k, l] += x
            S[c, l, k] += x
