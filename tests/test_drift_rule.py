"""Issue #16.4: every drift flag is reproducible from the numbers shown.

The documented rule (analytics/docs/drift.md, "The decision") is re-implemented
here from the docs, independently of analytics.analyses.drift.rule, and re-applied to the
numbers of ``lastmile drift --format json``: every ``drifted`` flag (features,
prediction, label) must match, at large n (effect sizes only) and at small n
(the test must confirm). The chart's threshold lines are the rule's, and the
health reasons name the rule's numbers, ranked by the importance proxy.
"""

from __future__ import annotations

import html

import datetime as dt
import json
import re

import pytest

from analytics import cli
from analytics.analyses.drift import DriftConfig, compute_drift, drift_over_time
from analytics.analyses.drift.rule import CHART_STATS
from analytics.analyses.health import model_health
from analytics.config.workspace import SAMPLE_CONFIG, load_workspace
from analytics.log.engine import Engine
from analytics.query.selection import Selection
from analytics.render.charts.drift_rule import drift_rule_chart
from .ab_factory import ab_workspace
from .factories import make_workspace


needs_sample = pytest.mark.skipif(not SAMPLE_CONFIG.is_file(), reason="bundled sample data not generated")

#: The documented defaults.
DOC = {"psi": 0.2, "wasserstein_normed": 0.2, "js_distance": 0.1, "p": 0.01, "large_n": 1000}


def documented_rule(row: dict, t: dict = DOC) -> bool:
    """drift.md: numeric PSI >= 0.2 or normed Wasserstein >= 0.2; categorical PSI >= 0.2 or
    JS distance >= 0.1; with fewer than 1,000 values in a window also p < 0.01."""
    second = "wasserstein_normed" if row["kind"] == "numeric" else "js_distance"
    effect = any(row.get(s) is not None and row[s] >= t[s] for s in ("psi", second))
    if min(row["n_ref"], row["n_cur"]) < t["large_n"]:
        p = row.get("ks_p_value" if row["kind"] == "numeric" else "chi2_p_value")
        return effect and p is not None and p < t["p"]
    return effect


def _json(capsys, config, *argv) -> dict:
    code = cli.main(["drift", "--config", str(config), *argv, "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)


def _rows(d: dict) -> list[tuple[str, dict]]:
    rows = list(d["features"].items())
    rows += [(role, d[role]) for role in ("prediction", "label") if d.get(role)]
    return rows


def _check_every_flag(d: dict, t: dict = DOC) -> None:
    for name, row in _rows(d):
        assert row["drifted"] == documented_rule(row, t), (name, row)
        assert row["why"] and row["rule"], name
        # the sentence quotes numbers that are in the row (to its rounding)
        for label, key in (("PSI", "psi"), ("normed Wasserstein", "wasserstein_normed"), ("JS distance", "js_distance")):
            m = re.search(rf"{label} ([0-9.e+-]+) (>=|<) ", row["why"])
            if m:
                assert float(m.group(1)) == pytest.approx(row[key], rel=0.06), (name, key)


@needs_sample
@pytest.mark.parametrize("model", ["credit_default", "ticket_router", "delivery_eta"])
def test_sample_flags_follow_the_documented_rule(capsys, model):
    d = _json(capsys, SAMPLE_CONFIG, "--model", model)
    _check_every_flag(d)
    assert all(min(r["n_ref"], r["n_cur"]) >= 1000 for _, r in _rows(d))   # large n: no p-value decides
    if model == "credit_default":
        f = d["features"]
        # the story: income, debt ratio and employment moved from mid-September ...
        assert [n for n, r in f.items() if r["drifted"]] == ["income", "debt_ratio", "employment"]
        # ... loan amount only a little (PSI ~0.03, normed Wasserstein ~0.14), age not at all
        assert f["loan_amount"]["psi"] < 0.05 and f["loan_amount"]["wasserstein_normed"] < 0.2
        assert "< 0.2" in f["loan_amount"]["why"]
        # the label row: chi-square p < 0.001 but a tiny effect: not drifted, and it says why
        lab = d["label"]
        assert lab["chi2_p_value"] < 1e-3 and not lab["drifted"] and "JS distance" in lab["why"]
        assert d["prediction"]["drifted"]
    if model == "ticket_router":
        assert not any(r["drifted"] for r in d["features"].values())   # PSI 0.03: too small to matter
        assert d["label"]["drifted"] and d["prediction"]["drifted"]    # the technical share grows


def test_generated_small_n_uses_p_values(capsys, tmp_path):
    """Windows of a few hundred rows: the effect must be confirmed by the test; a shift
    produced by the generator (from day 42) is flagged, noise is not."""
    ab = ab_workspace(tmp_path / "f", n_baseline=600, n_candidate=600, days=56, quality=(1.5, 1.5),
                      drift_after_day=42, seed=31)
    first = _json(capsys, ab.config, "--model", "m", "--reference-start", "2026-03-02", "--reference-end",
                  "2026-03-16", "--current-start", "2026-04-13", "--current-end", "2026-04-27")
    quiet = _json(capsys, ab.config, "--model", "m", "--reference-start", "2026-03-02", "--reference-end",
                  "2026-03-16", "--current-start", "2026-03-16", "--current-end", "2026-03-30")
    for d in (first, quiet):
        assert all(min(r["n_ref"], r["n_cur"]) < 1000 for _, r in _rows(d))
        assert all(r["method"] in ("ks", "chi2") for _, r in _rows(d))
        _check_every_flag(d)
        for _, r in _rows(d):
            assert ("KS p" in r["why"] or "chi-square p" in r["why"] or "< 0.2" in r["why"]
                    or "< 0.1" in r["why"]), r["why"]
    assert any(r["drifted"] for _, r in _rows(first))
    assert not any(r["drifted"] for r in quiet["features"].values())


def test_configured_thresholds_are_applied(capsys, tmp_path):
    g = make_workspace(tmp_path, "binary", n=3000, days=28)
    g.config.write_text(g.config.read_text().replace(
        "[models.columns]", "[models.drift]\npsi_threshold = 0.001\nwasserstein_threshold = 0.05\n"
                            "js_threshold = 0.01\nlarge_n = 100\n\n[models.columns]"))
    d = _json(capsys, g.config, "--model", "binary_model")
    t = dict(DOC, psi=0.001, wasserstein_normed=0.05, js_distance=0.01, large_n=100)
    _check_every_flag(d, t)
    assert ">= 0.001" in d["features"]["income"]["rule"] and "0.05" in d["features"]["income"]["rule"]


def test_an_effect_is_not_rounded_onto_its_threshold():
    rule = DriftConfig().rule("numeric")
    why = rule.decide(5000, 5000, {"psi": 0.19996, "wasserstein_normed": 0.01}).why
    assert "PSI 0.19996 < 0.2" in why or "PSI 0.2 <" not in why
    assert rule.decide(5000, 5000, {"psi": 0.2, "wasserstein_normed": 0.0}).drifted   # >= : at the line


def test_chart_threshold_lines_are_the_rules(tmp_path):
    g = make_workspace(tmp_path, "binary", n=2000, days=28)
    g.config.write_text(g.config.read_text().replace(
        "[models.columns]", "[models.drift]\npsi_threshold = 0.15\nwasserstein_threshold = 0.3\n"
                            "js_threshold = 0.07\n\n[models.columns]"))
    engine = Engine(load_workspace(g.config))
    cfg = DriftConfig(psi_threshold=0.15, wasserstein_threshold=0.3, js_threshold=0.07)
    ref = Selection.build("binary_model", "2026-03-02", "2026-03-09")
    frame = drift_over_time(engine, "binary_model", ref, Selection.build("binary_model", "2026-03-09", "2026-03-30"))
    expected = {"psi": 0.15, "wasserstein_normed": 0.3, "js_distance": 0.07}
    for stat in CHART_STATS:
        fig = drift_rule_chart(frame, compute_drift(engine, "binary_model", ref, ref).config, stat)
        lines = [s for s in fig.layout.shapes if s.type == "line"]
        assert [s.y0 for s in lines] == [expected[stat]] and lines[0].y1 == expected[stat]
        assert f">= {expected[stat]:g}" in html.unescape(fig.layout.annotations[0].text)  # charts escape user text
        names = {tr.name for tr in fig.data}
        kinds = dict(zip(frame["feature"], frame["kind"]))
        assert names and all(kinds[n] in CHART_STATS[stat] for n in names)
        # every point's tooltip carries the rule applied to it
        assert all(tr.customdata is not None and len(tr.customdata) == len(tr.x) for tr in fig.data)
    assert cfg.rule("numeric").thresholds == {"psi": 0.15, "wasserstein_normed": 0.3}


@needs_sample
def test_health_reasons_name_the_rule_and_rank_by_importance():
    h = model_health(Engine(load_workspace(SAMPLE_CONFIG)), "credit_default")
    (r,) = [r for r in h.reasons if r.rule == "drifted_features" and r.level != "info"]
    details = r.to_dict()["details"]
    names = [x["feature"] for x in details]
    assert set(names) == {"income", "debt_ratio", "employment"}     # not loan_amount (PSI 0.02)
    imps = [x["importance"] for x in details]
    assert all(i is not None and i >= 0 for i in imps) and imps == sorted(imps, reverse=True)
    assert all(x["importance_metric"] == "roc_auc" for x in details)
    # the message quotes each feature's why, in the ranked order
    pos = [r.message.index(f"{x['feature']}: {x['why']}") for x in details]
    assert pos == sorted(pos)
    assert re.search(r"PSI [0-9.]+ >= 0\.2", r.message) and "normed Wasserstein" in r.message
    pred = [x for x in h.reasons if x.rule == "prediction_psi"]
    assert pred and ">= 0.2" in pred[0].message and "drift rule" in pred[0].message
    # ticket_router: no feature reason (PSI ~0.04 is too small to matter)
    t = model_health(Engine(load_workspace(SAMPLE_CONFIG)), "ticket_router")
    assert not [x for x in t.reasons if x.rule == "drifted_features" and x.level != "info"]
