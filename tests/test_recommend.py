"""Recommendations on the bundled sample (the decisions its stories lead to), the CLI's
field, and the rules on small cases."""

import datetime as _dt
import json
import re

import pytest

from analytics.analyses import recommend as rec
from analytics.render import format as fmt
from analytics.log.engine import Engine
from analytics.analyses.health import Health, Reason
from analytics.config.workspace import SAMPLE_CONFIG, load_workspace

pytestmark = pytest.mark.skipif(not SAMPLE_CONFIG.is_file(), reason="bundled sample data not generated")


@pytest.fixture(scope="module")
def sample():
    from analytics.analyses.health import portfolio_health
    engine = Engine(load_workspace(SAMPLE_CONFIG))
    healths = portfolio_health(engine)
    return engine, healths, rec.portfolio_recommendations(engine, healths)


@pytest.fixture(scope="module")
def recs(sample):
    return sample[0], sample[2]


def test_credit_default_verdict_is_on_the_serving_versions(sample):
    # v3 is a detected shadow: left out of the verdict, still a candidate (the switch below)
    (h,) = [h for h in sample[1] if h.model == "credit_default"]
    assert h.versions == ("v1", "v2") and h.shadows == ("v3",)
    assert h.to_dict()["shadow_versions"] == ["v3"]
    assert all(r.level == "info" for r in h.reasons if r.version == "v3")
    assert any(r.rule == "roles" and r.version == "v3" for r in h.reasons)


def _by(recs, model, action):
    return [r for r in recs if r.model == model and r.action == action]


def test_credit_default_switches_to_the_shadow_v3_like_for_like(recs):
    _, all_ = recs
    (s,) = _by(all_, "credit_default", "switch")
    assert (s.version, s.target) == ("v1", "v3")
    assert s.numbers["paired"] is True and s.numbers["verdict"] == "promote"
    assert s.numbers["p_value"] < 1e-6
    # AUC of both on the shared ids, 3 significant digits, p-value in words
    assert "0.764 vs 0.736" in s.sentence and "very unlikely to be chance" in s.sentence
    assert s.money is not None and s.money > 0 and s.money_per == "month"
    assert fmt.money(s.money, "USD", short=True) in s.sentence
    # v2 is better overall but worse on partners: not recommended, and said so
    assert "channel = partner" in s.sentence
    assert s.window["start"].startswith("2026-08-10")


def test_credit_default_threshold_020_with_its_money(recs):
    _, all_ = recs
    (t,) = _by(all_, "credit_default", "threshold")
    assert t.version == "v1"
    assert t.numbers["best_threshold"] == pytest.approx(0.20, abs=0.005)
    assert t.numbers["current_threshold"] == pytest.approx(0.30)
    assert t.money == pytest.approx(962190, rel=0.01)
    assert "from 0.30 to 0.20" in t.sentence and "$962k" in t.sentence


def test_credit_default_labels_still_arriving_is_watch_not_alarm(recs):
    _, all_ = recs
    (w,) = _by(all_, "credit_default", "watch")
    weeks = w.numbers["arriving"]
    assert [x["start"][:10] for x in weeks] == ["2026-11-09", "2026-11-16"]
    assert weeks[-1]["coverage"] == 0.0
    assert "still arriving" in w.sentence and "expected" in w.sentence


def test_delivery_eta_pull_then_switch_to_v2(recs):
    _, all_ = recs
    models = [r for r in all_ if r.model == "delivery_eta"]
    assert models[0].action == "pull"                    # most urgent first
    assert "v1" in models[0].sentence and "55.5% worse" in models[0].sentence
    (s,) = _by(all_, "delivery_eta", "switch")
    assert (s.version, s.target) == ("v1", "v2")
    assert s.numbers["verdict"] == "promote" and s.numbers["paired"] is False
    assert s.window["start"].startswith("2026-10-19")   # the days both served
    assert "5.21 vs 6.22" in s.sentence
    assert s.money is None and "no business values" in s.sentence


def test_every_model_has_a_recommendation_with_its_rule_and_window(recs):
    engine, all_ = recs
    assert {r.model for r in all_} == {s.name for s in engine.workspace.models}
    for r in all_:
        assert r.action in rec.ACTIONS and r.rule and r.sentence.endswith(".")
        d = r.to_dict()
        json.dumps(d)
        assert set(d) >= {"action", "sentence", "numbers", "window", "rule", "money"}
        # no raw 4-5 significant digit statistics in what people read
        assert not re.search(r"\d\.\d{4,}", r.sentence), r.sentence


def test_check_json_and_text_carry_the_recommendations(capsys):
    from analytics.cli import main

    code = main(["check", "--config", str(SAMPLE_CONFIG), "--format", "json", "--model", "delivery_eta"])
    out = json.loads(capsys.readouterr().out)
    assert code == 4
    actions = [r["action"] for r in out["recommendations"]]
    assert actions[0] == "pull" and "switch" in actions
    assert all(r["model"] == "delivery_eta" for r in out["recommendations"])
    main(["check", "--config", str(SAMPLE_CONFIG), "--model", "delivery_eta"])
    text = capsys.readouterr().out
    assert "What to do:" in text and "[switch] Switch delivery_eta from v1 to v2" in text


def test_healthy_model_is_keep_and_error_has_none(recs):
    engine, _ = recs
    now = _dt.datetime(2026, 11, 22)
    healthy = Health("ticket_router", "healthy", (), {"current": (now - _dt.timedelta(days=7), now)}, ("v2",))
    (k,) = rec.recommend(engine, "ticket_router", health=healthy)
    assert k.action == "keep" and "every health check passes" in k.sentence
    broken = Health("ticket_router", "error", (Reason("read", None, None, None, "error", "", "x"),))
    assert rec.recommend(engine, "ticket_router", health=broken) == ()


@pytest.mark.parametrize("p, words", [(1e-9, "very unlikely to be chance"), (0.01, "unlikely to be chance"),
                                      (0.2, "could be chance"), (None, "not tested")])
def test_p_values_in_words(p, words):
    assert fmt.chance(p) == words


@pytest.mark.parametrize("v, text", [(0.73647, "0.736"), (6.219, "6.22"), (147.39, "147"), (12345.6, "12,300"),
                                     (0.0004567, "0.000457"), (-2.5, "-2.50"), (None, fmt.MISSING)])
def test_three_significant_digits(v, text):
    assert fmt.sig(v) == text
