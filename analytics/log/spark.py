"""A Spark session built from ``[engine.options]`` (``[engine] backend = "pyspark"``).

The workspace file says where Spark runs, and Lastmile builds the session itself::

    [engine]
    backend = "pyspark"

    [engine.options]
    master = "local[2]"            # or "spark://host:7077", "yarn", "k8s://..."
    # remote = "sc://host:15002"   # Spark Connect, instead of master
    app_name = "lastmile"          # optional

    [engine.options.config]        # optional: any Spark settings, set on the builder
    "spark.executor.memory" = "4g"

Local masters (``local``, ``local[N]``, ``local[*]``) get safe defaults unless
``config`` says otherwise: no web UI, the driver bound to 127.0.0.1, as many
shuffle partitions as cores, and Spark's log at ERROR and no console progress
bars so the command line's output stays readable. A cluster master gets only
the last of these; a Spark Connect remote nothing but the ``config`` given. ``mode`` (``batch``, the default, or ``streaming``)
goes to Ibis's ``connect``; any other key is a mistake, named in the error.

Every failure (pyspark not installed, no Java, a master or remote that cannot
be reached, a bad setting) is one sentence: :class:`~analytics.errors.BackendError`.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import Any, Mapping

from analytics.errors import BackendError, suggest

#: Keys of ``[engine.options]`` that this module reads (``mode`` goes to Ibis).
OPTION_KEYS = ("master", "remote", "app_name", "config", "mode", "session")
#: The application name when ``app_name`` is not given.
APP_NAME = "lastmile"

_LOCAL = re.compile(r"^local(\[(\d+|\*)(,\s*\d+)?\])?$")


def local_defaults(master: str) -> dict[str, str]:
    """The settings a local master gets unless ``config`` overrides them."""
    m = _LOCAL.match(master)
    cores = m.group(2) if m and m.group(2) else "1"
    if cores == "*":
        cores = str(os.cpu_count() or 1)
    return {
        "spark.ui.enabled": "false",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
        "spark.sql.shuffle.partitions": cores,
        "spark.default.parallelism": cores,
        "spark.log.level": "ERROR",
        "spark.ui.showConsoleProgress": "false",
    }


def _setting(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def session_settings(options: Mapping[str, Any]) -> tuple[str, str, dict[str, str]]:
    """``(kind, target, config)`` from ``[engine.options]``: kind is ``master`` or
    ``remote``, ``config`` the builder's settings (local defaults included).
    Raises BackendError on a bad option."""
    unknown = [k for k in options if k not in OPTION_KEYS]
    if unknown:
        raise BackendError(
            f"[engine.options] key {unknown[0]!r} is not a pyspark option{suggest(unknown[0], OPTION_KEYS)}; "
            "the keys are master, remote, app_name, config and mode "
            "(Spark settings go in [engine.options.config]).")
    master, remote = options.get("master"), options.get("remote")
    if master is not None and remote is not None:
        raise BackendError("[engine.options] gives both master and remote; "
                           "use master for a Spark cluster or local Spark, remote for Spark Connect.")
    for key, value in (("master", master), ("remote", remote), ("app_name", options.get("app_name"))):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise BackendError(f"[engine.options] {key} must be a non-empty string, not {value!r}.")
    if remote is not None and not remote.startswith("sc://"):
        raise BackendError(f"[engine.options] remote {remote!r} is not a Spark Connect URL such as \"sc://host:15002\".")
    config = options.get("config", {})
    if not isinstance(config, Mapping):
        raise BackendError("[engine.options.config] must be a table of Spark settings such as "
                           "\"spark.executor.memory\" = \"4g\".")
    for key, value in config.items():
        if isinstance(value, (Mapping, list, tuple)) or value is None:
            raise BackendError(f"[engine.options.config] {key!r} must be a string, number or boolean.")
    kind, target = ("remote", remote) if remote is not None else ("master", master or "local[*]")
    settings = {}
    if kind == "master":
        settings = local_defaults(target) if _LOCAL.match(target) else {"spark.ui.showConsoleProgress": "false"}
    settings.update({str(k): _setting(v) for k, v in config.items()})
    return kind, target, settings


def build_session(options: Mapping[str, Any]):
    """A SparkSession for ``[engine.options]`` (see the module docstring).

    An active session of this process with the same master is reused (Spark
    allows one per process); its settings are then those it started with.
    """
    kind, target, settings = session_settings(options)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise BackendError("Engine backend 'pyspark' needs the pyspark package: "
                           "`pip install 'lastmile[spark]'` (pyspark>=4.0,<4.1).") from None
    if kind == "master" and not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise BackendError(f"Spark master {target!r} needs Java (17 or later), which is not installed: "
                           "install a JDK (e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME.")
    if kind == "master" and _LOCAL.match(target):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # the JVM binds (and says so) before any setting
    builder = SparkSession.builder.appName(str(options.get("app_name") or APP_NAME))
    builder = builder.remote(target) if kind == "remote" else builder.master(target)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - whatever Spark raises, one sentence
        where = f"Spark Connect server {target!r}" if kind == "remote" else f"Spark master {target!r}"
        reason = " ".join(str(exc).strip().split("\n")[0].split()) or type(exc).__name__
        raise BackendError(f"Cannot start a Spark session on {where}: {reason.rstrip('.')}.") from None
