"""Data quality: every check of every column per period against the reference window,
the worst first, and a column's history (analytics/docs/quality.md)."""

from __future__ import annotations

import datetime as _dt

from app import resources
from app.components.page import PageContext, run_page
from app.components.quality import quality_panel
from app.components.widgets import spinner


def body(ctx: PageContext) -> None:
    flt = ctx.filters
    end = flt.end + _dt.timedelta(days=1) if flt.end else None
    with spinner("Checking the data…"):
        res = resources.quality(ctx.ws_key, ctx.spec.name, flt.start, end, flt.period)
    quality_panel(res)


run_page("Data quality", body, caption="Are the inputs intact? Missing values, ranges, units, categories, "
         "schema, volume and freshness against the reference window (version and segment filters do not apply).")
