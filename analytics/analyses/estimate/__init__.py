"""Performance before the labels arrive: label-free estimation with honest intervals.

Public API::

    estimate_performance(engine, selection, grouping=Grouping()) -> EstimateResult
    estimate_reasons(engine, spec, ...) -> list of health reasons (for `lastmile check`)

Binary and multiclass models: confidence-based estimation (expected confusion
matrices from calibrated scores, one-vs-rest for multiclass); regression: a
model of the error. Method, intervals, guard and backtest:
``analytics/docs/estimate.md``.
"""

from analytics.config.estimate import EstimateConfig, validate_estimate_config
from .core import METRICS, PRIMARY, estimate_performance
from .expected import Estimate
from .result import BacktestRow, EstimateResult, EstimateRow

__all__ = ["METRICS", "PRIMARY", "BacktestRow", "Estimate", "EstimateConfig", "EstimateResult", "EstimateRow",
           "estimate_performance", "validate_estimate_config"]
