"""Population stability index over the reference's quantile bins (numeric) or the categories."""

from __future__ import annotations

from analytics.stats.drift import psi

from .registry import DriftStatistic, register

register(DriftStatistic(
    name="psi", kinds=("numeric", "categorical"), needs=("bins",), threshold=0.2, label="PSI",
    finish=lambda a: psi(a["ref_bins"], a["cur_bins"]),
    doc="Population stability index sum((c - r) ln(c / r)) over shares; an empty bin's share is 1e-4.",
))
