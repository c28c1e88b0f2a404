"""The verdict's parameters: ``[models.compare]`` merged over the defaults."""

from __future__ import annotations

from dataclasses import dataclass

from analytics.config.compare import DEFAULTS
from analytics.config.workspace import ModelSpec
from analytics.metrics import PRIMARY_METRIC, get_metric
from analytics.stats import sequential as seq

VERDICTS = ("promote", "keep", "inconclusive")


@dataclass(frozen=True)
class CompareSettings:
    """The verdict's parameters (``[models.compare]`` merged over :data:`DEFAULTS`)."""

    primary_metric: str
    min_n: int = 500
    alpha: float = 0.05
    paired_overlap: float = 0.5
    segment_min_n: int = 100
    block_on_segment_loss: bool = True
    sequential_metric: str | None = None
    sequential_tau: float = seq.DEFAULT_TAU_REL


def compare_settings(spec: ModelSpec, **overrides) -> CompareSettings:
    """The settings for ``spec``: defaults, then ``[models.compare]``, then non-None overrides."""
    merged = dict(DEFAULTS)
    merged.update({k: v for k, v in spec.compare.items() if k in DEFAULTS})
    merged.update({k: v for k, v in overrides.items() if v is not None})
    if not merged["primary_metric"]:
        merged["primary_metric"] = PRIMARY_METRIC[spec.task]
    get_metric(merged["primary_metric"], spec.task)  # UnknownMetricError if wrong for the task
    return CompareSettings(**merged)
