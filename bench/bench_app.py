"""Dashboard speed: first render of each page and the time of a filter change.

Runs the app in-process with Streamlit's AppTest over the bundled sample
workspace (150,000 predictions, three models), so the times are the server-side
script runs (queries + figure building), not the browser's painting.

* cold: a new session with every result cache cleared; the engine and workspace
  resources stay warm after the first page, as in a running server. By default the
  store's remembered answers (analytics/store/answers.py) are those the dashboard's
  precompute (app/precompute.py, ``LASTMILE_PRECOMPUTE=1``) left: the untimed first page
  starts it and the script waits for it to finish (its wall and CPU seconds are printed),
  as on a server whose store was refreshed a while ago. ``--no-precompute``: the
  remembered answers are only what earlier runs left; ``--forget``: truly cold, every
  remembered answer deleted before each cold page and nothing computed ahead (the first
  visitor right after a refresh, before the precompute is done).
* warm: a new session with the caches filled (every later visitor).
* filter change: on an open page, pick version v2 (a new selection: new queries).

AppTest scans every installed distribution for Streamlit components on a new
instance's first run (about 1 s here, more on a loaded machine); a server does it once
at its start, so the script gives every session one manager scanned once.

Each figure is printed with its target (first render 1 s, filter change 0.3 s: #15)
and the ratio to it, and, as a baseline run in the same process that makes
figures comparable across loaded and idle machines, the ratio to one
``compute_metrics`` call (volume over all data: the smallest answer a page shows). Usage: ``python bench/bench_app.py [--config PATH]``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = ["portfolio", "overview", "segments", "compare", "drift", "quality", "value", "operations", "explore",
         "report"]
FIRST_RENDER_TARGET = 1.0
FILTER_CHANGE_TARGET = 0.3
_COMPONENTS: list = []


def components():
    """One component manager for every AppTest (as one server has): the scan of the installed
    distributions for components runs once, not on every new session's first run."""
    if not _COMPONENTS:
        from streamlit.components.v2.component_manager import BidiComponentManager
        mgr = BidiComponentManager()
        mgr.discover_and_register_components(start_file_watching=False)
        _COMPONENTS.append(mgr)
    return _COMPONENTS[0]


def session(model: str):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=300)
    at._bidi_component_manager = components()
    at.query_params["model"] = model
    return at


def timed(fn) -> tuple[float, float]:
    """(wall, CPU) seconds of ``fn()``: CPU of this process, every thread (the page's script
    thread, DuckDB's threads)."""
    c, t = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def open_page(at, page: str) -> tuple[float, float]:
    """(wall, CPU) seconds to render ``page`` in a session (the entry page first, untimed,
    except for portfolio)."""
    if page != "portfolio":
        at.run()
        at.switch_page(f"views/{page}.py")
    return timed(at.run)


def library_floor(model: str) -> float:
    """Seconds for the smallest library answer a page shows: ``compute_metrics`` of the
    volume over all data (median of 3), on the app's engine, without any app cache."""
    from analytics.metrics.compute import compute_metrics
    from analytics.query.selection import Grouping, Selection
    from app import resources
    eng = resources._engine(*resources.ws_key())
    compute = getattr(compute_metrics, "uncached", compute_metrics)   # not an answer the store remembers
    times = []
    for _ in range(3):
        start = time.perf_counter()
        compute(eng, Selection.build(model), Grouping(), ["volume"])
        times.append(time.perf_counter() - start)
    return sorted(times)[1]


def forget_answers() -> None:
    """Delete the remembered answers of the app's workspace's store (``answers/``)."""
    import shutil
    from analytics.config.store import store_root
    from analytics.store.answers import FOLDER
    from app import resources
    shutil.rmtree(store_root(resources.workspace()) / FOLDER, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=str(ROOT / "sample_data" / "lastmile.toml"))
    ap.add_argument("--model", default="credit_default")
    ap.add_argument("--pages", default="", help="comma-separated pages to time cold and warm (default: every page)")
    ap.add_argument("--no-filter-change", action="store_true", help="time first renders only")
    ap.add_argument("--forget", action="store_true",
                    help="delete the store's remembered answers (answers/ in the store's folder) before each cold "
                         "page: cold as on a store just refreshed (use only on a store of your own)")
    ap.add_argument("--fresh", action="store_true",
                    help="delete the store's remembered answers once, before the precompute: every answer a cold "
                         "page reads was computed by the dashboard's precompute (use only on a store of your own)")
    ap.add_argument("--no-precompute", action="store_true",
                    help="do not compute the pages' default answers ahead (LASTMILE_PRECOMPUTE=0)")
    ap.add_argument("--all-versions", action="store_true",
                    help="time the filter change for every version and pair of versions; print the worst per page")
    args = ap.parse_args()
    os.environ["LASTMILE_CONFIG"] = str(Path(args.config).resolve())
    # ahead: the warm-up page starts the precompute (app/precompute.py), waited for below
    ahead = not (args.forget or args.no_precompute)
    os.environ["LASTMILE_PRECOMPUTE"] = "1" if ahead else "0"
    import logging

    import streamlit as st
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")

    # warm the process: imports, workspace, engine connections (not counted)
    if args.forget or args.fresh:
        forget_answers()
    c0, t0 = time.process_time(), time.perf_counter()
    first = session(args.model)
    # the server's first page waits for what it shares with the computing ahead: at 20M rows on
    # a store without remembered answers that is minutes, past AppTest's 300 s default
    first.run(timeout=3600)
    print(f"server's first page (portfolio, while it starts computing ahead): {time.perf_counter() - t0:.1f} s, "
          f"{time.process_time() - c0:.1f} CPU s", flush=True)
    if ahead:
        from concurrent.futures import wait
        from app import resources
        wait(resources._home(*resources.ws_key(), resources._generation[0]))
        print(f"precompute (first page + every page's default answers, every model): "
              f"{time.perf_counter() - t0:.1f} s, {time.process_time() - c0:.1f} CPU s")
    floor = library_floor(args.model)

    mode = ("after the precompute" + (" on a store without remembered answers" if args.fresh else "")) if ahead else ("remembered answers forgotten" if args.forget else
                                                "remembered answers kept, no precompute")
    print(f"workspace {args.config}, model {args.model}; cold: {mode}; "
          f"one compute_metrics call (volume): {floor:.3f} s; "
          f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{'page':<12} {'cold s':>8} {'cold CPU':>9} {'warm s':>8} {'target':>7} {'cold/target':>12} {'cold/call':>10}")
    worst = 0.0
    for page in (args.pages.split(",") if args.pages else PAGES):
        st.cache_data.clear()
        if args.forget:
            forget_answers()
        at = session(args.model)
        cold, cpu = open_page(at, page)
        if at.exception:
            print(f"{page}: error {at.exception[0].value}")
            return 1
        warm, _ = open_page(session(args.model), page)
        worst = max(worst, cold / FIRST_RENDER_TARGET)
        print(f"{page:<12} {cold:8.2f} {cpu:9.2f} {warm:8.2f} {FIRST_RENDER_TARGET:7.1f} "
              f"{cold / FIRST_RENDER_TARGET:12.2f} {cold / floor:10.1f}")

    print()
    if args.no_filter_change:
        return 0
    choices = [["v2"]]
    if args.all_versions:   # every version and every pair of versions: the worst case per page
        from analytics.log.engine import Engine
        from analytics.config.workspace import load_workspace
        versions = list(Engine(load_workspace(args.config)).versions(args.model))
        choices = [[v] for v in versions] + [list(p) for p in itertools.combinations(versions, 2)]
    label = "filter change (version v2)" if not args.all_versions else \
        f"filter change (worst of {len(choices)} version choices)"
    print(f"{label:<44} {'s':>6} {'CPU s':>6} {'target':>7} {'ratio':>7} {'/call':>6}")
    for page in ("overview", "segments", "drift", "quality", "operations", "value", "explore"):
        worst_dt, worst_choice, worst_cpu = 0.0, None, 0.0
        for choice in choices:
            at = session(args.model)
            open_page(at, page)
            at.multiselect(key="flt_versions").set_value(choice)
            dt, cpu = timed(at.run)
            if dt > worst_dt:
                worst_dt, worst_choice, worst_cpu = dt, choice, cpu
        name = page if not args.all_versions else f"{page} ({'+'.join(worst_choice)})"
        print(f"{name:<44} {worst_dt:6.2f} {worst_cpu:6.2f} {FILTER_CHANGE_TARGET:7.1f} {worst_dt / FILTER_CHANGE_TARGET:7.2f} "
              f"{worst_dt / floor:6.1f}")
    print(f"\nworst first render / target: {worst:.2f}; load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
