"""Chi-square test of homogeneity on the 2 x K table of category counts."""

from __future__ import annotations

from analytics.stats.drift import chi2_p_value

from .registry import DriftStatistic, register

register(DriftStatistic(
    name="chi2_p_value", kinds=("categorical",), needs=("bins",), fmt="p_value", threshold=0.01, label="χ² p",
    finish=lambda a: chi2_p_value(a["ref_bins"], a["cur_bins"]),
    doc="scipy.stats.chi2_contingency(table, correction=False).pvalue (one category: 1.0).",
))
