"""Data-quality checks (analytics/analyses/quality): each check against a brute-force
pandas computation on generated logs with injected problems; schema differences per
file; ``[models.quality]`` validation; ``lastmile quality`` exit codes; and the
sample's three incidents found on their dates with no alarm elsewhere."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics import cli
from analytics import sample as S
from analytics.analyses.quality.checks import CHECKS
from analytics.analyses.quality.checks.freshness import usual_gap
from analytics.analyses.quality.compute import run_quality
from analytics.config.quality import validate_quality_config
from analytics.config.workspace import SAMPLE_CONFIG, load_workspace
from analytics.errors import ConfigError, DataError
from analytics.log.engine import Engine

from .factories import START, make_workspace

REF_END = START + dt.timedelta(days=28)
MODEL = "binary_model"


def _add_quality(config, body: str) -> None:
    with open(config, "a") as f:
        f.write(f'\n[models.quality]\nreference_start = "{START:%Y-%m-%d}"\nreference_end = "{REF_END:%Y-%m-%d}"\n'
                + body)


def _frame(folder) -> pd.DataFrame:
    return pa.concat_tables([pq.read_table(p) for p in sorted((folder / "pred").glob("*.parquet"))],
                            promote_options="permissive").to_pandas()


def _rewrite(folder, frame: pd.DataFrame) -> None:
    for p in (folder / "pred").glob("*.parquet"):
        p.unlink()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), folder / "pred" / "part-0.parquet")


def _week(ts: pd.Series) -> pd.Series:
    d = ts.dt.normalize()
    return (d - pd.to_timedelta(d.dt.day_of_week, unit="D")).dt.date.astype(str)


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """56 days of a binary model; week 6 income 30% NaN/null, week 7 income x100 and a new
    plan 'enterprise', week 5 plan 10% empty, week 8 plan 'team' gone, day 50 traffic cut."""
    folder = tmp_path_factory.mktemp("broken")
    g = make_workspace(folder, "binary", n=6000, seed=3)
    df = _frame(folder)
    day = (df.ts - pd.Timestamp(START)).dt.days
    rng = np.random.default_rng(5)
    w6 = (day >= 35) & (day < 42)
    df.loc[w6 & (rng.random(len(df)) < 0.2), "income"] = np.nan
    df.loc[w6 & (rng.random(len(df)) < 0.1), "income"] = None
    w7 = (day >= 42) & (day < 49)
    df.loc[w7, "income"] = df.loc[w7, "income"] * 100
    df.loc[w7 & (rng.random(len(df)) < 0.3), "plan"] = "enterprise"
    df.loc[((day >= 28) & (day < 35)) & (rng.random(len(df)) < 0.1), "plan"] = ""
    df.loc[(day >= 49) & (df.plan == "team"), "plan"] = "pro"
    df = df[~((day == 50) & (df.ts.dt.hour >= 3))]
    _rewrite(folder, df)
    _add_quality(g.config, "")
    engine = Engine(load_workspace(g.config))
    res = run_quality(engine, MODEL, period="week", now=dt.datetime(2026, 4, 27))
    out = pq.read_table(folder / "out" / "part-0.parquet").to_pandas()
    return {"folder": folder, "frame": df, "outcomes": out, "result": res, "engine": engine, "config": g.config}


def _get(res, check, column=None, version=None):
    return {f.period: f for f in res.findings if f.check == check and f.column == column
            and (version is None or f.version == version)}


def test_registry_is_complete_and_documented():
    names = set(CHECKS)
    assert {"missing", "out_of_range", "out_of_quantiles", "scale", "new_categories", "vanished_categories",
            "schema", "volume", "freshness", "duplicate_ids", "label_rate"} <= names
    for c in CHECKS.values():
        assert c.title and c.measures and c.doc, c.name
        assert c.warn is None or c.pull is None or (c.pull >= c.warn if c.direction == "above" else c.pull <= c.warn)


def test_missing_share_against_pandas(broken):
    df, res = broken["frame"], broken["result"]
    ref = df[df.ts < pd.Timestamp(REF_END)]
    for col in ("income", "plan", "region"):
        miss = df[col].isna() | (df[col].astype(str) == "")
        rshare = (ref[col].isna() | (ref[col].astype(str) == "")).mean()
        expected = miss.groupby(_week(df.ts)).mean() - rshare
        got = _get(res, "missing", col)
        assert set(got) == set(expected.index)
        for p, v in expected.items():
            assert got[p].observed == pytest.approx(v, abs=1e-12), (col, p)
    inc = _get(res, "missing", "income")
    assert inc["2026-04-06"].level == "pull" and _get(res, "missing", "plan")["2026-03-30"].level == "warn"
    assert [p for p, f in inc.items() if f.level != "ok"] == ["2026-04-06"]


def test_range_quantiles_and_scale_against_pandas(broken):
    df, res = broken["frame"], broken["result"]
    x = df.income.astype(float)
    ref = x[df.ts < pd.Timestamp(REF_END)].dropna()
    lo, hi = ref.min(), ref.max()
    q1, q9 = np.quantile(ref, 0.001), np.quantile(ref, 0.999)
    weeks = _week(df.ts)
    rng_f, q_f, sc_f = _get(res, "out_of_range", "income"), _get(res, "out_of_quantiles", "income"), \
        _get(res, "scale", "income")
    for p, v in x.groupby(weeks):
        v = v.dropna()
        assert rng_f[p].observed == pytest.approx(((v < lo) | (v > hi)).mean(), abs=1e-12)
        assert q_f[p].observed == pytest.approx(((v < q1) | (v > q9)).mean(), abs=1e-12)
        med = np.median(v) / np.median(ref)
        iqr = (np.quantile(v, .75) - np.quantile(v, .25)) / (np.quantile(ref, .75) - np.quantile(ref, .25))
        r = min((med, iqr), key=lambda z: abs(np.log(z)))
        assert sc_f[p].observed == pytest.approx(max(r, 1 / r), rel=1e-9)
    for f in (rng_f, q_f, sc_f):
        assert [p for p, x in f.items() if x.level != "ok"] == ["2026-04-13"]
        assert f["2026-04-13"].level == "pull"


def test_categories_against_pandas(broken):
    df, res = broken["frame"], broken["result"]
    plan = df.plan.where(df.plan != "")
    ref = plan[df.ts < pd.Timestamp(REF_END)].dropna()
    cats = set(ref)
    new, gone = _get(res, "new_categories", "plan"), _get(res, "vanished_categories", "plan")
    for p, v in plan.groupby(_week(df.ts)):
        v = v.dropna()
        assert new[p].observed == pytest.approx((~v.isin(cats)).mean(), abs=1e-12)
        shares = ref.value_counts(normalize=True)
        expect = sum(s for c, s in shares.items() if (v == c).sum() == 0 and s * len(v) >= 10)
        assert gone[p].observed == pytest.approx(expect, abs=1e-12)
    assert new["2026-04-13"].level == "pull"
    assert new["2026-04-13"].details["top"][0]["value"] == "enterprise"
    assert [p for p, f in new.items() if f.level != "ok"] == ["2026-04-13"]
    assert [p for p, f in gone.items() if f.level != "ok"] == ["2026-04-20"]
    assert "'team'" in gone["2026-04-20"].message


def test_volume_against_pandas(broken):
    df, res = broken["frame"], broken["result"]
    days = df.ts.dt.normalize()
    counts = days.value_counts().reindex(pd.date_range(START, periods=56), fill_value=0)
    ref = counts[counts.index < pd.Timestamp(REF_END)]
    med = ref.groupby(ref.index.day_of_week).median()
    got = _get(res, "volume", None, "all")
    wk = pd.Series(counts.values, index=_week(pd.Series(counts.index)).values)
    for p, n in wk.groupby(level=0).sum().items():
        expected = sum(med[d.weekday()] for d in counts.index if _week(pd.Series([d]))[0] == p)
        assert got[p].observed == pytest.approx(n / expected, rel=1e-12)
    day = run_quality(broken["engine"], MODEL, period="day", checks=["volume"], now=dt.datetime(2026, 4, 27))
    cut = _get(day, "volume", None, "all")
    assert cut["2026-04-21"].level == "pull"
    assert [p for p, f in cut.items() if f.level != "ok"] == ["2026-04-21"]
    assert all(f.level == "ok" for f in day.findings if f.version != "all")   # per_version off by default


def test_label_rate_against_pandas(broken):
    df, res, out = broken["frame"], broken["result"], broken["outcomes"]
    j = df.merge(out[["pid", "y"]], on="pid", how="inner")
    rates = j.y.groupby(_week(j.ts)).agg(["mean", "count"])
    ref = rates.loc[[p for p in rates.index if p < REF_END.strftime("%Y-%m-%d")]]
    lo, hi = ref["mean"].min(), ref["mean"].max()
    base = j[j.ts < pd.Timestamp(REF_END)].y.mean()
    got = _get(res, "label_rate", "y")
    for p, r in rates.iterrows():
        assert got[p].observed == pytest.approx(max(0, r["mean"] - hi, lo - r["mean"]) / base, abs=1e-12)
        assert got[p].level == "ok"


def test_freshness_and_usual_gap(broken):
    res, df = broken["result"], broken["frame"]
    f = [x for x in res.findings if x.check == "freshness" and x.column == "ts"][0]
    ref = df[df.ts < pd.Timestamp(REF_END)].ts.dt.floor("h").drop_duplicates().sort_values()
    gaps = np.sort(np.diff(ref.values).astype("timedelta64[s]").astype(float) / 3600)
    gap = max(1.0, gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))])
    age = (pd.Timestamp("2026-04-27") - df.ts.max()).total_seconds() / 3600
    assert f.observed == pytest.approx(age / gap, rel=1e-9)
    hourly = [dt.datetime(2026, 1, 1) + dt.timedelta(hours=h) for h in range(200)]
    assert usual_gap(hourly) == 1.0
    stale = run_quality(broken["engine"], MODEL, checks=["freshness"], now=df.ts.max() + dt.timedelta(hours=36))
    lv = {x.column: x.level for x in stale.findings}
    assert usual_gap(list(ref)) < 36 / 24 or lv["ts"] == "pull"
    assert lv["ts"] in ("warn", "pull")


def test_duplicate_ids_against_pandas(tmp_path):
    g = make_workspace(tmp_path, "binary", n=1500, seed=4)
    df = _frame(tmp_path)
    dup = df.iloc[100:130].copy()
    dup["ts"] = dup.ts + pd.Timedelta(minutes=5)
    df = pd.concat([df, dup]).sort_values("ts")
    _rewrite(tmp_path, df)
    res = run_quality(Engine(load_workspace(g.config)), MODEL, checks=["duplicate_ids"])
    rep = df.duplicated(["pid", "ver"], keep=False)
    expected = rep.groupby(_week(df.ts)).mean()
    got = _get(res, "duplicate_ids", "pid")
    for p, v in expected.items():
        assert got[p].observed == pytest.approx(v, abs=1e-12)
        assert got[p].level == ("ok" if v == 0 else "pull" if v > 0.01 else "warn")


def test_schema_differences_per_file(tmp_path):
    g = make_workspace(tmp_path, "binary", n=1500, seed=6, files=3)
    files = sorted((tmp_path / "pred").glob("*.parquet"))
    t1 = pq.read_table(files[1])
    pq.write_table(t1.set_column(t1.schema.get_field_index("lat"), "lat", t1["lat"].cast(pa.float32())), files[1])
    t2 = pq.read_table(files[2])
    t2 = t2.drop_columns(["channel"]).append_column("extra", pa.array(np.zeros(t2.num_rows)))
    pq.write_table(t2, files[2])
    res = run_quality(Engine(load_workspace(g.config)), MODEL)
    schema = {(f.column, f.details["kind"]): f for f in res.findings if f.check == "schema"}
    assert set(schema) == {("lat", "type"), ("channel", "disappeared"), ("extra", "new")}
    assert schema[("lat", "type")].file == str(files[1]) and schema[("lat", "type")].level == "warn"
    assert schema[("channel", "disappeared")].file == str(files[2]) and schema[("channel", "disappeared")].level == "warn"
    assert schema[("extra", "new")].level == "info" and "is new" in schema[("extra", "new")].message
    # the queries still ran on the common columns: channel reads as missing in the last file
    miss = [f for f in res.findings if f.check == "missing" and f.column == "channel"]
    assert max(f.observed for f in miss) > 0.9


def test_schema_conflict_names_the_file(tmp_path):
    g = make_workspace(tmp_path, "binary", n=900, seed=7, files=3)
    files = sorted((tmp_path / "pred").glob("*.parquet"))
    t1 = pq.read_table(files[1])
    pq.write_table(t1.set_column(t1.schema.get_field_index("score"), "score", t1["score"].cast(pa.string())),
                   files[1])
    with pytest.raises(DataError) as err:
        run_quality(Engine(load_workspace(g.config)), MODEL)
    assert str(files[1]) in str(err.value) and "'score'" in str(err.value)


@pytest.mark.parametrize("table, problem", [
    ({"mising": {}}, "unknown key 'mising' (did you mean 'missing'?)"),
    ({"missing": {"wran": 0.1}}, "unknown key 'wran' (did you mean 'warn'?)"),
    ({"missing": {"warn": "x"}}, "warn must be a number"),
    ({"missing": {"warn": 0.3, "pull": 0.1}}, "pull (0.1) must be above warn (0.3)"),
    ({"volume": {"warn": 0.2, "pull": 0.5}}, "pull (0.5) must be below warn (0.2)"),
    ({"min_rows": 0}, "min_rows must be a whole number"),
    ({"reference_start": "soon"}, "is not an ISO date"),
    ({"new_categories": {"known": ["snow"]}}, "known must be a table of column = [values]"),
    ({"missing": {"enabled": "yes"}}, "enabled must be true or false"),
])
def test_config_validation(table, problem):
    problems = validate_quality_config(table)
    assert any(problem in p for p in problems), problems


def test_config_in_the_workspace_file(broken, tmp_path):
    text = broken["config"].read_text().replace("[models.quality]", "[models.quality]\nvolumee = {}")
    bad = tmp_path / "lastmile.toml"
    bad.write_text(text.replace('"pred/*.parquet"', f'"{broken["folder"]}/pred/*.parquet"')
                   .replace('"out/*.parquet"', f'"{broken["folder"]}/out/*.parquet"'))
    with pytest.raises(ConfigError, match="did you mean 'volume'"):
        load_workspace(bad)


def test_levels_follow_the_config(tmp_path):
    g = make_workspace(tmp_path, "binary", n=1500, seed=8)
    df = _frame(tmp_path)
    df.loc[(df.ts - pd.Timestamp(START)).dt.days >= 42, "plan"] = None
    _rewrite(tmp_path, df)
    res = run_quality(Engine(load_workspace(g.config)), MODEL, checks=["missing"])
    assert {f.level for f in res.findings if f.column == "plan"} == {"ok", "pull"}
    _add_quality(g.config, "[models.quality.missing]\nwarn = 0.9\npull = 1.5\n")
    res = run_quality(Engine(load_workspace(g.config)), MODEL, checks=["missing"])
    assert {f.level for f in res.findings if f.column == "plan"} == {"ok", "warn"}


def _cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("fail_on, code", [("warn", 4), ("pull", 4), ("never", 0)])
def test_quality_cli_exit_codes(broken, capsys, fail_on, code):
    got, out, _ = _cli(capsys, "quality", "--config", str(broken["config"]), "--model", MODEL,
                       "--fail-on", fail_on, "--now", "2026-04-27")
    assert got == code and "[pull]" in out and f"exit status {code}" in out


def test_quality_cli_warn_only_and_formats(broken, capsys):
    base = ["quality", "--config", str(broken["config"]), "--model", MODEL, "--now", "2026-04-27",
            "--check", "missing", "--start", "2026-03-30", "--end", "2026-04-06"]
    assert _cli(capsys, *base)[0] == 3
    assert _cli(capsys, *base, "--fail-on", "pull")[0] == 0
    code, out, _ = _cli(capsys, *base, "--format", "json")
    d = json.loads(out)
    assert code == 3 and d["status"] == "warn" and {r["check"] for r in d["rows"]} == {"missing"}
    code, out, _ = _cli(capsys, *base, "--format", "csv")
    assert out.splitlines()[0].startswith("check,column,period")
    code, _, err = _cli(capsys, "quality", "--config", str(broken["config"]), "--model", MODEL, "--check", "volum")
    assert code == 2 and "did you mean 'volume'" in err
    code, _, err = _cli(capsys, "quality", "--config", str(broken["config"]), "--model", "nope")
    assert code == 2 and "Unknown model" in err


# ---------------------------------------------------------------- the bundled sample

needs_sample = pytest.mark.skipif(not SAMPLE_CONFIG.is_file(), reason="bundled sample data not generated")


@pytest.fixture(scope="module")
def sample_engine():
    return Engine(load_workspace(SAMPLE_CONFIG), snapshot=True)


def _days(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


@needs_sample
def test_sample_incidents_found_on_their_dates_and_nowhere_else(sample_engine):
    found = {}
    for model in ("credit_default", "ticket_router", "delivery_eta"):
        res = run_quality(sample_engine, model, period="day")
        for f in res.problems("warn"):
            found.setdefault((model, f.check, f.column, f.version), set()).add(f.period)
    m, col, first, last, _ = S.QUALITY_NULLS
    nulls = _days(first, last)
    m2, col2, first2, last2, _ = S.QUALITY_UNIT_CHANGE
    unit = _days(first2, last2)
    m3, day3, _ = S.QUALITY_OUTAGE
    assert found == {
        (m, "missing", col, None): set(nulls),
        (m2, "out_of_range", col2, None): set(unit),
        (m2, "out_of_quantiles", col2, None): set(unit),
        (m2, "scale", col2, None): set(unit),
        (m3, "volume", None, "all"): {day3.isoformat()},
    }


@needs_sample
def test_sample_clean_weeks_have_no_alert(sample_engine):
    for model in ("credit_default", "ticket_router", "delivery_eta"):
        res = run_quality(sample_engine, model, period="week")
        bad = {(f.check, f.column, f.period) for f in res.problems("warn")}
        if model == "ticket_router":
            assert bad == {("missing", "message_length", "2026-10-05")}
        elif model == "delivery_eta":
            assert {b[0] for b in bad} == {"out_of_range", "out_of_quantiles"} and \
                {b[2] for b in bad} == {"2026-08-10"}
        else:
            assert bad == set(), bad


def test_docs_list_every_check_with_its_defaults():
    from pathlib import Path
    doc = (Path(__file__).resolve().parent.parent / "analytics" / "docs" / "quality.md").read_text()
    for c in CHECKS.values():
        line = next((ln for ln in doc.splitlines() if ln.startswith(f"| `{c.name}` |")), None)
        assert line is not None, c.name
        for level in (c.warn, c.pull):
            if level not in (None, 0.0):
                assert f"{level:g}" in line, (c.name, level)


@needs_sample
def test_sample_quality_problem_is_a_health_reason(sample_engine):
    from analytics.analyses.health import model_health
    h = model_health(sample_engine, "delivery_eta", now=dt.datetime(2026, 7, 8, 23))
    q = [r for r in h.reasons if r.rule == "quality"]
    assert h.status == "pull"
    vol = next(r for r in q if r.metric == "volume")
    assert vol.level == "pull" and vol.period == "2026-07-08" and "0.03x" in vol.message
