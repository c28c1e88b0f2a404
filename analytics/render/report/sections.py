"""The report's sections, assembled: each a builder ``(ModelInput, earlier) -> dict`` for its template.

A builder gathers numbers from the library's own functions -- the metrics
registry, value, compare, health, drift and segments modules -- and never
recomputes a metric; it only chooses what to show, formats it (metric values
with the registry's formatter, as ``lastmile metrics`` prints them) and queues
charts made by the app's chart functions (drawn by
:class:`~analytics.render.report.svg.ChartSet`). Every dict has ``template`` (the
partial under ``templates/sections/``) and ``title``; a section that has
nothing to show carries ``empty`` (the sentence that says why) instead of an
empty table or chart. Optional keys feed the cover: ``verdict``, ``tiles``,
``highlights``, and ``summary`` the portfolio's row of the model.

The builders live one module per section beside this one (:mod:`.figures`: cover,
key figures, over time, label coverage; :mod:`.health`, :mod:`.incidents`,
:mod:`.value`, :mod:`.perclass`, :mod:`.compare`, :mod:`.drift`, :mod:`.quality`,
:mod:`.segments`; :mod:`.methods` the method notes). This module orders them into
chapters and builds a model's sections on a small thread pool.
"""

from __future__ import annotations

import datetime as _dt
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from analytics.metrics import PRIMARY_METRIC, get_metric, metric_names
from analytics.render import format as fmt
from analytics.render.report.decision import decision
from .common import WIDTH, chart_period
from .compare import comparison
from .drift import drift
from .figures import cover, kpis, label_coverage, over_time
from .health import health
from .incidents import incidents_section
from .methods import DOCS, USAGE_HEADINGS, USAGE_TEXT, markdown_html, method_notes
from .perclass import per_class
from .quality import quality
from .segments import weak_segments
from .value import roi_text, value

__all__ = [
    "CHAPTERS", "DOCS", "SECTIONS", "START_ORDER", "USAGE_HEADINGS", "USAGE_TEXT", "WIDTH", "WORKERS",
    "ModelReport", "build_model", "chart_period", "comparison", "cover", "drift", "expected_notes",
    "failed_model", "health", "kpis", "label_coverage", "markdown_html", "method_notes", "model_areas",
    "over_time", "portfolio_cover", "report_notes", "report_title", "roi_text", "value", "weak_segments",
]

#: Threads building one model's sections concurrently (queries overlap compilation).
WORKERS = 2


@dataclass
class ModelReport:
    """One model's built sections (and the facts the portfolio summary needs)."""

    model: str
    description: str
    task: str
    parts: list[list[dict]]         # the sections, in reading order, by part (pages typeset together)
    summary: dict[str, Any]
    metrics_used: list[str]
    areas: list[str]


#: The sections of a model, in reading order after the cover and the key figures:
def _per_class(mi, earlier) -> dict:
    """Multiclass models: per-class metrics and confusion heat maps (:mod:`.perclass`)."""
    return per_class(mi, earlier, WIDTH)


def _quality(mi, earlier) -> dict:
    """Data-quality checks of the report period (:mod:`.quality`)."""
    return quality(mi, earlier, WIDTH)


#: (key, area, builder). A builder takes the model's input and the sections built
#: before it (by key); ``area`` names the docs/<area>.md the method notes include.
SECTIONS: list[tuple[str, str, Callable]] = [
    ("health", "health", health),
    ("incidents", "health", incidents_section),
    ("value", "value", value),
    ("over_time", "metrics", over_time),
    ("per_class", "metrics", _per_class),
    ("compare", "compare", comparison),
    ("drift", "drift", drift),
    ("quality", "quality", _quality),
    ("segments", "segments", weak_segments),
    ("coverage", "metrics", label_coverage),
]


#: A model's sections in reading order, in chapters (keys of ``kpis`` and :data:`SECTIONS`).
#: Each chapter starts on a new page and is typeset as soon as its sections are built
#: and its charts drawn (see :mod:`.typeset`), while the later chapters' queries run.
CHAPTERS: tuple[tuple[str, ...], ...] = (("kpis", "health", "incidents", "value"), ("over_time", "per_class", "compare"),
                                         ("drift", "quality", "segments", "coverage"))


#: The order sections are started in: chapter by chapter, so the first chapters are ready
#: early, and the longest section of a chapter first. Only ``kpis`` is waited for by others.
START_ORDER = ("kpis", "health", "incidents", "value", "compare", "over_time", "per_class", "drift", "quality",
               "segments", "coverage")


class _Earlier:
    """Sections built (or being built) before the current one, by key; waits for each."""

    def __init__(self, futures: dict[str, Future]):
        self._futures = futures

    def __getitem__(self, key: str) -> dict:
        return self._futures[key].result()


def build_model(mi, say: Callable[[str], None], workers: int = WORKERS, *, cover_alone: bool = True,
                on_part: Callable[[int, list[dict]], None] | None = None) -> ModelReport:
    """All sections of one model, in order, and its parts (pages typeset together).

    The builders run on a small thread pool: each thread has its own engine
    connection (see :class:`~analytics.log.engine.Engine`), so one section's query
    executes while another's is compiled. A builder that needs an earlier
    section (the comparison, drift and segments need the versions ranked by
    traffic) waits for it; that section (``kpis``) is submitted first, so the
    wait cannot deadlock.

    The parts are the cover, alone on its page when ``cover_alone`` (else it heads
    the first chapter, as in the portfolio), and the :data:`CHAPTERS`.
    ``on_part(index, sections)`` is called for each part as soon as it is built
    (from this thread): chapters as they complete, then the cover's part, then the
    last chapter.
    """
    futures: dict[str, Future] = {}
    earlier = _Earlier(futures)
    builders = {"kpis": kpis, **{key: builder for key, _area, builder in SECTIONS}}
    offset = 1 if cover_alone else 0

    def run(key: str):
        say(f"{mi.model}: {key.replace('_', ' ') if key != 'kpis' else 'key figures'}")
        return builders[key](mi) if key == "kpis" else builders[key](mi, earlier)

    chapters: list[list[dict]] = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lastmile-report") as pool:
        for key in START_ORDER:
            futures[key] = pool.submit(run, key)
        decided = pool.submit(_decision, mi, earlier, say)  # page 1: needed with the cover, last
        for i, keys in enumerate(CHAPTERS):
            chapters.append([futures[key].result() for key in keys])
            if on_part is not None and 0 < i + offset < len(CHAPTERS) - 1 + offset:
                on_part(i + offset, chapters[-1])
    built = [s for chapter in chapters for s in chapter]
    k = built[0]
    c = cover(mi, built)
    c["decision"] = decided.result()
    parts = [[c]] + chapters if cover_alone else [[c] + chapters[0]] + chapters[1:]
    if on_part is not None:
        # the cover before the last chapter: its charts may still be being drawn
        on_part(0, parts[0])
        if len(parts) > 1:
            on_part(len(parts) - 1, parts[-1])
    summary = {"model": mi.model, "task": mi.spec.task, "volume": fmt.count(k["volume"]), "period": c["period"],
               "primary_label": k["primary"]["label"], "primary": k["primary"]["value"],
               "primary_interval": k["primary"]["interval"]}
    for s in built:
        summary.update(s.get("summary", {}))
    summary["decision"] = c["decision"].get("entries", [])
    return ModelReport(model=mi.model, description=mi.spec.description, task=mi.spec.task, parts=parts,
                       summary=summary, metrics_used=[r["name"] for r in k["rows"]], areas=model_areas())


def _decision(mi, earlier, say) -> dict:
    """Page 1's decision (:mod:`.decision`)."""
    say(f"{mi.model}: what to do")
    return decision(mi, earlier)


def model_areas() -> list[str]:
    """The docs areas a model's sections use (the method notes include each one's doc)."""
    return list(dict.fromkeys(["metrics"] + [area for _key, area, _b in SECTIONS]))


def expected_notes(specs) -> dict:
    """The method notes of a report on ``specs`` if every model can be reported on: the
    registry metrics of each task (the key figures show them all) and every area. Known
    before any query, so they can be typeset while the queries run; a model that fails
    contributes nothing to :func:`report_notes`, which then differ."""
    return method_notes([n for spec in specs for n in metric_names(spec.task)], model_areas())


def report_notes(models: list[ModelReport]) -> dict:
    """The method notes of what the report shows: every metric and area of its models."""
    return method_notes([n for m in models for n in m.metrics_used], [a for m in models for a in m.areas])


def report_title(models: list[str], *, portfolio: bool) -> str:
    return "Model portfolio report" if portfolio else f"Model report: {models[0]}"


def failed_model(spec, message: str) -> ModelReport:
    """A portfolio's page for a model that cannot be reported on, saying why."""
    section = {"template": "failed.html.j2", "title": spec.name, "model": spec.name,
               "description": spec.description, "task": spec.task, "message": message}
    summary = {"model": spec.name, "task": spec.task, "volume": fmt.MISSING, "period": "not available",
               "primary_label": get_metric(PRIMARY_METRIC[spec.task], spec.task).label,
               "primary": fmt.MISSING, "primary_interval": fmt.MISSING, "status": None,
               "headline": f"Cannot be reported on: {message}"}
    return ModelReport(model=spec.name, description=spec.description, task=spec.task, parts=[[section]],
                       summary=summary, metrics_used=[], areas=[])


def portfolio_cover(models: list[ModelReport], *, generated_at: _dt.datetime, charts: bool) -> dict:
    """The portfolio report's cover: one row per model, and the count of each status."""
    return {
        "template": "portfolio.html.j2", "title": "Model portfolio report", "models": len(models),
        "summary_rows": [m.summary for m in models],
        "status_counts": {st: sum(1 for m in models if m.summary.get("status") == st)
                          for st in ("pull", "warn", "healthy")},
        "generated_at": generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        "charts_on": charts,
    }
