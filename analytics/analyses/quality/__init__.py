"""Data quality over time: broken inputs caught before they become bad decisions.

Checks (one file each under :mod:`.checks`, listed by :data:`.registry.CHECKS`) compare
each period with the reference window: missing values, values outside the reference
range and quantiles, scale changes, new and vanished categories, the schema of each
file, volume, freshness, duplicate ids and the positive rate. The engine counts
(see :mod:`.compute`); ``[models.quality]`` sets the levels (:mod:`.config`); the user's
description is ``analytics/docs/quality.md``.

>>> from analytics.analyses.quality import run_quality          # doctest: +SKIP
>>> run_quality(engine, "delivery_eta", period="day").problems()  # doctest: +SKIP
"""

from .compute import run_quality, reference_selection
from .config import QualitySettings, validate_quality_config
from .registry import CHECKS, QualityCheck, load
from .results import Finding, QualityResult

__all__ = ["run_quality", "reference_selection", "QualitySettings", "validate_quality_config", "CHECKS",
           "QualityCheck", "load", "Finding", "QualityResult", "health_reasons"]


def health_reasons(engine, spec, reference, start, end, now=None):
    """The quality problems of ``[start, end)`` (by day) as health reasons: one per check,
    column and version, at its worst level, naming the days (see :mod:`.health`)."""
    from .health import health_reasons as _hr
    return _hr(engine, spec, reference, start, end, now)
