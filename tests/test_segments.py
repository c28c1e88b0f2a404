"""Weak segments: values and rest values against scikit-learn, tests against scipy, BH, ranking."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics as skm

from analytics.analyses.segments import weak_segments
from analytics.cli import main
from analytics.config.workspace import SAMPLE_CONFIG, load_workspace
from analytics.errors import SelectionError
from analytics.log.engine import Engine
from analytics.query.selection import Selection
from analytics.stats.twosample import benjamini_hochberg as bh_qvalues
from .factories import CLASSES, make_workspace



def _ws(tmp_path_factory, task, **kw):
    g = make_workspace(tmp_path_factory.mktemp(task), task, **kw)
    return g, Engine(load_workspace(g.config)), g.frame()


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    return _ws(tmp_path_factory, "binary", n=3000, seed=11, ties=True)


def _mask(df: pd.DataFrame, where: dict) -> np.ndarray:
    m = np.ones(len(df), bool)
    for k, v in where.items():
        m &= (df[k] == v).to_numpy()
    return m


def test_auc_segments_and_rest_match_sklearn(binary):
    g, engine, df = binary
    res = weak_segments(engine, Selection.build("binary_model"), "roc_auc", min_support=50)
    lab = df[df.y_true.notna()]
    assert res.overall.value == pytest.approx(skm.roc_auc_score(lab.y_true.astype(int), lab.score), abs=1e-9)
    assert len(res.segments) == 3 + 2 + 3 * 2          # 3 regions, 2 channels, 6 pairs
    assert any(len(s.where) == 2 for s in res.segments)
    for s in res.segments:
        inside = _mask(lab, s.where)
        for part, got in ((lab[inside], s.metric.value), (lab[~inside], s.rest.value)):
            assert got == pytest.approx(skm.roc_auc_score(part.y_true.astype(int), part.score), abs=1e-9)
        assert s.n_labeled == inside.sum() and s.delta_vs_rest == pytest.approx(s.metric.value - s.rest.value)
        z = s.delta_vs_rest / np.hypot(s.metric.se, s.rest.se)
        assert s.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    impacts = [s.impact for s in res.segments]
    assert impacts == sorted(impacts, reverse=True)
    assert [s.q_value for s in res.segments] == pytest.approx(
        list(stats.false_discovery_control([s.p_value for s in res.segments])))


def test_pr_auc_segments_and_rest_match_sklearn(binary):
    g, engine, df = binary
    res = weak_segments(engine, Selection.build("binary_model"), "pr_auc", min_support=50, pairs=False)
    lab = df[df.y_true.notna()]
    assert len(res.segments) == 3 + 2
    for s in res.segments:
        inside = _mask(lab, s.where)
        for part, got in ((lab[inside], s.metric.value), (lab[~inside], s.rest.value)):
            assert got == pytest.approx(skm.average_precision_score(part.y_true.astype(int), part.score), abs=1e-9)


def test_proportion_test_and_min_support(binary):
    g, engine, df = binary
    res = weak_segments(engine, Selection.build("binary_model", versions=["v1"]), "accuracy",
                        min_support=400, pairs=False)
    lab = df[df.y_true.notna() & (df.ver == "v1")]
    assert all(s.n_labeled >= 400 for s in res.segments)
    assert {tuple(s.where) for s in res.segments} == {("region",), ("channel",)}
    for s in res.segments:
        inside = _mask(lab, s.where)
        hit = ((lab.score >= 0.5).astype(int) == lab.y_true.astype(int)).to_numpy()
        x1, n1, x2, n2 = hit[inside].sum(), inside.sum(), hit[~inside].sum(), (~inside).sum()
        p = (x1 + x2) / (n1 + n2)
        z = (x1 / n1 - x2 / n2) / np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
        assert s.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
        assert s.rest.value == pytest.approx(x2 / n2, abs=1e-12)


def test_welch_for_mean_errors(tmp_path_factory):
    g, engine, df = _ws(tmp_path_factory, "regression", n=1200, seed=12)
    res = weak_segments(engine, Selection.build("regression_model"), "mae", min_support=30, pairs=False)
    lab = df[df.y_true.notna()]
    err = (lab.yhat - lab.y_true.astype(float)).abs().to_numpy()
    for s in res.segments:
        inside = _mask(lab, s.where)
        ref = stats.ttest_ind(err[inside], err[~inside], equal_var=False)
        assert s.p_value == pytest.approx(ref.pvalue, rel=1e-6)
        assert s.impact == pytest.approx(s.n_labeled * (s.metric.value - s.rest.value))  # lower is better


def test_multiclass_rest_from_confusion_counts(tmp_path_factory):
    g, engine, df = _ws(tmp_path_factory, "multiclass", n=1200, seed=13)
    res = weak_segments(engine, Selection.build("multiclass_model"), "macro_f1", min_support=30, pairs=False)
    lab = df[df.y_true.notna()]
    pred = np.array(CLASSES)[lab[[f"p_{c}" for c in CLASSES]].to_numpy().argmax(1)]
    for s in res.segments:
        inside = _mask(lab, s.where)
        ref = skm.f1_score(lab.y_true[~inside].astype(str), pred[~inside], average="macro",
                           labels=list(CLASSES), zero_division=0)
        assert s.rest.value == pytest.approx(ref, abs=1e-9)


def test_bh_qvalues_keep_missing():
    p = [0.01, None, 0.04, 0.03, 0.5]
    q = bh_qvalues(p)
    assert q[1] is None
    ref = stats.false_discovery_control([0.01, 0.04, 0.03, 0.5])
    assert [q[0], q[2], q[3], q[4]] == pytest.approx(list(ref))


def test_operational_metric_is_refused(binary):
    g, engine, df = binary
    with pytest.raises(SelectionError, match="label metrics"):
        weak_segments(engine, Selection.build("binary_model"), "latency_p95")


def test_cli_json(binary, capsys):
    g, engine, df = binary
    assert main(["segments", "--config", str(g.config), "--model", "binary_model", "--metric", "recall",
                 "--min-support", "200", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["metric"] == "recall" and out["overall"]["value"] is not None
    seg = out["segments"][0]
    assert {"where", "n_labeled", "value", "ci_low", "ci_high", "delta_vs_rest", "p_value", "q_value",
            "impact"} <= set(seg)


@pytest.mark.skipif(not SAMPLE_CONFIG.exists(), reason="the bundled sample data is not built")
def test_sample_challenger_weak_segment_is_on_top():
    from analytics.sample import CREDIT_WORSE_SEGMENT
    engine = Engine(load_workspace(SAMPLE_CONFIG))
    res = weak_segments(engine, Selection.build("credit_default", versions=["v2"]), "roc_auc", pairs=False)
    col, value = CREDIT_WORSE_SEGMENT
    assert res.segments[0].where == {col: value}
    assert res.segments[0].q_value < 0.01
