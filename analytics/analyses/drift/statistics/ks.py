"""Kolmogorov-Smirnov: the statistic D and its p-value, as ``scipy.stats.ks_2samp``."""

from __future__ import annotations

import functools

from analytics.stats.drift import ks_p_value

from .registry import DriftStatistic, register

_ks = functools.lru_cache(maxsize=4096)(ks_p_value)  # D and p come from one computation


def _d(a) -> float:
    return _ks(int(a["ks_num"]), int(a["n_ref"]), int(a["n_cur"]))[0]


def _p(a) -> float:
    return _ks(int(a["ks_num"]), int(a["n_ref"]), int(a["n_cur"]))[1]


register(DriftStatistic(
    name="ks_statistic", kinds=("numeric",), needs=("sorted_pass", "sizes"), finish=_d, label="KS",
    with_p="ks_p_value",
    doc="Kolmogorov-Smirnov D = max |Fr - Fc|, exactly from the integer numerator max |Cr nc - Cc nr|.",
))
register(DriftStatistic(
    name="ks_p_value", kinds=("numeric",), needs=("sorted_pass", "sizes"), finish=_p, fmt="p_value",
    threshold=0.01, label="KS p", shown=False,
    doc="The p-value of scipy.stats.ks_2samp (exact up to 10,000 values per window, else asymptotic).",
))
