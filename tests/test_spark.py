"""The whole library on a second engine: a local Spark session through Ibis's pyspark backend.

Compiling for another dialect (see test_engine) catches DuckDB-only SQL; running on
Spark catches semantic differences (time zones, week starts, null handling, ANSI
arithmetic, approximate aggregates). Every entry point of the library runs on
small generated workspaces (binary with late, duplicated and unmatched outcomes,
NaN scores and per-row money; multiclass; regression; a shadow-scored pair of
versions) on DuckDB and on Spark, and the results must be the same, floats to
1e-9. One Spark session (tests/conftest.py's ``spark``) serves every Spark test.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from types import MappingProxyType

import pytest

pyspark = pytest.importorskip("pyspark", reason="the test extra installs pyspark")

from analytics.analyses import compare as cmp  # noqa: E402
from analytics.cli import main  # noqa: E402
from analytics.analyses.drift import compute_drift, distribution, drift_over_time  # noqa: E402
from analytics.log.columns import C
from analytics.log.engine import Engine  # noqa: E402
from analytics.errors import BackendError  # noqa: E402
from analytics.analyses.facts import model_facts  # noqa: E402
from analytics.analyses.health import model_health  # noqa: E402
from analytics.metrics import PRIMARY_METRIC
from analytics.metrics.compute import compute_metrics  # noqa: E402
from analytics.analyses.segments import weak_segments  # noqa: E402
from analytics.query.selection import Grouping, Selection  # noqa: E402
from analytics.log.spark import session_settings  # noqa: E402
from analytics.log.validation import validate  # noqa: E402
from analytics.analyses.value import compute_value, threshold_curve  # noqa: E402
from analytics.config.workspace import load_workspace  # noqa: E402

from .ab_factory import ab_workspace  # noqa: E402
from .factories import make_workspace  # noqa: E402
from .sparkconf import MASTER, SHORT_JVM, SPARK_B, SPARK_MARKS  # noqa: E402

pytestmark = SPARK_MARKS   # the tests marked SPARK_B: the second Spark group (tests/sparkconf.py)
#: Floats agree to this (absolute and relative): sums run in another order on Spark.
TOL = 1e-9


# ------------------------------------------------------------------ comparing results


def plain(x):
    """A result as plain data: dataclasses and frames to dicts, recursively."""
    if hasattr(x, "to_dicts"):           # a polars frame
        return [plain(r) for r in x.to_dicts()]
    if hasattr(x, "to_dict") and not isinstance(x, dict):
        return plain(x.to_dict())
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, MappingProxyType):
        return plain(dict(x))
    return x


def differences(a, b, path="result"):
    """Where ``a`` and ``b`` differ (floats to :data:`TOL`), as readable lines."""
    if isinstance(a, bool) or isinstance(b, bool) or not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        if type(a) is not type(b) and not (a is None or b is None) and not (
                isinstance(a, (int, float)) and isinstance(b, (int, float))):
            return [f"{path}: {type(a).__name__} {a!r} != {type(b).__name__} {b!r}"]
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(map(str, set(a) ^ set(b)))} differ"]
        return [d for k in a for d in differences(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            if math.isnan(a) and math.isnan(b):
                return []
            if math.isclose(a, b, rel_tol=TOL, abs_tol=TOL):
                return []
    elif a == b:
        return []
    return [f"{path}: {a!r} != {b!r}"]


def same(a, b):
    """Assert the DuckDB and Spark results agree; a failure lists the first differences."""
    diffs = differences(plain(a), plain(b))
    assert not diffs, "DuckDB and Spark differ:\n" + "\n".join(diffs[:20])


def test_the_comparator_can_fail():
    assert differences({"x": [1.0, None]}, {"x": [1.0 + 1e-12, None]}) == []
    assert differences({"x": 1.0}, {"x": 1.0 + 1e-6})
    assert differences({"x": None}, {"x": 0.0})
    assert differences({"x": "a"}, {"x": "b"})
    assert differences({"x": 1}, {"y": 1})
    assert differences([1, 2], [1, 2, 3])
    assert differences(2, 2.0) == []
    assert differences(float("nan"), float("nan")) == []


# ------------------------------------------------------------------ fixtures


class Pair:
    """One workspace on DuckDB and on Spark (the session passed in, as the app may)."""

    def __init__(self, config: Path, spark):
        self.config = config
        self.ws = load_workspace(config)
        self.duck = Engine(self.ws)
        self.spark = Engine(dataclasses.replace(self.ws, backend="pyspark",
                                                backend_options=MappingProxyType({"session": spark})))
        assert self.spark.backend.name == "pyspark"

    def both(self, fn, *args, **kw):
        """``fn(engine, *args, **kw)`` on each engine; asserts they agree and returns DuckDB's."""
        a, b = fn(self.duck, *args, **kw), fn(self.spark, *args, **kw)
        same(a, b)
        return a


BUSINESS = {"tp": 120.0, "fp": -15.0, "fn": "loss", "tn": "gain", "cost_per_1k": 2.5,
            "cost_column": "infra", "threshold": 0.4}


@pytest.fixture(scope="module")
def binary(tmp_path_factory, spark):
    """Late outcomes (none after day 45), duplicated and unmatched outcomes, NaN scores,
    per-row money in both files, segments with an odd value, two prediction files."""
    g = make_workspace(tmp_path_factory.mktemp("binary"), "binary", n=700, seed=5, duplicate_outcomes=12,
                       unmatched_outcomes=3, nan_scores=6, unlabeled_after_day=45, files=2, ties=True,
                       business=BUSINESS, value_columns=("gain", "infra"), value_nulls=5,
                       outcome_value_columns=("loss",))
    return Pair(g.config, spark)


@pytest.fixture(scope="module")
def multiclass(tmp_path_factory, spark):
    matrix = {"alpha": {"alpha": 4.0, "beta": -1.0}, "beta": {"beta": 3.0, "gamma": -2.0},
              "gamma": {"gamma": 5.0, "alpha": -7.0}}
    g = make_workspace(tmp_path_factory.mktemp("multiclass"), "multiclass", n=500, seed=4, duplicate_outcomes=8,
                       business={"value_matrix": matrix, "cost_per_1k": 1.0, "baseline": "all_alpha"})
    return Pair(g.config, spark)


@pytest.fixture(scope="module")
def regression(tmp_path_factory, spark):
    g = make_workspace(tmp_path_factory.mktemp("regression"), "regression", n=500, seed=6, duplicate_outcomes=8,
                       business={"cost_over": 2.0, "cost_under": 3.0, "cost_per_1k": 3.0})
    return Pair(g.config, spark)


@pytest.fixture(scope="module")
def shadow(tmp_path_factory, spark):
    """v2 re-scores v1's ids (paired), and drifts after day 20."""
    ab = ab_workspace(tmp_path_factory.mktemp("shadow"), n_baseline=400, paired=True, days=28, seed=3,
                      quality=(1.0, 1.3), drift_after_day=20, business={"tp": 10.0, "fp": -2.0, "fn": "loss"})
    return Pair(ab.config, spark)


def model(pair: Pair) -> str:
    return pair.ws.models[0].name


def task(pair: Pair) -> str:
    return pair.ws.models[0].task


# ------------------------------------------------------------------ the log and its facts
#
# Spark runs a query in about a second however small the data: each entry point
# runs on the workspaces where it has something of its own to prove, so that the
# module stays within its budget.


def test_the_joined_log_is_the_same_on_spark(binary):
    def log(e):
        t = e.log("binary_model")
        return e.execute(t.select(C.ID, C.TS, C.VERSION, C.LABEL, C.SCORE, C.PRED, C.LABEL_TS, "loss")
                         .order_by(C.ID)).to_pylist()
    rows = binary.both(log)
    assert len(rows) == 700 and sum(r[C.SCORE] is None for r in rows) == 6
    binary.both(lambda e: e.versions("binary_model"))
    binary.both(lambda e: e.data_warnings("binary_model"))
    binary.both(lambda e: model_facts(e, "binary_model"))
    binary.both(lambda e: validate(e.workspace, e))


# ------------------------------------------------------------------ metrics and segments


@pytest.mark.parametrize("name", ["binary", "multiclass", "regression"])
def test_every_metric_and_interval_is_the_same(request, name):
    """Every metric of the task with its interval, per version and week (weeks start on
    Monday on both engines), and per segment in a filtered window."""
    p = request.getfixturevalue(name)
    m = model(p)
    # Spark's percentile is approximate: its latency percentiles and median label delay
    # take the portable exact path (rank windows), DuckDB its exact quantile_cont
    assert p.duck.exact_quantiles and not p.spark.exact_quantiles
    res = p.both(compute_metrics, Selection.build(m), Grouping(by=("version", "period"), period="week"))
    assert any(r.metrics["latency_p95"].value is not None for r in res.rows)
    assert len(res.rows) > 10 and res.rows[0].group["period"] == "2026-03-02"
    assert any(v.value is None for r in res.rows for v in r.metrics.values()) or name != "binary"
    if name == "binary":
        narrow = Selection.build(m, start="2026-03-09", end="2026-04-13", where={"region": ["EU", "it's; \"odd\""]})
        res = p.both(compute_metrics, narrow, Grouping(by=("region",)))
        assert {r.group["region"] for r in res.rows} == {"EU", "it's; \"odd\""}


@pytest.mark.parametrize("name", ["binary", "multiclass", "regression"])
def test_weak_segments_are_the_same(request, name):
    p = request.getfixturevalue(name)
    # segment pairs on the smaller tasks (binary ROC AUC is the costliest: per-segment complements)
    res = p.both(weak_segments, Selection.build(model(p)), PRIMARY_METRIC[task(p)], min_support=30,
                 pairs=name != "binary")
    assert res.segments


# ------------------------------------------------------------------ compare


def test_unpaired_compare_with_sequential_looks_is_the_same(binary):
    res = binary.both(cmp.compare_versions, Selection.build("binary_model"), "v1", "v2", sequential=True)
    assert not res.paired and res.sequential is not None


@SPARK_B
def test_paired_compare_with_sequential_looks_is_the_same(shadow):
    res = shadow.both(cmp.compare_versions, Selection.build("m"), "v1", "v2", sequential=True)
    assert res.paired and res.sequential is not None


# ------------------------------------------------------------------ drift


@SPARK_B
@pytest.mark.parametrize("name", ["binary", "multiclass", "regression"])
def test_every_drift_statistic_is_the_same(request, name):
    """Numeric and categorical features, the prediction and the label; over time on binary."""
    p = request.getfixturevalue(name)
    m = model(p)
    ref = Selection.build(m, start="2026-03-02", end="2026-03-16")
    cur = Selection.build(m, start="2026-03-16", end="2026-03-30")
    res = p.both(compute_drift, m, ref, cur)
    assert {f.kind for f in res.features.values()} == {"numeric", "categorical"}
    if name == "binary":
        frame = p.both(drift_over_time, m, ref, Selection.build(m, start="2026-03-16"), period="week")
        assert frame.height > 10
        p.both(distribution, m, "income", ref, cur)


# ------------------------------------------------------------------ value


@pytest.mark.parametrize("name", ["binary", "multiclass", "regression"])
def test_value_and_roi_are_the_same(request, name):
    p = request.getfixturevalue(name)
    res = p.both(compute_value, Selection.build(model(p)), Grouping(by=("version", "period"), period="week"))
    assert res.rows


def test_threshold_curve_is_the_same(binary):
    res = binary.both(threshold_curve, Selection.build("binary_model"))
    assert res.versions


# ------------------------------------------------------------------ health and the report


def test_health_is_the_same(binary, shadow):
    h = shadow.both(model_health, "m")
    assert h.reasons
    binary.both(model_health, "binary_model", now=dt.datetime(2026, 4, 6))


# ------------------------------------------------------------------ Spark from the workspace file


def spark_toml(pair: Pair, folder: Path, master: str = MASTER, config: str = "") -> Path:
    """The pair's workspace file with ``[engine] backend = "pyspark"`` on ``master``;
    ``config``: more lines of ``[engine.options.config]``."""
    text = pair.config.read_text()
    engine = (f'[engine]\nbackend = "pyspark"\n\n[engine.options]\nmaster = "{master}"\n\n'
              f'[engine.options.config]\n"spark.sql.shuffle.partitions" = 2\n{config}\n')
    path = folder / "spark.toml"
    path.write_text(engine + text.replace('"pred/', f'"{pair.config.parent}/pred/')
                    .replace('"out/', f'"{pair.config.parent}/out/'))
    return path


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_cli_builds_the_session_from_the_workspace_file(binary, tmp_path, capsys):
    """`lastmile metrics` and `lastmile check` on a pyspark workspace print what DuckDB's prints."""
    cfg = spark_toml(binary, tmp_path)
    ws = load_workspace(cfg)
    assert ws.backend == "pyspark" and ws.backend_options["master"] == MASTER
    for argv in (["metrics", "--model", "binary_model", "--by", "version"], ["check", "--format", "json"], ["check"]):
        dc, dout, derr = run_cli(capsys, *argv, "--config", str(binary.config))
        sc, sout, serr = run_cli(capsys, *argv, "--config", str(cfg))
        assert (sc, serr) == (dc, derr), argv
        if "json" in argv:
            same(json.loads(dout), json.loads(sout))
        else:
            assert sout == dout, argv


@SPARK_B
def test_a_fresh_process_starts_spark_from_the_file(binary, tmp_path, capsys):
    """No session object anywhere: `lastmile metrics` starts local Spark from [engine.options]
    (and its JVM from the file's driver options), and prints what DuckDB's prints."""
    small = ('"spark.sql.codegen.wholeStage" = false\n"spark.sql.adaptive.enabled" = false\n'
             f'"spark.driver.extraJavaOptions" = "{SHORT_JVM}"\n')
    cfg = spark_toml(binary, tmp_path, master="local[1]", config=small)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    argv = ["metrics", "--model", "binary_model", "--format", "json"]
    code, duck, _ = run_cli(capsys, *argv, "--config", str(binary.config))   # DuckDB: in this process
    on_spark = subprocess.run([sys.executable, "-m", "analytics.cli", *argv, "--config", str(cfg)],
                              capture_output=True, text=True, env=env, timeout=300)
    assert code == 0 and on_spark.returncode == 0, on_spark.stderr[-2000:]
    same(json.loads(duck), json.loads(on_spark.stdout))
    assert "Stage " not in on_spark.stderr   # no console progress bars


# ------------------------------------------------------------------ session options


def test_session_settings_from_options():
    kind, target, conf = session_settings({"master": "local[3]", "config": {"spark.executor.memory": "2g",
                                                                            "spark.ui.enabled": True}})
    assert (kind, target) == ("master", "local[3]")
    assert conf["spark.sql.shuffle.partitions"] == "3" and conf["spark.driver.bindAddress"] == "127.0.0.1"
    assert conf["spark.ui.enabled"] == "true" and conf["spark.executor.memory"] == "2g"
    kind, target, conf = session_settings({"remote": "sc://spark.example:15002", "config": {"spark.a": 1}})
    assert (kind, target, conf) == ("remote", "sc://spark.example:15002", {"spark.a": "1"})
    kind, target, conf = session_settings({"master": "spark://head:7077"})
    assert conf == {"spark.ui.showConsoleProgress": "false"}
    assert session_settings({})[1] == "local[*]"


@pytest.mark.parametrize("options, words", [
    ({"mastr": "local[2]"}, ["'mastr'", "did you mean 'master'"]),
    ({"master": "local[2]", "remote": "sc://h:15002"}, ["both master and remote"]),
    ({"remote": "http://h:15002"}, ["not a Spark Connect URL"]),
    ({"master": ""}, ["master must be a non-empty string"]),
    ({"config": "spark.x=1"}, ["[engine.options.config] must be a table"]),
    ({"config": {"spark.x": [1]}}, ["'spark.x' must be a string"]),
])
def test_bad_options_are_one_sentence(options, words):
    with pytest.raises(BackendError) as err:
        session_settings(options)
    msg = str(err.value)
    assert all(w in msg for w in words), msg
    assert "\n" not in msg and msg.endswith(".")


@SPARK_B
def test_bad_option_through_the_cli_exits_2(binary, tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(spark_toml(binary, tmp_path).read_text().replace('master = "local[2]"', 'mastr = "local[2]"'))
    code, out, err = run_cli(capsys, "metrics", "--model", "binary_model", "--config", str(cfg))
    assert code == 2 and "'mastr'" in err and "Traceback" not in err


def test_missing_java_is_one_sentence(monkeypatch):
    import analytics.log.spark as ss

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(ss.shutil, "which", lambda _name: None)
    with pytest.raises(BackendError, match=r"^Spark master 'local\[2\]' needs Java .*JAVA_HOME\.$"):
        ss.build_session({"master": "local[2]"})
