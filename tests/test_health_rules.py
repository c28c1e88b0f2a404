"""Each health rule on its own (#14, point 4): one table of cases, each a context with
made-up metrics and counts, and the reasons (rule, level) the rule gives."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from analytics.analyses.health.context import HealthContext
from analytics.analyses.health.reasons import Findings
from analytics.analyses.health.rules import RULES, HealthRule, drop, floors, label_coverage, latency, register_rule
from analytics.analyses.health.rules.volume_drop import expected_per_week, volume_drop
from analytics.config.alerts import RULE_DEFAULTS, AlertSettings
from analytics.metrics import MetricValue

CUR_END = dt.datetime(2026, 4, 6)


def _rows(**metrics):
    return {"v1": SimpleNamespace(n=5000, metrics={k: MetricValue(*v) if isinstance(v, tuple) else MetricValue(v)
                                                    for k, v in metrics.items()})}


def _ctx(alerts=None, perf=None, cur=None, ref=None, counts=None):
    spec = SimpleNamespace(name="m", task="binary", alerts=alerts or {}, compare={}, business=None,
                           columns=SimpleNamespace(latency_ms="latency"))
    return HealthContext(
        engine=None, spec=spec, cfg=AlertSettings.from_spec(spec), findings=Findings(), counts=counts or {},
        versions=("v1",), champion="v1", cur_start=CUR_END - dt.timedelta(days=7), cur_end=CUR_END,
        cur_period="current", cur_sel=None, perf_k=0, perf_sel=None, perf_period="performance", ref_sel=None,
        ref_period="reference", perf_rows=perf or {}, cur_rows=cur or {}, ref_rows=ref or {})


def _auc(v):  # value, ci_low, ci_high, n, se
    return (v, v - 0.01, v + 0.01, 5000, 0.005)


CASES = [
    # rule module, context, expected (rule, level) of its reasons
    ("floor below warn", floors, _ctx(perf=_rows(roc_auc=_auc(0.65))), [("floor", "warn")]),
    ("floor below pull", floors, _ctx(perf=_rows(roc_auc=_auc(0.55))), [("floor", "pull")]),
    ("floor met", floors, _ctx(perf=_rows(roc_auc=_auc(0.80))), []),
    ("floor not computable", floors, _ctx(perf=_rows(roc_auc=(None, None, None, 0, None, "no labels"))),
     [("floor", "info")]),
    ("ceiling above warn", floors, _ctx({"ceilings": {"brier": {"warn": 0.2}}}, perf=_rows(brier=(0.25,)),
                                        cur=_rows()), [("floor", "info"), ("ceiling", "warn")]),
    ("drop beyond pull", drop, _ctx(perf=_rows(roc_auc=_auc(0.70)), ref=_rows(roc_auc=_auc(0.80))),
     [("drop", "pull")]),
    ("drop beyond warn", drop, _ctx(perf=_rows(roc_auc=_auc(0.75)), ref=_rows(roc_auc=_auc(0.80))),
     [("drop", "warn")]),
    ("no drop", drop, _ctx(perf=_rows(roc_auc=_auc(0.795)), ref=_rows(roc_auc=_auc(0.80))), []),
    ("drop disabled", drop, _ctx({"drop": {"enabled": False}}, perf=_rows(roc_auc=_auc(0.5)),
                                 ref=_rows(roc_auc=_auc(0.80))), []),
    ("drop without a reference", drop, _ctx(perf=_rows(roc_auc=_auc(0.70))), [("drop", "info")]),
    ("latency above its ceiling", latency, _ctx({"latency_p95": {"warn": 500.0}}, cur=_rows(latency_p95=(600.0,))),
     [("latency_p95", "warn")]),
    ("latency 2x the reference", latency, _ctx(cur=_rows(latency_p95=(200.0,)), ref=_rows(latency_p95=(100.0,))),
     [("latency_p95", "warn")]),
    ("latency 3.5x the reference", latency, _ctx(cur=_rows(latency_p95=(350.0,)),
                                                 ref=_rows(latency_p95=(100.0,))), [("latency_p95", "pull")]),
    ("latency as usual", latency, _ctx(cur=_rows(latency_p95=(110.0,)), ref=_rows(latency_p95=(100.0,))), []),
    ("coverage below pull", label_coverage, _ctx(counts={(5, "v1"): (1000, 100)}), [("label_coverage", "pull")]),
    ("coverage below warn", label_coverage, _ctx(counts={(5, "v1"): (1000, 400)}), [("label_coverage", "warn")]),
    ("coverage fine", label_coverage, _ctx(counts={(5, "v1"): (1000, 900)}), []),
    ("coverage: no predictions", label_coverage, _ctx(), [("label_coverage", "info")]),
    ("coverage after 2 weeks", label_coverage, _ctx({"label_coverage": {"after_weeks": 2}},
                                                    counts={(2, "v1"): (1000, 100)}), [("label_coverage", "pull")]),
]


@pytest.mark.parametrize("rule, ctx, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_on_its_own(rule, ctx, expected):
    rule.evaluate(ctx)
    got = [(r.rule, r.level) for r in ctx.findings.reasons]
    assert got == expected
    assert all(r.message and r.period for r in ctx.findings.reasons)


@pytest.mark.parametrize("current, expected, warn, pull, want", [
    (300, 1000.0, 0.5, 0.8, (0.7, "warn", 0.5)),
    (100, 1000.0, 0.5, 0.8, (0.9, "pull", 0.8)),
    (900, 1000.0, 0.5, 0.8, (pytest.approx(0.1), None, None)),
    (1500, 1000.0, 0.5, 0.8, (-0.5, None, None)),
    (10, None, 0.5, 0.8, (None, None, None)),
    (300, 1000.0, None, 0.8, (0.7, None, None)),
])
def test_volume_drop(current, expected, warn, pull, want):
    drop_, level, th = volume_drop(current, expected, warn, pull)
    assert (drop_ if drop_ is None else pytest.approx(drop_), level, th) == (
        want[0] if want[0] is None else pytest.approx(want[0]), want[1], want[2])


def test_expected_per_week():
    assert expected_per_week(4000, 28.0) == 1000.0 and expected_per_week(10, 0) is None


def test_the_table_and_its_settings():
    names = [r.name for r in RULES]
    assert names == ["floor", "drop", "latency_p95", "label_coverage", "drifted_features", "quality", "net_value",
                     "estimated_drop", "volume_drop"]
    assert all(r.reason and r.settings in (None, *RULE_DEFAULTS) for r in RULES)
    assert RULE_DEFAULTS["volume_drop"] == {"enabled": True, "warn": 0.5, "pull": 0.8}
    with pytest.raises(ValueError, match="twice"):
        register_rule(HealthRule("drop", "performance", "x", lambda ctx: None))
    with pytest.raises(ValueError, match="RULE_DEFAULTS"):
        register_rule(HealthRule("new_rule", "current", "x", lambda ctx: None, settings="new_rule"))
    assert [r.name for r in RULES] == names
