"""Speed of the executive PDF report: one model of the bundled sample workspace.

Target: a one-model report (``credit_default``, charts on, A4) in 10 s at most.
Prints the wall time of each run and its split -- building the sections
(queries; the chart browser draws and the typesetting helper typesets the
method notes and each finished chapter meanwhile), and finishing the PDF (the
last parts, page numbers, joining) -- and, as a ratio,
the report's time against one ``compute_metrics`` call over the same period
measured in the same process (the cost of the single table ``lastmile metrics``
prints; the report asks the library for a few dozen such answers).

    .venv/bin/python bench/bench_report.py                 # sample_data/, credit_default
    .venv/bin/python bench/bench_report.py --model delivery_eta --runs 3 --no-charts
    .venv/bin/python bench/bench_report.py --helpers 0       # typeset in the report's process

The first run includes one-off costs (imports, Parquet metadata, connections);
later runs are what a scheduler producing several reports sees.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_S = 10.0


def main() -> int:
    from analytics.log.engine import Engine
    from analytics.metrics.compute import compute_metrics
    from analytics.render.report import Timings, build_report, model_input
    from analytics.render.report.svg import ChartSet
    from analytics.config.workspace import SAMPLE_CONFIG, load_workspace

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default=str(SAMPLE_CONFIG), help="workspace (default: the bundled sample)")
    p.add_argument("--model", default="credit_default")
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--no-charts", action="store_true")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "report.pdf"))
    p.add_argument("--no-snapshot", action="store_true",
                   help="query the files every time (the CLI and the app snapshot small logs)")
    p.add_argument("--no-cli", action="store_true", help="skip timing `lastmile report` in a fresh process")
    p.add_argument("--cli-runs", type=int, default=3, help="fresh `lastmile report` processes to time")
    p.add_argument("--helpers", type=int, default=None,
                   help="typesetting helper processes (default: the report's own choice; 0: none)")
    args = p.parse_args()

    # as `lastmile report` and the dashboard build it
    engine = Engine(load_workspace(args.config), snapshot=not args.no_snapshot)
    print(f"{args.model} from {args.config}; charts {'off' if args.no_charts else 'on'}; "
          f"snapshot {'off' if args.no_snapshot else 'on'}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    totals = []
    for i in range(args.runs):
        t = Timings()
        t0 = time.perf_counter()
        pdf = build_report(engine, args.model, charts=not args.no_charts, timings=t, typeset_helpers=args.helpers)
        total = time.perf_counter() - t0
        totals.append(total)
        print(f"run {i + 1}: {total:6.2f} s  (sections, with charts and chapters typeset meanwhile {t.queries:5.2f} s, "
              f"finishing the PDF {t.pdf:5.2f} s; {len(pdf) / 1024:,.0f} KiB)")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_bytes(pdf)

    # the baseline: one registry pass over the report period, same process, warm
    mi = model_input(engine, engine.spec(args.model), ChartSet(enabled=False), None)
    t0 = time.perf_counter()
    compute_metrics(engine, mi.selection)
    one = time.perf_counter() - t0
    best = min(totals)
    print(f"baseline: one compute_metrics over {mi.selection.describe()}: {one:.2f} s")
    print(f"best report {best:.2f} s = {best / one:.1f}x one metrics query; target {TARGET_S:.0f} s: "
          f"{'met' if best <= TARGET_S else 'NOT met'}; PDF written to {args.out}")
    print(f"first report of this process (one-off imports of WeasyPrint, plotly, kaleido, scipy): "
          f"{totals[0]:.2f} s; target {TARGET_S:.0f} s: {'met' if totals[0] <= TARGET_S else 'NOT met'}")
    if not args.no_cli:
        cmd = [sys.executable, "-m", "analytics.cli", "report", "--config", args.config, "--model", args.model,
               "-o", str(Path(args.out).with_suffix(".cli.pdf"))] + (["--no-charts"] if args.no_charts else [])
        times = []
        for _ in range(args.cli_runs):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
            times.append(time.perf_counter() - t0)
        worst = max(times)
        print(f"`lastmile report` in a fresh process (interpreter start, every import, the report): "
              f"{', '.join(f'{x:.2f}' for x in times)} s; worst {worst:.2f} s; target {TARGET_S:.0f} s: "
              f"{'met' if worst <= TARGET_S else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
