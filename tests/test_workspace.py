"""lastmile.toml: discovery, parsing into typed objects, and every validation error."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from analytics.config.workspace import SAMPLE_CONFIG, find_config, load_workspace
from analytics.errors import ConfigError, UnknownModelError

FULL = '''
[engine]
backend = "duckdb"
[engine.options]
threads = 2

[[models]]
name = "credit_default"
task = "binary"
description = "Probability that a loan applicant defaults"
predictions = "credit_default/predictions/**/*.parquet"
outcomes = "credit_default/outcomes/**/*.parquet"

[models.columns]
id = "prediction_id"
timestamp = "ts"
version = "model_version"
score = "score"
prediction = "predicted"
label = "actual"
label_timestamp = "outcome_ts"
latency_ms = "latency_ms"
segments = ["region", "channel"]
features = ["income", "age"]
positive_label = 1

[models.business]
currency = "EUR"
threshold = 0.3
tp = 120.0
fp = -15.0
fn = "loan_amount_loss"
tn = 0.0
baseline = "all_negative"
cost_per_1k = 0.40

[[models]]
name = "router"
task = "multiclass"
predictions = "/abs/router.parquet"
[models.columns]
timestamp = "ts"
class_scores = { prepaid = "p_prepaid", highstreet = "p_highstreet" }
label = "actual"

[[models]]
name = "eta"
task = "regression"
predictions = "s3://bucket/eta/*.parquet"
[models.columns]
timestamp = "ts"
prediction = "yhat"
label = "y"
'''


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "lastmile.toml"
    p.write_text(text)
    return p


def test_every_contract_key_parses_into_frozen_objects(tmp_path):
    ws = load_workspace(write(tmp_path, FULL))
    assert ws.backend == "duckdb" and dict(ws.backend_options) == {"threads": 2}
    assert ws.model_names == ("credit_default", "router", "eta")
    m = ws.model("credit_default")
    assert m.task == "binary" and m.description.startswith("Probability")
    # paths are relative to the file's folder; absolute and remote paths are kept
    assert m.predictions == str(tmp_path / "credit_default/predictions/**/*.parquet")
    assert ws.model("router").predictions == "/abs/router.parquet"
    assert ws.model("eta").predictions == "s3://bucket/eta/*.parquet"
    c = m.columns
    assert (c.id, c.timestamp, c.version, c.score, c.prediction, c.label, c.label_timestamp,
            c.latency_ms) == ("prediction_id", "ts", "model_version", "score", "predicted",
                              "actual", "outcome_ts", "latency_ms")
    assert c.segments == ("region", "channel") and c.features == ("income", "age")
    assert c.positive_label == 1
    b = m.business
    assert (b.currency, b.threshold, b.tp, b.fp, b.fn, b.tn, b.baseline, b.cost_per_1k) == \
        ("EUR", 0.3, 120.0, -15.0, "loan_amount_loss", 0.0, "all_negative", 0.4)
    assert m.threshold == 0.3
    assert "loan_amount_loss" in m.declared_columns
    assert ws.model("router").columns.classes == ("prepaid", "highstreet")
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.name = "other"  # type: ignore[misc]


def test_unknown_model_suggests_the_close_name(tmp_path):
    ws = load_workspace(write(tmp_path, FULL))
    with pytest.raises(UnknownModelError, match=r"did you mean 'credit_default'"):
        ws.model("credit_defualt")


BROKEN = '''
[engine]
backend = "duckdb"
bakend = "x"

[[models]]
name = "a"
task = "binary"
predictions = "p.parquet"
[models.columns]
timestamp = "ts"
label = "y"
scroe = "s"

[[models]]
name = "a"
task = "multiclass"
predictions = "p.parquet"
[models.columns]
timestamp = "ts"
label = "y"

[[models]]
name = "r"
task = "regression"
predictions = "p.parquet"
outcomes = "o.parquet"
[models.columns]
timestamp = "ts"
label = "y"

[[models]]
name = "t"
task = "ranking"
[models.columns]
label = "y"
segments = ["version"]

[[models]]
name = "b"
task = "binary"
predictions = "p.parquet"
[models.columns]
timestamp = "ts"
label = "y"
score = "s"
[models.business]
threshold = 1.5
tp = true
'''


def test_validation_lists_every_problem_naming_model_and_key(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_workspace(write(tmp_path, BROKEN))
    problems = info.value.problems
    text = "\n".join(problems)
    expected = [
        "[engine]: unknown key 'bakend' (did you mean 'backend'?)",
        "model 'a' [models.columns]: unknown key 'scroe' (did you mean 'score'?)",
        "model 'a' [models.columns]: a binary model needs 'score' or 'prediction'",
        "model 'a': duplicate model name (also models[0])",
        "a multiclass model needs 'class_scores' or 'prediction'",
        "a regression model needs 'prediction'",
        "'id' is required when outcomes are given",
        "model 't': task 'ranking' is not one of binary, multiclass, regression",
        "model 't': missing required key 'predictions'",
        "model 't' [models.columns]: missing required key 'timestamp'",
        "a segment may not be named 'version'",
        "model 'b' [models.business]: threshold must be a number between 0 and 1",
        "model 'b' [models.business]: tp must be a number or the name of a numeric column",
    ]
    for e in expected:
        assert e in text, e
    assert len(problems) == len(expected)
    # the exception's own message is one sentence that says how many and how to see them all
    assert str(info.value).startswith(f"{tmp_path / 'lastmile.toml'} has {len(expected)} problems:")
    assert "lastmile validate" in str(info.value)


@pytest.mark.parametrize("text, fragment", [
    ("[[models]]\nname = 'x'\ntask = 'binary'\npredictions = 'p'\ncolumns = 3\n",
     "missing required table [models.columns]"),
    ("models = 3\n", "[[models]] must be an array of tables"),
    ("", "declares no [[models]]"),
    ("[[models]]\nname='x'\ntask='binary'\npredictions='p'\n[models.columns]\ntimestamp='t'\nlabel='y'\n"
     "score='lm_score'\n", "reserved prefix 'lm_'"),
    ("[[models]]\nname='x'\ntask='multiclass'\npredictions='p'\n[models.columns]\ntimestamp='t'\n"
     "label='y'\nclass_scores={a='pa'}\n", "at least two classes"),
    ("[[models]]\nname='x'\ntask='regression'\npredictions='p'\n[models.columns]\ntimestamp='t'\n"
     "label='y'\nprediction='p'\n[models.business]\ncost_over=1.0\n", "give both cost_over and cost_under"),
    ("[[models]]\nname='x'\ntask='binary'\npredictions='p'\nfoo=1\n[models.columns]\ntimestamp='t'\n"
     "label='y'\nscore='s'\n", "unknown key 'foo'"),
])
def test_single_problems(tmp_path, text, fragment):
    with pytest.raises(ConfigError) as info:
        load_workspace(write(tmp_path, text))
    assert any(fragment in p for p in info.value.problems), info.value.problems


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_workspace(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_workspace(write(tmp_path, "[[models]\nname="))


def test_discovery_order(tmp_path):
    explicit, env = tmp_path / "a.toml", tmp_path / "b.toml"
    assert find_config(explicit, str(env), tmp_path) == explicit
    assert find_config(None, str(env), tmp_path) == env
    assert find_config(None, None, tmp_path) == SAMPLE_CONFIG   # no ./lastmile.toml here
    write(tmp_path, FULL)
    assert find_config(None, None, tmp_path) == tmp_path / "lastmile.toml"


def test_the_bundled_sample_workspace_loads():
    ws = load_workspace(SAMPLE_CONFIG)
    assert "credit_default" in ws.model_names
    assert {m.task for m in ws.models} == {"binary", "multiclass", "regression"}
