"""Fuzz: small logs of random shapes never make a command crash, hang or print a trace.

Hypothesis writes tiny binary workspaces with the awkward things production logs
hold: nulls anywhere, repeated ids, timestamps from year 1 to 9999 and time-zone-aware
ones, NaN and out-of-range scores, labels outside the classes, a column whose type
differs across files, and unicode, HTML and spreadsheet-formula text in names and
values. Every command then ends in a documented exit status (0; 2 for bad input;
3 or 4 from ``check``) with, on failure, one ``error:`` line on stderr: never exit 1
("internal error"), never a traceback, never a hang (an alarm stops a command that
runs too long, and the test fails).

The examples are derandomized (the same on every machine and run), so a failure
reproduces; raise ``LASTMILE_FUZZ_EXAMPLES`` to search longer locally.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from analytics.cli import main
from .factories import write_toml


EXAMPLES = int(os.environ.get("LASTMILE_FUZZ_EXAMPLES", "12"))
COMMAND_SECONDS = 60

#: Text that has broken tools before: markup, formulas, quotes, SQL, unicode, dashes.
NASTY = ["EU", "<b>x</b>", "<img src=x onerror=alert(1)>", '=HYPERLINK("http://x")', "a--b",
         "it's; \"odd\"", "'; DROP TABLE t; --", "Zürich ✓", "名前", "", " ", "NULL", "@SUM(1)"]

TIMES = [dt.datetime(2026, 3, 2), dt.datetime(2026, 3, 9, 12), dt.datetime(2026, 4, 1),
         dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59), dt.datetime(1970, 1, 1),
         dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc), None]

SCORES = [0.1, 0.5, 0.9, 0.0, 1.0, 0.5, float("nan"), float("inf"), -0.2, 1.7, None]
LABELS = [0, 1, 1, 0, 2, -1, None]

row = st.fixed_dictionaries({
    "id": st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h"]),
    "ts": st.sampled_from(TIMES),
    "version": st.sampled_from(["v1", "v2", None, "<i>v3</i>"]),
    "score": st.sampled_from(SCORES),
    "label": st.sampled_from(LABELS),
    "segment": st.sampled_from(NASTY + [None]),
    "feature": st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=64),
                         st.sampled_from([0.0, 1.0, 1e300, -1e300])),
})

shape = st.fixed_dictionaries({
    "rows": st.lists(row, min_size=0, max_size=40),
    "files": st.integers(1, 3),
    "string_score_in_last_file": st.booleans(),
    "outcomes_apart": st.booleans(),
    "segment_name": st.sampled_from(["region", "<b>seg</b>", "=cmd|' /C calc'!A0", "a--b", "Région"]),
    "feature_name": st.sampled_from(["income", "<a href='x'>f</a>", "+1", "f-1"]),
    "description": st.sampled_from(["plain", "![x](http://example.invalid/a.png)", "<script>alert(1)</script>"]),
})


def _ts_array(values) -> pa.Array:
    aware = [v for v in values if v is not None and v.tzinfo is not None]
    if aware:  # one file is time-zone aware: every value converted to UTC there
        return pa.array([v if v is None or v.tzinfo else v.replace(tzinfo=dt.timezone.utc) for v in values],
                        type=pa.timestamp("us", tz="UTC"))
    return pa.array(values, type=pa.timestamp("us"))


def write_workspace(folder: Path, s: dict) -> Path:
    """Write the drawn shape as a one-model workspace; return its lastmile.toml."""
    rows = s["rows"]
    (folder / "pred").mkdir(parents=True, exist_ok=True)
    (folder / "out").mkdir(parents=True, exist_ok=True)
    seg, feat = s["segment_name"], s["feature_name"]
    chunks = np.array_split(np.arange(len(rows)), s["files"]) if rows else [np.arange(0)]
    for i, idx in enumerate(chunks):
        part = [rows[j] for j in idx]
        cols = {
            "pid": pa.array([r["id"] for r in part], pa.string()),
            "ts": _ts_array([r["ts"] for r in part]),
            "ver": pa.array([r["version"] for r in part], pa.string()),
            seg: pa.array([r["segment"] for r in part], pa.string()),
            feat: pa.array([r["feature"] for r in part], pa.float64()),
        }
        score = [r["score"] for r in part]
        if s["string_score_in_last_file"] and i == len(chunks) - 1 and i > 0:
            cols["score"] = pa.array([None if v is None else str(v) for v in score], pa.string())
        else:
            cols["score"] = pa.array(score, pa.float64())
        if not s["outcomes_apart"]:
            cols["y"] = pa.array([r["label"] for r in part], pa.int64())
        pq.write_table(pa.table(cols), folder / "pred" / f"part-{i}.parquet")
    model = {
        "name": "fuzzed", "task": "binary", "description": s["description"],
        "predictions": "pred/*.parquet",
        "columns": {"id": "pid", "timestamp": "ts", "version": "ver", "score": "score", "label": "y",
                    "segments": [seg], "features": [feat]},
        "business": {"tp": 10.0, "fp": -2.0, "fn": -5.0, "tn": 0.0, "cost_per_1k": 0.5},
    }
    if s["outcomes_apart"]:
        out = pa.table({"pid": pa.array([r["id"] for r in rows], pa.string()),
                        "y": pa.array([r["label"] for r in rows], pa.int64())})
        pq.write_table(out, folder / "out" / "part-0.parquet")
        model["outcomes"] = "out/*.parquet"
    return write_toml(folder / "lastmile.toml", [model])


class Hang(Exception):
    pass


@contextmanager
def alarm(seconds: int):
    def on_alarm(signum, frame):
        raise Hang(f"a command ran for more than {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


COMMANDS = [
    (["validate"], {0, 2}),
    (["metrics", "--model", "fuzzed", "--by", "version", "--by", "period"], {0, 2}),
    (["metrics", "--model", "fuzzed", "--by", "{seg}", "--format", "csv"], {0, 2}),
    (["segments", "--model", "fuzzed", "--metric", "roc_auc", "--min-support", "1"], {0, 2}),
    (["drift", "--model", "fuzzed", "--format", "json"], {0, 2}),
    (["roi", "--model", "fuzzed", "--by", "version"], {0, 2}),
    (["compare", "--model", "fuzzed", "--baseline", "v1", "--candidate", "v2"], {0, 2}),
    (["estimate", "--model", "fuzzed", "--by", "period", "--format", "json", "--backtest"], {0, 2}),
    (["check", "--format", "json"], {0, 2, 3, 4}),
]


def run_all(capsys, config: Path, seg: str) -> None:
    """Every command on the workspace; ``{seg}`` in a command stands for the segment column."""
    for argv, allowed in COMMANDS:
        argv = [seg if a == "{seg}" else a for a in argv]
        with alarm(COMMAND_SECONDS):
            try:
                code = main([*argv, "--config", str(config)])
            except SystemExit as exc:  # argparse: a usage error is exit 2
                code = exc.code
        out, err = capsys.readouterr()
        where = f"lastmile {' '.join(argv)}: exit {code}\nstderr: {err}"
        assert code in allowed, where
        assert "Traceback" not in err and "internal error" not in err, where
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        if code == 2 and argv[0] == "check" and not errors:  # a model whose logs cannot be read
            import json
            statuses = [m["status"] for m in json.loads(out)["models"]]
            assert "error" in statuses, where
        elif code == 2 and argv[0] != "validate":  # validate lists its problems on stdout
            assert len(errors) == 1, where
        others = [line for line in err.splitlines()
                  if line and not line.startswith(("error:", "warning:", "note:"))]
        assert not others, where


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure prints its example
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(s=shape)
def test_no_log_shape_crashes_a_command(s, tmp_path_factory, capsys):
    folder = tmp_path_factory.mktemp("fuzz")
    run_all(capsys, write_workspace(folder, s), s["segment_name"])


@pytest.mark.parametrize("case", ["empty", "one_row", "all_null_ts"])
def test_degenerate_logs(case, tmp_path, capsys):
    """The smallest shapes: no rows, one row, rows with no timestamp at all."""
    base = {"id": "a", "ts": dt.datetime(2026, 3, 2), "version": "v1", "score": 0.4, "label": 1,
            "segment": "EU", "feature": 1.0}
    rows = {"empty": [], "one_row": [base], "all_null_ts": [dict(base, ts=None), dict(base, id="b", ts=None)]}[case]
    s = {"rows": rows, "files": 1, "string_score_in_last_file": False, "outcomes_apart": False,
         "segment_name": "region", "feature_name": "income", "description": "plain"}
    run_all(capsys, write_workspace(tmp_path, s), "region")
