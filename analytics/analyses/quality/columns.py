"""The columns quality checks watch: every declared feature and segment, numeric
(integer or float features) or categorical (strings, booleans, and every segment)."""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from analytics.query.selection import segment_text


@dataclass(frozen=True)
class Column:
    name: str
    kind: str          # numeric | categorical
    type: str          # the log's type, as text
    exact: bool = True  # the backend's quantile is exact (DuckDB); else its approximate one

    def quantile(self, x: ir.NumericValue, q: float) -> ir.FloatingValue:
        """The ``q`` quantile of ``x``: exact where the backend has it (DuckDB), else the
        backend's approximate quantile (Trino's ``approx_percentile``...)."""
        return x.quantile(q) if self.exact else x.approx_quantile(q)

    def missing(self, t: ir.Table) -> ir.BooleanValue:
        """Null, NaN (floats) or the empty string (text)."""
        col = t[self.name]
        typ = col.type()
        miss = col.isnull()
        if typ.is_floating():
            miss = miss | col.isnan()
        if typ.is_string():
            miss = miss | (col == ibis.literal(""))
        return miss.fill_null(True)

    def num(self, t: ir.Table) -> ir.FloatingValue:
        """The value as float64, NaN as null."""
        x = t[self.name].cast("float64")
        return ibis.ifelse(x.isnan(), ibis.null().cast("float64"), x) if t[self.name].type().is_floating() else x

    def text(self, t: ir.Table) -> ir.StringValue:
        """The value's text (as filters show it), the empty string as null."""
        s = segment_text(t[self.name])
        return ibis.ifelse(s == ibis.literal(""), ibis.null().cast("string"), s)


def watched_columns(spec, schema, exact: bool = True) -> tuple[Column, ...]:
    """Features then segments (each once), with the kind the log's type gives them."""
    c = spec.columns
    out = []
    for name in dict.fromkeys(list(c.features) + list(c.segments)):
        if name not in schema:
            continue
        typ = schema[name]
        numeric = name not in c.segments and (typ.is_integer() or typ.is_floating() or typ.is_decimal())
        out.append(Column(name, "numeric" if numeric else "categorical", str(typ), exact))
    return tuple(out)
