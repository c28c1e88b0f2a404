"""What the speed scripts share: cached sample logs, and one side of a comparison
run in its own process so that its peak memory is its own.

Each script answers one question twice (Lastmile, and a plain pandas/numpy/scipy
baseline), each side in a child process started with ``python <script> <args>``
that writes its answer as JSON; the parent reads it back with the child's peak
resident memory and CPU seconds from ``os.wait4`` (native memory included).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"   # git-ignored
MODEL = "credit_default"
SEED = 7

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def sample_workspace(credit_rows: int) -> Path:
    """The sample workspace with about ``credit_rows`` credit_default predictions
    (generated once into ``bench/results/sample_<rows>``, then reused)."""
    from analytics.sample import MODEL_SHARES, generate

    folder = RESULTS / f"sample_{credit_rows}"
    config = folder / "lastmile.toml"
    if not config.is_file():
        print(f"generating {credit_rows:,} {MODEL} rows into {folder} ...", flush=True)
        t0 = time.perf_counter()
        generate(folder, rows=round(credit_rows / MODEL_SHARES[MODEL]), seed=SEED)
        print(f"generated in {time.perf_counter() - t0:.0f} s", flush=True)
    return config


def run_child(args: Sequence[str], out: Path) -> dict:
    """Run ``python <args>``, which writes its JSON answer to ``out``; return that answer
    with ``peak_mb`` (the child's peak resident memory) and ``cpu`` (its user + system
    seconds)."""
    proc = subprocess.Popen([sys.executable, *map(str, args)])
    _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise SystemExit(f"{' '.join(map(str, args))} failed (exit {code})")
    res = json.loads(Path(out).read_text())
    res["peak_mb"] = usage.ru_maxrss / 1024   # Linux: kilobytes
    res["cpu"] = usage.ru_utime + usage.ru_stime
    return res
