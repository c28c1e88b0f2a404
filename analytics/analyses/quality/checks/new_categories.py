"""Categories the reference never saw: their share of the period's values (the top five
named). ``known = { column = [values] }`` lists values that are valid though absent from
the reference (a season's value, a planned new market)."""

import ibis

from ..registry import Measure, QualityCheck, register


def new_values(s, values):
    """Present values of ``s`` that are not in ``values``."""
    if not values:
        return s.notnull()
    return s.notnull() & ~s.isin([ibis.literal(str(v)) for v in values])


def category_values(ref, cfg, col):
    return list(ref["categories"]) + [str(v) for v in dict(cfg.get("known") or {}).get(col.name, [])]


def _current(col, t, ref, cfg):
    s = col.text(t)
    out = {"valid": s.count()}
    if ref.get("categories") is not None:
        out["new"] = new_values(s, category_values(ref, cfg, col)).cast("int64").sum()
    return out


def _evaluate(cur, ref, cfg):
    if ref.get("categories") is None:
        return Measure(None, "over 1,000 categories in the reference: an identifier, not a category")
    valid, k = int(cur["valid"] or 0), int(cur.get("new") or 0)
    if not valid:
        return Measure(None, "no values in the period")
    share = k / valid
    return Measure(share, f"{share:.1%} of values are categories the reference never saw",
                   {"share": share, "new": k, "valid": valid})


CHECK = register(QualityCheck(
    name="new_categories", title="New categories", scope="categorical", unit="share", warn=0.01, pull=0.10,
    settings={"known": {}},
    measures="the share of values that are categories absent from the reference",
    current=_current, evaluate=_evaluate,
    doc="A renamed category (`partner` becomes `Partner`), a new code upstream. The five largest "
        "new values are named with their share. `known = { column = [values] }` accepts values the "
        "reference lacks."))
