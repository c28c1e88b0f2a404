"""What a value computation returns: a row per group (:class:`ValueRow`), the
selection's total (:class:`ValueTotals`), the result (:class:`ValueResult`) and the
threshold analysis (:class:`VersionCurve`, :class:`ThresholdCurve`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from .assumptions import Assumptions



@dataclass(frozen=True)
class ValueRow:
    """One group's value. Money in the result's currency; ``None`` comes with a reason."""

    group: dict
    n: int
    n_labeled: int
    value: float | None
    baseline_value: float | None                # the baseline policy's (or version's) value, same rows
    lift: float | None
    compute_cost: float
    net_value: float | None
    roi: float | None
    roi_reason: str | None
    pending_n: int                              # predictions without a (valid) label yet
    pending_share: float | None
    pending_expected_value: float | None
    #: version baseline only: 95% interval from the sampling error of that version's value
    #: per prediction (policy baselines are exact counterfactual sums: no interval)
    baseline_ci_low: float | None = None
    baseline_ci_high: float | None = None
    lift_ci_low: float | None = None            # value minus the baseline's interval
    lift_ci_high: float | None = None
    #: 95% interval of the pending value from the outcomes' randomness alone, given
    #: calibrated scores (normal approximation); calibration error is not in it
    pending_ci_low: float | None = None
    pending_ci_high: float | None = None
    pending_reason: str | None = None           # why there is no pending estimate (or what it leaves out)
    pending_assumption: str | None = None       # what the pending estimate assumes
    value_reason: str | None = None             # why value is None
    baseline_reason: str | None = None          # why baseline_value is None
    value_nulls: int = 0                        # labeled rows whose per-row value is null (counted as 0)
    baseline_nulls: int = 0
    cost_nulls: int = 0
    excluded_n: int = 0                         # labeled rows without a decision (left out of value)
    cumulative_net_value: float | None = None   # running total over periods
    #: a version's row: "serving" or "shadow" (a shadow's value is its value *if promoted*,
    #: never realized); a row pooling versions: None
    role: str | None = None
    #: a row pooling versions: shadow predictions left out of ``n`` and the value, and their
    #: compute cost, which IS in ``compute_cost`` (a shadow costs compute)
    shadow_n: int = 0
    shadow_compute_cost: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ValueTotals:
    """The selection's total over every group: the serving versions' value and lift,
    the compute cost of every version (shadows included), net value and ROI."""

    serving_versions: tuple[str, ...]
    shadow_versions: tuple[str, ...]
    n: int
    value: float | None
    lift: float | None
    compute_cost: float
    shadow_compute_cost: float
    net_value: float | None
    roi: float | None
    roi_reason: str | None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["serving_versions"] = list(self.serving_versions)
        d["shadow_versions"] = list(self.shadow_versions)
        return d

    def pooled(self) -> str:
        """``"pooled over v1, v2 (serving); v3 (shadow) left out"``."""
        text = f"pooled over {', '.join(self.serving_versions) or 'no version'} (serving)"
        if self.shadow_versions:
            text += f"; {', '.join(self.shadow_versions)} (shadow) left out, its compute cost counted"
        return text


@dataclass(frozen=True)
class ValueResult:
    """Value per group of one selection, under the assumptions it used."""

    model: str
    task: str                       # binary | multiclass | regression
    currency: str                   # of every money field
    group_keys: tuple[str, ...]     # the grouping's names (version, period, segments)
    assumptions: Assumptions        # the numbers used (the workspace's, or a what-if's)
    threshold_used: float | None    # binary: the threshold the decisions used, when re-decided
    rows: tuple[ValueRow, ...]
    warnings: tuple[str, ...] = ()
    totals: ValueTotals | None = None

    def to_dict(self) -> dict[str, Any]:
        """The contract's ``roi`` JSON (plus extension fields)."""
        return {"model": self.model, "task": self.task, "currency": self.currency,
                "threshold": self.threshold_used, "assumptions": self.assumptions.to_dict(),
                "warnings": list(self.warnings), "rows": [r.to_dict() for r in self.rows],
                "totals": self.totals.to_dict() if self.totals else None}

    def to_polars(self) -> pl.DataFrame:
        """One row per group: group keys, then every :class:`ValueRow` field."""
        recs = []
        for r in self.rows:
            d = r.to_dict()
            g = d.pop("group")
            recs.append({**g, **d})
        if not recs:
            names = list(self.group_keys) + [f.name for f in dataclasses.fields(ValueRow) if f.name != "group"]
            return pl.DataFrame({k: [] for k in names})
        return pl.DataFrame(recs, infer_schema_length=None)



@dataclass(frozen=True)
class VersionCurve:
    """Value (realized, on labeled rows) at each threshold ``k / bins`` for one version."""

    version: str
    n_labeled: int
    thresholds: tuple[float, ...]      # the histogram's edges k / bins
    values: tuple[float, ...]          # the value at each of them
    best_threshold: float | None       # greatest value (ties: nearest the current threshold)
    best_value: float | None
    current_threshold: float
    value_at_current: float | None     # at the current decisions
    left_on_table: float | None        # best value minus value at the current decisions
    reason: str | None = None          # why there is no best threshold

    def to_dict(self, points: bool = True) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        if not points:
            d.pop("thresholds")
            d.pop("values")
        return d


@dataclass(frozen=True)
class ThresholdCurve:
    model: str
    currency: str
    bins: int
    versions: dict[str, VersionCurve] = field(default_factory=dict)

    def to_dict(self, points: bool = True) -> dict[str, Any]:
        return {"model": self.model, "currency": self.currency, "bins": self.bins,
                "versions": {k: v.to_dict(points) for k, v in self.versions.items()}}
