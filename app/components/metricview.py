"""Helpers to read a MetricsResult the way pages show it: labels, formats, latest periods."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from analytics.render import format as F


@dataclass(frozen=True)
class Latest:
    """A metric in the latest period where it has a value, and the change from the period before."""

    period: str | None
    value: object  # MetricValue | None
    previous: object  # MetricValue | None

    @property
    def delta(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        if self.value.value is None or self.previous.value is None:
            return None
        return self.value.value - self.previous.value


def latest(result, metric: str) -> Latest:
    """The last period (rows sorted by period) with a value of ``metric``, and the one before it."""
    rows = [r for r in result.rows if r.metrics[metric].value is not None]
    rows.sort(key=lambda r: str(r.group.get("period")))
    if not rows:
        return Latest(None, None, None)
    prev = rows[-2].metrics[metric] if len(rows) > 1 else None
    return Latest(str(rows[-1].group.get("period")), rows[-1].metrics[metric], prev)


def metric_table(frame: pl.DataFrame, keys: list[str], metrics: list[str], defs: dict, currency: str = "USD",
                 with_n: bool = True) -> pl.DataFrame:
    """A display table: group keys, each metric formatted with its interval, n."""
    cols: list[pl.Series] = [frame[k] for k in keys]
    for m in metrics:
        d = defs[m]
        vals = frame[m].to_list()
        lo = frame[f"{m}_ci_low"].to_list()
        hi = frame[f"{m}_ci_high"].to_list()
        reasons = frame[f"{m}_reason"].to_list()
        text = []
        for v, a, b, why in zip(vals, lo, hi, reasons):
            if v is None:
                text.append(f"{F.MISSING} ({why})" if why else F.MISSING)
            else:
                iv = F.interval(a, b, d.fmt, currency)
                text.append(F.by_kind(v, d.fmt, currency) + (f"  {iv}" if iv != F.MISSING else ""))
        cols.append(pl.Series(d.label, text))
    if with_n:
        cols += [frame["n"].alias("predictions"), frame["n_labeled"].alias("labeled")]
    return pl.DataFrame(cols)
