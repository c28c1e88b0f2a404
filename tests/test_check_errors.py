"""`lastmile check` with an unreadable model: status error with its sentence, the other
models still checked, and the exit code of each --fail-on value (issue #13, point 4)."""

from __future__ import annotations

import json
import tomllib

import pytest

from analytics import cli
from analytics.cli.commands.check import exit_status
from .factories import make_workspace, write_toml



@pytest.fixture(scope="module")
def three(tmp_path_factory):
    """Three models in one workspace; ``broken``'s only predictions file is not Parquet."""
    root = tmp_path_factory.mktemp("three")
    models = []
    for name, task, seed in (("good_a", "binary", 1), ("broken", "binary", 2), ("good_c", "regression", 3)):
        g = make_workspace(root / name, task, n=600, seed=seed, days=28)
        (m,) = tomllib.loads(g.config.read_text())["models"]
        m.update(name=name, predictions=f"{name}/{m['predictions']}", outcomes=f"{name}/{m['outcomes']}")
        models.append(m)
    for f in (root / "broken" / "pred").glob("*.parquet"):
        f.write_bytes(b"this is not a parquet file")
    return write_toml(root / "lastmile.toml", models)


def _check(config, capsys, *extra):
    code = cli.main(["check", "--config", str(config), *extra])
    return code, capsys.readouterr()


def test_unreadable_model_is_error_and_others_are_checked(three, capsys):
    code, cap = _check(three, capsys, "--format", "json", "--fail-on", "never")
    out = json.loads(cap.out)
    assert code == 0 and out["status"] == "error" and out["fail_on"] == "never"
    by = {m["model"]: m for m in out["models"]}
    assert list(by) == ["good_a", "broken", "good_c"]
    (reason,) = by["broken"]["reasons"]
    assert by["broken"]["status"] == "error" and reason["level"] == "error" and reason["rule"] == "error"
    assert reason["message"].startswith("Model 'broken' cannot be checked: ")
    assert "part-0.parquet" in reason["message"] and "Traceback" not in cap.err
    for name in ("good_a", "good_c"):  # checked: real rules were evaluated, not an error
        assert by[name]["status"] in ("healthy", "warn", "pull")
        assert by[name]["windows"]["current"] and all(r["rule"] != "error" for r in by[name]["reasons"])

    code, cap = _check(three, capsys)
    assert code == 2
    assert "broken [error] Model 'broken' cannot be checked: " in cap.out
    assert "exit status 2 (--fail-on warn)" in cap.out
    summary = cap.out.split("\n\n")[0]
    assert any(line.split()[:2] == ["broken", "error"] for line in summary.splitlines())


@pytest.mark.parametrize("fail_on, expected", [("warn", 2), ("pull", 2), ("error", 2), ("never", 0)])
def test_exit_code_per_fail_on(three, capsys, fail_on, expected):
    code, _ = _check(three, capsys, "--fail-on", fail_on, "--format", "csv")
    assert code == expected


def test_model_flag_checks_an_unreadable_model(three, capsys):
    code, cap = _check(three, capsys, "--model", "broken", "--model", "good_c", "--format", "json")
    out = json.loads(cap.out)
    assert code == 2 and [m["status"] == "error" for m in out["models"]] == [True, False]
    code, cap = _check(three, capsys, "--model", "nope")
    assert code == 2 and "nope" in cap.err and cap.out == ""   # bad input, not a verdict


@pytest.mark.parametrize("statuses, codes", [
    # statuses                         warn pull error never
    (["healthy"],                      (0, 0, 0, 0)),
    (["healthy", "warn"],              (3, 0, 0, 0)),
    (["warn", "pull"],                 (4, 4, 0, 0)),
    (["pull", "error", "warn"],        (2, 2, 2, 0)),
    (["healthy", "error"],             (2, 2, 2, 0)),
    ([],                               (0, 0, 0, 0)),
])
def test_exit_status_order(statuses, codes):
    assert tuple(exit_status(statuses, f) for f in ("warn", "pull", "error", "never")) == codes
