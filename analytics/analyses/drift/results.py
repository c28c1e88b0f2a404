"""Drift results: the settings and rule (:class:`DriftConfig`), one target's :class:`FeatureDrift`
(its statistics by name, from the registry) and a model's :class:`DriftResult` (JSON, table)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from analytics.config.drift import DriftSettings
from analytics.query.selection import Selection
from analytics.results import jsonable
from .rule import DriftRule
from .statistics import STATISTICS, names as stat_names


@dataclass(frozen=True)
class DriftConfig(DriftSettings):
    """``[models.drift]`` (:class:`~analytics.config.drift.DriftSettings`) and the decision rule it sets."""

    def rule(self, kind: str) -> DriftRule:
        """The decision rule for ``kind`` (numeric | categorical) with these thresholds."""
        return DriftRule.for_kind(kind, self)


@dataclass(frozen=True)
class FeatureDrift:
    """Drift of one target between the reference and one current window.

    Statistics that do not apply to the kind, or cannot be computed, are
    ``None``; ``reason`` says why when one that applies is missing.
    """

    name: str
    kind: str                      # numeric | categorical
    method: str                    # the rule that decided: wasserstein_psi | js_psi (small n: ks | chi2) | none
    drifted: bool
    #: ``(name, value)`` of every statistic of the kind, in registry order
    #: (:mod:`analytics.analyses.drift.statistics`); read them as attributes (``f.psi``)
    stats: tuple[tuple[str, float | None], ...] = ()
    n_ref: int = 0                 # values compared (numeric: non-missing; label: labelled)
    n_cur: int = 0
    reason: str | None = None
    missing_ref: int = 0           # numeric values left out (NULL, NaN, inf)
    missing_cur: int = 0
    rule: str = ""                 # the decision rule, in words (the part that applies to n_ref, n_cur)
    why: str = ""                  # the rule applied to the numbers: "PSI 0.41 >= 0.2"

    def __getattr__(self, name: str) -> float | None:
        """A statistic by name: its value, or None when it does not apply to the kind."""
        if name.startswith("_") or name not in STATISTICS:
            raise AttributeError(name)
        return dict(self.__dict__.get("stats", ())).get(name)

    def statistics(self) -> dict[str, float | None]:
        """Every registered statistic (None where it does not apply), in registry order."""
        have = dict(self.stats)
        return {n: have.get(n) for n in STATISTICS}

    def row(self) -> dict[str, Any]:
        """The table row of this target (the columns of :data:`FRAME_SCHEMA` after role, feature)."""
        return {"kind": self.kind, "method": self.method, "drifted": self.drifted, **self.statistics(),
                "n_ref": self.n_ref, "n_cur": self.n_cur, "reason": self.reason, "missing_ref": self.missing_ref,
                "missing_cur": self.missing_cur, "rule": self.rule, "why": self.why}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "method": self.method, "drifted": self.drifted}
        out.update({name: getattr(self, name) for name in stat_names(self.kind)})
        out.update(n_ref=self.n_ref, n_cur=self.n_cur, rule=self.rule, why=self.why, reason=self.reason)
        if self.kind == "numeric":
            out.update(missing_ref=self.missing_ref, missing_cur=self.missing_cur)
        return out


@dataclass(frozen=True)
class DriftResult:
    """Drift of every feature, the prediction and the label of one model."""

    model: str
    features: dict[str, FeatureDrift]
    prediction: FeatureDrift | None
    label: FeatureDrift | None
    reference_n: int
    current_n: int
    reference: Selection | None = None
    current: Selection | None = None
    config: DriftConfig = field(default_factory=DriftConfig)

    @property
    def drifted_features(self) -> tuple[str, ...]:
        return tuple(n for n, f in self.features.items() if f.drifted)

    def targets(self) -> list[tuple[str, FeatureDrift]]:
        """``(role, result)`` for every target: features, then prediction, then label."""
        out = [("feature", f) for f in self.features.values()]
        out += [(role, f) for role, f in (("prediction", self.prediction), ("label", self.label)) if f]
        return out

    def to_dict(self) -> dict[str, Any]:
        def window(sel: Selection | None, n: int) -> dict[str, Any]:
            d: dict[str, Any] = {"n": n}
            if sel is not None:
                d.update(start=sel.start, end=sel.end, versions=list(sel.versions),
                         where={k: list(v) for k, v in sel.where})
            return d

        return jsonable({
            "model": self.model,
            "features": {n: f.to_dict() for n, f in self.features.items()},
            "prediction": self.prediction.to_dict() if self.prediction else None,
            "label": self.label.to_dict() if self.label else None,
            "reference": window(self.reference, self.reference_n),
            "current": window(self.current, self.current_n),
        })

    def to_polars(self) -> pl.DataFrame:
        """One row per target (columns: role, feature and every FeatureDrift field)."""
        rows = [{"role": role, "feature": f.name, **f.row()} for role, f in self.targets()]
        return pl.DataFrame(rows, schema=FRAME_SCHEMA)


FRAME_SCHEMA = {
    "role": pl.Utf8, "feature": pl.Utf8, "kind": pl.Utf8, "method": pl.Utf8, "drifted": pl.Boolean,
    **{name: pl.Float64 for name in STATISTICS},
    "n_ref": pl.Int64, "n_cur": pl.Int64, "reason": pl.Utf8, "missing_ref": pl.Int64,
    "missing_cur": pl.Int64, "rule": pl.Utf8, "why": pl.Utf8,
}
