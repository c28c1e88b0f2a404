"""Canonical column names of the joined log, and the defect warning type (a leaf).

Every query in the library is written once against these names, whatever the
user's columns are called (:func:`analytics.log.joined.build_log` renames them).
"""

from __future__ import annotations

from dataclasses import dataclass


class C:
    """Canonical column names of the joined log (the ``lm_`` prefix is reserved)."""

    ID = "lm_id"
    TS = "lm_ts"
    VERSION = "lm_version"
    SCORE = "lm_score"          # binary: probability of the positive class, NULL if invalid
    PRED = "lm_pred"            # binary: decision 0/1; multiclass: class (string); regression: value
    LABEL = "lm_label"          # binary: 0/1; multiclass: class (string); regression: value
    LABEL_TS = "lm_label_ts"
    LATENCY = "lm_latency"
    LABELED = "lm_labeled"      # label is present and valid

    @staticmethod
    def proba(i: int) -> str:
        """Multiclass: probability of the i-th class of ``columns.class_scores``."""
        return f"lm_p{i}"


#: Version name used when the workspace declares no version column.
DEFAULT_VERSION = "default"


@dataclass(frozen=True)
class DataWarning:
    """Rows a query leaves out (or treats as missing) because of a defect."""

    model: str
    column: str
    count: int
    message: str

    def __str__(self) -> str:
        return f"warning: model {self.model!r}: {self.message}"
