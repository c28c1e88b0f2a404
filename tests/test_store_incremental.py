"""After a refresh, remembered answers are computed again only where their data changed
(analytics/store/incremental.py and the hooks of metrics and drift): late outcomes
change no feature drift, new days only their own weeks, and the changed periods are a
set (runs), not the span between the first and the last. Each time the answers equal
``--no-store`` to 1e-12."""

from __future__ import annotations

import datetime
import logging
import re
import shutil

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from analytics.config.store import store_root
from analytics.config.workspace import load_workspace
from analytics.store import days as days_mod, manifest as mf, open_engine, refresh

from .factories import START, make_workspace
from .test_store import BUSINESS, close, run_json

MODEL = "binary_model"
WEEK = datetime.timedelta(weeks=1)
DAYS = 56   # 8 weeks: predictions in 4 files of 2 weeks each
N = 1600


def week(i: int) -> datetime.date:
    """The Monday of week ``i`` (1-based) of the log."""
    return (START + (i - 1) * WEEK).date()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The workspace with the last prediction file (weeks 7-8) and half the outcomes of
    weeks 3-4 held back (late labels), beside it."""
    folder = tmp_path_factory.mktemp("incr") / "ws"
    make_workspace(folder, "binary", n=N, seed=5, days=DAYS, files=4, business=BUSINESS)
    out = pq.read_table(folder / "out" / "part-0.parquet")
    preds = pa.concat_tables([pq.read_table(p) for p in sorted((folder / "pred").glob("*.parquet"))])
    ts = dict(zip(preds["pid"].to_pylist(), preds["ts"].to_pylist()))
    lo, hi = START + 2 * WEEK, START + 4 * WEEK
    late = pa.array([lo <= ts[p] < hi and k % 2 == 0 for k, p in enumerate(out["pid"].to_pylist())])
    pq.write_table(out.filter(pc.invert(late)), folder / "out" / "part-0.parquet")
    pq.write_table(out.filter(late), folder / "held-out-late.parquet")
    shutil.move(folder / "pred" / "part-3.parquet", folder / "held-pred-3.parquet")
    return folder


def late_outcomes(ws):
    shutil.move(ws / "held-out-late.parquet", ws / "out" / "part-1.parquet")


def new_days(ws):
    shutil.move(ws / "held-pred-3.parquet", ws / "pred" / "part-3.parquet")


def both(ws):
    late_outcomes(ws)
    new_days(ws)


def question(eng):
    """Metrics by (version, week); drift of every target over the weeks after the reference
    (weeks 1-2); one feature's for version v1 against its own reference."""
    from analytics.analyses.drift import drift_over_time
    from analytics.metrics.compute import compute_metrics
    from analytics.query.selection import Grouping, Selection

    m = compute_metrics(eng, Selection.build(MODEL), Grouping(by=("version", "period")))
    ref = Selection.build(MODEL, START, START + 2 * WEEK)
    d = drift_over_time(eng, MODEL, ref, Selection.build(MODEL, START + 2 * WEEK, None), period="week")
    ref1 = Selection.build(MODEL, START, START + 2 * WEEK, versions=["v1"])
    d1 = drift_over_time(eng, MODEL, ref1, Selection.build(MODEL, START + 2 * WEEK, None, versions=["v1"]),
                         period="week", features=["income"], prediction=False, label=False)
    return m.to_dict(), d.to_dicts(), d1.to_dicts()


def recomputed(caplog) -> list[tuple[str, str, str | None]]:
    """(answer, what, first period) of every recomputation logged."""
    out = []
    for rec in caplog.records:
        if rec.name != "analytics.store.incremental":
            continue
        msg = rec.getMessage()
        if msg.startswith("compute_metrics"):
            lo = msg.split("periods ")[1].split(" ")[0]
            out.append(("metrics", "", lo))
        else:
            m = re.match(r"drift_over_time: (.+?)(?:, periods (\S+) to \S+)? computed again", msg)
            assert m, msg
            out.append(("drift", m.group(1), m.group(2) or "whole"))
    return out


@pytest.mark.parametrize("change", ["late outcomes", "new days", "both"])
def test_only_what_changed_is_computed_again(base, tmp_path, caplog, capsys, monkeypatch, change):
    ws_dir = tmp_path / "ws"
    shutil.copytree(base, ws_dir)
    config = ws_dir / "lastmile.toml"
    refresh(load_workspace(config))
    question(open_engine(load_workspace(config)))      # yesterday's answers, remembered

    {"late outcomes": late_outcomes, "new days": new_days, "both": both}[change](ws_dir)
    read = []   # the stored days each look-up reads
    real = days_mod.stored_table
    monkeypatch.setattr(days_mod, "stored_table", lambda job, days: read.append(sorted(days)) or real(job, days))
    res = refresh(load_workspace(config))
    assert {m.model: m.action for m in res.models} == {MODEL: "updated"}
    entry = mf.read(store_root(load_workspace(config)))[0]["models"][MODEL]
    assert all(v["ids"][0] <= v["ids"][1] for v in entry["days"].values())
    # ids follow time: finding the days late labels touch, and checking that rebuilt days
    # repeat no kept id, read only the days whose id range meets theirs, not every day
    assert all(len(r) <= 16 for r in read) and (bool(read) == (change != "new days")), [len(r) for r in read]
    ws = load_workspace(config)
    with caplog.at_level(logging.DEBUG, logger="analytics.store.incremental"):
        after = question(open_engine(ws))
    close(list(after), list(question(open_engine(ws, use_store=False))))

    done = recomputed(caplog)
    metrics = sorted(lo for what, _, lo in done if what == "metrics")
    drift = sorted((names, lo) for what, names, lo in done if what == "drift")
    labels = str(week(3))
    first = pq.read_table(base / "held-pred-3.parquet")["ts"].to_pylist()[0].date()
    new = str(first - datetime.timedelta(days=first.weekday()))   # the week of the first new day
    if change == "late outcomes":
        # late labels of weeks 3-4: metrics of those weeks; drift of the label only
        assert metrics == [labels], done
        assert drift == [("y", labels)], done
    elif change == "new days":
        assert metrics == [new], done
        assert drift == [("income", new), ("income, plan, score, y", new)], done
    else:
        # two runs of weeks (3-4 and 7-8), not the span 3-8
        assert metrics == [labels, new], done
        assert drift == [("income", new), ("income, plan, score", new), ("y", labels), ("y", new)], done

    for argv in (["metrics", "--model", MODEL, "--by", "version", "--by", "period"], ["drift", "--model", MODEL]):
        a, b = run_json(capsys, config, argv, store=True), run_json(capsys, config, argv, store=False)
        assert a[0] == b[0], argv
        close(a[1], b[1], argv[0])


def test_a_changed_reference_computes_that_target_whole(base, tmp_path, caplog):
    """Late labels inside the reference window: the label's drift is computed whole,
    the features' rows are all kept."""
    ws_dir = tmp_path / "ws"
    shutil.copytree(base, ws_dir)
    config = ws_dir / "lastmile.toml"
    refresh(load_workspace(config))
    from analytics.analyses.drift import drift_over_time
    from analytics.query.selection import Selection

    def ask(eng):
        ref = Selection.build(MODEL, START + 2 * WEEK, START + 4 * WEEK)   # weeks 3-4: the late labels
        return drift_over_time(eng, MODEL, ref, Selection.build(MODEL, START + 4 * WEEK, None)).to_dicts()

    ask(open_engine(load_workspace(config)))
    late_outcomes(ws_dir)
    refresh(load_workspace(config))
    ws = load_workspace(config)
    with caplog.at_level(logging.DEBUG, logger="analytics.store.incremental"):
        after = ask(open_engine(ws))
    close(after, ask(open_engine(ws, use_store=False)))
    assert [("drift", "y", "whole")] == recomputed(caplog)
