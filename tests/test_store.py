"""The incremental store (analytics/store): refreshes after every kind of change give
the raw logs' answers, to 1e-12, through the whole command surface; kills, races,
readers and damage leave it usable; the logs are never touched."""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from analytics.cli import main
from analytics.log.engine import Engine
from analytics.store import manifest as mf
from analytics.config.store import store_root
from analytics.store import open_engine, refresh, store_info
from analytics.store.manifest import StoreBusyError
from analytics.config.workspace import load_workspace

from .factories import START, make_workspace

TOL = 1e-12
BUSINESS = {"currency": "EUR", "tp": 120.0, "fp": -15.0, "fn": -60.0, "tn": 0.0}
NOW = "2026-05-01"


def commands(model: str = "binary_model") -> list[list[str]]:
    """The command surface, each with --format json."""
    m = ["--model", model]
    return [
        ["metrics", *m, "--by", "version", "--by", "period"],
        ["segments", *m, "--no-pairs"],
        ["compare", *m, "--baseline", "v1", "--candidate", "v2"],
        ["drift", *m],
        ["roi", *m, "--by", "version"],
        ["check", "--now", NOW],
    ]


def run_json(capsys, config: Path, argv: list[str], store: bool) -> tuple[int, object]:
    code = main([*argv, "--config", str(config), "--format", "json"] + ([] if store else ["--no-store"]))
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip() else None)


def close(a, b, path="") -> None:
    """``a`` equals ``b``: every key and value, floats to TOL (absolute or relative)."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), (path, a, b)
        if math.isnan(a) and math.isnan(b):
            return
        assert abs(a - b) <= TOL * max(1.0, abs(a), abs(b)), (path, a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (path, sorted(a), sorted(b) if isinstance(b, dict) else b)
        for k in a:
            close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), (path, len(a), b if not isinstance(b, list) else len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            close(x, y, f"{path}[{i}]")
    else:
        assert a == b, (path, a, b)


def assert_same_answers(capsys, config: Path, argvs: list[list[str]] | None = None) -> None:
    """Every command answers the same from the store as from the raw logs, and the
    store was really read."""
    ws = load_workspace(config)
    eng = open_engine(ws)
    for spec in ws.models:
        assert eng.stored(spec) is not None, f"the store does not serve {spec.name}"
    for argv in commands() if argvs is None else argvs:
        a = run_json(capsys, config, argv, store=True)
        b = run_json(capsys, config, argv, store=False)
        assert a[0] == b[0], argv
        close(a[1], b[1], " ".join(argv[:1]))


def log_digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (the logs and the workspace file) and its hash."""
    return {str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


#: A cheaper check, where the full surface is tested elsewhere.
SOME = [["metrics", "--model", "binary_model", "--by", "version", "--by", "period"],
        ["drift", "--model", "binary_model"]]


def actions(res) -> dict[str, str]:
    return {m.model: m.action for m in res.models}


@pytest.fixture
def ws_dir(tmp_path):
    """A binary workspace whose predictions are 4 files (by time) and whose outcomes
    are 2 files: the second (late labels for old days, and corrections) is held back."""
    folder = tmp_path / "ws"
    make_workspace(folder, "binary", n=2400, seed=3, duplicate_outcomes=30, files=4, business=BUSINESS)
    out = pq.read_table(folder / "out" / "part-0.parquet")
    n = out.num_rows
    ids = out["pid"].to_pylist()   # ids follow time: the first 600 predictions span the first two weeks
    late = pa.array([i % 3 == 0 and ids[i] < "p0000600" for i in range(n)])
    pq.write_table(out.filter(pc.invert(late)), folder / "out" / "part-0.parquet")
    pq.write_table(out.filter(late), folder / "held-out-late.parquet")
    pred3 = folder / "pred" / "part-3.parquet"
    shutil.move(pred3, folder / "held-pred-3.parquet")
    return folder


def _append_days(ws_dir, config):
    shutil.move(ws_dir / "held-pred-3.parquet", ws_dir / "pred" / "part-3.parquet")


def _late_outcomes(ws_dir, config):
    # labels of old days (and corrections of earlier labels) arrive
    shutil.move(ws_dir / "held-out-late.parquet", ws_dir / "out" / "part-1.parquet")


def _rewrite_and_delete(ws_dir, config):
    p1 = ws_dir / "pred" / "part-1.parquet"   # other scores, fewer rows
    t = pq.read_table(p1)
    t = t.set_column(t.schema.get_field_index("score"), "score", pc.multiply(t["score"], 0.9)).slice(0, 400)
    pq.write_table(t, p1)
    (ws_dir / "pred" / "part-2.parquet").unlink()


def _change_workspace(ws_dir, config):
    text = config.read_text().replace('segments = ["region", "channel"]', 'segments = ["region"]')
    config.write_text(text.replace("[models.business]", "[models.business]\nthreshold = 0.3"))


def _delete_outcomes(ws_dir, config):
    (ws_dir / "out" / "part-0.parquet").unlink()
    shutil.move(ws_dir / "held-out-late.parquet", ws_dir / "out" / "part-1.parquet")


CHANGES = {
    "appended days": (_append_days, "updated"),
    "late outcomes": (_late_outcomes, "updated"),
    "rewritten and deleted prediction files": (_rewrite_and_delete, "updated"),
    "changed workspace": (_change_workspace, "rebuilt"),
    "deleted outcome file": (_delete_outcomes, "rebuilt"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_refresh_after_a_change_answers_as_the_raw_logs(ws_dir, capsys, change):
    config = ws_dir / "lastmile.toml"
    assert actions(refresh(load_workspace(config))) == {"binary_model": "built"}
    assert actions(refresh(load_workspace(config))) == {"binary_model": "unchanged"}
    apply, expected = CHANGES[change]
    apply(ws_dir, config)
    if change != "changed workspace":
        assert open_engine(load_workspace(config)).stored("binary_model") is None   # stale: the raw logs answer
    res = refresh(load_workspace(config))
    assert actions(res) == {"binary_model": expected}, res.models
    if expected == "updated":   # only the days concerned were written
        assert 0 < res.models[0].days < 20
    assert_same_answers(capsys, config)


def test_logs_are_never_written_and_nothing_lands_beside_them(ws_dir):
    config = ws_dir / "lastmile.toml"
    before = log_digest(ws_dir)
    refresh(load_workspace(config))
    shutil.move(ws_dir / "held-out-late.parquet", ws_dir / "out" / "part-1.parquet")
    before["out/part-1.parquet"] = before.pop("held-out-late.parquet")
    refresh(load_workspace(config))
    assert log_digest(ws_dir) == before
    root = store_root(load_workspace(config))
    assert ws_dir not in root.parents


def test_store_path_inside_a_log_folder_is_refused(ws_dir):
    config = ws_dir / "lastmile.toml"
    config.write_text(config.read_text() + '\n[store]\npath = "pred/store"\n')
    with pytest.raises(mf.StoreError, match="inside the log folder"):
        refresh(load_workspace(config))
    assert not (ws_dir / "pred" / "store").exists()


def test_store_section_is_validated_with_did_you_mean(tmp_path):
    from analytics.errors import ConfigError

    g = make_workspace(tmp_path, "binary", n=300, seed=1)
    g.config.write_text(g.config.read_text() + "\n[store]\nrefresh_second = 5\n")
    with pytest.raises(ConfigError, match="did you mean 'refresh_seconds'"):
        load_workspace(g.config)
    g.config.write_text(g.config.read_text().replace("refresh_second = 5", "refresh_seconds = -1"))
    with pytest.raises(ConfigError, match="refresh_seconds"):
        load_workspace(g.config)
    g.config.write_text(g.config.read_text().replace("refresh_seconds = -1", 'path = "elsewhere"'))
    ws = load_workspace(g.config)
    assert ws.store.path == str(tmp_path / "elsewhere")
    assert store_root(ws) == tmp_path / "elsewhere"


def test_store_info_and_refresh_commands(ws_dir, capsys):
    config = ws_dir / "lastmile.toml"
    assert main(["store", "info", "--config", str(config), "--format", "json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["models"][0]["status"] == "not stored"
    assert main(["refresh", "--config", str(config), "--format", "json"]) == 0
    cap = capsys.readouterr()
    res = json.loads(cap.out)
    assert res["models"][0]["action"] == "built" and res["models"][0]["rows_written"] > 0
    assert "rows written" in cap.err   # progress on stderr
    assert main(["store", "info", "--config", str(config), "--format", "json"]) == 0
    info = json.loads(capsys.readouterr().out)
    m = info["models"][0]
    assert m["status"] == "fresh" and m["rows"] == res["models"][0]["rows_written"] and m["bytes"] > 0
    shutil.move(ws_dir / "held-pred-3.parquet", ws_dir / "pred" / "part-3.parquet")
    main(["store", "info", "--config", str(config), "--format", "json"])
    m = json.loads(capsys.readouterr().out)["models"][0]
    assert m["status"] == "stale" and "prediction files" in m["reason"]


# ------------------------------------------------------------------ failures and races


#: The command line in a fresh process.
CLI = "import sys; from analytics.cli import main; sys.exit(main(sys.argv[1:]))"

KILL_AT = textwrap.dedent("""
    import os, signal, sys
    from analytics.store import manifest as mf
    from analytics.config.workspace import load_workspace
    from analytics.store import refresh
    where = sys.argv[2]
    real_write, real_replace = mf.write, os.replace
    if where == "before-commit":
        mf.write = lambda root, m: os.kill(os.getpid(), signal.SIGKILL)
    elif where == "during-commit":
        def replace(a, b):
            os.kill(os.getpid(), signal.SIGKILL)
        os.replace = replace
    refresh(load_workspace(sys.argv[1]))
    print("not killed")
""")


@pytest.mark.parametrize("where", ["before-commit", "during-commit"])
def test_kill_9_during_refresh_leaves_a_usable_store_and_the_next_refresh_completes(ws_dir, capsys, where):
    config = ws_dir / "lastmile.toml"
    refresh(load_workspace(config))
    shutil.move(ws_dir / "held-pred-3.parquet", ws_dir / "pred" / "part-3.parquet")
    shutil.move(ws_dir / "held-out-late.parquet", ws_dir / "out" / "part-1.parquet")
    proc = subprocess.run([sys.executable, "-c", KILL_AT, str(config), where], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))
    assert proc.returncode == -9, proc.stderr
    root = store_root(load_workspace(config))
    m, problem = mf.read(root)
    assert problem is None and m["generation"] == 1        # the previous state, intact
    orphans = {str(p.relative_to(root)) for p in (root / mf.DATA).rglob("*.parquet")} - mf.stored_files(m)
    assert orphans                                          # the killed refresh's files
    res = refresh(load_workspace(config))
    assert actions(res) == {"binary_model": "updated"} and res.swept == len(orphans)
    assert_same_answers(capsys, config, SOME)


def test_a_second_refresh_is_refused_while_one_runs(ws_dir, capsys):
    config = ws_dir / "lastmile.toml"
    ws = load_workspace(config)
    root = store_root(ws)
    with mf.locked(root):
        with pytest.raises(StoreBusyError, match=rf"Another refresh .* is running \(pid {os.getpid()}\)"):
            refresh(ws)
        assert main(["refresh", "--config", str(config)]) == 2
        assert f"pid {os.getpid()}" in capsys.readouterr().err
    assert actions(refresh(ws)) == {"binary_model": "built"}


def test_two_refresh_processes_at_once(ws_dir, capsys):
    config = ws_dir / "lastmile.toml"
    cmd = [sys.executable, "-c", CLI, "refresh", "--config", str(config)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes in ([0, 0], [0, 2]), outs
    if codes == [0, 2]:
        assert any("Another refresh" in err for _, err in outs)
    assert_same_answers(capsys, config, SOME)


def test_a_reader_keeps_answering_during_and_after_a_refresh(ws_dir):
    from analytics.metrics.compute import compute_metrics
    from analytics.query.selection import Grouping, Selection

    config = ws_dir / "lastmile.toml"
    refresh(load_workspace(config))
    reader = open_engine(load_workspace(config))
    sel = Selection(model="binary_model")
    before = compute_metrics(reader, sel, Grouping(by=("version",))).to_dict()
    old_log = reader.log("binary_model")
    shutil.move(ws_dir / "held-out-late.parquet", ws_dir / "out" / "part-1.parquet")
    errors = []

    def ask():   # another session's thread (its own cursor and tables)
        try:
            for _ in range(5):
                t = reader.log("binary_model")
                reader.execute(t.aggregate(n=t.count()))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    th = threading.Thread(target=ask)
    th.start()
    refresh(load_workspace(config))
    th.join()
    assert not errors
    # the table the reader held still reads (the previous files are kept) ...
    assert reader.execute(old_log.aggregate(n=old_log.count())).to_pylist()[0]["n"] > 0
    # ... and a new engine reads the new state, equal to the raw logs
    fresh = open_engine(load_workspace(config))
    assert fresh.stored("binary_model") is not None
    after = compute_metrics(fresh, sel, Grouping(by=("version",))).to_dict()
    raw = compute_metrics(Engine(load_workspace(config)), sel, Grouping(by=("version",))).to_dict()
    close(json.loads(json.dumps(after, default=str)), json.loads(json.dumps(raw, default=str)))
    assert json.dumps(before, default=str) != json.dumps(after, default=str)


def test_a_corrupt_store_is_rebuilt_with_one_warning(ws_dir, capsys):
    config = ws_dir / "lastmile.toml"
    ws = load_workspace(config)
    refresh(ws)
    root = store_root(ws)
    # a damaged stored file: the raw logs answer meanwhile, the refresh rebuilds the model
    m, _ = mf.read(root)
    victim = root / sorted(mf.stored_files(m))[0]
    victim.write_bytes(victim.read_bytes()[:100])
    assert open_engine(ws).stored("binary_model") is None
    res = refresh(ws)
    assert actions(res) == {"binary_model": "rebuilt"} and len(res.warnings) == 1
    assert "damaged" in res.warnings[0]
    assert_same_answers(capsys, config, SOME)
    # an unreadable manifest
    (root / mf.MANIFEST).write_text("{not json")
    assert open_engine(ws).stored("binary_model") is None
    assert main(["refresh", "--config", str(config)]) == 0
    err = capsys.readouterr().err
    assert sum("warning:" in line for line in err.splitlines()) == 1 and "rebuilt" in err
    assert_same_answers(capsys, config, SOME)


def test_no_store_library_argument_and_section(ws_dir):
    config = ws_dir / "lastmile.toml"
    refresh(load_workspace(config))
    assert open_engine(load_workspace(config)).stored("binary_model") is not None
    assert open_engine(load_workspace(config), use_store=False).stored("binary_model") is None
    config.write_text(config.read_text() + "\n[store]\nenabled = false\n")
    assert open_engine(load_workspace(config)).stored("binary_model") is None


def test_store_info_library(ws_dir):
    ws = load_workspace(ws_dir / "lastmile.toml")
    refresh(ws)
    info = store_info(ws, open_engine(ws))
    assert info["models"][0]["status"] == "fresh" and info["models"][0]["days"] > 0


# ------------------------------------------------------------------ bounded memory


@pytest.mark.slow
def test_engine_memory_limit_default_and_spilling_outside_the_logs(tmp_path):
    """A join and exact rank metrics over a log several times larger than a small memory
    limit complete (DuckDB spills to tmp/ in the store's folder, not beside the logs)."""
    import numpy as np

    from analytics.metrics.compute import compute_metrics
    from analytics.query.selection import Grouping, Selection
    from analytics.config.store import MEMORY_CAP, default_memory_limit

    assert 0 < default_memory_limit() <= MEMORY_CAP
    n = 1_500_000
    rng = np.random.default_rng(0)
    (tmp_path / "pred").mkdir()
    (tmp_path / "out").mkdir()
    ids = pa.array(np.char.add("request-", np.arange(n).astype(str)))
    ts = pa.array((np.datetime64("2026-03-02") + rng.integers(0, 60 * 86400, n).astype("timedelta64[s]"))
                  .astype("datetime64[us]"))
    score = rng.random(n)
    pq.write_table(pa.table({"pid": ids, "ts": ts, "ver": pa.array(np.where(rng.random(n) < 0.5, "v1", "v2")),
                             "score": score}), tmp_path / "pred" / "p.parquet")
    y = (rng.random(n) < score).astype(np.int64)
    perm = rng.permutation(n)
    pq.write_table(pa.table({"pid": ids.take(pa.array(perm)), "y": pa.array(y[perm])}), tmp_path / "out" / "o.parquet")
    size = sum(pq.read_table(tmp_path / d).nbytes for d in ("pred", "out"))
    assert size > 96 * 10**6   # the log, in memory, is larger than the limit
    (tmp_path / "lastmile.toml").write_text(textwrap.dedent("""
        [engine]
        memory_limit = "96MB"
        materialize_rows = 0
        [[models]]
        name = "big"
        task = "binary"
        predictions = "pred/*.parquet"
        outcomes = "out/*.parquet"
        [models.columns]
        id = "pid"
        timestamp = "ts"
        version = "ver"
        score = "score"
        label = "y"
    """))
    ws = load_workspace(tmp_path / "lastmile.toml")
    assert ws.memory_limit == 96 * 10**6
    eng = open_engine(ws)
    limit = eng.backend.raw_sql("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit.startswith("91"), limit   # 91 MiB
    res = compute_metrics(eng, Selection(model="big"), Grouping(by=("version",)), ["roc_auc"])
    assert sum(r.n for r in res.rows) == n
    from sklearn.metrics import roc_auc_score
    for r in res.rows:
        mask = np.asarray(pq.read_table(tmp_path / "pred" / "p.parquet", columns=["ver"])["ver"]) == r.group["version"]
        # outcomes were written in another order: join them back by id
        assert abs(r.metrics["roc_auc"].value - roc_auc_score(y[mask], score[mask])) < 1e-9
    assert (store_root(ws) / "tmp").is_dir() and tmp_path not in store_root(ws).parents


# ------------------------------------------------------------------ remembered answers


def _question(eng, ws):
    """Metrics by (version, week) and drift over time of every target against weeks 2-3
    (the held-back late labels are of weeks 1-2, the held-back predictions weeks 7-8)."""
    from analytics.analyses.drift import compute_drift, drift_over_time
    from analytics.metrics.compute import compute_metrics
    from analytics.query.selection import Grouping, Selection

    week = datetime.timedelta(weeks=1)
    m = compute_metrics(eng, Selection.build("binary_model"), Grouping(by=("version", "period")))
    ref = Selection.build("binary_model", START + week, START + 3 * week)
    cur = Selection.build("binary_model", START + 3 * week, None)
    d = drift_over_time(eng, "binary_model", ref, cur, period="week")
    one = compute_drift(eng, "binary_model", ref, cur, features=["income"])
    return m.to_dict(), d.to_dicts(), one.to_dict()


def test_answers_are_remembered_and_only_changed_periods_recomputed(ws_dir, monkeypatch):
    import analytics.store.incremental as inc
    from analytics.store.answers import Question

    config = ws_dir / "lastmile.toml"
    refresh(load_workspace(config))
    ws = load_workspace(config)
    raw = _question(open_engine(ws, use_store=False), ws)
    kept = store_root(ws) / "answers"
    assert not kept.exists()   # the raw path is never remembered
    first = _question(open_engine(ws), ws)
    close(list(first), list(raw))
    assert len(list(kept.rglob("*.pickle"))) == 3

    def no_query(*a, **k):
        raise AssertionError("a remembered answer ran a query")

    with monkeypatch.context() as mp:   # asked again: no engine work at all
        mp.setattr(Engine, "execute", no_query)
        mp.setattr(Engine, "temporary", no_query)
        close(list(_question(open_engine(ws), ws)), list(first))

    spans = []
    real = inc.narrowed
    monkeypatch.setattr(inc, "narrowed", lambda sel, lo, hi: spans.append((lo, hi)) or real(sel, lo, hi))
    _append_days(ws_dir, config)   # weeks 7-8: the reference is untouched, weeks 1-6 are kept
    refresh(load_workspace(config))
    ws = load_workspace(config)
    # an in-memory snapshot may be older than the store: its answers are not remembered
    assert not Question("compute_metrics", open_engine(ws, snapshot=True), {"model": "binary_model"}).ok
    assert Question("compute_metrics", open_engine(ws), {"model": "binary_model"}).ok
    after = _question(open_engine(ws), ws)
    assert len(spans) == 2 and all(lo > START.date() + datetime.timedelta(weeks=4) for lo, _ in spans), spans
    close(list(after), list(_question(open_engine(ws, use_store=False), ws)))
    assert after[1] != first[1]

    spans.clear()
    _late_outcomes(ws_dir, config)   # labels of weeks 1-2: the drift reference is touched, drift is redone
    refresh(load_workspace(config))
    ws = load_workspace(config)
    late = _question(open_engine(ws), ws)
    assert len(spans) == 1, spans   # metrics only
    close(list(late), list(_question(open_engine(ws, use_store=False), ws)))


def test_an_answer_file_others_may_write_is_not_read(ws_dir, monkeypatch):
    """An answer is a pickle (reading one runs code): only the owner's own, unshared files are read."""
    config = ws_dir / "lastmile.toml"
    refresh(load_workspace(config))
    ws = load_workspace(config)
    first = _question(open_engine(ws), ws)
    files = list((store_root(ws) / "answers").rglob("*.pickle"))
    assert files and all(f.parent.stat().st_mode & 0o077 == 0 for f in files)   # the owner's alone
    for f in files:
        f.chmod(0o666)
    calls = []
    real = Engine.execute
    monkeypatch.setattr(Engine, "execute", lambda self, *a, **k: calls.append(1) or real(self, *a, **k))
    again = _question(open_engine(ws), ws)
    assert calls                      # computed again, not read
    close(list(again), list(first))
