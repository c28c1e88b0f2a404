"""The dashboard's questions, answered in worker processes (no Streamlit here).

Streamlit serves every browser session on a thread of one process, so building
and compiling Ibis expressions, converting results and the bootstrap intervals
all queue on that process's GIL: with a few users at once the server used one
core. :func:`answer` runs one of :data:`TASKS` in a pool of worker processes
instead (``$LASTMILE_WORKERS`` processes; ``0``, the default, answers in the
calling thread). The server's threads wait for the
answer with the GIL released, and keep drawing pages meanwhile.

Each worker holds its own :class:`~analytics.log.engine.Engine` (its own DuckDB and
snapshots of the small logs) for the workspace key it is given: the workspace
file, its modification time and the app's *generation*, which "Re-read the
logs" bumps, so a worker asked with a new key drops its engine and re-reads.
Answers are plain picklable results (the ones ``st.cache_data`` stores); a
:class:`~analytics.errors.LastmileError` raised in a worker is raised again in
the caller, with its sentence.

The pool is started from a ``forkserver`` (never ``fork`` a threaded server)
that has the library imported already, so a worker is ready in a fraction of a
second, and that never re-runs the server's ``__main__`` (Streamlit's page script) in a
worker (:mod:`app.pool_boot`).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

#: (workspace file, modification time, generation): what a worker's engine belongs to
Key = tuple[str, float, int]


# ------------------------------------------------------------------ the questions (engine first)


def _facts(eng, model):
    from analytics.analyses.facts import model_facts
    return model_facts(eng, model)


def _data_warnings(eng, model):
    return eng.data_warnings(model)


def _metrics(eng, selection, grouping, names, label_delay):
    from analytics.metrics.compute import compute_metrics
    return compute_metrics(eng, selection, grouping, list(names) if names else None, label_delay)


def _weak_segments(eng, selection, metric):
    from analytics.analyses.segments import weak_segments
    return weak_segments(eng, selection, metric, pairs=False)


def _model_health(eng, model):
    from analytics.analyses.health import model_health
    return model_health(eng, model)


def _value_inputs(eng, selection, grouping, bins):
    from analytics.analyses.value import value_summary
    return value_summary(eng, selection, grouping, bins=bins)


def _compare(eng, selection, baseline, candidate, paired):
    from analytics.analyses.compare import compare_versions
    return compare_versions(eng, selection, baseline, candidate, paired=paired)


def _default_windows(eng, model):
    from analytics.analyses.drift import default_reference
    return default_reference(eng, model)


def _drift(eng, model, reference, current):
    from analytics.analyses.drift import compute_drift
    return compute_drift(eng, model, reference, current)


def _drift_over_time(eng, model, reference, selection, period):
    from analytics.analyses.drift import drift_over_time
    return drift_over_time(eng, model, reference, selection, period=period)


def _distribution(eng, model, feature, reference, current):
    from analytics.analyses.drift import distribution
    return distribution(eng, model, feature, reference, current)


def _quality(eng, model, start, end, period):
    from analytics.analyses.quality.compute import run_quality
    return run_quality(eng, model, start=start, end=end, period=period)


TASKS: dict[str, Callable[..., Any]] = {
    "facts": _facts, "data_warnings": _data_warnings, "metrics": _metrics, "weak_segments": _weak_segments,
    "model_health": _model_health, "value_inputs": _value_inputs, "compare": _compare,
    "default_windows": _default_windows, "drift": _drift, "drift_over_time": _drift_over_time,
    "distribution": _distribution, "quality": _quality,
}


# ------------------------------------------------------------------ in a worker

_WORKER: dict[str, Any] = {}     # "key" -> Key, "engine" -> Engine, "seconds" -> snapshot seconds


def _worker_engine(key: Key, snapshot_seconds: float):
    if _WORKER.get("key") != key:
        from analytics.store import open_engine
        from analytics.config.workspace import load_workspace
        _WORKER.clear()
        _WORKER["engine"] = open_engine(load_workspace(key[0]), snapshot=True, snapshot_seconds=snapshot_seconds)
        _WORKER["key"] = key
    return _WORKER["engine"]


def _warm(key: Key, snapshot_seconds: float) -> None:
    """A worker's first job: its engine and the snapshot of every model's log."""
    eng = _worker_engine(key, snapshot_seconds)
    for name in eng.workspace.model_names:
        try:
            eng.log(name)
        except Exception:  # noqa: BLE001 - a broken model is reported by the page that asks for it
            pass


def _run(task: str, key: Key, snapshot_seconds: float, args: tuple) -> Any:
    return TASKS[task](_worker_engine(key, snapshot_seconds), *args)


# ------------------------------------------------------------------ in the server


def workers() -> int:
    """How many worker processes answer (``$LASTMILE_WORKERS``; 0, the default: none, answer in
    the caller). Off by default: on the 2-core machine of bench/README.md ("Many users at
    once") they did not make pages faster (the browsers and the server's own drawing take the
    cores) and cost 750 MB."""
    try:
        return max(0, int(os.environ.get("LASTMILE_WORKERS", "0").strip() or 0))
    except ValueError:
        return 0


class Pool:
    """A process pool that answers :data:`TASKS` (threads may call :meth:`answer` at once)."""

    def __init__(self, size: int, snapshot_seconds: float):
        self.size, self.snapshot_seconds = size, snapshot_seconds
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self, key: Key) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(["app.pool_boot", "app.pool", "analytics.log.engine", "analytics.metrics",
                                            "analytics.analyses.drift"])
                self._pool = ProcessPoolExecutor(self.size, mp_context=ctx)
                for _ in range(self.size):   # every worker builds its engine now, not on a user's page
                    self._pool.submit(_warm, key, self.snapshot_seconds)
            return self._pool

    def warm(self, key: Key) -> None:
        """Start the workers and have them read the logs (returns at once)."""
        self._executor(key)

    def answer(self, task: str, key: Key, *args: Any) -> Any:
        try:
            return self._executor(key).submit(_run, task, key, self.snapshot_seconds, args).result()
        except BrokenProcessPool:   # a worker died (killed, out of memory): start a new pool, ask once more
            with self._lock:
                self._pool = None
            return self._executor(key).submit(_run, task, key, self.snapshot_seconds, args).result()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
