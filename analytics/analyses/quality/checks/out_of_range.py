"""Numeric values outside the reference's [min, max]."""

from ..registry import QualityCheck, register
from ._stats import outside_bounds as _current, outside_measure


def _reference(col, t):
    x = col.num(t)
    return {"lo": x.min(), "hi": x.max(), "valid": x.count()}


def _evaluate(cur, ref, cfg):
    expected = 2.0 / (int(ref.get("valid") or 0) + 1)       # a new draw of the same distribution
    return outside_measure(cur, ref, "range", ("min", "max"), expected)


CHECK = register(QualityCheck(
    name="out_of_range", title="Outside the reference range", scope="numeric", unit="share",
    warn=0.02, pull=0.20, settings={"alpha": 1e-4},
    measures="the share of values below the reference's minimum or above its maximum",
    reference=_reference, current=_current, evaluate=_evaluate,
    doc="Values the reference never came near: a unit change, a sentinel such as -1 or 999999, a "
        "clipped sensor. A new draw of an unchanged distribution falls outside [min, max] with "
        "probability 2/(n+1); the share must also exceed that significantly (`alpha`)."))
