"""Reference categories absent from a period although the reference's share makes at
least 10 of them expected there (absence by chance is then below e^-10)."""

import ibis

from ..registry import Measure, QualityCheck, register

#: Only the reference's most common categories are watched.
TOP = 50
MIN_EXPECTED = 10


def _top(ref):
    cats = ref.get("categories") or {}
    return sorted(cats.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]


def _current(col, t, ref, cfg):
    s = col.text(t)
    out = {"valid": s.count()}
    for j, (v, _) in enumerate(_top(ref)):
        out[f"k{j}"] = (s == ibis.literal(v)).fill_null(False).cast("int64").sum()
    return out


def _evaluate(cur, ref, cfg):
    cats = ref.get("categories")
    if cats is None:
        return Measure(None, "over 1,000 categories in the reference: an identifier, not a category")
    total = sum(cats.values())
    valid = int(cur["valid"] or 0)
    if not total or not valid:
        return Measure(None, "no values")
    gone = [(v, k / total) for j, (v, k) in enumerate(_top(ref))
            if not cur.get(f"k{j}") and k / total * valid >= MIN_EXPECTED]
    share = sum(s for _, s in gone)
    text = (f"categories {', '.join(repr(v) for v, _ in gone)} vanished ({share:.1%} of the reference's values)"
            if gone else "no expected category vanished")
    return Measure(share, text, {"vanished": [{"value": v, "reference_share": s} for v, s in gone]})


CHECK = register(QualityCheck(
    name="vanished_categories", title="Vanished categories", scope="categorical", unit="share",
    warn=0.01, pull=0.10,
    measures="the reference share of the categories that vanished from the period (only those the "
             "period's size makes expected at least 10 times)",
    current=_current, evaluate=_evaluate,
    doc="A category that stopped arriving: a renamed code, a market switched off, a join that "
        "lost rows."))
