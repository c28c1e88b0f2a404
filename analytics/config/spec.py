"""The workspace as typed, frozen objects: :class:`Workspace`, :class:`ModelSpec`, its
:class:`Columns` and :class:`Business`, and the defaults the parser fills in
(:mod:`analytics.config.workspace` builds them from ``lastmile.toml``)."""

from __future__ import annotations

import dataclasses
import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from analytics.access.config import AccessConfig, AuditConfig, AuthConfig
from analytics.config.s3 import S3Options
from analytics.config.store import StoreConfig, default_memory_limit
from analytics.errors import UnknownModelError, suggest

TASKS = ("binary", "multiclass", "regression")
BASELINES = ("all_negative", "all_positive")
#: Prefix of the canonical columns the engine adds; user columns may not use it.
RESERVED_PREFIX = "lm_"
#: Default of ``[engine] materialize_rows`` (see :class:`analytics.log.engine.Engine`).
MATERIALIZE_ROWS = 2_000_000
#: Defaults of ``[engine] timestamp_min`` / ``timestamp_max_ahead``: prediction timestamps
#: outside [timestamp_min, now + timestamp_max_ahead) are a row defect (left out, counted).
TIMESTAMP_MIN = _dt.datetime(1970, 1, 1)
TIMESTAMP_MAX_AHEAD = _dt.timedelta(days=1)


@dataclass(frozen=True)
class Columns:
    """The roles of a model's columns, as declared in ``[models.columns]``."""

    timestamp: str
    id: str | None = None
    version: str | None = None
    score: str | None = None
    class_scores: tuple[tuple[str, str], ...] = ()  # (class, column), in file order
    prediction: str | None = None
    label: str | None = None
    label_timestamp: str | None = None
    latency_ms: str | None = None
    segments: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    positive_label: Any = 1
    negative_label: Any = None

    @property
    def classes(self) -> tuple[str, ...]:
        """Multiclass: the class names, in the order ``class_scores`` lists them."""
        return tuple(c for c, _ in self.class_scores)


#: A value per outcome: a number, or the name of a numeric column (per-row value).
Value = float | str


@dataclass(frozen=True)
class Business:
    """``[models.business]``: what outcomes are worth, what running costs."""

    currency: str = "USD"
    threshold: float = 0.5
    tp: Value = 0.0
    fp: Value = 0.0
    fn: Value = 0.0
    tn: Value = 0.0
    baseline: str = "all_negative"
    cost_per_1k: float = 0.0
    cost_column: str | None = None
    #: multiclass: ((actual, predicted, value), ...); pairs absent are worth 0
    value_matrix: tuple[tuple[str, str, float], ...] = ()
    #: regression: cost per unit of absolute error, or separate over/under costs
    cost_per_unit_error: float | None = None
    cost_over: float | None = None
    cost_under: float | None = None

    def value_columns(self) -> tuple[str, ...]:
        """Columns named as per-row values or costs."""
        cols = [v for v in (self.tp, self.fp, self.fn, self.tn) if isinstance(v, str)]
        if self.cost_column:
            cols.append(self.cost_column)
        return tuple(dict.fromkeys(cols))


@dataclass(frozen=True)
class ModelSpec:
    name: str
    task: str
    predictions: str
    columns: Columns
    description: str = ""
    outcomes: str | None = None
    business: Business | None = None
    #: raw ``[models.alerts]``, ``[models.drift]``, ``[models.compare]`` tables
    alerts: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    drift: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    compare: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: raw ``[models.quality]`` (see :mod:`analytics.config.quality`)
    quality: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: raw ``[models.estimate]`` (label-free estimation; :mod:`analytics.config.estimate`)
    estimate: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: ``shadow = ["v3"]``: versions declared to score without deciding (see
    #: :mod:`analytics.analyses.roles`; names absent from the log are reported when it is read)
    shadow: tuple[str, ...] = ()
    #: raw ``[models.notify]`` (see :mod:`analytics.config.notify`)
    notify: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def threshold(self) -> float:
        """Binary decision threshold (``score >= threshold`` is positive)."""
        return self.business.threshold if self.business else 0.5

    @property
    def declared_columns(self) -> tuple[str, ...]:
        """Every column name the workspace declares for this model."""
        c = self.columns
        names = [c.id, c.timestamp, c.version, c.score, c.prediction, c.label,
                 c.label_timestamp, c.latency_ms]
        names += [col for _, col in c.class_scores]
        names += list(c.segments) + list(c.features)
        if self.business:
            names += list(self.business.value_columns())
        return tuple(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True)
class Workspace:
    path: Path | None
    models: tuple[ModelSpec, ...]
    backend: str = "duckdb"
    backend_options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: logs with at most this many predictions are snapshot in memory (DuckDB; 0 = never)
    materialize_rows: int = MATERIALIZE_ROWS
    #: ``[engine.options.s3]``: how s3:// paths are read (see :mod:`analytics.log.objectstore`)
    s3: S3Options = field(default_factory=S3Options)
    #: prediction timestamps before this are implausible (a row defect)
    timestamp_min: _dt.datetime = TIMESTAMP_MIN
    #: ... and so are those at or after now (UTC) + this
    timestamp_max_ahead: _dt.timedelta = TIMESTAMP_MAX_AHEAD
    #: raw ``[notify]`` (see :mod:`analytics.config.notify`)
    notify: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: ``[engine] memory_limit`` in bytes (DuckDB spills past it; see :mod:`analytics.config.store`)
    memory_limit: int = field(default_factory=default_memory_limit)
    #: ``[store]``: the incremental store (see :mod:`analytics.store`)
    store: StoreConfig = field(default_factory=StoreConfig)
    #: ``[auth]``, ``[access]``, ``[audit]`` (see :mod:`analytics.access`)
    auth: AuthConfig = field(default_factory=AuthConfig)
    access: AccessConfig = field(default_factory=AccessConfig)
    audit: AuditConfig = field(default_factory=AuditConfig)

    def restricted(self, names) -> "Workspace":
        """This workspace with only the models ``names`` (in workspace order): a signed-in
        user's view. Asking it for any other model is the "unknown model" sentence."""
        keep = set(names)
        return dataclasses.replace(self, models=tuple(m for m in self.models if m.name in keep))

    def timestamp_range(self, now: _dt.datetime | None = None) -> tuple[_dt.datetime, _dt.datetime]:
        """``[low, high)``: the plausible prediction timestamps (naive UTC), ``high``
        being ``now`` (default: the current UTC time) plus ``timestamp_max_ahead``."""
        return timestamp_range(self.timestamp_min, self.timestamp_max_ahead, now)

    @property
    def model_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.models)

    def model(self, name: str) -> ModelSpec:
        for m in self.models:
            if m.name == name:
                return m
        raise UnknownModelError(
            f"Unknown model {name!r}{suggest(name, self.model_names)}; "
            f"the workspace has: {', '.join(self.model_names) or 'no models'}."
        )


def timestamp_range(low: _dt.datetime = TIMESTAMP_MIN, ahead: _dt.timedelta = TIMESTAMP_MAX_AHEAD,
                    now: _dt.datetime | None = None) -> tuple[_dt.datetime, _dt.datetime]:
    """``[low, now + ahead)`` in naive UTC (``now``: the current time)."""
    if now is None:
        now = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
    try:
        high = now + ahead
    except OverflowError:
        high = _dt.datetime.max
    return low, high
