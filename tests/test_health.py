"""The health verdict: constructed workspaces (healthy, warn, pull for known reasons),
the sample's drifting champion, `[models.alerts]` validation and `lastmile check` exit codes."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from analytics import cli
from analytics.analyses.findings import plain_reason
from analytics.analyses.health import Health, Reason, model_health, portfolio_health, worst
from analytics.cli.commands.check import exit_status
from analytics.config.alerts import validate_alerts_config
from analytics.config.workspace import SAMPLE_CONFIG, load_workspace
from analytics.errors import ConfigError
from analytics.log.engine import Engine
from .ab_factory import ab_workspace, compiling_engine
from .test_format import too_precise



def _health(ab, **kw):
    return model_health(Engine(load_workspace(ab.config)), "m", **kw)


def _by_rule(h: Health) -> dict[str, list[Reason]]:
    out: dict[str, list[Reason]] = {}
    for r in h.reasons:
        out.setdefault(r.rule, []).append(r)
    return out


@pytest.fixture(scope="module")
def healthy(tmp_path_factory):
    return ab_workspace(tmp_path_factory.mktemp("healthy"), n_baseline=1500, n_candidate=1500, days=56,
                        quality=(1.2, 1.2), seed=21)


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    """From day 42 the input shifts and both versions lose most of their skill; v2 is
    slow; 40% of predictions get a label; every decision costs money."""
    return ab_workspace(tmp_path_factory.mktemp("failing"), n_baseline=1500, n_candidate=1500, days=56,
                        quality=(1.5, 1.5), drift_after_day=42, label_share=0.4, latency=(30.0, 100.0),
                        seed=22, business={"tp": -100.0, "fp": -100.0, "fn": 0.0, "tn": 0.0},
                        alerts={"min_label_coverage": 0.3, "min_labels": 100, "label_coverage": {"after_weeks": 1},
                                "latency_p95": {"warn": 120.0, "pull": 1000.0},
                                "floors": {"roc_auc": {"warn": 0.8, "pull": 0.6}}})


def test_healthy_model(healthy):
    h = _health(healthy)
    assert h.status == "healthy", [r.message for r in h.reasons]
    assert all(r.level == "info" for r in h.reasons)
    assert h.versions == ("v1", "v2")
    assert h.windows["current"] == (dt.datetime(2026, 4, 20), dt.datetime(2026, 4, 27))
    assert h.windows["performance"] == h.windows["current"]      # every label is in
    assert h.windows["reference"] == (dt.datetime(2026, 3, 2), dt.datetime(2026, 3, 30))


def test_failing_model_reasons(failing):
    eng = compiling_engine(load_workspace(failing.config))   # every query also compiles for Trino
    h = model_health(eng, "m")
    assert eng.compiled >= 6
    rules = _by_rule(h)
    assert h.status == "pull"
    drop = {r.version: r for r in rules["drop"]}
    assert drop["v1"].level == "pull" and drop["v1"].metric == "roc_auc" and drop["v1"].observed > 0.10
    assert "fell from" in drop["v1"].message and drop["v1"].period == "2026-04-20 to 2026-04-26"
    floors = {r.version: r for r in rules["floor"]}
    assert floors["v1"].metric == "roc_auc" and floors["v1"].observed < 0.8
    assert floors["v1"].level == "warn" and floors["v1"].threshold == 0.8
    drift = rules["drifted_features"][0]
    assert drift.level == "warn" and drift.observed == 1.0 and "income" in drift.message
    lat = rules["latency_p95"]
    assert [(r.version, r.level, r.threshold) for r in lat] == [("v2", "warn", 120.0)]
    cov = rules["label_coverage"][0]
    assert cov.level == "warn" and cov.observed == pytest.approx(0.4, abs=0.06) and cov.threshold == 0.5
    assert {r.version for r in rules["net_value"]} == {"v1", "v2"}
    assert all(r.observed < 0 and r.level == "warn" for r in rules["net_value"])
    d = h.to_dict()
    assert d["status"] == "pull" and {"rule", "metric", "observed", "threshold", "level", "period", "message"} \
        <= set(d["reasons"][0])


def test_ceilings_and_floors_from_the_workspace(tmp_path):
    ab = ab_workspace(tmp_path, n_baseline=600, n_candidate=600, days=28, quality=(1.2, 1.2), seed=23,
                      alerts={"ceilings": {"brier": {"warn": 0.01, "pull": 0.02}},
                              "floors": {"roc_auc": {"warn": 0.99, "pull": 0.5}},
                              "drop": {"enabled": False}, "drifted_features": {"enabled": False},
                              "prediction_psi": {"enabled": False}})
    rules = _by_rule(_health(ab))
    assert {(r.version, r.level) for r in rules["ceiling"]} == {("v1", "pull"), ("v2", "pull")}
    assert {(r.version, r.level, r.threshold) for r in rules["floor"]} == {("v1", "warn", 0.99), ("v2", "warn", 0.99)}
    assert "drop" not in rules and "drifted_features" not in rules


def test_no_labels_anywhere_warns(tmp_path):
    ab = ab_workspace(tmp_path, n_baseline=600, n_candidate=600, days=28, label_share=0.0, seed=24,
                      alerts={"drifted_features": {"enabled": False}, "prediction_psi": {"enabled": False}})
    h = _health(ab)
    rules = _by_rule(h)
    assert h.status == "warn" and rules["performance_window"][0].level == "warn"
    assert "performance cannot be checked" in rules["performance_window"][0].message


def test_no_current_traffic_warns(healthy):
    h = _health(healthy, now=dt.datetime(2026, 6, 30))
    assert h.status == "warn" and h.reasons[0].rule == "traffic"


def test_worst_and_exit_status():
    assert worst([]) == "healthy" and worst(["info", "warn"]) == "warn" and worst(["warn", "pull"]) == "pull"
    assert exit_status(["healthy", "healthy"]) == 0
    assert exit_status(["healthy", "warn"]) == 3 and exit_status(["healthy", "warn"], "pull") == 0
    assert exit_status(["warn", "pull"]) == 4 and exit_status(["warn", "pull"], "pull") == 4


def test_validate_alerts_config():
    assert validate_alerts_config({"min_labels": 100, "floors": {"roc_auc": {"warn": 0.7, "pull": 0.6}},
                                   "drop": {"warn": 0.02}}) == []
    text = " ".join(validate_alerts_config({
        "min_label": 3, "floors": {"mae": {"warn": 1.0}, "roc_auc": {"warn": 0.6, "pull": 0.7}},
        "ceilings": {"brir": {"warn": 1}}, "drop": {"wran": 0.1}, "alpha": 3,
        "latency_p95": {"warn": "fast"}}))
    assert "unknown key 'min_label' (did you mean 'min_labels'?)" in text
    assert "mae is better when lower; give it a ceiling" in text
    assert "roc_auc's pull level must be below its warn level" in text
    assert "'brir' is not a metric (did you mean 'brier'?)" in text
    assert "unknown key 'wran'" in text and "alpha must be" in text and "warn must be a number" in text


def test_bad_alerts_fail_at_load(tmp_path):
    ab = ab_workspace(tmp_path, n_baseline=50, n_candidate=50, seed=25, alerts={"flors": {}},
                      compare={"alpah": 0.1})
    with pytest.raises(ConfigError) as err:
        load_workspace(ab.config)
    text = " ".join(err.value.problems)
    assert "[models.alerts]: unknown key 'flors'" in text and "[models.compare]: unknown key 'alpah'" in text


def test_check_command_exit_codes(failing, capsys):
    code = cli.main(["check", "--config", str(failing.config), "--format", "json", "--fail-on", "pull"])
    out = json.loads(capsys.readouterr().out)
    assert code == 4 and out["status"] == "pull" and out["models"][0]["model"] == "m"
    assert out["models"][0]["status"] == "pull"
    assert any(r["rule"] == "drop" and r["level"] == "pull" for r in out["models"][0]["reasons"])


def test_check_command_warn_table(healthy, capsys, monkeypatch):
    """The table and the exit code of a warn-only portfolio (health results given)."""
    from analytics.cli.commands import check
    warn = Reason("latency_p95", "latency_p95", 80.0, 50.0, "warn", "2026-04-20 to 2026-04-26",
                  "v1: p95 latency is 80 ms, above the warn ceiling of 50 ms.", "v1")
    note = Reason("drop", "roc_auc", None, None, "info", "2026-04-20 to 2026-04-26", "v2: no drop check.", "v2")
    canned = (Health("m", "warn", (warn, note)), Health("other", "healthy", ()))
    monkeypatch.setattr(check, "portfolio_health", lambda engine, now=None: canned)
    assert cli.main(["check", "--config", str(healthy.config)]) == 3
    table = capsys.readouterr().out
    assert "m [warn] v1: p95 latency is 80 ms" in table and "exit status 3 (--fail-on warn)" in table
    assert "no drop check" not in table and "other [healthy] every rule passes" in table
    assert cli.main(["check", "--config", str(healthy.config), "--fail-on", "pull", "--format", "csv"]) == 0
    csv = capsys.readouterr().out
    assert csv.splitlines()[0].startswith("model,status,level,rule") and "no drop check" in csv


def test_portfolio_reports_unreadable_models(tmp_path):
    ab = ab_workspace(tmp_path, n_baseline=50, n_candidate=50, seed=26)
    for f in (tmp_path / "pred").glob("*.parquet"):
        f.write_bytes(b"not parquet")
    (h,) = portfolio_health(Engine(load_workspace(ab.config)))
    # issue #13: an unreadable model is status error (it was warn), its sentence the reason
    assert h.status == "error" and h.reasons[0].rule == "error" and "cannot be checked" in h.reasons[0].message


@pytest.mark.skipif(not SAMPLE_CONFIG.is_file(), reason="bundled sample data not generated")
def _rounded_for_people(h):
    """Every reason's sentence, and the portfolio's plain words for it, in 3 significant
    digits (the one formatter); the JSON keeps the exact numbers."""
    spec = load_workspace(SAMPLE_CONFIG).model(h.model)
    assert not [(r.message, too_precise(r.message)) for r in h.reasons if too_precise(r.message)]
    plain = [plain_reason(spec, r) for r in h.reasons if r.level in ("warn", "pull")]
    assert plain and not [t for t in plain if too_precise(t)], plain
    assert all(r.observed is None or isinstance(r.observed, float) for r in h.reasons)


def test_sample_drifting_champion():
    """credit_default's champion drifts from mid-September: warn or pull, for drift of
    income / debt_ratio and the drop of its ROC AUC."""
    h = model_health(Engine(load_workspace(SAMPLE_CONFIG)), "credit_default")
    assert h.status in ("warn", "pull")
    rules = _by_rule(h)
    drift = [r for r in rules.get("drifted_features", []) if r.version == "v1" and r.level != "info"]
    assert drift and "income" in drift[0].message and "debt_ratio" in drift[0].message
    # the champion's findings are the drift story: drift, its predictions, its AUC
    v1 = {r.rule for r in h.reasons if r.version == "v1" and r.level != "info"}
    assert v1 <= {"drifted_features", "prediction_psi", "drop", "floor"}
    assert all(r.metric == "roc_auc" and r.observed > 0.05 for r in rules.get("drop", []) if r.version == "v1")
    assert any(r.rule == "latency_p95" and r.version == "v2" for r in h.reasons)  # v2's latency regression
    _rounded_for_people(h)


def test_an_error_metric_that_worsens_is_said_to_rise():
    """delivery_eta's MAE grows after the road works: the reason says it rose, not fell."""
    h = model_health(Engine(load_workspace(SAMPLE_CONFIG)), "delivery_eta")
    drops = [r for r in h.reasons if r.rule == "drop" and r.level != "info"]
    assert drops and all(r.metric == "mae" for r in drops)
    assert all(" mae rose from " in r.message and "fell" not in r.message for r in drops)
    _rounded_for_people(h)
