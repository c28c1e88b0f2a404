"""Shadows in the health verdict (#16 point 2) and one volume computation (#14): the
verdict is on the serving versions (a detected and a declared shadow are left out of the
versions checked, the reference's main version, net value and traffic), and one traffic
drop gives one reason, on the same counts and definition as the quality volume check.

Small generated logs; references are brute force over the generated rows (pandas)."""

from __future__ import annotations

import datetime as dt
import json
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics.analyses.health import model_health
from analytics.analyses.health.context import HealthContext
from analytics.analyses.health.reasons import Findings
from analytics.analyses.quality.compute import run_quality
from analytics.analyses.roles import SHADOW, assign_roles
from analytics.config.alerts import AlertSettings
from analytics.config.workspace import load_workspace
from analytics.log.engine import Engine
from analytics.metrics import MetricValue
from .factories import write_toml
from .test_roles import shadow_logs

START = dt.datetime(2026, 3, 2)          # a Monday
DAYS = 42
NOW = START + dt.timedelta(days=DAYS - 1, hours=23)


def traffic_logs(folder: Path, *, drop: float = 0.3, shadow_last_week: int = 300) -> tuple[Path, pd.DataFrame]:
    """v1 (120 a day) and v2 (60 a day) serve for six weeks; the last week they get
    ``drop`` of that. v3 is declared shadow and scores ids of its own: 100 a day, then
    ``shadow_last_week`` a day in the last week (it would hide the drop if counted)."""
    rng = np.random.default_rng(3)
    rows = []
    for d in range(DAYS):
        last = d >= DAYS - 7
        for v, per_day in (("v1", 120), ("v2", 60), ("v3", 100)):
            n = (shadow_last_week if last else per_day) if v == "v3" else round(per_day * (drop if last else 1.0))
            for m in np.sort(rng.integers(0, 1440, n)):
                rows.append((START + dt.timedelta(days=d, minutes=int(m)), v))
    df = pd.DataFrame(rows, columns=["ts", "model_version"])
    df["prediction_id"] = [f"p{i:06d}" for i in range(len(df))]
    df["label"] = (rng.random(len(df)) < 0.3).astype(int)
    df["score"] = np.round(np.clip(0.3 * df.label + rng.random(len(df)) * 0.7, 0, 1), 4)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(df.drop(columns="label"), preserve_index=False), folder / "p.parquet")
    pq.write_table(pa.Table.from_pandas(df[["prediction_id", "label"]], preserve_index=False), folder / "o.parquet")
    model = {"name": "m", "task": "binary", "predictions": "p.parquet", "outcomes": "o.parquet", "shadow": ["v3"],
             "columns": {"timestamp": "ts", "version": "model_version", "score": "score", "label": "label",
                         "id": "prediction_id"},
             "drift": {"reference_start": START.date().isoformat(),
                       "reference_end": (START + dt.timedelta(days=28)).date().isoformat()}}
    return write_toml(folder / "lastmile.toml", [model]), df


@pytest.fixture(scope="module")
def traffic(tmp_path_factory):
    cfg, df = traffic_logs(tmp_path_factory.mktemp("traffic"))
    return Engine(load_workspace(cfg)), df


def _typical_week(df: pd.DataFrame) -> tuple[int, float]:
    """Brute force: the serving rows of the last week, and the sum over its days of the
    reference's (first 28 days) median rows on the same weekday."""
    s = df[df.model_version != "v3"]
    per_day = s.ts.dt.normalize().value_counts()
    days = pd.date_range(START, periods=DAYS)
    counts = per_day.reindex(days, fill_value=0)
    ref = counts[:28]
    med = {wd: statistics.median(ref[ref.index.day_of_week == wd]) for wd in range(7)}
    week = counts[-7:]
    return int(week.sum()), float(sum(med[d.weekday()] for d in week.index))


def test_a_drop_is_one_reason_on_the_serving_traffic(traffic):
    engine, df = traffic
    h = model_health(engine, "m", now=NOW)
    vol = [r for r in h.reasons if r.metric == "volume" and r.level != "info"]
    assert len(vol) == 1, [r.message for r in vol]          # the weekly and the daily view: one reason
    (r,) = vol
    rows, expected = _typical_week(df)
    assert r.rule == "volume_drop" and r.level == "warn"
    assert r.observed == pytest.approx(1 - rows / expected, rel=1e-12)
    assert f"{rows:,} predictions" in r.message and "By day:" in r.message and "v3" in r.message
    assert h.versions == ("v1", "v2") and h.shadows == ("v3",)
    assert json.loads(json.dumps(h.to_dict()))["shadow_versions"] == ["v3"]
    note = [x for x in h.reasons if x.rule == "roles"]
    assert [(x.version, x.level) for x in note] == [("v3", "info")] and "declared" in note[0].message


def test_quality_volume_leaves_the_shadow_out(traffic):
    engine, df = traffic
    res = run_quality(engine, "m", start=START + dt.timedelta(days=DAYS - 7), period="week", checks=["volume"],
                      reference=None)
    (week,) = [f for f in res.findings if f.version == "all"]
    rows, expected = _typical_week(df)
    assert week.observed == pytest.approx(rows / expected, rel=1e-12) and week.level == "warn"
    assert "shadow, left out" in week.message
    assert not [f for f in res.findings if f.version == "v3"]      # no volume row of its own


def test_counted_with_the_shadow_the_drop_would_hide(tmp_path):
    # sanity of the generator: with v3 counted, the last week is not below the usual volume
    _, df = traffic_logs(tmp_path)
    per_day = df.ts.dt.normalize().value_counts().sort_index()
    assert per_day[-7:].mean() > per_day[:28].mean()


def test_no_drop_no_volume_reason(tmp_path):
    cfg, _ = traffic_logs(tmp_path, drop=1.0, shadow_last_week=100)
    h = model_health(Engine(load_workspace(cfg)), "m", now=NOW)
    assert not [r for r in h.reasons if r.metric == "volume" and r.level != "info"]


def test_detected_shadow_is_left_out_of_the_verdict_and_net_value(tmp_path):
    cfg, preds = shadow_logs(tmp_path)
    # every version's net value is "below" this floor: only the serving ones may say so
    with cfg.open("a") as f:
        f.write("[models.alerts]\nmin_labels = 50\n[models.alerts.net_value]\nwarn = 1e12\n")
    engine = Engine(load_workspace(cfg))
    h = model_health(engine, "m")
    assert h.versions == ("v1", "v2") and h.shadows == ("v3",)
    assert {r.version for r in h.reasons if r.rule == "net_value"} == {"v1", "v2"}
    assert all(r.level == "info" for r in h.reasons if r.version == "v3")
    assert any(r.rule == "roles" and "detected" in r.message for r in h.reasons)


def test_reference_main_version_is_a_serving_one():
    spec = type("S", (), {"name": "m", "task": "binary", "alerts": {}, "compare": {}, "business": None})()
    roles = assign_roles("m", ("v1", "v3"), ("v3",), {1: 10, 3: 10})
    row = lambda n, auc: type("R", (), {"n": n, "metrics": {"roc_auc": MetricValue(auc)}})()  # noqa: E731
    ctx = HealthContext(engine=None, spec=spec, cfg=AlertSettings.from_spec(spec), findings=Findings(), counts={},
                        versions=("v2",), champion="v2", cur_start=START, cur_end=START, cur_period="", cur_sel=None,
                        perf_k=0, perf_sel=None, perf_period="", ref_sel=None, ref_period="",
                        ref_rows={"v1": row(100, 0.7), "v3": row(500, 0.9)}, roles=roles)
    assert roles.role("v3") == SHADOW
    mv, src = ctx.reference("v2", "roc_auc")     # v2 is new: the reference is v1's, not the busier shadow's
    assert src == "v1" and mv.value == 0.7
