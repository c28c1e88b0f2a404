"""The workspace file, ``lastmile.toml``: parsing, validation, typed access.

The file's shape is fixed by the contract (``CONTRACT.md`` section 1); this
module turns it into frozen objects and reports *every* problem at once, each
naming the model and the key. Nothing here touches the log files: checking
that files and columns exist is :mod:`analytics.log.engine`'s job.

Discovery order (see :func:`find_config`): an explicit ``--config`` path, then
``$LASTMILE_CONFIG``, then ``./lastmile.toml``, then the bundled sample
workspace. The caller passes the environment value in; this module reads no
environment of its own.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from analytics.config.alerts import validate_alerts_config
from analytics.config.compare import validate_compare_config
from analytics.config.drift import validate_drift_config
from analytics.config.estimate import validate_estimate_config
from analytics.config.notify import notify_problems
from analytics.config.s3 import S3Options, split_engine_options
from analytics.config.store import StoreConfig, default_memory_limit, parse_memory_limit, parse_store
from analytics.access.config import AccessConfig, AuditConfig, AuthConfig, parse_access_sections
from analytics.errors import ConfigError, UnknownModelError, suggest

TASKS = ("binary", "multiclass", "regression")
BASELINES = ("all_negative", "all_positive")
#: Prefix of the canonical columns the engine adds; user columns may not use it.
RESERVED_PREFIX = "lm_"

#: Where the bundled sample workspace lives (the repository's ``sample_data``).
SAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "sample_data" / "lastmile.toml"

_TOP_KEYS = {"engine", "models", "notify", "store", "auth", "access", "audit"}  # the last three: analytics/access/config.py
_ENGINE_KEYS = {"backend", "options", "materialize_rows", "timestamp_min", "timestamp_max_ahead", "memory_limit"}
#: Default of ``[engine] materialize_rows`` (see :class:`analytics.log.engine.Engine`).
MATERIALIZE_ROWS = 2_000_000
#: Defaults of ``[engine] timestamp_min`` / ``timestamp_max_ahead``: prediction timestamps
#: outside [timestamp_min, now + timestamp_max_ahead) are a row defect (left out, counted).
TIMESTAMP_MIN = _dt.datetime(1970, 1, 1)
TIMESTAMP_MAX_AHEAD = _dt.timedelta(days=1)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_MODEL_KEYS = {
    "name", "task", "description", "predictions", "outcomes", "columns",
    "business", "alerts", "drift", "compare", "shadow", "estimate", "notify",
}
_COLUMN_KEYS = {
    "id", "timestamp", "version", "score", "class_scores", "prediction", "label",
    "label_timestamp", "latency_ms", "segments", "features", "positive_label",
    "negative_label",
}
_BUSINESS_KEYS = {
    "currency", "threshold", "tp", "fp", "fn", "tn", "baseline", "cost_per_1k",
    "cost_column", "value_matrix", "cost_per_unit_error", "cost_over", "cost_under",
}


# --------------------------------------------------------------------------- types


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


# --------------------------------------------------------------------- discovery


def find_config(explicit: str | Path | None = None, env_value: str | None = None,
                cwd: Path | None = None) -> Path:
    """Which workspace file to use, by the contract's discovery order."""
    if explicit:
        return Path(explicit)
    if env_value:
        return Path(env_value)
    local = (cwd or Path.cwd()) / "lastmile.toml"
    if local.is_file():
        return local
    return SAMPLE_CONFIG


def load_workspace(path: str | Path) -> Workspace:
    """Read and validate a workspace file; raise :class:`ConfigError` listing every problem."""
    path = Path(path)
    if not path.is_file():
        where = "" if path.parent.is_dir() else f" (folder {str(path.parent)!r} does not exist either)"
        raise ConfigError(f"Workspace file {str(path)!r} not found{where}.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Workspace file {str(path)!r} is not valid TOML: {exc}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Workspace file {str(path)!r} cannot be read: {exc}.") from None
    return parse_workspace(raw, root=path.parent, path=path)


def parse_workspace(raw: Mapping[str, Any], root: Path, path: Path | None = None) -> Workspace:
    """Validate a parsed TOML document; paths are resolved against ``root``."""
    problems: list[str] = []
    where = str(path) if path else "workspace"
    _unknown(raw, _TOP_KEYS, "the top level", problems)
    engine = raw.get("engine", {})
    backend, options, materialize, s3 = "duckdb", {}, MATERIALIZE_ROWS, S3Options()
    ts_min, ts_ahead = TIMESTAMP_MIN, TIMESTAMP_MAX_AHEAD
    if not isinstance(engine, dict):
        problems.append("[engine] must be a table.")
    else:
        _unknown(engine, _ENGINE_KEYS, "[engine]", problems)
        backend = engine.get("backend", "duckdb")
        if not isinstance(backend, str) or not backend:
            problems.append("[engine] backend must be a backend name such as \"duckdb\".")
            backend = "duckdb"
        options = engine.get("options", {})
        if not isinstance(options, dict):
            problems.append("[engine.options] must be a table.")
            options = {}
        options, s3 = split_engine_options(options, problems)
        materialize = engine.get("materialize_rows", MATERIALIZE_ROWS)
        if isinstance(materialize, bool) or not isinstance(materialize, int) or materialize < 0:
            problems.append("[engine] materialize_rows must be a whole number >= 0 (0 turns snapshots off).")
            materialize = MATERIALIZE_ROWS
        ts_min = _parse_timestamp_min(engine.get("timestamp_min", TIMESTAMP_MIN), problems)
        ts_ahead = _parse_duration(engine.get("timestamp_max_ahead", TIMESTAMP_MAX_AHEAD),
                                   "[engine] timestamp_max_ahead", problems)
    raw_models = raw.get("models", [])
    if not isinstance(raw_models, list) or not all(isinstance(m, dict) for m in raw_models):
        problems.append("[[models]] must be an array of tables.")
        raw_models = []
    if not raw_models:
        problems.append("the workspace declares no [[models]].")

    models: list[ModelSpec] = []
    seen: dict[str, int] = {}
    for i, rm in enumerate(raw_models):
        name = rm.get("name")
        label = f"model {name!r}" if isinstance(name, str) and name else f"models[{i}]"
        if isinstance(name, str) and name:
            if name in seen:
                problems.append(f"{label}: duplicate model name (also models[{seen[name]}]).")
            seen.setdefault(name, i)
        spec = _parse_model(rm, label, root, problems)
        if spec is not None:
            models.append(spec)
    problems.extend(notify_problems(raw, raw_models))
    resources = _resources(raw, root, problems)   # before the problems are counted
    notify = dict(raw["notify"]) if isinstance(raw.get("notify"), dict) else {}
    people = parse_access_sections(raw, root, tuple(seen), models, problems)  # auth, access, audit

    _raise_problems(where, problems)
    return Workspace(path=path, models=tuple(models), backend=backend,
                     backend_options=MappingProxyType(dict(options)), materialize_rows=materialize,
                     s3=s3, timestamp_min=ts_min, timestamp_max_ahead=ts_ahead, notify=MappingProxyType(notify),
                     **people, **resources)


def _resources(raw: Mapping[str, Any], root: Path, problems: list[str]) -> dict[str, Any]:
    """``[store]`` and ``[engine] memory_limit`` (:mod:`analytics.config.store`)."""
    engine = raw.get("engine")
    return {"store": parse_store(raw.get("store"), root, problems),
            "memory_limit": parse_memory_limit(engine.get("memory_limit") if isinstance(engine, dict) else None,
                                               problems)}


# ----------------------------------------------------------------------- helpers


def _raise_problems(where: str, problems: list[str]) -> None:
    """One :class:`ConfigError` naming the first problem and how many more (none: nothing)."""
    if problems:
        n = len(problems)
        head = f"{where} has {n} problem{'s' if n > 1 else ''}: {problems[0]}"
        if n > 1:
            head += f" (and {n - 1} more; `lastmile validate` lists them all)"
        raise ConfigError(head.rstrip(".") + ".", tuple(problems))


def _parse_timestamp_min(value: Any, problems: list[str]) -> _dt.datetime:
    """``[engine] timestamp_min``: a TOML date/datetime or an ISO string (aware: to UTC)."""
    out = None
    if isinstance(value, _dt.datetime):
        out = value
    elif isinstance(value, _dt.date):
        out = _dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            out = _dt.datetime.fromisoformat(value.strip())
        except ValueError:
            out = None
    if out is None:
        problems.append("[engine] timestamp_min must be an ISO date or datetime such as \"1970-01-01\".")
        return TIMESTAMP_MIN
    if out.tzinfo is not None:
        out = out.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return out


def _parse_duration(value: Any, what: str, problems: list[str]) -> _dt.timedelta:
    """A duration such as ``"1d"``, ``"36h"``, ``"2w"`` (units s, m, h, d, w)."""
    if isinstance(value, _dt.timedelta):
        return value
    m = _DURATION.match(value) if isinstance(value, str) else None
    if m is None:
        problems.append(f"{what} must be a duration such as \"1d\", \"12h\" or \"2w\" "
                        f"(a number and one of s, m, h, d, w).")
        return TIMESTAMP_MAX_AHEAD
    try:
        return _dt.timedelta(**{_DURATION_UNITS[m.group(2)]: float(m.group(1))})
    except OverflowError:
        problems.append(f"{what} {value!r} is too long.")
        return TIMESTAMP_MAX_AHEAD


def _unknown(table: Mapping[str, Any], allowed: set[str], where: str, problems: list[str]) -> None:
    for key in table:
        if key not in allowed:
            problems.append(f"{where}: unknown key {key!r}{suggest(key, allowed)}.")


def _resolve(p: str, root: Path) -> str:
    if "://" in p or Path(p).is_absolute():
        return p
    return str((root / p))


def _str_or_none(table, key, where, problems) -> str | None:
    v = table.get(key)
    if v is None:
        return None
    if not isinstance(v, str) or not v:
        problems.append(f"{where}: {key} must be a non-empty string.")
        return None
    return v


def _parse_model(rm: Mapping[str, Any], label: str, root: Path, problems: list[str]) -> ModelSpec | None:
    start = len(problems)
    _unknown(rm, _MODEL_KEYS, label, problems)
    name = rm.get("name")
    if not isinstance(name, str) or not name:
        problems.append(f"{label}: missing required key 'name'.")
    task = rm.get("task")
    if task is None:
        problems.append(f"{label}: missing required key 'task' (binary, multiclass or regression).")
    elif task not in TASKS:
        problems.append(f"{label}: task {task!r} is not one of binary, multiclass, regression{suggest(task, TASKS)}.")
    description = rm.get("description", "")
    if not isinstance(description, str):
        problems.append(f"{label}: description must be a string.")
        description = ""
    predictions = _str_or_none(rm, "predictions", label, problems)
    if predictions is None and "predictions" not in rm:
        problems.append(f"{label}: missing required key 'predictions' (a file, glob or folder).")
    outcomes = _str_or_none(rm, "outcomes", label, problems)

    cols_raw = rm.get("columns")
    if not isinstance(cols_raw, dict):
        problems.append(f"{label}: missing required table [models.columns].")
        cols_raw = {}
    columns = _parse_columns(cols_raw, label, task, outcomes is not None, problems)

    business = None
    if "business" in rm:
        if not isinstance(rm["business"], dict):
            problems.append(f"{label}: [models.business] must be a table.")
        else:
            business = _parse_business(rm["business"], label, task, problems)

    sections = {}
    for key in ("alerts", "drift", "compare", "estimate", "notify"):
        val = rm.get(key, {})
        if not isinstance(val, dict):
            problems.append(f"{label}: [models.{key}] must be a table.")
            val = {}
        sections[key] = MappingProxyType(dict(val))
    if sections["drift"]:
        problems.extend(f"{label} {p}" for p in validate_drift_config(sections["drift"]))
    if sections["compare"]:
        problems.extend(f"{label} {p}" for p in validate_compare_config(sections["compare"]))
    if sections["alerts"]:
        problems.extend(f"{label} {p}" for p in validate_alerts_config(sections["alerts"]))
    if sections["estimate"]:
        problems.extend(f"{label} {p}" for p in validate_estimate_config(sections["estimate"]))

    shadow: tuple[str, ...] = ()
    raw_shadow = rm.get("shadow", [])
    if isinstance(raw_shadow, str):
        raw_shadow = [raw_shadow]
    if not isinstance(raw_shadow, list) or not all(isinstance(v, str) and v for v in raw_shadow):
        problems.append(f"{label}: shadow must be a list of version names (strings), "
                        f"e.g. shadow = [\"v3\"]; got {raw_shadow!r}.")
    else:
        shadow = tuple(dict.fromkeys(raw_shadow))

    if len(problems) > start or columns is None:
        return None
    return ModelSpec(
        name=name, task=task, description=description,
        predictions=_resolve(predictions, root),
        outcomes=_resolve(outcomes, root) if outcomes else None,
        columns=columns, business=business, shadow=shadow, **sections,
    )


def _parse_columns(c: Mapping[str, Any], label: str, task, has_outcomes: bool,
                   problems: list[str]) -> Columns | None:
    where = f"{label} [models.columns]"
    _unknown(c, _COLUMN_KEYS, where, problems)
    names = {k: _str_or_none(c, k, where, problems) for k in
             ("id", "timestamp", "version", "score", "prediction", "label",
              "label_timestamp", "latency_ms")}
    if not names["timestamp"]:
        problems.append(f"{where}: missing required key 'timestamp'.")
    if has_outcomes and not names["id"]:
        problems.append(f"{where}: 'id' is required when outcomes are given (it is the join key).")
    if not names["label"]:
        problems.append(f"{where}: missing required key 'label' (the ground-truth column).")

    lists = {}
    for key in ("segments", "features"):
        v = c.get(key, [])
        if not isinstance(v, list) or not all(isinstance(s, str) and s for s in v):
            problems.append(f"{where}: {key} must be a list of column names.")
            v = []
        if len(set(v)) != len(v):
            problems.append(f"{where}: {key} lists a column twice.")
        lists[key] = tuple(v)

    cs = c.get("class_scores", {})
    class_scores: tuple[tuple[str, str], ...] = ()
    if not isinstance(cs, dict) or not all(isinstance(v, str) and v for v in cs.values()):
        problems.append(f"{where}: class_scores must be a table of class = \"column\".")
    else:
        class_scores = tuple((str(k), v) for k, v in cs.items())

    if task == "binary":
        if not (names["score"] or names["prediction"]):
            problems.append(f"{where}: a binary model needs 'score' or 'prediction'.")
        if class_scores:
            problems.append(f"{where}: class_scores is for multiclass models; a binary model uses 'score'.")
    elif task == "multiclass":
        if not (class_scores or names["prediction"]):
            problems.append(f"{where}: a multiclass model needs 'class_scores' or 'prediction'.")
        if class_scores and len(class_scores) < 2:
            problems.append(f"{where}: class_scores must name at least two classes.")
        if names["score"]:
            problems.append(f"{where}: 'score' is for binary models; a multiclass model uses class_scores.")
    elif task == "regression":
        if not names["prediction"]:
            problems.append(f"{where}: a regression model needs 'prediction' (the predicted value).")
        if names["score"] or class_scores:
            problems.append(f"{where}: a regression model takes 'prediction', not score or class_scores.")

    pos = c.get("positive_label", 1)
    neg = c.get("negative_label")
    for key, v in (("positive_label", pos), ("negative_label", neg)):
        if v is not None and not isinstance(v, (bool, int, str)):
            problems.append(f"{where}: {key} must be a string, integer or boolean.")
    if neg is not None and neg == pos and type(neg) is type(pos):
        problems.append(f"{where}: negative_label equals positive_label.")

    every = [v for v in names.values() if v] + [col for _, col in class_scores] \
        + list(lists["segments"]) + list(lists["features"])
    for seg in lists["segments"]:
        if seg in ("version", "period"):
            problems.append(f"{where}: a segment may not be named {seg!r} (it is a built-in group-by); rename it.")
    for col in every:
        if col.startswith(RESERVED_PREFIX):
            problems.append(f"{where}: column {col!r} uses the reserved prefix {RESERVED_PREFIX!r}; rename it.")
    if not names["timestamp"] or not names["label"]:
        return None
    return Columns(timestamp=names["timestamp"], id=names["id"], version=names["version"],
                   score=names["score"], class_scores=class_scores,
                   prediction=names["prediction"], label=names["label"],
                   label_timestamp=names["label_timestamp"], latency_ms=names["latency_ms"],
                   segments=lists["segments"], features=lists["features"],
                   positive_label=pos, negative_label=neg)


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _parse_business(b: Mapping[str, Any], label: str, task, problems: list[str]) -> Business:
    where = f"{label} [models.business]"
    _unknown(b, _BUSINESS_KEYS, where, problems)
    kw: dict[str, Any] = {}
    cur = b.get("currency", "USD")
    if not isinstance(cur, str) or not cur:
        problems.append(f"{where}: currency must be a code such as \"USD\".")
    else:
        kw["currency"] = cur
    th = b.get("threshold", 0.5)
    if not _number(th) or not 0.0 <= th <= 1.0:
        problems.append(f"{where}: threshold must be a number between 0 and 1.")
    else:
        kw["threshold"] = float(th)
    for key in ("tp", "fp", "fn", "tn"):
        v = b.get(key, 0.0)
        if isinstance(v, str) and v:
            if v.startswith(RESERVED_PREFIX):
                problems.append(f"{where}: column {v!r} uses the reserved prefix {RESERVED_PREFIX!r}.")
            kw[key] = v
        elif _number(v):
            kw[key] = float(v)
        else:
            problems.append(f"{where}: {key} must be a number or the name of a numeric column.")
    # binary: all_negative | all_positive | none | a version; multiclass: all_<class> |
    # none | a version; regression: none | a version (see analytics/docs/value.md)
    base = b.get("baseline", "all_negative" if task == "binary" else "none")
    if not isinstance(base, str) or not base:
        problems.append(f"{where}: baseline must be all_negative, all_positive, none or a version name.")
    else:
        kw["baseline"] = base
        if task == "multiclass" and base in BASELINES:
            problems.append(f"{where}: baseline {base!r} is for binary models; a multiclass model "
                            "takes all_<class>, none or a version name.")
        if task == "regression" and base.startswith("all_"):
            problems.append(f"{where}: baseline {base!r} does not apply to a regression model; "
                            "use none or a version name.")
    for key in ("cost_per_1k", "cost_per_unit_error", "cost_over", "cost_under"):
        if key in b:
            v = b[key]
            if not _number(v) or v < 0:
                problems.append(f"{where}: {key} must be a number >= 0.")
            else:
                kw[key] = float(v)
    if "cost_column" in b:
        v = b["cost_column"]
        if not isinstance(v, str) or not v:
            problems.append(f"{where}: cost_column must be a column name.")
        else:
            kw["cost_column"] = v
    if "value_matrix" in b:
        vm = b["value_matrix"]
        entries = []
        if not isinstance(vm, dict):
            problems.append(f"{where}: value_matrix must be a table of actual = {{ predicted = value }}.")
        else:
            for actual, row in vm.items():
                if not isinstance(row, dict) or not all(_number(x) for x in row.values()):
                    problems.append(f"{where}: value_matrix.{actual} must be a table of predicted = number.")
                    continue
                entries += [(str(actual), str(p), float(x)) for p, x in row.items()]
        kw["value_matrix"] = tuple(entries)
        if task not in (None, "multiclass"):
            problems.append(f"{where}: value_matrix applies to multiclass models only.")
    if task == "regression" and ("cost_over" in b) != ("cost_under" in b):
        problems.append(f"{where}: give both cost_over and cost_under, or cost_per_unit_error.")
    return Business(**kw)
