"""A change of scale: the median and the interquartile range against the reference's.
A unit change (euros to cents, km to m) multiplies both by the same factor."""

import math

from ..registry import Measure, QualityCheck, register


def _aggs(col, t, *_):
    x = col.num(t)
    return {"med": col.quantile(x, 0.5), "q25": col.quantile(x, 0.25), "q75": col.quantile(x, 0.75),
            "mean": x.mean()}


def _ratio(a, b):
    if a is None or b is None or a == 0 or b == 0 or (a > 0) != (b > 0):
        return None
    return a / b


def _evaluate(cur, ref, cfg):
    if cur.get("med") is None or ref.get("med") is None:
        return Measure(None, "no values")
    med = _ratio(cur["med"], ref["med"])
    iqr = _ratio(cur["q75"] - cur["q25"], ref["q75"] - ref["q25"])
    mean = _ratio(cur["mean"], ref["mean"])
    ratios = [r for r in (med if med is not None else mean, iqr if iqr is not None else mean) if r is not None]
    if not ratios:
        return Measure(None, "median, IQR and mean are zero or change sign: no scale to compare")
    # the factor both agree on: the one nearer to 1 (a unit change moves both)
    r = min(ratios, key=lambda x: abs(math.log(x)))
    factor = max(r, 1 / r)
    return Measure(factor, f"scale changed {factor:.3g}x (median {cur['med']:.6g} against {ref['med']:.6g}, "
                           f"IQR {cur['q75'] - cur['q25']:.6g} against {ref['q75'] - ref['q25']:.6g})",
                   {"factor": factor, "direction": "up" if r >= 1 else "down", "median_ratio": med,
                    "iqr_ratio": iqr, "median": cur["med"], "reference_median": ref["med"]})


CHECK = register(QualityCheck(
    name="scale", title="Scale change", scope="numeric", unit="factor", warn=2.0, pull=5.0,
    measures="how many times larger or smaller both the median and the IQR are than the reference's "
             "(the factor nearer to 1; the mean stands in when either is zero)",
    reference=_aggs, current=_aggs, evaluate=_evaluate,
    doc="Catches unit changes: cents for euros (100x), metres for kilometres (1000x), minutes for "
        "hours (60x). Drift moves a median by tens of percent, not by a factor of 2."))
