"""The sample-log generator (analytics/sample/) and the bundled sample_data/.

Two kinds of checks:

* the generator itself, on a small set written into a temporary folder:
  determinism, layout, types, row counts, chunked writing;
* the stories, on the bundled ``sample_data`` (150k rows, seed 7): each story a
  user should find in the dashboard is recomputed here straight from the
  Parquet files with duckdb and scikit-learn, independently of the engine.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import f1_score, recall_score, roc_auc_score

from analytics import sample as S

BUNDLED = Path(__file__).resolve().parent.parent / "sample_data"
SMALL_ROWS = 30_000
MODELS = ("credit_default", "ticket_router", "delivery_eta")
TABLES = (
    ("credit_default", "predictions"),
    ("credit_default", "outcomes"),
    ("ticket_router", "predictions"),
    ("delivery_eta", "predictions"),
    ("delivery_eta", "outcomes"),
)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def digest(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``root``."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def assert_same_content(stored: pa.Table, rebuilt: pa.Table, where) -> None:
    """Same schema, same values: exact for every column but floats, which may differ
    by one unit of their logged precision (1e-6).

    The generator rounds every float it writes (scores to 5 or 6 decimals), so the
    bytes are the same on every CPU in practice; but numpy's ``exp`` may differ in
    the last bit between SIMD paths, and a value that falls exactly on a rounding
    boundary on one machine would then round the other way on another. A stated
    tolerance keeps the test true on every machine.
    """
    assert stored.schema == rebuilt.schema, where
    assert stored.num_rows == rebuilt.num_rows, where
    for name in stored.schema.names:
        a, b = stored[name], rebuilt[name]
        if pa.types.is_floating(a.type):
            x, y = a.to_numpy(zero_copy_only=False), b.to_numpy(zero_copy_only=False)
            assert np.array_equal(np.isnan(x), np.isnan(y)), (where, name)
            np.testing.assert_allclose(x, y, rtol=0, atol=1.01e-6, err_msg=f"{where} {name}")
        else:
            assert a.equals(b), (where, name)


def glob(root: Path, model: str, kind: str) -> str:
    return f"{root}/{model}/{kind}/**/*.parquet"


def sql(query: str):
    """Run a query on a fresh in-memory duckdb and return a pandas frame."""
    with duckdb.connect() as con:
        return con.sql(query).df()


def hanley_mcneil_se(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of an ROC AUC (Hanley & McNeil, 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (n_pos * n_neg)
    return float(np.sqrt(var))


def auc_stats(frame) -> tuple[float, int, int]:
    y = frame["actual"].to_numpy()
    return roc_auc_score(y, frame["score"]), int(y.sum()), int(len(y) - y.sum())


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A small generation (seed 7) plus the size of every chunk written, in order."""
    out = tmp_path_factory.mktemp("small")
    writes: list[tuple[str, int]] = []
    messages: list[str] = []
    original = S.write_chunk

    def recording_write(table: pa.Table, path: Path) -> None:
        writes.append((path.relative_to(out).as_posix(), table.num_rows))
        original(table, path)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(S, "write_chunk", recording_write)
        toml = S.generate(out, rows=SMALL_ROWS, seed=7, progress=messages.append)
    return {"root": out, "toml": toml, "writes": writes, "messages": messages}


@pytest.fixture(scope="module")
def credit():
    """Bundled credit_default predictions joined to their latest outcome (None if unlabeled)."""
    return sql(
        f"""
        with o as (
            select * from read_parquet('{glob(BUNDLED, "credit_default", "outcomes")}', hive_partitioning = false)
            qualify row_number() over (partition by prediction_id order by outcome_ts desc) = 1
        )
        select p.*, o.actual, o.outcome_ts
        from read_parquet('{glob(BUNDLED, "credit_default", "predictions")}', hive_partitioning = false) p
        left join o using (prediction_id)
        """
    )


@pytest.fixture(scope="module")
def credit_labeled_since_v2(credit):
    """Labelled credit rows from the day v2 went live (both versions served)."""
    frame = credit[credit["actual"].notna() & (credit["ts"] >= np.datetime64(S.CREDIT_V2_START))].copy()
    frame["actual"] = frame["actual"].astype(int)
    return frame


# --------------------------------------------------------------------------
# the generator
# --------------------------------------------------------------------------


def test_calendar_constants():
    assert S.DATA_START.weekday() == 0 and S.DATA_END.weekday() == 6
    assert S.N_DAYS == 182 == (S.DATA_END - S.DATA_START).days + 1
    assert S.DATA_START < S.CREDIT_V2_START < S.CREDIT_SHADOW_START < S.DRIFT_START < S.DATA_END
    assert S.DATA_START < S.TICKET_V2_START < S.DATA_END
    assert S.DATA_START < S.ROADWORKS_START < S.ETA_V2_START < S.DATA_END
    assert (S.CREDIT_V2_START - S.DATA_START).days == 8 * 7  # week 9
    assert (S.CREDIT_SHADOW_START - S.DATA_START).days == 11 * 7  # week 12


def test_same_seed_gives_byte_identical_files(small, tmp_path):
    S.generate(tmp_path, rows=SMALL_ROWS, seed=7)
    assert digest(tmp_path) == digest(small["root"])


@pytest.mark.parametrize("model", MODELS)
def test_another_seed_gives_other_data(small, model):
    """Each file is a function of (seed, model, day): seed 7 rebuilds it, seed 8 does not."""
    counts = S.daily_plan(SMALL_ROWS)[model]
    for i in (0, 90, S.N_DAYS - 10):
        day = S.DATA_START + timedelta(days=i)
        same, other = S.build_day(model, i, counts[i], seed=7), S.build_day(model, i, counts[i], seed=8)
        for kind, mine, theirs in zip(("predictions", "outcomes"), same, other, strict=True):
            if mine is None:
                continue
            stored = pq.read_table(small["root"] / model / kind / f"dt={day}" / "part-0.parquet")
            assert stored.equals(mine)
            assert stored.num_rows > 0 and not stored.equals(theirs), (model, kind, day)
            if kind == "predictions":  # same volume, other draws
                assert theirs.num_rows == pytest.approx(stored.num_rows, rel=0.15)
                column = stored.schema.names[3]  # score / p_billing / predicted_minutes
                assert stored[column] != theirs[column]


def test_hive_layout_one_file_per_day(small):
    root = small["root"]
    days = [S.DATA_START + timedelta(days=i) for i in range(S.N_DAYS)]
    for model, kind in TABLES:
        files = sorted((root / model / kind).rglob("*.parquet"))
        assert [f.relative_to(root / model / kind).as_posix() for f in files] == [
            f"dt={d.isoformat()}/part-0.parquet" for d in days
        ]
    assert not (root / "ticket_router" / "outcomes").exists()
    assert small["toml"] == root / "lastmile.toml"


def test_readable_by_duckdb_with_hive_partitions(small):
    root = small["root"]
    frame = sql(
        f"select dt, min(ts) lo, max(ts) hi, count(*) n "
        f"from read_parquet('{glob(root, 'credit_default', 'predictions')}', hive_partitioning = true) "
        f"group by dt order by dt"
    )
    assert len(frame) == S.N_DAYS
    # every row sits in the partition of its own day
    assert (frame["lo"].dt.date == frame["dt"].astype("datetime64[ns]").dt.date).all()
    assert (frame["hi"].dt.date == frame["dt"].astype("datetime64[ns]").dt.date).all()


@pytest.mark.parametrize(
    ("model", "kind", "columns"),
    [
        ("credit_default", "predictions", S.CREDIT_PREDICTION_COLUMNS),
        ("credit_default", "outcomes", S.CREDIT_OUTCOME_COLUMNS),
        ("ticket_router", "predictions", S.TICKET_PREDICTION_COLUMNS),
        ("delivery_eta", "predictions", S.ETA_PREDICTION_COLUMNS),
        ("delivery_eta", "outcomes", S.ETA_OUTCOME_COLUMNS),
    ],
)
def test_schemas(small, model, kind, columns):
    schema = pq.read_schema(small["root"] / model / kind / f"dt={S.DATA_END}" / "part-0.parquet")
    assert tuple(schema.names) == columns
    types = dict(zip(schema.names, schema.types, strict=True))
    for name, typ in types.items():
        if name in ("ts", "outcome_ts", "delivered_ts"):
            assert typ == pa.timestamp("us")  # naive
        elif name in ("age", "message_length", "attachments", "items", "hour") or (
            name == "actual" and model == "credit_default"
        ):
            assert typ == pa.int64(), name
        elif name in ("prediction_id", "model_version", "region", "channel", "employment", "predicted",
                      "actual", "language", "plan", "city", "vehicle", "weather"):  # fmt: skip
            assert typ == pa.string(), name
        else:
            assert typ == pa.float64(), name


def test_rows_is_the_total_across_models(small):
    counts = {
        m: sql(f"select count(*) n from read_parquet('{glob(small['root'], m, 'predictions')}')")["n"][0]
        for m in MODELS
    }
    assert abs(sum(counts.values()) - SMALL_ROWS) / SMALL_ROWS < 0.02
    assert counts["credit_default"] == pytest.approx(0.6 * SMALL_ROWS, rel=0.03)
    assert counts["ticket_router"] == pytest.approx(0.2 * SMALL_ROWS, rel=0.001)
    # delivery_eta lost most of one day's rows (S.QUALITY_OUTAGE): the plan minus those
    model, day, _ = S.QUALITY_OUTAGE
    planned = int(S.daily_plan(SMALL_ROWS)[model][(day - S.DATA_START).days])
    kept = pq.read_metadata(small["root"] / model / "predictions" / f"dt={day}" / "part-0.parquet").num_rows
    assert kept < 0.1 * planned
    assert counts["delivery_eta"] + planned - kept == pytest.approx(0.2 * SMALL_ROWS, rel=0.001)


def test_written_one_day_at_a_time(small):
    """Memory does not grow with rows: each write holds one model-day only."""
    writes = small["writes"]
    assert len(writes) == len(TABLES) * S.N_DAYS  # one write per file, nothing batched up
    assert len({path for path, _ in writes}) == len(writes)
    biggest = max(n for _, n in writes)
    # the largest day is a small multiple of the average day, never the whole model
    assert biggest < 3 * SMALL_ROWS * 0.6 / S.N_DAYS
    # and models are written one after the other, day by day
    order = [p.split("/")[0] for p, _ in writes]
    assert order == sorted(order, key=MODELS.index)
    assert len(small["messages"]) == 3 * 26 and "week 26/26" in small["messages"][-1]


def test_timestamps_cover_the_period_with_weekly_seasonality(small):
    frame = sql(
        f"select ts::date d, dayofweek(ts) dow, count(*) n "
        f"from read_parquet('{glob(small['root'], 'credit_default', 'predictions')}') group by all"
    )
    assert frame["d"].min().date() == S.DATA_START and frame["d"].max().date() == S.DATA_END
    weekend = frame[frame["dow"].isin([0, 6])]["n"].mean()
    weekday = frame[~frame["dow"].isin([0, 6])]["n"].mean()
    assert weekend < 0.7 * weekday


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="rows"):
        S.generate(tmp_path, rows=10)
    with pytest.raises(ValueError, match="seed"):
        S.generate(tmp_path, seed=-1)
    assert not any(tmp_path.iterdir())


def test_workspace_toml(small):
    doc = tomllib.loads(small["toml"].read_text())
    assert doc["engine"]["backend"] == "duckdb"
    models = {m["name"]: m for m in doc["models"]}
    assert list(models) == list(MODELS)
    assert {m["task"] for m in models.values()} == {"binary", "multiclass", "regression"}
    assert all(m["description"] for m in models.values())
    credit = models["credit_default"]
    assert credit["business"] == {
        "currency": "USD", "threshold": 0.3, "tp": 120.0, "fp": -15.0, "fn": "loan_amount_loss",
        "tn": 1500.0, "baseline": "all_negative", "cost_per_1k": 0.40,
    }  # fmt: skip
    assert "business" not in models["ticket_router"] and "business" not in models["delivery_eta"]
    assert models["ticket_router"]["columns"]["class_scores"] == {c: f"p_{c}" for c in S.TICKET_CLASSES}
    # every path resolves and every declared column exists in the files it describes
    root = small["toml"].parent
    for m in models.values():
        names = set()
        for role in ("predictions", "outcomes"):
            if role in m:
                files = sorted(root.glob(m[role]))
                assert len(files) == S.N_DAYS, (m["name"], role)
                names |= set(pq.read_schema(files[0]).names)
        cols = m["columns"]
        declared = [cols[k] for k in cols if isinstance(cols[k], str)]
        declared += cols["segments"] + cols["features"] + list(cols.get("class_scores", {}).values())
        assert set(declared) <= names, set(declared) - names


@pytest.mark.parametrize("model", MODELS)
def test_bundled_sample_is_the_default_generation(model):
    """sample_data/ holds what generate() writes with the defaults (plus README.md).

    A few days are rebuilt and compared by content, not bytes, so that another
    pyarrow version (which writes its own name into the footer) does not fail it.
    If this fails, regenerate: ``lastmile generate --out sample_data``.
    """
    assert (BUNDLED / "lastmile.toml").read_text() == S.workspace_toml()
    assert (BUNDLED / "README.md").is_file()
    files = {p.relative_to(BUNDLED).as_posix() for p in (BUNDLED / model).rglob("*.parquet")}
    kinds = [kind for m, kind in TABLES if m == model]
    assert len(files) == len(kinds) * S.N_DAYS
    counts = S.daily_plan(S.DEFAULT_ROWS)[model]
    for i in (0, (S.DRIFT_START - S.DATA_START).days, S.N_DAYS - 10):
        rebuilt = S.build_day(model, i, counts[i], S.DEFAULT_SEED)
        day = S.DATA_START + timedelta(days=i)
        for kind, table in zip(("predictions", "outcomes"), rebuilt, strict=True):
            if table is not None:
                stored = pq.read_table(BUNDLED / model / kind / f"dt={day}" / "part-0.parquet")
                assert_same_content(stored, table, (model, kind, day))


@pytest.mark.parametrize("model", MODELS)
def test_every_float_is_logged_rounded(model):
    """Floats carry at most 6 decimals (so rebuilt files match on every CPU)."""
    counts = S.daily_plan(S.DEFAULT_ROWS)[model]
    for kind, table in zip(("predictions", "outcomes"), S.build_day(model, 100, counts[100])):
        for name in (table.schema.names if table is not None else ()):
            if pa.types.is_floating(table[name].type):
                x = table[name].to_numpy(zero_copy_only=False)
                x = x[~np.isnan(x)]
                assert np.abs(x * 1e6 - np.round(x * 1e6)).max() < 1e-3, (model, kind, name)


def test_written_encodings_are_read_by_every_engine(small):
    """No BYTE_STREAM_SPLIT (Spark 4.0's Parquet reader rejects it), nothing exotic."""
    readable = {"PLAIN", "RLE", "RLE_DICTIONARY", "PLAIN_DICTIONARY", "DELTA_BINARY_PACKED",
                "DELTA_BYTE_ARRAY", "DELTA_LENGTH_BYTE_ARRAY"}
    seen = set()
    for model, kind in TABLES:
        meta = pq.read_metadata(next((small["root"] / model / kind).rglob("*.parquet")))
        for rg in range(meta.num_row_groups):
            for c in range(meta.num_columns):
                seen |= set(meta.row_group(rg).column(c).encodings)
    assert seen <= readable, seen - readable


def test_bundled_sample_size():
    total = sum(
        sql(f"select count(*) n from read_parquet('{glob(BUNDLED, m, 'predictions')}')")["n"][0] for m in MODELS
    )
    assert abs(total - S.DEFAULT_ROWS) / S.DEFAULT_ROWS < 0.02
    size = sum(p.stat().st_size for p in BUNDLED.rglob("*") if p.is_file())
    assert size < 8_000_000


# --------------------------------------------------------------------------
# the stories, recomputed from the bundled sample_data
# --------------------------------------------------------------------------


def test_credit_base_rate(credit):
    served = credit[(credit["model_version"] != "v3") & credit["actual"].notna()]
    assert 0.08 <= served["actual"].mean() <= 0.12


def test_credit_traffic_split(credit):
    before = credit[credit["ts"] < np.datetime64(S.CREDIT_V2_START)]
    assert set(before["model_version"]) == {"v1"}
    after = credit[(credit["ts"] >= np.datetime64(S.CREDIT_V2_START)) & (credit["model_version"] != "v3")]
    assert (after["model_version"] == "v2").mean() == pytest.approx(S.CREDIT_V2_TRAFFIC_SHARE, abs=0.02)
    # unique ids apart from the shadow
    served = credit[credit["model_version"] != "v3"]
    assert served["prediction_id"].is_unique


def test_challenger_v2_wins_overall(credit_labeled_since_v2):
    frame = credit_labeled_since_v2
    v1 = auc_stats(frame[frame["model_version"] == "v1"])
    v2 = auc_stats(frame[frame["model_version"] == "v2"])
    assert v2[0] > v1[0] + 0.015


def test_challenger_v2_significantly_worse_on_partner(credit_labeled_since_v2):
    column, value = S.CREDIT_WORSE_SEGMENT
    frame = credit_labeled_since_v2[credit_labeled_since_v2[column] == value]
    v1 = auc_stats(frame[frame["model_version"] == "v1"])
    v2 = auc_stats(frame[frame["model_version"] == "v2"])
    z = (v1[0] - v2[0]) / np.hypot(hanley_mcneil_se(*v1), hanley_mcneil_se(*v2))
    assert v2[0] < v1[0] and z > 2.5
    # and only there: v2 beats v1 on the other channels
    rest = credit_labeled_since_v2[credit_labeled_since_v2[column] != value]
    assert auc_stats(rest[rest["model_version"] == "v2"])[0] > auc_stats(rest[rest["model_version"] == "v1"])[0]


def test_shadow_v3_rescores_half_of_v1(credit):
    since = credit[credit["ts"] >= np.datetime64(S.CREDIT_SHADOW_START)]
    before = credit[credit["ts"] < np.datetime64(S.CREDIT_SHADOW_START)]
    assert (before["model_version"] != "v3").all()
    v1 = since[since["model_version"] == "v1"].set_index("prediction_id")
    v2_ids = set(since.loc[since["model_version"] == "v2", "prediction_id"])
    v3 = since[since["model_version"] == "v3"].set_index("prediction_id")
    assert v3.index.is_unique and set(v3.index) <= set(v1.index) and not set(v3.index) & v2_ids
    assert len(v3) / len(v1) == pytest.approx(S.CREDIT_SHADOW_FRACTION, abs=0.03)
    pairs = v1.join(v3.add_suffix("_v3"), how="inner")
    assert (pairs["ts"] == pairs["ts_v3"]).all() and (pairs["income"] == pairs["income_v3"]).all()
    assert np.corrcoef(pairs["score"], pairs["score_v3"])[0, 1] > 0.85
    labeled = pairs[pairs["actual"].notna()]
    y = labeled["actual"].astype(int)
    assert roc_auc_score(y, labeled["score_v3"]) > roc_auc_score(y, labeled["score"])  # v3 is a bit better


def test_feature_drift_from_drift_start(credit):
    after = credit["ts"] >= np.datetime64(S.DRIFT_START)
    before, post = credit[~after], credit[after]
    assert post["income"].mean() < 0.88 * before["income"].mean()
    assert post["debt_ratio"].mean() > before["debt_ratio"].mean() + 0.05
    share = lambda f, v: (f["employment"] == v).mean()  # noqa: E731
    assert share(post, "self_employed") > share(before, "self_employed") + 0.05
    assert share(post, "salaried") < share(before, "salaried") - 0.05
    # the week before the drift looks like the rest of the past: it is a step, not a trend
    week_before = credit[(credit["ts"] >= np.datetime64(S.DRIFT_START - timedelta(days=7))) & ~after]
    assert week_before["income"].mean() == pytest.approx(before["income"].mean(), rel=0.05)


def test_drift_hurts_v1_more_than_v2(credit_labeled_since_v2):
    frame = credit_labeled_since_v2
    after = frame["ts"] >= np.datetime64(S.DRIFT_START)
    drop = {}
    for version in ("v1", "v2"):
        mine = frame["model_version"] == version
        drop[version] = auc_stats(frame[mine & ~after])[0] - auc_stats(frame[mine & after])[0]
    assert drop["v1"] > 0.04
    assert drop["v2"] < drop["v1"] - 0.02


def test_labels_arrive_late(credit):
    served = credit[credit["model_version"] != "v3"].copy()
    delay = (served["outcome_ts"] - served["ts"]).dropna() / np.timedelta64(1, "D")
    lo, hi = S.LABEL_DELAY_DAYS
    assert delay.min() >= lo and delay.max() <= hi + 10  # +10: corrections come later
    assert delay.median() < 16  # skewed towards ~2 weeks
    assert served["outcome_ts"].max() <= np.datetime64(S.LABEL_CUTOFF)
    week = (served["ts"] - np.datetime64(S.DATA_START)).dt.days // 7
    coverage = served["actual"].notna().groupby(week).mean()
    assert (coverage.iloc[:20] == 1.0).all()  # old weeks are fully labelled
    assert coverage.iloc[-1] < 0.02  # the last week is (nearly) unlabelled
    assert coverage.iloc[-2] < 0.6
    assert coverage.iloc[-4] < coverage.iloc[-5] <= 1.0
    assert coverage.is_monotonic_decreasing


def test_some_outcomes_are_corrected_later():
    outcomes = sql(f"select * from read_parquet('{glob(BUNDLED, 'credit_default', 'outcomes')}')")
    counts = outcomes["prediction_id"].value_counts()
    duplicated = counts[counts > 1]
    assert set(duplicated) == {2}
    assert 0.001 <= len(duplicated) / len(counts) <= 0.004
    pairs = outcomes[outcomes["prediction_id"].isin(duplicated.index)].sort_values(["prediction_id", "outcome_ts"])
    first, last = pairs.groupby("prediction_id").first(), pairs.groupby("prediction_id").last()
    assert (last["outcome_ts"] > first["outcome_ts"]).all()
    assert (last["actual"] != first["actual"]).all()  # the later record corrects the label
    assert (outcomes["loan_amount_loss"] < 0).all()


def test_v2_latency_regression():
    p95 = sql(
        f"select model_version, quantile_cont(latency_ms, 0.95) p95 "
        f"from read_parquet('{glob(BUNDLED, 'credit_default', 'predictions')}') group by 1"
    ).set_index("model_version")["p95"]
    assert p95["v2"] > 2 * p95["v1"]
    assert p95["v3"] < 1.5 * p95["v1"]


def test_ticket_router_stories():
    frame = sql(f"select * from read_parquet('{glob(BUNDLED, 'ticket_router', 'predictions')}')")
    probs = frame[[f"p_{c}" for c in S.TICKET_CLASSES]].to_numpy()
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-9) and (probs >= 0).all()
    argmax = np.asarray(S.TICKET_CLASSES, dtype=object)[probs.argmax(axis=1)]
    assert (argmax == frame["predicted"].to_numpy(dtype=object)).all()
    assert frame["actual"].isna().mean() == pytest.approx(S.TICKET_UNLABELED_RATE, abs=0.02)
    assert (frame.loc[frame["ts"] < np.datetime64(S.TICKET_V2_START), "model_version"] == "v1").all()
    assert (frame.loc[frame["ts"] >= np.datetime64(S.TICKET_V2_START), "model_version"] == "v2").all()

    labeled = frame[frame["actual"].notna()]
    f1 = {v: f1_score(g["actual"], g["predicted"], average="macro") for v, g in labeled.groupby("model_version")}
    assert f1["v2"] > f1["v1"] + 0.08
    grow = S.TICKET_GROWING_CLASS
    v1 = labeled[labeled["model_version"] == "v1"]
    assert recall_score(v1["actual"], v1["predicted"], labels=[grow], average=None)[0] < 0.5
    month = labeled["ts"].dt.month
    share = (labeled["actual"] == grow).groupby(month).mean()
    assert share.iloc[-1] > share.iloc[0] + 0.1  # label drift
    predicted_share = (frame["predicted"] == grow).groupby(frame["ts"].dt.month).mean()
    assert predicted_share.iloc[-1] > predicted_share.iloc[0] + 0.1  # prediction drift


def test_delivery_eta_roadworks_bias():
    frame = sql(
        f"""select p.*, o.actual_minutes, o.delivered_ts
        from read_parquet('{glob(BUNDLED, 'delivery_eta', 'predictions')}', hive_partitioning = false) p
        join read_parquet('{glob(BUNDLED, 'delivery_eta', 'outcomes')}', hive_partitioning = false) o
        using (prediction_id)"""
    )
    frame["error"] = frame["predicted_minutes"] - frame["actual_minutes"]
    city = frame["city"] == S.ROADWORKS_CITY
    after = frame["ts"] >= np.datetime64(S.ROADWORKS_START)
    v1 = frame["model_version"] == "v1"
    bias = lambda mask: frame.loc[mask, "error"].mean()  # noqa: E731
    mae = lambda mask: frame.loc[mask, "error"].abs().mean()  # noqa: E731
    assert abs(bias(city & ~after)) < 1.5 and abs(bias(~city & after)) < 1.5
    assert bias(city & after & v1) < -6  # under-predicts in the story city
    assert mae(city & after & v1) > 1.8 * mae(city & ~after)
    since_v2 = frame["ts"] >= np.datetime64(S.ETA_V2_START)
    v2_bias, v1_bias = bias(city & since_v2 & ~v1), bias(city & since_v2 & v1)
    assert v1_bias < v2_bias < 0  # v2 fixes part of it
    assert (frame["delivered_ts"] > frame["ts"]).all()
    # outcomes synced 1-3 days later: the last days are partly missing
    total = sql(f"select ts::date d, count(*) n from read_parquet('{glob(BUNDLED, 'delivery_eta', 'predictions')}') group by 1")
    total = total.set_index("d")["n"].sort_index()
    got = frame.groupby(frame["ts"].dt.normalize()).size().reindex(total.index, fill_value=0)
    coverage = (got / total).to_numpy()
    assert coverage[-1] < 0.05 and coverage[:-4].min() > 0.95


def test_readme_mentions_every_story_date():
    text = (BUNDLED / "README.md").read_text()
    for d in (S.DATA_START, S.DATA_END, S.CREDIT_V2_START, S.CREDIT_SHADOW_START, S.DRIFT_START,
              S.TICKET_V2_START, S.ROADWORKS_START, S.ETA_V2_START):  # fmt: skip
        assert d.isoformat() in text, d
    assert re.search(r"lastmile generate .*--out sample_data", text)
