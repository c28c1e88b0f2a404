"""History backfill on the sample: each past day judged as of its end."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.alerts.backfill import AsOf, as_of, backfill
from analytics.alerts.history import History
from analytics.log.columns import C
from analytics.log.engine import Engine
from analytics.analyses.health import checked_health
from analytics.config.workspace import SAMPLE_CONFIG, load_workspace


@pytest.fixture(scope="module")
def sample():
    ws = load_workspace(SAMPLE_CONFIG)
    return ws, Engine(ws, snapshot=True)


@pytest.fixture(scope="module")
def filled(sample, tmp_path_factory):
    """A day before and a day after each story: credit_default's drift (from
    2026-09-14) and delivery_eta's road works (from 2026-09-28)."""
    ws, engine = sample
    state = tmp_path_factory.mktemp("state")
    credit, eta = ws.model("credit_default"), ws.model("delivery_eta")
    rows = backfill(engine, [credit], dt.date(2026, 9, 13), dt.date(2026, 9, 19), state, by="test", every=6)
    rows += backfill(engine, [eta], dt.date(2026, 9, 25), dt.date(2026, 10, 1), state, by="test", every=6)
    return state, rows


def test_credit_default_warns_on_drift_from_mid_september(filled):
    state, rows = filled
    days = {v.as_of[:10]: v for v in History.in_state_dir(state).verdicts("credit_default")}
    assert sorted(days) == ["2026-09-14", "2026-09-20"]          # as of each day's end
    drift = {"drifted_features", "prediction_psi"}

    def rules(day):
        return {r["rule"] for r in days[day].reasons if r["level"] == "warn"}

    assert not rules("2026-09-14") & drift                         # the day before the drift
    assert drift <= rules("2026-09-20") and days["2026-09-20"].status == "warn"   # a week into it
    assert all(v.kind == "backfill" for v in days.values())
    assert {r["day"] for r in rows if r["model"] == "credit_default"} == {"2026-09-13", "2026-09-19"}


def test_delivery_eta_is_pulled_after_the_road_works(filled):
    state, _ = filled
    days = {v.as_of[:10]: v for v in History.in_state_dir(state).verdicts("delivery_eta")}
    assert days["2026-09-26"].status != "pull"
    assert days["2026-10-02"].status == "pull"
    drops = [r for r in days["2026-10-02"].reasons if r["rule"] == "drop" and r["level"] == "pull"]
    assert drops and drops[0]["metric"] == "mae"


def test_backfilling_a_day_again_replaces_it(tmp_path):
    h = History.in_state_dir(tmp_path)
    verdict = {"model": "m", "status": "warn", "reasons": [], "windows": {}}
    for status in ("warn", "pull"):
        with h.connect() as con:
            run = h.start_run(con, "backfill", "test", False)
            h.add_verdict(con, run, {**verdict, "status": status}, "2026-09-14T00:00:00", replace_backfill=True)
    with h.connect() as con:
        h.add_verdict(con, h.start_run(con, "check", "test", False), verdict, "2026-09-14T00:00:00")
    assert [(v.kind, v.status) for v in h.verdicts("m")] == [("backfill", "pull"), ("check", "warn")]


def test_as_of_hides_later_predictions_and_labels(sample):
    ws, engine = sample
    spec = ws.model("credit_default")
    end = dt.datetime(2026, 10, 1)
    t = AsOf(engine, end).log(spec)
    row = engine.execute(t.aggregate(hi=t[C.TS].max(), n_lab=t[C.LABELED].cast("int64").sum(),
                                     late=(t[C.LABELED] & (t[C.LABEL_TS] >= end)).cast("int64").sum()),
                         spec).to_pylist()[0]
    full = engine.log(spec)
    kept = full.filter((full[C.TS] < end) & full[C.LABELED] & (full[C.LABEL_TS] < end))
    known = engine.execute(kept.aggregate(n=kept.count()), spec).to_pylist()[0]["n"]
    assert row["hi"] < end and row["late"] == 0 and row["n_lab"] == known > 0


def test_the_last_day_as_of_its_end_is_the_live_verdict(sample):
    """Every prediction and label in the sample is known by the end of its last day,
    so backfilling that day must give exactly today's check."""
    ws, engine = sample
    spec = ws.model("ticket_router")
    live = checked_health(engine, spec).to_dict()
    with as_of(engine, spec, dt.datetime(2026, 11, 23)) as view:
        past = checked_health(view, spec, dt.datetime(2026, 11, 22)).to_dict()
    assert past == live
