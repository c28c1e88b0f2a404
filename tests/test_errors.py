"""Bugs are not bad input (#14, point 6): which exceptions of a query mean bad data (exit 2,
one sentence) and which are a bug (exit 1, "internal error", the cause chained and shown
whole with LASTMILE_DEBUG=1)."""

from __future__ import annotations

import duckdb
import ibis.common.exceptions as ibis_exc
import pyarrow as pa
import pytest

from analytics.cli import main
from analytics.config.workspace import load_workspace
from analytics.errors import CorruptFileError, DataError, InternalError, LastmileError, suggest
from analytics.log.backend import failure, is_data_error
from analytics.log.engine import Engine
from .factories import make_workspace


@pytest.mark.parametrize("exc, data", [
    (duckdb.IOException("No magic bytes found at end of file 'x.parquet'"), True),
    (duckdb.ConversionException("Could not convert string 'a' to INT64"), True),
    (duckdb.BinderException('Referenced column "score" not found'), True),
    (duckdb.InvalidInputException("bad input"), True),
    (pa.ArrowInvalid("Parquet magic bytes not found"), True),
    (ibis_exc.IbisTypeError("cannot compare string with int64"), True),
    (FileNotFoundError("gone.parquet"), True),
    (PermissionError("denied"), True),
    (TypeError("unsupported operand type(s)"), False),
    (KeyError("lm_score"), False),
    (AttributeError("'NoneType' object has no attribute 'n'"), False),
    (ZeroDivisionError("division by zero"), False),
    (ValueError("math domain error"), False),
    (AssertionError(), False),
])
def test_which_exceptions_mean_bad_data(exc, data):
    assert is_data_error(exc) is data
    out = failure(exc, None, "the logs")
    assert isinstance(out, LastmileError if data else InternalError)
    assert isinstance(out, LastmileError) is data


def test_an_exception_an_engine_library_raises_itself_is_bad_data():
    import pyarrow.compute as pc

    try:
        pc.add(pa.array([1]), "not a number")  # raised inside pyarrow, whatever its type
    except Exception as exc:  # noqa: BLE001
        assert is_data_error(exc)
    try:
        {}["lm_score"]  # raised by our own code: a bug
    except KeyError as exc:
        assert not is_data_error(exc)


def test_a_data_error_names_the_file():
    out = failure(duckdb.IOException("No magic bytes found at end of file '/x/p.parquet'"), None, "the logs")
    assert isinstance(out, CorruptFileError) and "'/x/p.parquet'" in out.message


def test_suggest():
    assert suggest("aucc", ["roc_auc", "auc"]) == " (did you mean 'auc'?)"
    assert suggest("zzz", ["roc_auc"]) == ""


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return make_workspace(tmp_path_factory.mktemp("err"), "binary", n=200)


def _broken_to_pyarrow(exc):
    def to_pyarrow(self, expr):
        raise exc
    return to_pyarrow


def test_a_bug_in_a_query_is_an_internal_error_with_its_cause(ws, monkeypatch):
    eng = Engine(load_workspace(ws.config))
    t = eng.log("binary_model")
    monkeypatch.setattr(type(eng.backend), "to_pyarrow", _broken_to_pyarrow(TypeError("boom")))
    with pytest.raises(InternalError, match=r"model 'binary_model' failed: TypeError: boom") as info:
        eng.execute(t.count(), "binary_model")
    assert isinstance(info.value.__cause__, TypeError)


def test_bad_data_in_a_query_stays_one_sentence(ws, monkeypatch):
    eng = Engine(load_workspace(ws.config))
    t = eng.log("binary_model")
    monkeypatch.setattr(type(eng.backend), "to_pyarrow",
                        _broken_to_pyarrow(duckdb.ConversionException("Could not convert string 'x' to DOUBLE")))
    with pytest.raises(DataError, match=r"^Reading the logs of model 'binary_model' failed: Could not convert"):
        eng.execute(t.count(), "binary_model")


def test_the_cli_says_internal_error_in_one_line_and_exits_1(ws, monkeypatch, capsys):
    monkeypatch.delenv("LASTMILE_DEBUG", raising=False)
    monkeypatch.setattr(Engine, "execute", lambda self, expr, model=None: (_ for _ in ()).throw(TypeError("boom")))
    code = main(["metrics", "--model", "binary_model", "--config", str(ws.config)])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("internal error: TypeError: boom") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_lastmile_debug_shows_the_whole_traceback(ws, monkeypatch):
    monkeypatch.setenv("LASTMILE_DEBUG", "1")
    eng_execute = Engine.execute

    def buggy(self, expr, model=None):
        self.backend  # noqa: B018
        monkeypatch.setattr(type(self.backend), "to_pyarrow", _broken_to_pyarrow(KeyError("lm_oops")))
        return eng_execute(self, expr, model)

    monkeypatch.setattr(Engine, "execute", buggy)
    with pytest.raises(InternalError) as info:
        main(["metrics", "--model", "binary_model", "--config", str(ws.config)])
    assert isinstance(info.value.__cause__, KeyError)
