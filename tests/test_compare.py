"""Champion versus challenger: tests against scipy and brute-force DeLong, verdicts
on constructed cases, and clear errors on bad input."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from analytics import cli
from analytics.analyses import compare as cmp
from analytics.config.compare import validate_compare_config
from analytics.config.workspace import load_workspace
from analytics.errors import EmptySelectionError, SelectionError, UnknownVersionError
from analytics.log.engine import Engine
from analytics.query.selection import Selection
from analytics.stats import twosample as st
from .ab_factory import ab_workspace, compiling_engine



def _engine(ab):
    return Engine(load_workspace(ab.config))


def _side(ab, version):
    r = ab.rows
    keep = (r["ver"] == version) & (r["label"] >= 0) if r["label"].dtype.kind == "i" else \
        (r["ver"] == version) & ~np.isnan(r["label"])
    return r["out"][keep], r["label"][keep], r["pid"][keep]


# ------------------------------------------------------------- brute-force DeLong


def placements(score, y):
    """O(n^2) placement values: V10 of positives, V01 of negatives (ties half)."""
    pos, neg = score[y == 1], score[y == 0]
    cmp_ = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    return cmp_.mean(axis=1), cmp_.mean(axis=0)


def delong_var(score, y):
    v10, v01 = placements(score, y)
    return v10.mean(), np.var(v10, ddof=1) / len(v10) + np.var(v01, ddof=1) / len(v01)


def paired_delong_ref(sa, sb, y):
    a10, a01 = placements(sa, y)
    b10, b01 = placements(sb, y)
    s10 = np.cov(np.vstack([a10, b10]), ddof=1)
    s01 = np.cov(np.vstack([a01, b01]), ddof=1)
    var = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / len(a10) + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / len(a01)
    d = b10.mean() - a10.mean()
    return d, var, 2 * stats.norm.sf(abs(d) / math.sqrt(var))


# ------------------------------------------------------------- pure tests vs scipy


def test_welch_matches_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.normal(1, 2, 40), rng.normal(1.8, 1, 25)
    t = st.welch(a.mean(), a.std(ddof=1) / math.sqrt(40), 40, b.mean(), b.std(ddof=1) / math.sqrt(25), 25)
    ref = stats.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval()
    assert t.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert (t.ci_low, t.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_paired_t_matches_scipy():
    rng = np.random.default_rng(4)
    a = rng.normal(0, 1, 50)
    b = a + rng.normal(0.3, 0.5, 50)
    d = b - a
    t = st.paired_t(50, d.sum(), (d * d).sum())
    ref = stats.ttest_rel(b, a)
    assert t.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert (t.ci_low, t.ci_high) == pytest.approx(tuple(ref.confidence_interval()), rel=1e-9)


def test_two_proportion_matches_chi_square():
    t = st.two_proportion(130, 400, 170, 420)
    ref = stats.chi2_contingency([[130, 270], [170, 250]], correction=False)
    assert t.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert t.delta == pytest.approx(170 / 420 - 130 / 400)


@pytest.mark.parametrize("b,c", [(3, 11), (0, 0), (12, 12), (40, 61), (7, 30)])
def test_mcnemar_matches_scipy(b, c):
    t = st.mcnemar(b, c, 500)
    if b + c < st.MCNEMAR_EXACT_BELOW:
        ref = 1.0 if b + c == 0 else stats.binomtest(c, b + c, 0.5).pvalue
        assert "exact" in t.method
    else:
        ref = stats.chi2.sf((b - c) ** 2 / (b + c), 1)
        assert "chi-square" in t.method
    assert t.p_value == pytest.approx(ref, rel=1e-9)


def test_benjamini_hochberg_matches_scipy():
    p = [0.01, 0.04, 0.03, 0.2, 0.005, 0.5]
    assert st.benjamini_hochberg(p) == pytest.approx(list(stats.false_discovery_control(p)), rel=1e-12)


def test_paired_delong_from_moments_matches_brute_force():
    rng = np.random.default_rng(5)
    y = (rng.random(120) < 0.4).astype(int)
    sa = np.round(rng.random(120) * 0.5 + 0.4 * y, 1)     # ties
    sb = np.round(sa + rng.normal(0.05, 0.2, 120) * y, 2)
    a10, a01 = placements(sa, y)
    b10, b01 = placements(sb, y)

    def mom(a, b):
        return st.PlacementMoments(len(a), a.sum(), b.sum(), (a * a).sum(), (b * b).sum(), (a * b).sum())
    t = st.paired_delong(mom(a10, b10), mom(a01, b01))
    d, var, p = paired_delong_ref(sa, sb, y)
    assert t.delta == pytest.approx(d, rel=1e-12)
    assert t.p_value == pytest.approx(p, rel=1e-9)


# ------------------------------------------------------------- end to end: unpaired


@pytest.fixture(scope="module")
def unpaired(tmp_path_factory):
    ab = ab_workspace(tmp_path_factory.mktemp("unpaired"), n_baseline=1500, n_candidate=1200,
                      quality=(0.8, 1.1), seed=11)
    return ab, _engine(ab), None


@pytest.fixture(scope="module")
def unpaired_result(unpaired):
    ab, eng, _ = unpaired
    return cmp.compare_versions(eng, Selection.build("m"), "v1", "v2", sequential=True)


def test_unpaired_detected_and_complete(unpaired_result):
    r = unpaired_result
    assert r.paired is False and r.overlap == 0
    d = r.to_dict()
    for name in ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss", "brier",
                 "positive_rate", "base_rate", "volume", "label_coverage", "latency_p95"):
        m = d["metrics"][name]
        assert set(m) >= {"baseline", "candidate", "delta", "ci_low", "ci_high", "p_value"}
    assert d["verdict"] in cmp.VERDICTS and d["n"] == {"baseline": 1500, "candidate": 1200}


def test_unpaired_auc_is_delong(unpaired, unpaired_result):
    ab, _, _ = unpaired
    sa, ya, _ = _side(ab, "v1")
    sb, yb, _ = _side(ab, "v2")
    auc_a, var_a = delong_var(sa, ya)
    auc_b, var_b = delong_var(sb, yb)
    m = unpaired_result.metrics["roc_auc"]
    assert m.delta == pytest.approx(auc_b - auc_a, rel=1e-9)
    p = 2 * stats.norm.sf(abs(auc_b - auc_a) / math.sqrt(var_a + var_b))
    assert m.p_value == pytest.approx(p, rel=1e-6)


def test_unpaired_losses_are_welch(unpaired, unpaired_result):
    ab, _, _ = unpaired
    sa, ya, _ = _side(ab, "v1")
    sb, yb, _ = _side(ab, "v2")
    ref = stats.ttest_ind((sb - yb) ** 2, (sa - ya) ** 2, equal_var=False)
    m = unpaired_result.metrics["brier"]
    assert m.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert m.ci_low == pytest.approx(ref.confidence_interval().low, rel=1e-9)


def test_unpaired_accuracy_is_two_proportion(unpaired, unpaired_result):
    ab, _, _ = unpaired
    sa, ya, _ = _side(ab, "v1")
    sb, yb, _ = _side(ab, "v2")
    ca, cb = ((sa >= 0.5) == ya).sum(), ((sb >= 0.5) == yb).sum()
    ref = stats.chi2_contingency([[ca, len(ya) - ca], [cb, len(yb) - cb]], correction=False)
    assert unpaired_result.metrics["accuracy"].p_value == pytest.approx(ref.pvalue, rel=1e-9)


def test_clear_win_promotes(unpaired_result):
    r = unpaired_result
    assert r.metrics["roc_auc"].p_value < 0.001
    assert r.verdict == "promote" and not r.losing_segments
    assert "significantly better on roc_auc" in r.reasons[0]


def test_sequential_in_result(unpaired_result):
    s = unpaired_result.sequential
    assert s is not None and s.metric == "brier" and len(s.looks) == 28
    ps = [lk.p_value for lk in s.looks if lk.p_value is not None]
    assert ps == sorted(ps, reverse=True)          # an always-valid p-value never rises
    assert unpaired_result.to_dict()["sequential"]["p_value"] == ps[-1]


# ------------------------------------------------------------- end to end: paired


@pytest.fixture(scope="module")
def paired(tmp_path_factory):
    ab = ab_workspace(tmp_path_factory.mktemp("paired"), n_baseline=1500, paired=True,
                      quality=(0.9, 1.05), seed=12)
    eng = compiling_engine(load_workspace(ab.config))   # every query also compiles for Trino
    return ab, eng, cmp.compare_versions(eng, Selection.build("m"), "v1", "v2", sequential=True, segments=False)


def test_paired_detected(paired):
    _, eng, r = paired
    assert r.paired is True and r.overlap == 1.0 and r.n_common == 1500
    assert eng.compiled >= 8      # overlap, pairs, placements, daily... all compiled for Trino


def test_paired_tests_match_references(paired):
    ab, _, r = paired
    sa, ya, ia = _side(ab, "v1")
    sb, yb, ib = _side(ab, "v2")
    assert (ia == ib).all() and (ya == yb).all()
    d, _, p = paired_delong_ref(sa, sb, ya)
    assert r.metrics["roc_auc"].delta == pytest.approx(d, rel=1e-9)
    assert r.metrics["roc_auc"].p_value == pytest.approx(p, rel=1e-6)
    assert r.metrics["roc_auc"].method == "paired DeLong test"
    ref = stats.ttest_rel((sb - yb) ** 2, (sa - ya) ** 2)
    assert r.metrics["brier"].p_value == pytest.approx(ref.pvalue, rel=1e-9)
    ok_a, ok_b = (sa >= 0.5) == ya, (sb >= 0.5) == yb
    b, c = int((ok_a & ~ok_b).sum()), int((~ok_a & ok_b).sum())
    assert r.metrics["accuracy"].p_value == pytest.approx(stats.chi2.sf((b - c) ** 2 / (b + c), 1), rel=1e-9)
    assert r.disagreement_rate == pytest.approx(((sa >= 0.5) != (sb >= 0.5)).mean(), rel=1e-12)
    assert r.to_dict()["disagreement_rate"] == r.disagreement_rate


def test_paired_can_be_forced_off(paired):
    _, eng, _ = paired
    r = cmp.compare_versions(eng, Selection.build("m"), "v1", "v2", paired=False, segments=False, metrics=())
    assert r.paired is False and r.metrics["roc_auc"].method == "DeLong test (independent samples)"


def test_paired_sequential_uses_differences(paired):
    _, _, r = paired
    assert "paired" in r.sequential.method


def test_paired_regression(tmp_path):
    ab = ab_workspace(tmp_path, task="regression", n_baseline=600, paired=True, quality=(1.0, 1.3), seed=2)
    r = cmp.compare_versions(_engine(ab), Selection.build("m"), "v1", "v2", segments=False, metrics=("bias",))
    ya, yb = _side(ab, "v1"), _side(ab, "v2")
    ref = stats.ttest_rel(np.abs(yb[0] - yb[1]), np.abs(ya[0] - ya[1]))
    assert r.paired and r.primary_metric == "mae"
    assert r.metrics["mae"].p_value == pytest.approx(ref.pvalue, rel=1e-9)
    mae_delta = np.abs(yb[0] - yb[1]).mean() - np.abs(ya[0] - ya[1]).mean()
    assert r.metrics["mae"].delta == pytest.approx(mae_delta, rel=1e-9)
    ref_bias = stats.ttest_rel(yb[0] - yb[1], ya[0] - ya[1])
    assert r.metrics["bias"].p_value == pytest.approx(ref_bias.pvalue, rel=1e-9)
    assert r.disagreement_rate is None


# ------------------------------------------------------------- verdicts


def test_clear_loss_keeps(tmp_path):
    ab = ab_workspace(tmp_path, n_baseline=1500, n_candidate=1500, quality=(1.1, 0.7), seed=3)
    r = cmp.compare_versions(_engine(ab), Selection.build("m"), "v1", "v2", metrics=())
    assert r.verdict == "keep" and "significantly worse" in r.reasons[0]


def test_too_small_is_inconclusive(tmp_path):
    ab = ab_workspace(tmp_path, n_baseline=300, n_candidate=300, quality=(0.5, 1.5), seed=4)
    r = cmp.compare_versions(_engine(ab), Selection.build("m"), "v1", "v2", segments=False, metrics=())
    assert r.metrics["roc_auc"].p_value < 0.05          # a clear difference ...
    assert r.verdict == "inconclusive" and "Too few labeled rows" in r.reasons[0]   # ... but too few rows
    # the same difference with a lower minimum promotes
    assert cmp.decide(r.metrics["roc_auc"], replace(r.settings, min_n=200), (), "v1", "v2")[0] == "promote"


def _mc(delta, p, n=1000, higher=True):
    return cmp.MetricComparison("roc_auc", 0.7, 0.7 + delta, delta, delta - 0.01, delta + 0.01, p, "x",
                                n, n, higher)


@pytest.mark.parametrize("delta,p,n,higher,verdict", [
    (0.05, 0.001, 1000, True, "promote"), (-0.05, 0.001, 1000, True, "keep"),
    (0.05, 0.2, 1000, True, "inconclusive"), (0.05, 0.001, 499, True, "inconclusive"),
    (-0.05, 0.001, 1000, False, "promote"), (0.05, None, 1000, True, "inconclusive"),
])
def test_decide_rule(delta, p, n, higher, verdict):
    settings = cmp.CompareSettings(primary_metric="roc_auc")
    assert cmp.decide(_mc(delta, p, n, higher), settings, (), "v1", "v2")[0] == verdict


@pytest.mark.parametrize("delta,p,verdict,shown", [
    (0.0537123, 0.0499612, "promote", "p = 0.04996 < 0.05"),      # not "0.050 < 0.05"
    (-0.0537123, 3.3e-12, "keep", "p = 3.3e-12 < 0.05"),
    (0.0537123, 0.0500391, "inconclusive", "p = 0.05004 >= 0.05"),
])
def test_decide_reason_reads_off_its_numbers(delta, p, verdict, shown):
    """The verdict's reason: 3 significant digits, the p-value against the level that
    decides (digits enough to keep its side), so the verdict is reproducible from it."""
    settings = cmp.CompareSettings(primary_metric="roc_auc")
    got, reasons = cmp.decide(_mc(delta, p), settings, (), "v1", "v2")
    assert got == verdict and shown in reasons[0], reasons
    numbers = re.findall(r"(?<![\w.])[-+]?\d+\.\d+", reasons[0].split("p = ")[0])
    assert numbers and all(len(x.lstrip("+-").replace(".", "").lstrip("0")) <= 3 for x in numbers), reasons[0]
    assert ("0.754" in reasons[0] or "0.646" in reasons[0]) and "0.700" in reasons[0]


def test_no_difference_is_inconclusive(tmp_path):
    ab = ab_workspace(tmp_path, n_baseline=800, n_candidate=800, quality=(1.0, 1.0), seed=6)
    r = cmp.compare_versions(_engine(ab), Selection.build("m"), "v1", "v2", segments=False, metrics=())
    assert r.verdict == "inconclusive" and "No significant difference" in r.reasons[0]


def test_segment_loss_blocks_promotion(tmp_path):
    ab = ab_workspace(tmp_path, n_baseline=2500, n_candidate=2500, quality=(0.6, 1.4),
                      partner_quality=(1.2, 0.5), seed=7)
    eng = _engine(ab)
    r = cmp.compare_versions(eng, Selection.build("m"), "v1", "v2", metrics=("roc_auc",))
    assert set(r.metrics) == {"roc_auc"}
    assert r.metrics["roc_auc"].delta > 0 and r.metrics["roc_auc"].p_value < 0.05
    assert [(s.column, s.value) for s in r.losing_segments] == [("channel", "partner")]
    assert r.verdict == "inconclusive" and any("loses on: channel = partner" in x for x in r.reasons)
    assert r.to_dict()["losing_segments"][0]["segment"] == "channel"
    # the workspace setting lets an overall win promote anyway (the loss is still reported)
    ab.config.write_text(ab.config.read_text() + "[models.compare]\nblock_on_segment_loss = false\n")
    r2 = cmp.compare_versions(_engine(ab), Selection.build("m"), "v1", "v2", metrics=())
    assert r2.verdict == "promote" and r2.losing_segments


def test_primary_metric_from_workspace(tmp_path):
    ab = ab_workspace(tmp_path, n_baseline=700, n_candidate=700, seed=8,
                      compare={"primary_metric": "brier", "min_n": 100, "alpha": 0.01})
    r = cmp.compare_versions(_engine(ab), Selection.build("m"), "v1", "v2", segments=False, metrics=())
    assert r.primary_metric == "brier" and set(r.metrics) == {"brier"} and r.settings.alpha == 0.01 and r.settings.min_n == 100


def test_validate_compare_config():
    assert validate_compare_config({"primary_metric": "roc_auc", "min_n": 100}) == []
    problems = validate_compare_config({"primry_metric": "x", "alpha": 2, "min_n": 0,
                                            "primary_metric": "roc_acu", "block_on_segment_loss": "yes"})
    text = " ".join(problems)
    assert "did you mean 'primary_metric'" in text and "alpha" in text and "min_n" in text
    assert "'roc_acu' is not a metric" in text and "block_on_segment_loss" in text


# ------------------------------------------------------------- bad input


def test_bad_input_errors(unpaired):
    _, eng, _ = unpaired
    with pytest.raises(UnknownVersionError, match="no version 'v9'"):
        cmp.compare_versions(eng, Selection.build("m"), "v1", "v9")
    with pytest.raises(SelectionError, match="share no labeled 'pid'"):
        cmp.compare_versions(eng, Selection.build("m"), "v1", "v2", paired=True)
    with pytest.raises(SelectionError, match="same version"):
        cmp.compare_versions(eng, Selection.build("m"), "v1", "v1")
    with pytest.raises(EmptySelectionError, match="no predictions"):
        cmp.compare_versions(eng, Selection.build("m", start="2027-01-01"), "v1", "v2")
    with pytest.raises(SelectionError, match="must not restrict versions"):
        cmp.compare_versions(eng, Selection.build("m", versions=["v1"]), "v1", "v2")


def test_unlabeled_window_is_a_clear_error(tmp_path):
    ab = ab_workspace(tmp_path, n_baseline=200, n_candidate=200, label_share=0.0, seed=9)
    with pytest.raises(EmptySelectionError, match="no labeled predictions"):
        cmp.compare_versions(_engine(ab), Selection.build("m"), "v1", "v2")


def test_compare_cli(unpaired, capsys):
    ab, _, _ = unpaired
    args = ["compare", "--config", str(ab.config), "--model", "m", "--baseline", "v1", "--candidate", "v2"]
    assert cli.main(args + ["--format", "json", "--sequential", "--metric", "brier"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["baseline"] == "v1" and out["candidate"] == "v2" and out["paired"] is False
    assert out["primary_metric"] == "brier" and out["verdict"] in cmp.VERDICTS
    assert set(out["metrics"]["roc_auc"]) >= {"baseline", "candidate", "delta", "ci_low", "ci_high", "p_value"}
    assert out["sequential"]["looks"] and out["sequential"]["metric"] == "brier"
    assert cli.main(args + ["--paired"]) == 2
    assert "error: Versions 'v1' and 'v2' of model 'm' share no labeled 'pid'" in capsys.readouterr().err


def test_multiclass_unpaired_accuracy(tmp_path):
    from .factories import CLASSES, make_workspace
    g = make_workspace(tmp_path, "multiclass", n=1600, seed=31)
    r = cmp.compare_versions(Engine(load_workspace(g.config)), Selection.build("multiclass_model"), "v1", "v2",
                             segments=False, metrics=("accuracy",), min_n=100)
    f = g.frame()
    f = f[f["y_true"].notna()]
    pred = np.array(CLASSES)[np.argmax(f[[f"p_{c}" for c in CLASSES]].to_numpy(), axis=1)]
    ok = pred == f["y_true"].to_numpy()
    table = [[ok[f["ver"] == v].sum(), (~ok[f["ver"] == v]).sum()] for v in ("v1", "v2")]
    assert r.primary_metric == "macro_f1" and set(r.metrics) == {"macro_f1", "accuracy"}
    assert r.metrics["accuracy"].p_value == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue,
                                                          rel=1e-9)
    assert r.metrics["macro_f1"].method == "normal approximation" and r.verdict in cmp.VERDICTS


def test_paired_decisions_only(tmp_path):
    """A binary model that logs decisions but no score: McNemar and the disagreement
    rate still work; score metrics are null with a reason and the verdict says why."""
    ab = ab_workspace(tmp_path, n_baseline=800, paired=True, quality=(0.8, 1.2), seed=13, decisions_only=True)
    r = cmp.compare_versions(_engine(ab), Selection.build("m"), "v1", "v2", sequential=True, segments=False)
    da, ya, _ = _side(ab, "v1")
    assert r.paired and "McNemar" in r.metrics["accuracy"].method
    assert r.metrics["roc_auc"].p_value is None and r.metrics["roc_auc"].reason
    assert r.verdict == "inconclusive" and "cannot be compared" in r.reasons[0]
    assert r.sequential.metric == "accuracy"
    db = _side(ab, "v2")[0]       # the scores the decisions were made from
    assert r.disagreement_rate == pytest.approx(((da >= 0.5) != (db >= 0.5)).mean(), rel=1e-12)


def test_paired_segment_loss_uses_paired_delong(tmp_path):
    """Shadow scoring: the per-segment test is the paired DeLong on that segment's common ids."""
    ab = ab_workspace(tmp_path, n_baseline=1500, paired=True, quality=(0.6, 1.2), partner_quality=(1.0, 0.5),
                      seed=14)
    eng = compiling_engine(load_workspace(ab.config))   # the grouped queries also compile for Trino
    r = cmp.compare_versions(eng, Selection.build("m"), "v1", "v2", metrics=())
    assert r.paired and r.metrics["roc_auc"].delta > 0
    (loss,) = [s for s in r.losing_segments if s.value == "partner"]
    sa, ya, ia = _side(ab, "v1")
    sb, _, _ = _side(ab, "v2")
    part = ab.rows["channel"][(ab.rows["ver"] == "v1") & (ab.rows["label"] >= 0)] == "partner"
    d, _, p = paired_delong_ref(sa[part], sb[part], ya[part])
    assert loss.delta == pytest.approx(d, rel=1e-9) and loss.p_value == pytest.approx(p, rel=1e-6)
    assert r.verdict == "inconclusive"
