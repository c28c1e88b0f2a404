"""Roles of versions: serving or shadow, declared (``[models] shadow``) or detected from the
id overlap; shadows left out of value and traffic totals, their compute cost still counted.

References are brute force over the generated rows (pandas)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics.analyses.roles import SERVING, SHADOW, assign_roles, pooled_selection, version_roles
from analytics.analyses.value import compute_value
from analytics.config.workspace import load_workspace
from analytics.errors import ConfigError
from analytics.log.engine import Engine
from analytics.metrics.compute import compute_metrics
from analytics.query.selection import Grouping, Selection
from .factories import write_toml


START = dt.datetime(2026, 3, 2)
BUSINESS = {"currency": "USD", "threshold": 0.5, "tp": 100.0, "fp": -20.0, "fn": -50.0, "tn": 0.0,
            "cost_per_1k": 2.0, "baseline": "all_negative"}


def shadow_logs(folder: Path, *, n_v1: int = 1500, n_v2: int = 600, frac: float = 0.5,
                shadow_start_day: int = 10, extra_own: int = 0, declared=None, seed: int = 0,
                mirror: bool = False, no_id: bool = False) -> tuple[Path, pd.DataFrame]:
    """v1 and v2 split the traffic; v3 re-scores a share ``frac`` of v1's ids from
    ``shadow_start_day`` on (same prediction id), plus ``extra_own`` ids of its own.
    ``mirror``: v3 re-scores every v1 id from the first day instead."""
    rng = np.random.default_rng(seed)
    n = n_v1 + n_v2
    ids = np.array([f"p{i:06d}" for i in range(n)])
    version = np.array(["v1"] * n_v1 + ["v2"] * n_v2)
    rng.shuffle(version)
    ts = np.array([START + dt.timedelta(minutes=int(m)) for m in np.sort(rng.integers(0, 28 * 1440, n))])
    y = rng.random(n) < 0.3
    score = np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1)
    v1 = np.flatnonzero(version == "v1")
    if mirror:
        chosen = v1
    else:
        late = v1[[t >= START + dt.timedelta(days=shadow_start_day) for t in ts[v1]]]
        chosen = late[rng.random(len(late)) < frac]
    sh_ids = list(ids[chosen]) + [f"s{i:06d}" for i in range(extra_own)]
    own_ts = [START + dt.timedelta(days=27) for _ in range(extra_own)]
    sh_ts = list(ts[chosen] + dt.timedelta(seconds=1)) + own_ts
    sh_y = list(y[chosen]) + list(rng.random(extra_own) < 0.3)
    sh_score = list(np.clip(score[chosen] + rng.normal(0, 0.1, len(chosen)), 0, 1)) + list(rng.random(extra_own))
    preds = pd.DataFrame({
        "prediction_id": list(ids) + sh_ids, "ts": list(ts) + sh_ts,
        "model_version": list(version) + ["v3"] * len(sh_ids), "score": list(score) + sh_score,
        "label": list(y.astype(int)) + [int(v) for v in sh_y]})
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(preds.drop(columns="label"), preserve_index=False),
                   folder / "predictions.parquet")
    outcomes = pd.DataFrame({"prediction_id": list(ids) + [f"s{i:06d}" for i in range(extra_own)],
                             "label": list(y.astype(int)) + [int(v) for v in sh_y[len(chosen):]]})
    model = {"name": "m", "task": "binary", "predictions": "predictions.parquet",
             "columns": {"timestamp": "ts", "version": "model_version", "score": "score", "label": "label"},
             "business": dict(BUSINESS)}
    if no_id:
        preds_l = preds.copy()
        pq.write_table(pa.Table.from_pandas(preds_l.drop(columns="prediction_id"), preserve_index=False),
                       folder / "predictions.parquet")
    else:
        pq.write_table(pa.Table.from_pandas(outcomes, preserve_index=False), folder / "outcomes.parquet")
        model["outcomes"] = "outcomes.parquet"
        model["columns"]["id"] = "prediction_id"
    if declared is not None:
        model["shadow"] = declared
    cfg = write_toml(folder / "lastmile.toml", [model])
    return cfg, preds


def engine(cfg: Path) -> Engine:
    return Engine(load_workspace(cfg))


# ------------------------------------------------------------------ pure rule


def _masks(sets: dict[str, set]) -> tuple[tuple[str, ...], dict[int, int]]:
    versions = tuple(sorted(sets))
    per_id: dict[str, int] = {}
    for i, v in enumerate(versions):
        for x in sets[v]:
            per_id[x] = per_id.get(x, 0) | (1 << i)
    out: dict[int, int] = {}
    for m in per_id.values():
        out[m] = out.get(m, 0) + 1
    return versions, out


T0, T1 = dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1)


@pytest.mark.parametrize("sets, first, rows, declared, want", [
    # v3 re-scores a subset of v1: detected
    ({"v1": set(range(100)), "v2": set(range(100, 150)), "v3": set(range(0, 100, 2))},
     {"v1": T0, "v2": T0, "v3": T1}, {"v1": 100, "v2": 50, "v3": 50}, (), {"v3": SHADOW}),
    # two mirrors: the one that started first serves, even with fewer rows
    ({"a": set(range(50)), "b": set(range(50))}, {"a": T1, "b": T0}, {"a": 90, "b": 50}, (), {"a": SHADOW}),
    # mirrors started together: more rows serve
    ({"a": set(range(50)), "b": set(range(50))}, {"a": T0, "b": T0}, {"a": 90, "b": 50}, (), {"b": SHADOW}),
    # mirrors started together with as many rows: the smaller name serves
    ({"a": set(range(50)), "b": set(range(50))}, {"a": T0, "b": T0}, {"a": 50, "b": 50}, (), {"b": SHADOW}),
    # a late version scoring every request of a split is the shadow, not the split
    ({"v1": set(range(50)), "v2": set(range(50, 100)), "v3": set(range(100))},
     {"v1": T0, "v2": T0, "v3": T1}, {"v1": 50, "v2": 50, "v3": 100}, (), {"v3": SHADOW}),
    # declared wins: v1 declared shadow; v3 is covered by no serving version, so it serves
    ({"v1": set(range(100)), "v2": set(range(100, 150)), "v3": set(range(0, 100, 2))},
     {"v1": T0, "v2": T0, "v3": T1}, {"v1": 100, "v2": 50, "v3": 50}, ("v1",), {"v1": SHADOW}),
    # declared on top of detection
    ({"v1": set(range(100)), "v2": set(range(100, 150)), "v3": set(range(0, 100, 2))},
     {"v1": T0, "v2": T0, "v3": T1}, {"v1": 100, "v2": 50, "v3": 50}, ("v2",), {"v2": SHADOW, "v3": SHADOW}),
    # 1 id in 2,000 of its own is tolerated (99.95% shared) ...
    ({"v1": set(range(4000)), "v3": set(range(0, 3998, 2)) | {"x"}}, {"v1": T0, "v3": T1},
     {"v1": 4000, "v3": 2000}, (), {"v3": SHADOW}),
    # ... 1% is not: those ids were decided by v3
    ({"v1": set(range(4000)), "v3": set(range(0, 3960, 2)) | {f"x{i}" for i in range(20)}},
     {"v1": T0, "v3": T1}, {"v1": 4000, "v3": 2000}, (), {}),
    # disjoint split: nobody is a shadow
    ({"v1": set(range(50)), "v2": set(range(50, 100))}, {"v1": T0, "v2": T1}, {"v1": 50, "v2": 50}, (), {}),
    # one version alone is never a shadow
    ({"v1": set(range(50))}, {"v1": T0}, {"v1": 50}, (), {}),
])
def test_assign_roles(sets, first, rows, declared, want):
    versions, masks = _masks(sets)
    roles = assign_roles("m", versions, declared, masks, first, rows)
    assert dict(roles) == {v: want.get(v, SERVING) for v in versions}
    for v in versions:
        d = roles.detail[v]
        assert d.reason == ("declared" if v in declared else "detected" if want.get(v) else "")
        assert d.n_ids == len(sets[v])
    assert roles.serving  # someone decided


def test_declared_unknown_version_is_reported():
    versions, masks = _masks({"v1": {1, 2}, "v2": {3}})
    roles = assign_roles("m", versions, ("v9",), masks)
    assert dict(roles) == {"v1": SERVING, "v2": SERVING}
    assert len(roles.warnings) == 1 and "'v9'" in roles.warnings[0] and "'m'" in roles.warnings[0]


# ------------------------------------------------------------------ workspace


@pytest.mark.parametrize("value, ok", [(["v3"], ("v3",)), (["v3", "v4", "v3"], ("v3", "v4")), ("v3", ("v3",)),
                                       ([], ()), ([3], None), ([""], None), ({"v": 1}, None)])
def test_workspace_shadow_key(tmp_path, value, ok):
    lines = ['[[models]]', 'name = "m"', 'task = "binary"', 'predictions = "p.parquet"',
             f'shadow = {json.dumps(value)}' if not isinstance(value, dict) else 'shadow = { v = 1 }',
             '[models.columns]', 'timestamp = "ts"', 'score = "score"', 'label = "label"']
    cfg = tmp_path / "lastmile.toml"
    cfg.write_text("\n".join(lines) + "\n")
    if ok is None:
        with pytest.raises(ConfigError, match="shadow must be a list of version names"):
            load_workspace(cfg)
    else:
        assert load_workspace(cfg).model("m").shadow == ok


# ------------------------------------------------------------------ engine


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    return shadow_logs(tmp_path_factory.mktemp("shadow"))


def test_detected_on_generated_logs(logs):
    cfg, preds = logs
    roles = version_roles(engine(cfg), "m")
    assert dict(roles) == {"v1": SERVING, "v2": SERVING, "v3": SHADOW}
    assert roles.detail["v3"].reason == "detected" and roles.detail["v3"].shared == pytest.approx(1.0)
    v1 = set(preds.prediction_id[preds.model_version == "v1"])
    v3 = set(preds.prediction_id[preds.model_version == "v3"])
    assert roles.detail["v1"].n_ids == len(v1)
    assert roles.detail["v1"].shared == pytest.approx(len(v1 & v3) / len(v1))


def test_versions_with_own_ids_are_serving(tmp_path):
    cfg, _ = shadow_logs(tmp_path, extra_own=50)
    assert dict(version_roles(engine(cfg), "m"))["v3"] == SERVING


def test_mirror_from_day_one_keeps_the_first_serving(tmp_path):
    cfg, _ = shadow_logs(tmp_path, mirror=True, n_v2=0)
    # v3's rows are logged a second after v1's twins: v1 started first and serves
    assert dict(version_roles(engine(cfg), "m")) == {"v1": SERVING, "v3": SHADOW}


def test_declared_and_no_id_column(tmp_path):
    cfg, _ = shadow_logs(tmp_path / "a", declared=["v2", "v9"])
    roles = version_roles(engine(cfg), "m")
    assert dict(roles) == {"v1": SERVING, "v2": SHADOW, "v3": SHADOW}
    assert roles.detail["v2"].reason == "declared" and any("'v9'" in w for w in roles.warnings)
    cfg, _ = shadow_logs(tmp_path / "b", no_id=True)
    roles = version_roles(engine(cfg), "m")
    assert dict(roles) == {"v1": SERVING, "v2": SERVING, "v3": SERVING}
    assert "no id column" in roles.detection


def test_roles_are_cached_per_engine(logs, monkeypatch):
    eng = engine(logs[0])
    version_roles(eng, "m")
    calls = []
    original = Engine.execute
    monkeypatch.setattr(Engine, "execute", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    version_roles(eng, "m")
    assert calls == []


# ------------------------------------------------------------------ totals without shadows


def _brute(preds: pd.DataFrame) -> pd.DataFrame:
    d = (preds.score >= BUSINESS["threshold"]).astype(int)
    y = preds.label
    value = np.select([(d == 1) & (y == 1), (d == 1) & (y == 0), (d == 0) & (y == 1)],
                      [BUSINESS["tp"], BUSINESS["fp"], BUSINESS["fn"]], BUSINESS["tn"])
    base = np.where(y == 1, BUSINESS["fn"], BUSINESS["tn"])
    return preds.assign(value=value, base=base, cost=BUSINESS["cost_per_1k"] / 1000.0)


def test_value_totals_leave_shadows_out_but_count_their_cost(logs):
    cfg, preds = logs
    eng = engine(cfg)
    b = _brute(preds)
    serving = b[b.model_version != "v3"]
    res = compute_value(eng, Selection.build("m"), Grouping(by=("version",)))
    t = res.totals
    assert t.serving_versions == ("v1", "v2") and t.shadow_versions == ("v3",)
    assert t.n == len(serving)
    assert t.value == pytest.approx(serving.value.sum())
    assert t.lift == pytest.approx(serving.value.sum() - serving.base.sum())
    assert t.compute_cost == pytest.approx(b.cost.sum())          # the shadow's compute counts
    assert t.shadow_compute_cost == pytest.approx(b.cost[b.model_version == "v3"].sum())
    assert t.net_value == pytest.approx(t.lift - b.cost.sum())
    assert t.roi == pytest.approx(t.net_value / t.compute_cost)
    rows = {r.group["version"]: r for r in res.rows}
    assert {v: r.role for v, r in rows.items()} == {"v1": SERVING, "v2": SERVING, "v3": SHADOW}
    v3 = b[b.model_version == "v3"]
    assert rows["v3"].value == pytest.approx(v3.value.sum())       # value if promoted, in its own row
    # the pooled row (no version key) is the same total
    pooled = compute_value(eng, Selection.build("m")).rows[0]
    assert pooled.role is None and pooled.n == len(serving) and pooled.shadow_n == len(v3)
    assert pooled.value == pytest.approx(t.value) and pooled.compute_cost == pytest.approx(t.compute_cost)
    assert pooled.net_value == pytest.approx(t.net_value)
    # per period: serving value, every version's cost
    weeks = compute_value(eng, Selection.build("m"), Grouping(by=("period",), period="week")).rows
    b["week"] = pd.to_datetime(b.ts).dt.to_period("W-SUN").dt.start_time.dt.strftime("%Y-%m-%d")
    for r in weeks:
        wk = b[b.week == str(r.group["period"])[:10]]
        sv = wk[wk.model_version != "v3"]
        assert r.n == len(sv) and r.value == pytest.approx(sv.value.sum())
        assert r.compute_cost == pytest.approx(wk.cost.sum())
    assert len(weeks) >= 4 and any(r.shadow_n for r in weeks)
    assert sum(r.net_value for r in weeks) == pytest.approx(t.net_value)


def test_only_shadows_in_a_pooled_group_realize_nothing(logs):
    cfg, _ = logs
    row = compute_value(engine(cfg), Selection.build("m", versions=["v3"])).rows[0]
    assert row.n == 0 and row.value is None and "only shadow versions" in row.value_reason
    assert row.compute_cost > 0 and row.shadow_compute_cost == pytest.approx(row.compute_cost)


def test_pooled_traffic_leaves_shadows_out(logs):
    cfg, preds = logs
    eng = engine(cfg)
    sel, caption = pooled_selection(eng, Selection.build("m"))
    assert sel.versions == ("v1", "v2")
    assert caption == "pooled over v1, v2 (serving); v3 (shadow) left out"
    res = compute_metrics(eng, sel, Grouping(by=("period",), period="week"), ["volume"])
    assert sum(r.n for r in res.rows) == int((preds.model_version != "v3").sum())
    # versions chosen: pooled as chosen, shadows left out unless chosen alone
    assert pooled_selection(eng, Selection.build("m", versions=["v1", "v3"]))[0].versions == ("v1",)
    alone, text = pooled_selection(eng, Selection.build("m", versions=["v3"]))
    assert alone.versions == ("v3",) and "shadow" in text
    # without shadows the selection is unchanged
    assert pooled_selection(eng, Selection.build("m", versions=["v1", "v2"]))[0].versions == ("v1", "v2")


def test_roi_json_has_roles_and_totals(logs, capsys):
    from analytics.cli import main
    cfg, preds = logs
    code = main(["roi", "--config", str(cfg), "--model", "m", "--by", "version", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [r["role"] for r in out["rows"]] == ["serving", "serving", "shadow"]
    t = out["totals"]
    assert t["serving_versions"] == ["v1", "v2"] and t["shadow_versions"] == ["v3"]
    assert t["compute_cost"] == pytest.approx(sum(r["compute_cost"] for r in out["rows"]))
    assert t["value"] == pytest.approx(sum(r["value"] for r in out["rows"] if r["role"] == "serving"))
    for r in out["rows"]:  # the contract's shape stays
        assert r["roi"] == pytest.approx(r["net_value"] / r["compute_cost"])
    code = main(["roi", "--config", str(cfg), "--model", "m", "--by", "version"])
    text = capsys.readouterr().out
    assert "pooled over v1, v2 (serving); v3 (shadow) left out" in text and "return_on_compute" in text
    assert "ROI " in text  # the raw ROI is in the details line


def test_unknown_declared_shadow_is_reported(tmp_path, capsys):
    from analytics.cli import main
    from analytics.log.validation import validate_path
    cfg, _ = shadow_logs(tmp_path, declared=["v9"])
    rep = validate_path(cfg)
    assert any("shadow names version 'v9'" in p for p in rep.models[0].problems)
    assert main(["roi", "--config", str(cfg), "--model", "m"]) == 0
    assert "'v9'" in capsys.readouterr().err
