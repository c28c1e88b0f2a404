"""``[models.estimate]``: the settings of label-free estimation (``analytics/docs/estimate.md``)."""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any, Mapping

from analytics.config.times import iso_date_problems
from analytics.errors import suggest

#: Keys of ``[models.estimate]`` and their defaults.
DEFAULTS: dict[str, Any] = {
    "reference_start": None,        # default: the drift module's reference window
    "reference_end": None,
    "min_reference_labels": 500,    # fewer labeled reference rows (of a version): unreliable
    "min_reference_positives": 30,  # binary: fewer of either class: unreliable
    "max_outside_share": 0.05,      # share of scores outside the reference's central 99%: unreliable above
    "matured_coverage": 0.8,        # a period is matured (backtested) from this label coverage
    "backtest_periods": 4,          # the guard looks at this many latest matured periods
    "backtest_misses": 2,           # ... and flags from this many realized values outside the interval
    "health": True,                 # estimated drops feed `lastmile check`
    "pull": False,                  # an estimated drop may pull (default: warn at most)
    "sample_rows": 200_000,         # regression: at most this many reference rows train the error model
}


@dataclass(frozen=True)
class EstimateConfig:
    reference_start: _dt.datetime | None
    reference_end: _dt.datetime | None
    min_reference_labels: int
    min_reference_positives: int
    max_outside_share: float
    matured_coverage: float
    backtest_periods: int
    backtest_misses: int
    health: bool
    pull: bool
    sample_rows: int

    @classmethod
    def from_spec(cls, spec) -> "EstimateConfig":
        raw = {**DEFAULTS, **dict(getattr(spec, "estimate", None) or {})}
        for k in ("reference_start", "reference_end"):
            v = raw[k]
            if isinstance(v, str):
                raw[k] = _dt.datetime.fromisoformat(v)
            elif isinstance(v, _dt.date) and not isinstance(v, _dt.datetime):
                raw[k] = _dt.datetime(v.year, v.month, v.day)
        return cls(**{k: raw[k] for k in DEFAULTS})


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def validate_estimate_config(raw: Mapping[str, Any]) -> list[str]:
    """Problems with a ``[models.estimate]`` table (one sentence each)."""
    w = "[models.estimate]"
    problems = [f"{w}: unknown key {k!r}{suggest(k, DEFAULTS)}." for k in raw if k not in DEFAULTS]
    for k in ("min_reference_labels", "min_reference_positives", "backtest_periods", "backtest_misses",
              "sample_rows"):
        if k in raw and (not isinstance(raw[k], int) or isinstance(raw[k], bool) or raw[k] < 1):
            problems.append(f"{w}: {k} must be a whole number >= 1.")
    for k in ("max_outside_share", "matured_coverage"):
        if k in raw and (not _num(raw[k]) or not 0 < raw[k] <= 1):
            problems.append(f"{w}: {k} must be a number in (0, 1].")
    for k in ("health", "pull"):
        if k in raw and not isinstance(raw[k], bool):
            problems.append(f"{w}: {k} must be true or false.")
    problems += iso_date_problems(raw, ("reference_start", "reference_end"), w)
    return problems
