"""Data-quality speed: every quality check for every week of the bundled sample against
one ``lastmile metrics --by period`` call (target: at most 1.5x).

Two measures per model, each the median of ``--repeat`` runs:

* *command*: ``lastmile quality --model M --format json`` against ``lastmile metrics
  --model M --by period --format json``, each a fresh process (what a scheduler pays);
* *in process*: :func:`run_quality` (period week) against :func:`compute_metrics` by
  period, on one warm engine (the log snapshot built once), what the dashboard pays.

Prints the times, the ratios and ``uptime`` (the machine is shared: note the load).
Usage: ``python bench/bench_quality.py [--config PATH] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET = 1.5
MODELS = ("credit_default", "ticket_router", "delivery_eta")


def _command(args: list[str], config: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from analytics.cli import run; run()", *args, "--config", config,
                    "--format", "json"],
                   check=False, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t


def _median(fn, n: int) -> float:
    return statistics.median(fn() for _ in range(n))


def main() -> None:
    from analytics.analyses.quality.compute import run_quality
    from analytics.config.workspace import SAMPLE_CONFIG, load_workspace
    from analytics.log.engine import Engine
    from analytics.metrics.compute import compute_metrics
    from analytics.query.selection import Grouping, Selection

    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default=str(SAMPLE_CONFIG))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-commands", action="store_true", help="only the in-process measures")
    a = ap.parse_args()
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    engine = Engine(load_workspace(a.config), snapshot=True)
    rows = []
    for m in MODELS:
        q_cmd = m_cmd = float("nan")
        if not a.no_commands:
            q_cmd = _median(lambda: _command(["quality", "--model", m], a.config), a.repeat)
            m_cmd = _median(lambda: _command(["metrics", "--model", m, "--by", "period"], a.config), a.repeat)
        compute_metrics(engine, Selection.build(m), Grouping(by=("period",)))   # the snapshot, compiled once
        run_quality(engine, m)
        q_in = _median(lambda: _timed(lambda: run_quality(engine, m)), a.repeat)
        m_in = _median(lambda: _timed(lambda: compute_metrics(engine, Selection.build(m), Grouping(by=("period",)))),
                       a.repeat)
        rows.append((m, q_cmd, m_cmd, q_in, m_in))
    print(f"{'model':16} {'quality cmd':>12} {'metrics cmd':>12} {'ratio':>6}   {'quality in':>10} "
          f"{'metrics in':>10} {'ratio':>6}")
    for m, qc, mc, qi, mi in rows:
        print(f"{m:16} {qc:11.2f}s {mc:11.2f}s {qc / mc:6.2f}   {qi:9.2f}s {mi:9.2f}s {qi / mi:6.2f}")
    worst = max(max(x for x in (qc / mc, qi / mi) if x == x) for _, qc, mc, qi, mi in rows)
    print(f"worst ratio {worst:.2f} (target <= {TARGET})")
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


def _timed(fn) -> float:
    """Wall seconds; with ``LASTMILE_BENCH_CPU=1`` this process's CPU seconds (every thread:
    DuckDB's too), steadier than wall time on a loaded machine."""
    clock = time.process_time if os.environ.get("LASTMILE_BENCH_CPU") else time.perf_counter
    t = clock()
    fn()
    return clock() - t


if __name__ == "__main__":
    main()
