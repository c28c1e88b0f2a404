"""`lastmile roi`: the contract's JSON shape, the table and CSV views, threshold analysis,
what-if overrides, and errors as one sentence with exit status 2."""

from __future__ import annotations

import json

import pytest

from analytics.cli import main
from analytics.config.workspace import SAMPLE_CONFIG
from .factories import make_workspace


CONTRACT_ROW = {"group", "n", "n_labeled", "value", "baseline_value", "lift", "compute_cost",
                "net_value", "roi"}


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("roi")
    g = make_workspace(folder, "binary", n=1500, seed=8, value_columns=("gain",), value_nulls=30,
                       business={"tp": 100.0, "fp": -10.0, "fn": -50.0, "tn": "gain",
                                 "cost_per_1k": 2.0, "currency": "EUR"})
    return str(g.config)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_roi_json_follows_the_contract(ws, capsys):
    code, out, err = run(capsys, "roi", "--config", ws, "--model", "binary_model", "--by", "version",
                         "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["currency"] == "EUR"
    assert [r["group"] for r in doc["rows"]] == [{"version": "v1"}, {"version": "v2"}]
    for r in doc["rows"]:
        assert CONTRACT_ROW <= set(r)
        assert r["lift"] == pytest.approx(r["value"] - r["baseline_value"])
        assert r["net_value"] == pytest.approx(r["lift"] - r["compute_cost"])
        assert r["roi"] == pytest.approx(r["net_value"] / r["compute_cost"])
        assert r["compute_cost"] == pytest.approx(r["n"] * 2.0 / 1000)
        assert 0 < r["pending_n"] < r["n"] and "calibrated" in r["pending_assumption"]
    assert "counted as 0" in err and "'gain'" in err  # nulls in the per-row value column


def test_roi_table_and_csv(ws, capsys):
    code, out, _ = run(capsys, "roi", "--config", ws, "--model", "binary_model", "--by", "period",
                       "--period", "month", "--cumulative")
    assert code == 0
    assert "cumulative_net_value" in out and "€" in out and "note: pending_expected_value" in out
    code, out, _ = run(capsys, "roi", "--config", ws, "--model", "binary_model", "--format", "csv",
                       "--where", "region=EU", "--start", "2026-03-09")
    assert code == 0
    header, row = out.strip().splitlines()
    assert header.startswith("n,n_labeled,value,baseline_value,lift") and len(row.split(",")) == len(header.split(","))


def test_roi_thresholds(ws, capsys):
    code, out, _ = run(capsys, "roi", "--config", ws, "--model", "binary_model", "--thresholds",
                       "--format", "json", "--points")
    assert code == 0
    doc = json.loads(out)
    assert set(doc["versions"]) == {"v1", "v2"} and doc["bins"] == 1000
    for vc in doc["versions"].values():
        assert len(vc["thresholds"]) == 1001 and max(vc["values"]) == pytest.approx(vc["best_value"])
        assert vc["left_on_table"] == pytest.approx(vc["best_value"] - vc["value_at_current"])
    code, out, _ = run(capsys, "roi", "--config", ws, "--model", "binary_model", "--thresholds")
    assert code == 0 and "best_threshold" in out and "left_on_table" in out


def test_roi_assume_overrides_a_number(ws, capsys):
    _, base, _ = run(capsys, "roi", "--config", ws, "--model", "binary_model", "--format", "json")
    _, moved, _ = run(capsys, "roi", "--config", ws, "--model", "binary_model", "--format", "json",
                      "--assume", "cost_per_1k=0", "--assume", "baseline=none")
    b, m = json.loads(base)["rows"][0], json.loads(moved)["rows"][0]
    assert m["value"] == pytest.approx(b["value"]) and m["baseline_value"] == 0.0
    assert m["roi"] is None and "compute cost is 0" in m["roi_reason"]


@pytest.mark.parametrize("argv,culprit", [
    (["--assume", "bogus=1"], "bogus"),
    (["--assume", "threshold=high"], "threshold"),
    (["--assume", "baseline=v7"], "v7"),
    (["--assume", "fp=no_such_column"], "no_such_column"),
    (["--by", "planet"], "planet"),
])
def test_roi_errors_name_the_culprit(ws, capsys, argv, culprit):
    code, out, err = run(capsys, "roi", "--config", ws, "--model", "binary_model", *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and culprit in err and len(err.strip().splitlines()) == 1


def test_roi_without_business_table_says_so(tmp_path, capsys):
    g = make_workspace(tmp_path, "binary", n=100)
    code, _, err = run(capsys, "roi", "--config", str(g.config), "--model", "binary_model")
    assert code == 2 and "[models.business]" in err


@pytest.mark.skipif(not SAMPLE_CONFIG.is_file(), reason="the bundled sample workspace is not generated")
def test_roi_on_the_bundled_sample(capsys):
    code, out, _ = run(capsys, "roi", "--config", str(SAMPLE_CONFIG), "--model", "credit_default",
                       "--by", "version", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["currency"] == "USD" and {r["group"]["version"] for r in doc["rows"]} >= {"v1", "v2"}
    for r in doc["rows"]:
        # the model beats approving everyone (the all_negative baseline) and costs little to run
        assert r["lift"] > 0 and r["compute_cost"] > 0
        assert r["net_value"] > 0 and r["roi"] > 0
        assert r["n_labeled"] <= r["n"] and r["pending_n"] == r["n"] - r["n_labeled"]
