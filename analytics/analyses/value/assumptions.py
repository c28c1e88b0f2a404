"""The business numbers a value computation uses (:class:`Assumptions`, overridable for
what-ifs), the baseline policies, and their checks."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analytics.config.workspace import Business, ModelSpec
from analytics.errors import ConfigError

if TYPE_CHECKING:
    from .summary import ValueInputs

#: Baseline policies that are not version names.
POLICIES = ("all_negative", "all_positive", "none")
#: Bins of the score histogram (thresholds are the bin edges k / bins).
DEFAULT_BINS = 1000
#: Two-sided 95% normal quantile.
Z95 = 1.959963984540054

PENDING_ASSUMPTION = {
    "binary": ("estimate, not realized: assumes the scores are calibrated probabilities "
               "(E[value] = p*v(decision, positive) + (1-p)*v(decision, negative) per pending row)"),
    "multiclass": ("estimate, not realized: assumes the class scores (normalized to sum to 1) are "
                   "calibrated probabilities (E[value] = sum over classes of p_c * value_matrix[c][decision])"),
    "regression": None,
}

# --------------------------------------------------------------------------- assumptions


@dataclass(frozen=True)
class Assumptions(Business):
    """The business numbers a value computation uses (the fields of
    :class:`~analytics.config.workspace.Business`); every field can be overridden.

    ``tp``/``fp``/``fn``/``tn`` are numbers or names of per-row value columns
    (columns must be ones the workspace declares, since only those are aggregated).
    ``threshold`` is the binary decision threshold: when it differs from the one the
    logged decisions used, rows are re-decided from the score histogram, at the
    nearest bin edge (reported as ``ValueResult.threshold_used``).
    """

    @classmethod
    def from_business(cls, business: Business | None) -> "Assumptions":
        """The workspace's ``[models.business]`` numbers (defaults when absent)."""
        if business is None:
            return cls()
        return cls(**{f.name: getattr(business, f.name) for f in dataclasses.fields(cls)})

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> "Assumptions":
        a = cls.from_business(spec.business)
        if spec.business is None and spec.task != "binary":
            a = a.replace(baseline="none")
        return a.replace(threshold=spec.threshold)

    def replace(self, **changes) -> "Assumptions":
        """A copy with some numbers changed (what-if)."""
        return dataclasses.replace(self, **changes)

    def columns(self) -> tuple[str, ...]:
        """Per-row value and cost columns these numbers read."""
        return self.value_columns()

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["value_matrix"] = matrix_dict(self.value_matrix)
        return d


def matrix_dict(entries) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for a, p, v in entries:
        out.setdefault(a, {})[p] = v
    return out



def is_policy(baseline: str, task: str) -> bool:
    if baseline == "none":
        return True
    if task == "binary":
        return baseline in ("all_negative", "all_positive")
    if task == "multiclass":
        return baseline.startswith("all_")
    return False


def check_assumptions(inputs: ValueInputs, a: Assumptions) -> None:
    for key in ("tp", "fp", "fn", "tn", "cost_column"):
        v = getattr(a, key)
        if isinstance(v, str) and v not in inputs.columns:
            raise ConfigError(
                f"Value {key} = {v!r} of model {inputs.model!r} is not a per-row column the "
                f"workspace declares ({', '.join(inputs.columns) or 'none'}); use a number.")
    for key in ("tp", "fp", "fn", "tn", "cost_per_1k", "threshold"):
        v = getattr(a, key)
        if not isinstance(v, str) and (v is None or not math.isfinite(float(v))):
            raise ConfigError(f"Value assumption {key} must be a finite number (got {v!r}).")
    if not 0.0 <= a.threshold <= 1.0:
        raise ConfigError(f"The decision threshold must be between 0 and 1 (got {a.threshold}).")

