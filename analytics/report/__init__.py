"""The executive PDF report: one model, or the portfolio of every model.

``build_report`` gathers each section's numbers from the same library functions
the CLI and the app use (the metrics registry, drift, value, compare, health,
segments modules: nothing is recomputed here), draws the charts with the app's
chart functions as vector SVG (kaleido, one browser for the whole report),
fills the Jinja2 templates under ``templates/`` and typesets them with
WeasyPrint.

The report period: ``start`` (inclusive) and ``end`` (exclusive) as for every
command. When ``end`` is not given it is the day after the model's last
prediction; when ``start`` is not given the period is the :data:`DEFAULT_DAYS`
days before ``end`` (never before the first prediction). KPIs are compared
with the previous period of equal length, ``[start - (end - start), start)``.

Each section is a builder ``(ModelInput) -> dict`` (see :mod:`.sections`);
its dict feeds the section's template. A section whose data cannot be computed
(no labels, no business values, one version only) says why instead of showing
an empty table or chart.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..engine import C, Engine
from ..errors import EmptySelectionError, LastmileError
from ..selection import Selection, parse_time
from ..workspace import ModelSpec
from .pdf import html_to_pdf, paper_size, render_html
from .svg import ChartSet, find_browser

__all__ = ["build_report", "check_output_path", "write_report", "model_input", "DEFAULT_DAYS", "ModelInput", "Timings"]

#: Length of the report period when no start is given (four whole weeks).
DEFAULT_DAYS = 28

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Span:
    """What a model's whole log covers (one aggregate query)."""

    n: int
    first: _dt.datetime | None
    last: _dt.datetime | None


@dataclass
class ModelInput:
    """Everything a section builder needs for one model."""

    engine: Engine
    spec: ModelSpec
    span: Span
    selection: Selection            # the report period
    previous: Selection | None      # the previous period of equal length (None: no data before start)
    charts: ChartSet
    generated_at: _dt.datetime

    @property
    def model(self) -> str:
        return self.spec.name


@dataclass
class Timings:
    """Seconds spent per phase of a report (for bench/bench_report.py): building the
    sections (queries; the browser starts meanwhile), drawing the charts (including
    any wait for the browser, and stopping it), typesetting the PDF."""

    queries: float = 0.0
    charts: float = 0.0
    pdf: float = 0.0


def model_span(engine: Engine, spec: ModelSpec) -> Span:
    """Row count and first/last prediction time of ``spec``'s whole log."""
    t = engine.log(spec)
    row = engine.execute(t.aggregate(n=t.count(), first=t[C.TS].min(), last=t[C.TS].max()), spec).to_pylist()[0]
    return Span(n=int(row["n"] or 0), first=row["first"], last=row["last"])


def _midnight(ts: _dt.datetime) -> _dt.datetime:
    return _dt.datetime(ts.year, ts.month, ts.day)


def report_period(span: Span, start=None, end=None, days: int = DEFAULT_DAYS
                  ) -> tuple[_dt.datetime | None, _dt.datetime | None]:
    """The report's ``[start, end)``: given bounds, else the last ``days`` whole days of data."""
    s, e = parse_time(start, "--start"), parse_time(end, "--end")
    if e is None and span.last is not None:
        e = _midnight(span.last) + _dt.timedelta(days=1)
    if s is None and e is not None:
        s = e - _dt.timedelta(days=days)
        if span.first is not None:
            s = max(s, _midnight(span.first))
    if s is not None and e is not None and s >= e:
        raise LastmileError(f"The report period is empty: start {s} is not before end {e}.")
    return s, e


def model_input(engine: Engine, spec: ModelSpec, charts: ChartSet, generated_at: _dt.datetime,
                start=None, end=None) -> ModelInput:
    """Resolve ``spec``'s report period and the previous period of equal length."""
    span = model_span(engine, spec)
    if span.first is None:
        raise EmptySelectionError(f"Model {spec.name!r} has no predictions to report on.")
    s, e = report_period(span, start, end)
    if (e is not None and e <= span.first) or (s is not None and s > span.last):
        raise EmptySelectionError(
            f"Model {spec.name!r} has no predictions from {s.date() if s else '…'} to {e.date() if e else '…'}; "
            f"its data runs from {span.first.date()} to {span.last.date()}.")
    selection = Selection.build(spec.name, start=s, end=e)
    previous = None
    if s is not None and e is not None and span.first is not None and span.first < s:
        previous = Selection.build(spec.name, start=s - (e - s), end=s)
    return ModelInput(engine=engine, spec=spec, span=span, selection=selection, previous=previous,
                      charts=charts, generated_at=generated_at)


def check_output_path(path: str | os.PathLike) -> Path:
    """``path`` if a PDF can be written there; else a clear error (call it before any work)."""
    p = Path(path).expanduser()
    if p.is_dir():
        raise LastmileError(f"Cannot write the report to {str(p)!r}: it is a folder; give a file name such as report.pdf.")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise LastmileError(f"Cannot write the report to {str(p)!r}: folder {str(parent)!r} does not exist.")
    if p.exists() and not os.access(p, os.W_OK):
        raise LastmileError(f"Cannot write the report to {str(p)!r}: the file is not writable.")
    if not p.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise LastmileError(f"Cannot write the report to {str(p)!r}: folder {str(parent)!r} is not writable.")
    return p


def write_report(path: str | os.PathLike, data: bytes) -> Path:
    """Write the PDF bytes to ``path`` (checked with :func:`check_output_path`)."""
    p = check_output_path(path)
    try:
        p.write_bytes(data)
    except OSError as exc:
        raise LastmileError(f"Cannot write the report to {str(p)!r}: {exc.strerror or exc}.") from None
    return p


def build_report(engine: Engine, model: str | None = None, start=None, end=None, paper: str = "A4",
                 charts: bool = True, progress: Progress | None = None, *,
                 browser_path: str | os.PathLike | None = None, now: _dt.datetime | None = None,
                 timings: Timings | None = None) -> bytes:
    """The PDF report of ``model`` (``None``: every model of the workspace) as bytes.

    ``charts=False`` leaves the charts out (no browser needed). ``browser_path``
    names the Chromium executable explicitly (default: looked up on ``PATH``).
    ``progress`` receives one short line per step. ``now`` fixes the
    "generated at" time (UTC); ``timings``, when given, receives the seconds
    spent on queries, charts and typesetting.
    """
    from . import sections

    say = progress or (lambda _msg: None)
    timings = timings if timings is not None else Timings()
    paper_size(paper)  # bad paper names fail before any work
    specs = [engine.workspace.model(model)] if model is not None else list(engine.workspace.models)
    if not specs:
        raise LastmileError("The workspace has no models to report on.")
    if charts:
        find_browser(browser_path)  # a missing browser fails before any query
    generated_at = (now or _dt.datetime.now(_dt.timezone.utc)).replace(microsecond=0)
    # WeasyPrint takes a second or more to import: load it while the queries run
    threading.Thread(target=importlib.import_module, args=("weasyprint",), daemon=True).start()

    t0 = time.perf_counter()
    with ChartSet(enabled=charts, browser_path=browser_path) as chart_set:
        models = []
        for spec in specs:
            say(f"{spec.name}: reading the log")
            try:
                mi = model_input(engine, spec, chart_set, generated_at, start, end)
                models.append(sections.build_model(mi, say))
            except LastmileError as exc:
                if model is not None:
                    raise
                # a portfolio still reports on the other models; this one says what is wrong
                say(f"{spec.name}: {exc.message}")
                models.append(sections.failed_model(spec, exc.message))
        context = sections.report_context(models, portfolio=model is None, generated_at=generated_at,
                                          charts=charts)
        t1 = time.perf_counter()
        if chart_set.charts:
            say(f"drawing {len(chart_set.charts)} charts")
        chart_set.render()
    t2 = time.perf_counter()
    say("typesetting the PDF")
    pdf = html_to_pdf(render_html(context), paper)
    timings.queries, timings.charts, timings.pdf = t1 - t0, t2 - t1, time.perf_counter() - t2
    return pdf
