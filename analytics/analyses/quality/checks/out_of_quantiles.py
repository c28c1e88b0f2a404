"""Numeric values outside the reference's [0.1%, 99.9%] quantiles."""

from ..registry import Measure, QualityCheck, register
from ._stats import binom_greater, outside_bounds as _current

LOW, HIGH = 0.001, 0.999


def _reference(col, t):
    x = col.num(t)
    return {"lo": col.quantile(x, LOW), "hi": col.quantile(x, HIGH)}


def _evaluate(cur, ref, cfg):
    if ref.get("lo") is None:
        return Measure(None, "no values in the reference")
    valid, k = int(cur["valid"] or 0), int(cur.get("out") or 0)
    if not valid:
        return Measure(None, "no values in the period")
    share = k / valid
    return Measure(share, f"{share:.2%} of values outside the reference's 0.1%-99.9% quantiles "
                          f"[{ref['lo']:.6g}, {ref['hi']:.6g}] (0.2% expected)",
                   {"share": share, "outside": k, "valid": valid, "q001": ref["lo"], "q999": ref["hi"]},
                   binom_greater(k, valid, LOW + 1 - HIGH))


CHECK = register(QualityCheck(
    name="out_of_quantiles", title="Outside the reference quantiles", scope="numeric", unit="share",
    warn=0.05, pull=0.30, settings={"alpha": 1e-4},
    measures="the share of values outside the reference's 0.1% and 99.9% quantiles (0.2% when nothing changed)",
    reference=_reference, current=_current, evaluate=_evaluate,
    doc="Heavier tails than the reference. Distribution drift moves these a little (the drift page "
        "judges that); the defaults fire at 25 times the expected 0.2%."))
