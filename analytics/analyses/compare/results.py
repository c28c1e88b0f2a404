"""What a comparison answers: each metric's test, the losing segments, the verdict
(``to_dict()`` the contract's JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analytics.query.selection import Selection
from analytics.results import record
from analytics.stats import sequential as seq
from ..like_for_like import ComparisonWindow
from .settings import CompareSettings


@dataclass(frozen=True)
class MetricComparison:
    """One metric of both versions and the test of their difference."""

    name: str
    baseline: float | None
    candidate: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    method: str
    n_baseline: int
    n_candidate: int
    higher_is_better: bool | None
    reason: str | None = None

    @property
    def candidate_better(self) -> bool | None:
        """True/False when the metric has a direction and a non-zero difference."""
        if self.delta is None or self.higher_is_better is None or self.delta == 0:
            return None
        return (self.delta > 0) == self.higher_is_better

    def to_dict(self) -> dict[str, Any]:
        return record(self, drop=("name", "higher_is_better"))


@dataclass(frozen=True)
class SegmentLoss:
    """A segment value where the candidate is significantly worse on the primary metric."""

    column: str
    value: str
    metric: str
    baseline: float | None
    candidate: float | None
    delta: float | None
    p_value: float | None
    p_adjusted: float | None
    n_baseline: int
    n_candidate: int

    def to_dict(self) -> dict[str, Any]:
        return record(self, rename={"column": "segment"})


@dataclass(frozen=True)
class Comparison:
    """The answer of :func:`compare_versions`; ``to_dict()`` is the contract's JSON."""

    model: str
    task: str
    baseline: str
    candidate: str
    paired: bool
    metrics: dict[str, MetricComparison]
    verdict: str
    primary_metric: str
    n_baseline: int
    n_candidate: int
    reasons: tuple[str, ...]
    losing_segments: tuple[SegmentLoss, ...]
    settings: CompareSettings
    selection: Selection
    overlap: float | None = None
    n_common: int | None = None
    disagreement_rate: float | None = None
    sequential: seq.SequentialResult | None = None
    window: ComparisonWindow | None = None
    stratified: str | None = None   # the period each metric was compared within, or None (pooled)

    def to_dict(self) -> dict[str, Any]:
        out = {"model": self.model, "baseline": self.baseline, "candidate": self.candidate,
               "paired": self.paired,
               "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
               "verdict": self.verdict, "primary_metric": self.primary_metric,
               "n": {"baseline": self.n_baseline, "candidate": self.n_candidate},
               "alpha": self.settings.alpha, "min_n": self.settings.min_n,
               "overlap": self.overlap, "reasons": list(self.reasons),
               "losing_segments": [s.to_dict() for s in self.losing_segments],
               "sequential": self.sequential.to_dict() if self.sequential else None,
               "selection": self.selection.describe(),
               "window": self.window.to_dict() if self.window else None,
               "stratified": self.stratified}
        if self.paired:
            out["n_common"] = self.n_common
            out["disagreement_rate"] = self.disagreement_rate
        return out
