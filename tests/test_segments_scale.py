"""Weak segments on columns with many values: support first, the top-k cap and "(other)",
the rest's rank sums without a row per (segment, score); against scikit-learn and a
brute-force DeLong, and a memory bound on 10,000 values (issue #13)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn import metrics as skm

from analytics.analyses.segments import OTHER, weak_segments
from analytics.cli import main
from analytics.config.workspace import load_workspace
from analytics.errors import SelectionError
from analytics.log.engine import Engine
from analytics.metrics.compute import compute_metrics
from analytics.query.selection import Grouping, Selection

TOML = ('[[models]]\nname = "m"\ntask = "binary"\npredictions = "predictions.parquet"\n'
        '[models.columns]\nid = "id"\ntimestamp = "ts"\nscore = "score"\nlabel = "label"\n'
        'segments = [{segments}]\n')


def write_log(folder: Path, cols: dict[str, list], segments: list[str]) -> Path:
    n = len(cols["score"])
    start = dt.datetime(2026, 3, 2)
    table = {"id": pa.array(np.arange(n), pa.int64()),
             "ts": pa.array([start + dt.timedelta(minutes=int(i)) for i in range(n)], pa.timestamp("us"))}
    table.update({k: pa.array(v) for k, v in cols.items()})
    pq.write_table(pa.table(table), folder / "predictions.parquet")
    config = folder / "lastmile.toml"
    config.write_text(TOML.format(segments=", ".join(f'"{s}"' for s in segments)))
    return config


@pytest.fixture(scope="module")
def skewed(tmp_path_factory):
    """2,400 rows; ``shop`` has 40 values of very different sizes (and NULLs), ``tier`` 3;
    scores in 2 decimals (ties); some rows unlabeled."""
    folder = tmp_path_factory.mktemp("skewed")
    rng = np.random.default_rng(21)
    n = 2400
    sizes = np.maximum(1, (400 * 0.8 ** np.arange(40)).astype(int))
    shop = np.concatenate([np.full(s, f"s{i:02d}") for i, s in enumerate(sizes)]).astype(object)
    shop = np.concatenate([shop, np.full(n - len(shop), None)])[:n]
    rng.shuffle(shop)
    label = (rng.random(n) < 0.35).astype(float)
    shift = np.array([0.0 if s is None else (int(s[1:]) % 7) / 10 for s in shop])
    score = np.round(1 / (1 + np.exp(-(rng.normal(0, 1, n) + (1.3 - shift) * label))), 2)
    label[rng.random(n) < 0.1] = np.nan
    tier = rng.choice(["gold", "silver", "bronze"], n, p=[0.2, 0.3, 0.5])
    cols = {"score": score.tolist(), "label": [None if np.isnan(v) else int(v) for v in label],
            "shop": shop.tolist(), "tier": tier.tolist()}
    config = write_log(folder, cols, ["shop", "tier"])
    df = pd.DataFrame(cols)
    return Engine(load_workspace(config)), config, df


def _delong_se(y: np.ndarray, s: np.ndarray) -> float:
    """DeLong's standard error, brute force from the placement values."""
    pos, neg = s[y == 1], s[y == 0]
    v10 = np.array([((neg < x) + 0.5 * (neg == x)).mean() for x in pos])
    v01 = np.array([((pos > x) + 0.5 * (pos == x)).mean() for x in neg])
    return float(np.sqrt(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg)))


def _inside(lab: pd.DataFrame, where: dict, kept: list[dict]) -> np.ndarray:
    """Rows of a segment; "(other)": non-NULL rows whose value is none of the kept ones."""
    cols = list(where)
    if all(v == OTHER for v in where.values()):
        known = lab[cols].notna().all(axis=1).to_numpy()
        in_kept = np.zeros(len(lab), bool)
        for k in kept:
            in_kept |= np.logical_and.reduce([(lab[c] == k[c]).to_numpy() for c in cols])
        return known & ~in_kept
    return np.logical_and.reduce([(lab[c] == v).to_numpy() for c, v in where.items()])


@pytest.mark.parametrize("metric", ["roc_auc", "pr_auc"])
def test_cap_keeps_the_best_supported_and_groups_the_rest(skewed, metric):
    engine, _, df = skewed
    res = weak_segments(engine, Selection.build("m"), metric, min_support=15, top_k=5)
    lab = df[df.label.notna()].reset_index(drop=True)
    y, s = lab.label.astype(int).to_numpy(), lab.score.to_numpy()
    support = lab.groupby("shop").size()
    supported = support[support >= 15]
    expect_kept = sorted(supported.index, key=lambda v: (-supported[v], v))[:5]
    shop = [x for x in res.segments if list(x.where) == ["shop"]]
    kept = [x.where for x in shop if x.other_values is None]
    assert sorted(k["shop"] for k in kept) == sorted(expect_kept)
    others = [x for x in shop if x.other_values is not None]
    assert len(others) == 1 and others[0].where == {"shop": OTHER}
    values = df.shop.dropna().nunique()
    assert others[0].other_values == values - 5
    (cap,) = [c for c in res.capped if c.columns == ("shop",)]
    assert (cap.values, cap.supported, cap.ranked, cap.other_values) == (values, len(supported), 5, values - 5)
    assert cap.other_rows == others[0].n and cap.other_labeled == others[0].n_labeled
    assert f"the other {values - 5:,}" in cap.sentence and OTHER in cap.sentence
    # tier (3 values) and the pairs shop x tier: the pairs are capped too, tier is not
    assert not [c for c in res.capped if c.columns == ("tier",)]
    assert len([x for x in res.segments if list(x.where) == ["tier"]]) == 3
    pair_cap = [c for c in res.capped if c.columns == ("shop", "tier")]
    pairs = [x for x in res.segments if list(x.where) == ["shop", "tier"]]
    if pair_cap:
        assert len(pairs) <= 6 and pair_cap[0].ranked == 5
    ref = skm.roc_auc_score if metric == "roc_auc" else skm.average_precision_score
    for seg in res.segments:
        kept_here = [x.where for x in res.segments if list(x.where) == list(seg.where) and x.other_values is None]
        m = _inside(lab, seg.where, kept_here)
        assert seg.n_labeled == m.sum() >= 15
        assert seg.metric.value == pytest.approx(ref(y[m], s[m]), abs=1e-9)
        assert seg.rest.value == pytest.approx(ref(y[~m], s[~m]), abs=1e-9)
        if metric == "roc_auc":
            assert seg.rest.se == pytest.approx(_delong_se(y[~m], s[~m]), rel=1e-6)
            assert seg.metric.se == pytest.approx(_delong_se(y[m], s[m]), rel=1e-6)


def test_without_cap_nothing_is_grouped(skewed):
    engine, _, df = skewed
    lab = df[df.label.notna()]
    res = weak_segments(engine, Selection.build("m"), "roc_auc", min_support=15, pairs=False)
    assert res.capped == () and res.top_k == 50
    support = lab.groupby("shop").size()
    assert {x.where["shop"] for x in res.segments if "shop" in x.where} == set(support[support >= 15].index)
    assert all(x.other_values is None for x in res.segments)


def test_accuracy_with_cap_matches_counts(skewed):
    """Additive metrics take the same plan: the rest is the overall counts minus the segment's."""
    engine, _, df = skewed
    lab = df[df.label.notna()].reset_index(drop=True)
    res = weak_segments(engine, Selection.build("m"), "accuracy", min_support=15, top_k=3, pairs=False)
    hit = ((lab.score >= 0.5).astype(int) == lab.label.astype(int)).to_numpy()
    kept = [x.where for x in res.segments if "shop" in x.where and x.other_values is None]
    assert len(kept) == 3
    for seg in res.segments:
        m = _inside(lab, seg.where, kept if "shop" in seg.where else [])
        assert seg.metric.value == pytest.approx(hit[m].mean(), abs=1e-12)
        assert seg.rest.value == pytest.approx(hit[~m].mean(), abs=1e-12)


def test_a_segment_metric_equals_compute_metrics(skewed):
    engine, _, _ = skewed
    res = weak_segments(engine, Selection.build("m"), "roc_auc", min_support=15, top_k=4, pairs=False)
    by = compute_metrics(engine, Selection.build("m"), Grouping(by=("shop",)), ["roc_auc"])
    for seg in res.segments:
        if seg.other_values is None and "shop" in seg.where:
            assert seg.metric.value == pytest.approx(by.row(shop=seg.where["shop"]).metrics["roc_auc"].value,
                                                     abs=1e-12)


def test_cli_says_what_was_capped(skewed, capsys):
    _, config, _ = skewed
    assert main(["segments", "--config", str(config), "--model", "m", "--min-support", "15", "--top-k", "5",
                 "--no-pairs", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["top_k"] == 5
    (cap,) = out["capped"]
    assert cap["columns"] == ["shop"] and cap["ranked"] == 5 and "grouped as (other)" in cap["sentence"]
    other = [s for s in out["segments"] if s["where"] == {"shop": OTHER}]
    assert other and other[0]["other_values"] == cap["other_values"]
    assert main(["segments", "--config", str(config), "--model", "m", "--min-support", "15", "--top-k", "5",
                 "--no-pairs"]) == 0
    text = capsys.readouterr().out
    assert "Capped (--top-k 5): shop:" in text and f"shop={OTHER} ({cap['other_values']:,} values)" in text


def test_top_k_must_be_positive(skewed, capsys):
    engine, config, _ = skewed
    with pytest.raises(SelectionError, match="at least 1"):
        weak_segments(engine, Selection.build("m"), "roc_auc", top_k=0)
    assert main(["segments", "--config", str(config), "--model", "m", "--top-k", "0"]) == 2
    assert "--top-k must be at least 1" in capsys.readouterr().err


def _peak_mb(argv: list[str]) -> tuple[int, float, str]:
    """Run ``python -m analytics.cli ARGV`` in a child: exit code, its own peak RSS (MB), stdout."""
    proc = subprocess.Popen([sys.executable, "-m", "analytics.cli", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=os.environ.copy())
    out = proc.stdout.read().decode()
    proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024, out


@pytest.fixture(scope="module")
def many_values(tmp_path_factory):
    """Issue #13's shape: 20,000 rows, ``region = f"r{i % 10000}"``, nearly distinct scores."""
    folder = tmp_path_factory.mktemp("many")
    rng = np.random.default_rng(13)
    n = 20_000
    label = (rng.random(n) < 0.3).astype(int)
    score = np.round(1 / (1 + np.exp(-(rng.normal(0, 1, n) + 1.2 * label))), 6)
    return write_log(folder, {"score": score.tolist(), "label": label.tolist(),
                              "region": [f"r{i % 10000}" for i in range(n)]}, ["region"])


@pytest.mark.parametrize("metric, support", [("roc_auc", "100"), ("roc_auc", "1"), ("pr_auc", "1")])
def test_ten_thousand_values_in_bounded_memory(many_values, metric, support):
    """Before the fix this took 12.3 GB (values x distinct scores rows); now the cap bounds it.
    (A generous bound on peak memory; no timing assertion.)"""
    code, peak, out = _peak_mb(["segments", "--config", str(many_values), "--model", "m", "--metric", metric,
                                "--min-support", support, "--format", "json"])
    assert code == 0
    res = json.loads(out)
    if support == "1":   # every value has 2 labeled rows: 50 ranked, 9,950 grouped
        (cap,) = res["capped"]
        assert cap["values"] == 10_000 and cap["ranked"] == 50 and cap["other_values"] == 9_950
        assert cap["other_rows"] == 19_900 and len(res["segments"]) == 51
    else:                # no value has 100 labeled rows: nothing ranked, nothing capped
        assert res["segments"] == [] and res["capped"] == []
    assert peak < 1500, f"peak memory {peak:.0f} MB"
