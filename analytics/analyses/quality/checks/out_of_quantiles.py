"""Numeric values outside the reference's [0.1%, 99.9%] quantiles."""

from ..registry import QualityCheck, register
from ._stats import outside_bounds as _current, outside_measure

LOW, HIGH = 0.001, 0.999


def _reference(col, t):
    x = col.num(t)
    return {"lo": col.quantile(x, LOW), "hi": col.quantile(x, HIGH)}


def _evaluate(cur, ref, cfg):
    return outside_measure(cur, ref, "0.1%-99.9% quantiles", ("q001", "q999"), LOW + 1 - HIGH, " (0.2% expected)")


CHECK = register(QualityCheck(
    name="out_of_quantiles", title="Outside the reference quantiles", scope="numeric", unit="share",
    warn=0.05, pull=0.30, settings={"alpha": 1e-4},
    measures="the share of values outside the reference's 0.1% and 99.9% quantiles (0.2% when nothing changed)",
    reference=_reference, current=_current, evaluate=_evaluate,
    doc="Heavier tails than the reference. Distribution drift moves these a little (the drift page "
        "judges that); the defaults fire at 25 times the expected 0.2%."))
