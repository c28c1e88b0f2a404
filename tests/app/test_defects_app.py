"""The dashboard over logs with defects: a timestamp in year 9999 hides no model."""

from __future__ import annotations

import datetime as dt
import tomllib

import pyarrow as pa
import pyarrow.parquet as pq
from streamlit.testing.v1 import AppTest

from ..factories import make_workspace, write_toml
from .conftest import APP_TIMEOUT, MAIN, open_page


def test_portfolio_shows_every_model_when_one_has_a_timestamp_in_9999(tmp_path, monkeypatch):
    models = []
    for i, name in enumerate(("a", "b")):
        g = make_workspace(tmp_path / name, "binary", n=300, seed=i)
        m = tomllib.loads(g.config.read_text())["models"][0]
        m.update(name=f"model_{name}", predictions=f"{name}/pred/*.parquet", outcomes=f"{name}/out/*.parquet")
        models.append(m)
    path = tmp_path / "a" / "pred" / "part-0.parquet"
    t = pq.read_table(path)
    ts = t.column("ts").to_pylist()
    ts[0] = dt.datetime(9999, 12, 31)
    pq.write_table(t.set_column(t.schema.get_field_index("ts"), "ts", pa.array(ts, type=pa.timestamp("us"))), path)
    cfg = write_toml(tmp_path / "lastmile.toml", models)
    monkeypatch.setenv("LASTMILE_CONFIG", str(cfg))
    at = open_page(AppTest.from_file(MAIN, default_timeout=APP_TIMEOUT), "portfolio")
    text = " ".join(m.value for m in at.markdown)
    assert "### `model_a`" in text and "### `model_b`" in text  # names are shown verbatim (code spans)
    assert "cannot be checked" not in text
    assert not at.error, [e.value for e in at.error]
