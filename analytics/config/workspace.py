"""The workspace file, ``lastmile.toml``: parsing, validation, typed access.

The file's shape is fixed by the contract (``CONTRACT.md`` section 1); this
module turns it into frozen objects and reports *every* problem at once, each
naming the model and the key. Nothing here touches the log files: checking
that files and columns exist is :mod:`analytics.log.engine`'s job.

Discovery order (see :func:`find_config`): an explicit ``--config`` path, then
``$LASTMILE_CONFIG``, then ``./lastmile.toml``, then the bundled sample
workspace. The caller passes the environment value in; this module reads no
environment of its own.

The types are :mod:`analytics.config.spec` (re-exported here: import them from either),
one model's table is :mod:`analytics.config.models`, the checks the parsers share
:mod:`analytics.config.checks`; each ``[models.<section>]`` has its own module.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from analytics.access.config import parse_access_sections
from analytics.config.checks import parse_duration, parse_timestamp_min, raise_problems, unknown_keys
from analytics.config.models import parse_model
from analytics.config.notify import notify_problems
from analytics.config.s3 import S3Options, split_engine_options
from analytics.config.spec import (BASELINES, MATERIALIZE_ROWS, RESERVED_PREFIX, TASKS, TIMESTAMP_MAX_AHEAD,
                                   TIMESTAMP_MIN, Business, Columns, ModelSpec, Value, Workspace, timestamp_range)
from analytics.config.store import parse_memory_limit, parse_store
from analytics.errors import ConfigError

__all__ = [
    "BASELINES", "MATERIALIZE_ROWS", "RESERVED_PREFIX", "SAMPLE_CONFIG", "TASKS", "TIMESTAMP_MAX_AHEAD",
    "TIMESTAMP_MIN", "Business", "Columns", "ModelSpec", "Value", "Workspace", "find_config", "load_workspace",
    "parse_workspace", "timestamp_range",
]

#: Where the bundled sample workspace lives (the repository's ``sample_data``).
SAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "sample_data" / "lastmile.toml"

_TOP_KEYS = {"engine", "models", "notify", "store", "auth", "access", "audit"}  # the last three: analytics/access/config.py
_ENGINE_KEYS = {"backend", "options", "materialize_rows", "timestamp_min", "timestamp_max_ahead", "memory_limit"}


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
    unknown_keys(raw, _TOP_KEYS, "the top level", problems)
    engine = raw.get("engine", {})
    backend, options, materialize, s3 = "duckdb", {}, MATERIALIZE_ROWS, S3Options()
    ts_min, ts_ahead = TIMESTAMP_MIN, TIMESTAMP_MAX_AHEAD
    if not isinstance(engine, dict):
        problems.append("[engine] must be a table.")
    else:
        unknown_keys(engine, _ENGINE_KEYS, "[engine]", problems)
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
        ts_min = parse_timestamp_min(engine.get("timestamp_min", TIMESTAMP_MIN), problems)
        ts_ahead = parse_duration(engine.get("timestamp_max_ahead", TIMESTAMP_MAX_AHEAD),
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
        spec = parse_model(rm, label, root, problems)
        if spec is not None:
            models.append(spec)
    problems.extend(notify_problems(raw, raw_models))
    resources = _resources(raw, root, problems)   # before the problems are counted
    notify = dict(raw["notify"]) if isinstance(raw.get("notify"), dict) else {}
    people = parse_access_sections(raw, root, tuple(seen), models, problems)  # auth, access, audit

    raise_problems(where, problems)
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
