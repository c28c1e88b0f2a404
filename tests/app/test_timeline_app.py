"""The health timeline on the model overview and the portfolio (AppTest), drawn from
the verdict history of the workspace's state folder."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.alerts.history import History
from analytics.alerts.timeline import bands, incidents
from analytics.render.charts.timeline import timeline_figure
from analytics.config.cachedir import cache_root, state_dir

from .conftest import figures, open_page

MODEL = "binary_model"


def record(ws_path, days):
    """One backfill verdict a day: ``days`` = [(day, status, rules), ...]."""
    h = History.in_state_dir(state_dir(ws_path, cache_root()))
    with h.connect() as con:
        run = h.start_run(con, "backfill", "test", False)
        for day, status, rules in days:
            reasons = [{"rule": r, "level": status, "message": f"{r} is off on {day}", "version": "v1",
                        "metric": None} for r in rules]
            h.add_verdict(con, run, {"model": MODEL, "status": status, "reasons": reasons, "windows": {}},
                          (dt.datetime.fromisoformat(day) + dt.timedelta(days=1)).isoformat())
    return h


STORY = [("2026-03-01", "healthy", []), ("2026-03-02", "healthy", []), ("2026-03-03", "warn", ["drop"]),
         ("2026-03-04", "warn", ["drop"]), ("2026-03-05", "pull", ["drop", "latency_p95"]),
         ("2026-03-06", "healthy", [])]


def test_bands_merge_runs_and_list_incidents(tmp_path):
    h = record(tmp_path / "lastmile.toml", STORY)
    bs = bands(h.verdicts(MODEL))
    assert [(b.status, b.start.day, b.end.day, b.verdicts) for b in bs] == [
        ("healthy", 1, 3, 2), ("warn", 3, 5, 2), ("pull", 5, 6, 1), ("healthy", 6, 7, 1)]
    assert [b.status for b in incidents(bs, dt.datetime(2026, 3, 4), dt.datetime(2026, 3, 10))] == ["warn", "pull"]
    fig = timeline_figure(bs, {MODEL: [("v2", dt.datetime(2026, 3, 4, 9))]})
    names = [t.name for t in fig.data]
    assert names == ["healthy", "warn", "pull", "release"]
    (pull,) = [t for t in fig.data if t.name == "pull"]
    assert "latency_p95: latency_p95 is off on 2026-03-05" in pull.hovertext[0]


@pytest.mark.parametrize("page", ["overview", "portfolio"])
def test_the_timeline_shows_the_history(app, app_ws, page):
    record(app_ws, STORY)
    at = open_page(app, page, model=MODEL)
    (fig,) = [f for f in figures(at) if any(t.get("name") == "pull" for t in f["data"])]
    by_name = {t["name"]: t for t in fig["data"]}
    assert {"healthy", "warn", "pull"} <= set(by_name)
    assert "drop is off on 2026-03-04" in by_name["warn"]["hovertext"][0]
    release = by_name.get("release")
    assert release is not None and set(release["text"]) == {"v1", "v2"}   # the versions' first predictions
