"""The report's incidents section: the period's non-healthy spells from the verdict history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import jinja2

from analytics.alerts.history import History
from analytics.config.cachedir import cache_root, state_dir
from analytics.render.report.incidents import incidents_section
from analytics.query.selection import Selection

TEMPLATES = Path(__file__).resolve().parent.parent / "analytics" / "render" / "report" / "templates"


def mi_for(path, start, end):
    return SimpleNamespace(engine=SimpleNamespace(workspace=SimpleNamespace(path=path)), model="m",
                           selection=Selection.build("m", start, end))


def render(section) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    return env.get_template("sections/" + section["template"]).render(s=section)


def test_incidents_of_the_period_with_reasons_and_notifications(tmp_path):
    ws = tmp_path / "lastmile.toml"
    h = History.in_state_dir(state_dir(ws, cache_root()))
    story = [("2026-03-01", "healthy", []), ("2026-03-02", "warn", ["drop"]), ("2026-03-03", "warn", ["drop"]),
             ("2026-03-04", "healthy", []), ("2026-03-20", "pull", ["latency_p95"])]
    with h.connect() as con:
        run = h.start_run(con, "check", "t", True)
        for day, status, rules in story:
            reasons = [{"rule": r, "level": status, "message": f"{r} <b>off</b>"} for r in rules]
            vid = h.add_verdict(con, run, {"model": "m", "status": status, "reasons": reasons, "windows": {}},
                                (dt.datetime.fromisoformat(day) + dt.timedelta(days=1)).isoformat())
            if day == "2026-03-02":
                h.add_notification(con, vid, "m", "slack-ml", "change", True, 1, None)
    s = incidents_section(mi_for(ws, dt.datetime(2026, 3, 1), dt.datetime(2026, 3, 8)))
    assert [(r["status"], r["start"], r["end"], r["days"]) for r in s["rows"]] == [("warn", "2026-03-02",
                                                                                   "2026-03-03", 2)]
    assert s["rows"][0]["reasons"] == ["drop: drop <b>off</b>"] and s["rows"][0]["notified"] == "slack-ml ok"
    html = render(s)
    assert "2026-03-02" in html and "&lt;b&gt;off" in html and "slack-ml ok" in html
    quiet = incidents_section(mi_for(ws, dt.datetime(2026, 3, 5), dt.datetime(2026, 3, 12)))
    assert not quiet["rows"] and "No verdict is recorded for this period" in quiet["empty"]
    none = incidents_section(mi_for(tmp_path / "other.toml", None, None))
    assert "No verdict of this model is recorded yet" in none["empty"] and render(none)
