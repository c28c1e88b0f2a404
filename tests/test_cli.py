"""The `lastmile` command: exit codes, one-sentence errors, validate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
import pyarrow.parquet as pq

from analytics.cli import main
from .factories import make_workspace
from .test_workspace import BROKEN



def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_passes_on_a_clean_workspace(tmp_path, capsys):
    g = make_workspace(tmp_path, "binary", n=200)
    code, out, err = run(capsys, "validate", "--config", str(g.config))
    assert code == 0, err
    assert "all checks passed" in out and "binary_model" in out and "200 predictions" in out


def test_validate_lists_every_problem_of_a_broken_workspace(tmp_path, capsys):
    cfg = tmp_path / "lastmile.toml"
    cfg.write_text(BROKEN)
    code, out, _ = run(capsys, "validate", "--config", str(cfg), "--format", "json")
    assert code == 2
    doc = json.loads(out)
    assert doc["ok"] is False and len(doc["config_problems"]) == 13


def test_validate_lists_row_defects_with_counts(tmp_path, capsys):
    g = make_workspace(tmp_path, "binary", n=300, nan_scores=4, unmatched_outcomes=3, duplicate_outcomes=2)
    code, out, _ = run(capsys, "validate", "--config", str(g.config), "--format", "json")
    assert code == 2
    m = json.loads(out)["models"]["binary_model"]
    assert any(p.startswith("Model 'binary_model': 4 scores in 'score' are NaN") for p in m["problems"])
    assert any("3 outcomes match no prediction" in p for p in m["problems"])
    assert any("2 ids have several outcomes" in n for n in m["notes"])


def test_validate_names_a_corrupt_file_and_carries_on(tmp_path, capsys):
    g = make_workspace(tmp_path, "binary", n=100, files=3)
    (tmp_path / "pred" / "part-1.parquet").write_bytes(b"garbage")
    code, out, _ = run(capsys, "validate", "--config", str(g.config))
    assert code == 2 and "part-1.parquet" in out and "not a readable Parquet file" in out


def test_validate_reports_mistyped_columns(tmp_path, capsys):
    g = make_workspace(tmp_path, "binary", n=50)
    t = pq.read_table(tmp_path / "pred" / "part-0.parquet")
    t = t.set_column(t.schema.get_field_index("score"), "score", pa.array(["x"] * t.num_rows))
    pq.write_table(t, tmp_path / "pred" / "part-0.parquet")
    code, out, _ = run(capsys, "validate", "--config", str(g.config), "--format", "csv")
    assert code == 2
    assert "column 'score' (score) in the predictions of model 'binary_model' has type string" in out


def test_errors_are_one_sentence_on_stderr_with_exit_2(tmp_path, capsys):
    code, out, err = run(capsys, "validate", "--config", str(tmp_path / "missing.toml"), "--format", "json")
    # validate reports a missing workspace as its problem
    assert code == 2 and "not found" in out
    code, out, err = run(capsys, "generate", "--rows", "0", "--out", str(tmp_path / "g"))
    assert code == 2 and out == "" and err.startswith("error: --rows must be at least 1000")
    assert len(err.strip().splitlines()) == 1


def test_console_script_never_prints_a_traceback(tmp_path):
    cfg = tmp_path / "lastmile.toml"
    cfg.write_text("[[models]\n")
    exe = Path(sys.executable).with_name("lastmile")
    r = subprocess.run([str(exe), "serve", "--config", str(cfg)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "not valid TOML" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_serve_becomes_streamlit_and_stops_on_sigterm(tmp_path):
    """`lastmile serve` replaces itself with Streamlit: SIGTERM to the pid it started stops the server."""
    import os
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    g = make_workspace(tmp_path, "binary", n=50)
    exe = Path(sys.executable).with_name("lastmile")
    proc = subprocess.Popen([str(exe), "serve", "--config", str(g.config), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError("the dashboard did not come up")
        with open(f"/proc/{proc.pid}/cmdline", "rb") as f:
            assert b"streamlit" in f.read()            # the same pid is now Streamlit
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) is not None
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_command_line_loads_only_its_command(tmp_path):
    """`lastmile report ...` parses with the report's module alone, so it starts before the library's
    heavy imports (Ibis, scipy, plotly); help and typos still see every command."""
    code = ("import sys; from analytics.cli import build_parser, command_names\n"
            "p = build_parser(['report'])\n"
            "sub = next(a for a in p._actions if a.dest == 'command')\n"
            "print(sorted(sub.choices), [m for m in ('ibis', 'scipy', 'plotly', 'duckdb') if m in sys.modules])\n"
            "print(sorted(next(a for a in build_parser([])._actions if a.dest == 'command').choices) == command_names())")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       cwd=Path(__file__).resolve().parent.parent)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["['report'] []", "True"]


def test_the_executable_flushes_its_output_and_exit_status(tmp_path):
    """The executable ends without tearing the interpreter down (analytics.cli.run): what it
    printed must still arrive, with the command's exit status."""
    g = make_workspace(tmp_path, "binary", n=200)
    exe = Path(sys.executable).with_name("lastmile")
    ok = subprocess.run([str(exe), "validate", "--config", str(g.config)], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "all checks passed" in ok.stdout, ok.stderr
    bad = subprocess.run([str(exe), "metrics", "--config", str(g.config), "--model", "nope"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "nope" in bad.stderr
