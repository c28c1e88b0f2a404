"""One ``[[models]]`` table of ``lastmile.toml`` -> :class:`~analytics.config.spec.ModelSpec`:
its keys, ``[models.columns]``, ``[models.business]``, the sections each validated by its own
module (alerts, drift, compare, quality, estimate, notify) and ``shadow``."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from analytics.config.alerts import validate_alerts_config
from analytics.config.checks import is_number, resolve_path, str_or_none, unknown_keys
from analytics.config.compare import validate_compare_config
from analytics.config.drift import validate_drift_config
from analytics.config.estimate import validate_estimate_config
from analytics.config.quality import validate_quality_config
from analytics.config.spec import BASELINES, RESERVED_PREFIX, TASKS, Business, Columns, ModelSpec
from analytics.errors import suggest

_MODEL_KEYS = {
    "name", "task", "description", "predictions", "outcomes", "columns",
    "business", "alerts", "drift", "compare", "shadow", "quality", "estimate", "notify",
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


def parse_model(rm: Mapping[str, Any], label: str, root: Path, problems: list[str]) -> ModelSpec | None:
    start = len(problems)
    unknown_keys(rm, _MODEL_KEYS, label, problems)
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
    predictions = str_or_none(rm, "predictions", label, problems)
    if predictions is None and "predictions" not in rm:
        problems.append(f"{label}: missing required key 'predictions' (a file, glob or folder).")
    outcomes = str_or_none(rm, "outcomes", label, problems)

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

    sections = _sections(rm, label, problems)
    shadow = _shadow(rm, label, problems)

    if len(problems) > start or columns is None:
        return None
    return ModelSpec(
        name=name, task=task, description=description,
        predictions=resolve_path(predictions, root),
        outcomes=resolve_path(outcomes, root) if outcomes else None,
        columns=columns, business=business, shadow=shadow, **sections,
    )


#: ``[models.<key>]`` tables kept raw on the spec, each checked by its own module's validator.
_VALIDATORS = {"drift": validate_drift_config, "compare": validate_compare_config,
               "quality": validate_quality_config, "alerts": validate_alerts_config,
               "estimate": validate_estimate_config}


def _sections(rm: Mapping[str, Any], label: str, problems: list[str]) -> dict[str, Mapping[str, Any]]:
    """The raw ``[models.<section>]`` tables, each validated by its module (notify: at the top level)."""
    sections = {}
    for key in ("alerts", "drift", "compare", "quality", "estimate", "notify"):
        val = rm.get(key, {})
        if not isinstance(val, dict):
            problems.append(f"{label}: [models.{key}] must be a table.")
            val = {}
        sections[key] = MappingProxyType(dict(val))
    for key, validate in _VALIDATORS.items():
        if sections[key]:
            problems.extend(f"{label} {p}" for p in validate(sections[key]))
    return sections


def _shadow(rm: Mapping[str, Any], label: str, problems: list[str]) -> tuple[str, ...]:
    """``shadow = ["v3"]`` (or one name): the versions declared to score without deciding."""
    raw_shadow = rm.get("shadow", [])
    if isinstance(raw_shadow, str):
        raw_shadow = [raw_shadow]
    if not isinstance(raw_shadow, list) or not all(isinstance(v, str) and v for v in raw_shadow):
        problems.append(f"{label}: shadow must be a list of version names (strings), "
                        f"e.g. shadow = [\"v3\"]; got {raw_shadow!r}.")
        return ()
    return tuple(dict.fromkeys(raw_shadow))


def _parse_columns(c: Mapping[str, Any], label: str, task, has_outcomes: bool,
                   problems: list[str]) -> Columns | None:
    where = f"{label} [models.columns]"
    unknown_keys(c, _COLUMN_KEYS, where, problems)
    names = {k: str_or_none(c, k, where, problems) for k in
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

    _task_columns(task, names, class_scores, where, problems)

    pos = c.get("positive_label", 1)
    neg = c.get("negative_label")
    for key, v in (("positive_label", pos), ("negative_label", neg)):
        if v is not None and not isinstance(v, (bool, int, str)):
            problems.append(f"{where}: {key} must be a string, integer or boolean.")
    if neg is not None and neg == pos and type(neg) is type(pos):
        problems.append(f"{where}: negative_label equals positive_label.")

    _reserved_names(names, class_scores, lists, where, problems)
    if not names["timestamp"] or not names["label"]:
        return None
    return Columns(timestamp=names["timestamp"], id=names["id"], version=names["version"],
                   score=names["score"], class_scores=class_scores,
                   prediction=names["prediction"], label=names["label"],
                   label_timestamp=names["label_timestamp"], latency_ms=names["latency_ms"],
                   segments=lists["segments"], features=lists["features"],
                   positive_label=pos, negative_label=neg)


def _task_columns(task, names: Mapping[str, str | None], class_scores, where: str, problems: list[str]) -> None:
    """The columns each task needs (binary: a score or prediction; multiclass: class scores or a
    prediction; regression: a prediction), and those it does not take."""
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


def _reserved_names(names: Mapping[str, str | None], class_scores, lists: Mapping[str, tuple[str, ...]],
                    where: str, problems: list[str]) -> None:
    """No segment named like a built-in group-by, no column with the engine's reserved prefix."""
    every = [v for v in names.values() if v] + [col for _, col in class_scores] \
        + list(lists["segments"]) + list(lists["features"])
    for seg in lists["segments"]:
        if seg in ("version", "period"):
            problems.append(f"{where}: a segment may not be named {seg!r} (it is a built-in group-by); rename it.")
    for col in every:
        if col.startswith(RESERVED_PREFIX):
            problems.append(f"{where}: column {col!r} uses the reserved prefix {RESERVED_PREFIX!r}; rename it.")


def _parse_business(b: Mapping[str, Any], label: str, task, problems: list[str]) -> Business:
    where = f"{label} [models.business]"
    unknown_keys(b, _BUSINESS_KEYS, where, problems)
    kw: dict[str, Any] = {}
    cur = b.get("currency", "USD")
    if not isinstance(cur, str) or not cur:
        problems.append(f"{where}: currency must be a code such as \"USD\".")
    else:
        kw["currency"] = cur
    th = b.get("threshold", 0.5)
    if not is_number(th) or not 0.0 <= th <= 1.0:
        problems.append(f"{where}: threshold must be a number between 0 and 1.")
    else:
        kw["threshold"] = float(th)
    kw.update(_outcome_values(b, where, problems))
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
            if not is_number(v) or v < 0:
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
        kw["value_matrix"] = _value_matrix(b["value_matrix"], task, where, problems)
    if task == "regression" and ("cost_over" in b) != ("cost_under" in b):
        problems.append(f"{where}: give both cost_over and cost_under, or cost_per_unit_error.")
    return Business(**kw)


def _outcome_values(b: Mapping[str, Any], where: str, problems: list[str]) -> dict[str, Any]:
    """``tp``, ``fp``, ``fn``, ``tn``: each a number or the name of a numeric column."""
    kw: dict[str, Any] = {}
    for key in ("tp", "fp", "fn", "tn"):
        v = b.get(key, 0.0)
        if isinstance(v, str) and v:
            if v.startswith(RESERVED_PREFIX):
                problems.append(f"{where}: column {v!r} uses the reserved prefix {RESERVED_PREFIX!r}.")
            kw[key] = v
        elif is_number(v):
            kw[key] = float(v)
        else:
            problems.append(f"{where}: {key} must be a number or the name of a numeric column.")
    return kw


def _value_matrix(vm: Any, task, where: str, problems: list[str]) -> tuple[tuple[str, str, float], ...]:
    """Multiclass ``value_matrix``: ``{actual = {predicted = value}}`` -> ``((actual, predicted, value), ...)``."""
    entries = []
    if not isinstance(vm, dict):
        problems.append(f"{where}: value_matrix must be a table of actual = {{ predicted = value }}.")
    else:
        for actual, row in vm.items():
            if not isinstance(row, dict) or not all(is_number(x) for x in row.values()):
                problems.append(f"{where}: value_matrix.{actual} must be a table of predicted = number.")
                continue
            entries += [(str(actual), str(p), float(x)) for p, x in row.items()]
    if task not in (None, "multiclass"):
        problems.append(f"{where}: value_matrix applies to multiclass models only.")
    return tuple(entries)
