"""Label-free estimation for every week of the sample against one `lastmile metrics --by period`.

For each model of the bundled sample workspace (150,000 predictions), two questions
over all of its data, by week:

* ``lastmile metrics --model M --by period`` (the baseline: every metric per week);
* ``lastmile estimate --model M --by period`` (every estimable metric per week, with
  the calibration or the error model fitted on the reference, the realized values
  for the backtest, and the guard).

Each runs as a fresh process (``--format json``, the command's whole cost: start-up,
imports, the snapshot of the log, queries, output), alternately, ``--repeat`` times
(default 3); the medians and their ratio are printed, and the in-process times (a
fresh engine each, after the imports) as a second view. Target: estimate <= 2 x
metrics. The machine's load (``uptime``) is printed before and after: note it with
the figures. Usage: ``python bench/bench_estimate.py [--repeat N]``.
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
MODELS = ("credit_default", "ticket_router", "delivery_eta")
TARGET = 2.0


def lastmile(*args: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-c", "from analytics.cli import run; run()", *args, "--format", "json"]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, cwd=str(ROOT))
    return time.perf_counter() - t


def in_process(model: str) -> tuple[float, float]:
    from analytics.analyses.estimate import estimate_performance
    from analytics.engine import Engine
    from analytics.metrics import compute_metrics
    from analytics.selection import Grouping, Selection
    from analytics.workspace import SAMPLE_CONFIG, load_workspace

    ws = load_workspace(SAMPLE_CONFIG)
    weekly = Grouping(by=("period",))
    e1 = Engine(ws, snapshot=True)
    t = time.perf_counter()
    compute_metrics(e1, Selection.build(model), weekly)
    m = time.perf_counter() - t
    e2 = Engine(ws, snapshot=True)
    t = time.perf_counter()
    estimate_performance(e2, Selection.build(model), weekly)
    return m, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print("load before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    # warm the imports and the OS file cache once
    in_process(MODELS[0])
    print(f"{'model':16} {'metrics (s)':>12} {'estimate (s)':>13} {'ratio':>6}   in-process metrics / estimate / ratio")
    worst = 0.0
    for model in MODELS:
        ms, es, ims, ies = [], [], [], []
        for _ in range(args.repeat):
            ms.append(lastmile("metrics", "--model", model, "--by", "period"))
            es.append(lastmile("estimate", "--model", model, "--by", "period"))
            a, b = in_process(model)
            ims.append(a)
            ies.append(b)
        m, e = statistics.median(ms), statistics.median(es)
        im, ie = statistics.median(ims), statistics.median(ies)
        worst = max(worst, e / m)
        print(f"{model:16} {m:12.2f} {e:13.2f} {e / m:6.2f}   {im:.2f} / {ie:.2f} / {ie / im:.2f}")
    print(f"worst ratio {worst:.2f} (target <= {TARGET:g}): {'met' if worst <= TARGET else 'NOT met'}")
    print("load after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
