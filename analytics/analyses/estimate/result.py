"""The results of label-free estimation (the JSON shape is in ``analytics/docs/estimate.md``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from analytics.results import record
from .expected import Estimate


@dataclass(frozen=True)
class EstimateRow:
    """One group: its sizes, estimated metrics, realized ones (when labeled) and the guard's word."""

    group: dict[str, Any]
    n: int
    n_labeled: int
    estimated: dict[str, Estimate]
    realized: dict[str, Any] | None          # metric -> MetricValue (None: no labeled row)
    reliable: bool
    reasons: tuple[str, ...] = ()
    per_class: dict[str, dict[str, Estimate]] | None = None
    outside_share: float | None = None

    @property
    def label_coverage(self) -> float:
        return self.n_labeled / self.n if self.n else 0.0

    def to_dict(self) -> dict[str, Any]:
        return record(self, drop=() if self.per_class is not None else ("per_class",))


@dataclass(frozen=True)
class BacktestRow:
    group: dict[str, Any]
    metric: str
    estimated: Estimate
    realized: float
    n_labeled: int

    @property
    def error(self) -> float | None:
        return None if self.estimated.value is None else self.estimated.value - self.realized

    @property
    def covered(self) -> bool | None:
        return self.estimated.covers(self.realized)

    def to_dict(self) -> dict[str, Any]:
        return record(self, error=self.error, covered=self.covered)


@dataclass(frozen=True)
class EstimateResult:
    model: str
    task: str
    group_keys: tuple[str, ...]
    metric_names: tuple[str, ...]
    reference: dict[str, Any]
    calibrated: bool
    rows: tuple[EstimateRow, ...]
    backtest: tuple[BacktestRow, ...] = field(default=())

    def backtest_summary(self) -> dict[str, dict[str, Any]]:
        """Per metric: matured periods, interval coverage, mean error and mean absolute error."""
        out: dict[str, dict[str, Any]] = {}
        for m in self.metric_names:
            rows = [b for b in self.backtest if b.metric == m and b.error is not None]
            cov = [b.covered for b in rows if b.covered is not None]
            out[m] = {"periods": len(rows),
                      "coverage": (sum(cov) / len(cov)) if cov else None,
                      "mean_error": float(sum(b.error for b in rows) / len(rows)) if rows else None,
                      "mean_abs_error": float(sum(abs(b.error) for b in rows) / len(rows)) if rows else None}
        return out

    def to_dict(self, backtest: bool = False) -> dict[str, Any]:
        d = {"model": self.model, "task": self.task, "reference": self.reference, "calibrated": self.calibrated,
             "rows": [r.to_dict() for r in self.rows]}
        if backtest:
            d["backtest"] = {"periods": [b.to_dict() for b in self.backtest], "summary": self.backtest_summary()}
        return d

    def to_polars(self):
        schema: dict[str, Any] = {k: pl.Utf8 for k in self.group_keys}
        schema.update({"n": pl.Int64, "n_labeled": pl.Int64, "reliable": pl.Boolean, "reasons": pl.Utf8})
        for m in self.metric_names:
            schema.update({m: pl.Float64, f"{m}_ci_low": pl.Float64, f"{m}_ci_high": pl.Float64,
                           f"{m}_realized": pl.Float64})
        data = []
        for r in self.rows:
            d: dict[str, Any] = {k: (None if r.group.get(k) is None else str(r.group[k])) for k in self.group_keys}
            d.update(n=r.n, n_labeled=r.n_labeled, reliable=r.reliable, reasons="; ".join(r.reasons))
            for m in self.metric_names:
                e = r.estimated.get(m)
                real = r.realized.get(m) if r.realized else None
                d.update({m: e.value if e else None, f"{m}_ci_low": e.ci_low if e else None,
                          f"{m}_ci_high": e.ci_high if e else None,
                          f"{m}_realized": real.value if real is not None else None})
            data.append(d)
        return pl.DataFrame(data, schema=schema, orient="row") if data else pl.DataFrame(schema=schema)

    def row(self, **group) -> EstimateRow:
        for r in self.rows:
            if all(r.group.get(k) == v for k, v in group.items()):
                return r
        raise KeyError(group)
