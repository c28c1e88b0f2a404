"""Missing share: null, NaN or empty-string values of a feature or segment column,
against the reference's share. Observed: the increase, in share points."""

from ..registry import Measure, QualityCheck, register
from ._stats import binom_greater


def _aggs(col, t, *_):
    return {"miss": col.missing(t).cast("int64").sum()}


def _evaluate(cur, ref, cfg):
    n, m = int(cur["n"]), int(cur["miss"] or 0)
    rn, rm = int(ref["n"]), int(ref["miss"] or 0)
    share, rshare = m / n, rm / rn
    p = binom_greater(m, n, rshare) if share > rshare else 1.0
    return Measure(share - rshare, f"{share:.1%} missing (null, NaN or empty) against {rshare:.1%} in the reference",
                   {"share": share, "reference_share": rshare, "missing": m, "rows": n}, p)


CHECK = register(QualityCheck(
    name="missing", title="Missing values", scope="column", unit="share", warn=0.05, pull=0.20,
    settings={"alpha": 1e-4},
    measures="the share of null, NaN or empty values minus the reference's share",
    reference=_aggs, current=_aggs, evaluate=_evaluate,
    doc="A feature that goes null after an upstream change. Levels are share points above the "
        "reference's missing share (0.05 = five points more), and the increase must be significant "
        "(binomial test at `alpha`)."))
