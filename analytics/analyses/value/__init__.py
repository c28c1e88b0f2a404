"""What a model is worth: value, baseline, compute cost, lift, net value, ROI,
pending value and the value-maximizing decision threshold.

The work is split in two so that a what-if ("what if a false positive cost 25?")
costs no query:

1. :func:`value_summary` runs ONE aggregate query over the log and returns
   :class:`ValueInputs`: per group, per version and per *decision cell* (decision x
   outcome), row counts and sums of every per-row value/cost column; for binary
   models with scores, per score-histogram bin as well.
2. :func:`evaluate` is pure Python (polars) over those small aggregates: it applies
   :class:`Assumptions` (the business numbers, overridable) and returns
   :class:`ValueResult`.

``compute_value(engine, sel, grouping, assumptions)`` is
``evaluate(value_summary(engine, sel, grouping), assumptions)``, and
:func:`threshold_curve` is :func:`curve` over a summary grouped by version.

Definitions (see ``analytics/docs/value.md`` for the user-facing version):

- **value**: the sum, over labeled rows that have a decision, of what each outcome
  is worth. Binary: ``tp``/``fp``/``fn``/``tn`` by (decision ``C.PRED``, label);
  multiclass: ``value_matrix[actual][predicted]`` (pairs absent are worth 0);
  regression: ``-(cost_per_unit_error * |error|)`` or
  ``-(cost_over * over-prediction + cost_under * under-prediction)``. A per-row
  value column that is null on a row it applies to counts as 0 and is reported
  (``value_nulls``, ``baseline_nulls`` and a warning).
- **baseline value**, over the same rows: ``all_negative`` / ``all_positive``
  (binary: every row decided negative / positive), ``all_<class>`` (multiclass:
  every row routed to that class), ``none`` (0), or a version name V: V's value per
  valued row *in the same group* (same period and segments; all of V's rows when
  the group has no other key) times the group's valued rows.
- **compute cost**: ``cost_per_1k * n / 1000`` plus the sum of ``cost_column``,
  over every prediction of the group, labeled or not.
- ``lift = value - baseline_value``; ``net_value = lift - compute_cost``;
  ``roi = net_value / compute_cost`` (null with ``roi_reason`` when the cost is 0).
- **pending**: rows without a (valid) label. ``pending_expected_value`` is an
  *estimate* that takes the scores as calibrated probabilities (binary: ``p*v(d,1) +
  (1-p)*v(d,0)``; multiclass: ``sum_c p_c * value_matrix[c][d]`` with the class
  scores normalized to sum to 1). A per-row value that is null on a pending row
  (columns that arrive with the outcome) is replaced by that column's mean over
  the selection's labeled rows.

The package, in the order the data flows:

- :mod:`.assumptions`: :class:`Assumptions`, the baseline policies, their checks;
- :mod:`.summary`: the one aggregate query (:func:`value_summary`, :class:`ValueInputs`);
- :mod:`.cells`: per decision cell, the value, baseline and pending parts of each task;
- :mod:`.evaluation`: :func:`evaluate` (per group, then the total) and :func:`compute_value`;
- :mod:`.threshold`: :func:`curve` and :func:`threshold_curve`;
- :mod:`.results`: the result types.
"""

from .assumptions import DEFAULT_BINS, PENDING_ASSUMPTION, POLICIES, Z95, Assumptions
from .evaluation import NO_LABELS, ONLY_SHADOW, ZERO_COST, compute_value, evaluate
from .results import ThresholdCurve, ValueResult, ValueRow, ValueTotals, VersionCurve
from .summary import ValueInputs, bin_edges, score_bin, summary_expr, value_summary
from .threshold import curve, threshold_curve

__all__ = ["DEFAULT_BINS", "PENDING_ASSUMPTION", "POLICIES", "Z95", "Assumptions", "NO_LABELS", "ONLY_SHADOW",
           "ZERO_COST", "compute_value", "evaluate", "ThresholdCurve", "ValueResult", "ValueRow", "ValueTotals",
           "VersionCurve", "ValueInputs", "bin_edges", "score_bin", "summary_expr", "value_summary", "curve",
           "threshold_curve"]
