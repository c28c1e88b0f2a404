"""What drift compares (:class:`Target`: every feature, the prediction and the label) and
which log each is read from (the prediction files alone where they hold the column)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from analytics.config.workspace import ModelSpec
from analytics.errors import SelectionError, suggest
from analytics.log.columns import C
from analytics.log.defects import null_features
from analytics.log.engine import Engine
from analytics.log.joined import build_log
from . import queries as q


@dataclass(frozen=True)
class Target:
    """Something whose distribution is compared: a feature, the prediction or the label."""

    name: str           # as shown (the user's column name where there is one)
    role: str           # feature | prediction | label
    kind: str           # numeric | categorical
    column: str         # column of the canonical log
    labeled_only: bool = False
    empty: bool = False  # a feature whose column has no values at all (Parquet type null)

    def value(self, t):
        col = t[self.column]
        if self.kind == "numeric":
            return q.numeric_value(col)
        if self.labeled_only:  # unlabelled is not a category: those rows are left out
            return q.segment_text(col)
        return q.category_value(col)


def _column_kind(typ) -> str:
    if typ.is_integer() or typ.is_floating() or typ.is_decimal():
        return "numeric"
    return "categorical"


def targets(engine: Engine, spec: ModelSpec, features: Sequence[str] | None = None,
            prediction: bool = True, label: bool = True) -> list[Target]:
    """The targets of a model: its features (or the chosen ones), the prediction and the label."""
    schema = engine.log(spec).schema()
    declared = spec.columns.features
    chosen = declared if features is None else tuple(features)
    for f in chosen:
        if f not in declared:
            raise SelectionError(f"Model {spec.name!r} has no feature {f!r}{suggest(f, declared)}; "
                                 f"its features are: {', '.join(declared) or 'none declared'}.")
    empty = null_features(engine, spec)
    out = [Target(f, "feature", _column_kind(schema[f]), f, empty=f in empty) for f in chosen]
    c = spec.columns
    if prediction:
        if spec.task == "binary" and c.score:
            out.append(Target(c.score, "prediction", "numeric", C.SCORE))
        elif spec.task == "regression":
            out.append(Target(c.prediction, "prediction", "numeric", C.PRED))
        else:
            out.append(Target(c.prediction or "predicted class", "prediction", "categorical", C.PRED))
    if label and c.label:
        kind = "numeric" if spec.task == "regression" else "categorical"
        out.append(Target(c.label, "label", kind, C.LABEL, labeled_only=True))
    return out


def prediction_log(engine: Engine, spec: ModelSpec):
    """The canonical log built over an *empty* outcomes table: every prediction row and
    column, NULL labels, and no join to pay for (the join never adds or drops a
    prediction row: at most one outcome per id). A log already joined (a snapshot or the
    store) is read as it is."""
    if not spec.outcomes or engine.prejoined(spec):
        return engine.log(spec)
    return build_log(spec, engine.raw(spec, "predictions"), engine.raw(spec, "outcomes"),
                     ts_range=engine.workspace.timestamp_range(), labels=False)


def target_logs(engine: Engine, spec: ModelSpec, tgts: Sequence[Target]) -> list[tuple[Any, list[int]]]:
    """Which log each target is read from: ``[(log table, target indexes), ...]``.

    Targets whose column comes from the prediction files are read from
    :func:`prediction_log`; labels (and features logged with the outcomes)
    from the joined log. A log already joined (snapshot, store) serves every target in one pass.
    """
    if not spec.outcomes or engine.prejoined(spec):
        return [(engine.log(spec), list(range(len(tgts))))]
    pred_cols = set(engine.raw(spec, "predictions").columns)
    light = [i for i, t in enumerate(tgts) if t.role == "prediction" or (t.role == "feature" and t.column in pred_cols)]
    full = [i for i in range(len(tgts)) if i not in light]
    out = []
    if light:
        out.append((prediction_log(engine, spec), light))
    if full:
        out.append((engine.log(spec), full))
    return out
