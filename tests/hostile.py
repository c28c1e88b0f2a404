"""A workspace whose names and values are hostile text (issue #13, point 7): a markdown
image and raw HTML in the description, markup in a segment column, a feature and a
segment value, ``--`` in a column name, a formula in a segment value."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .factories import make_workspace, write_toml

DESCRIPTION = "Scores ![x](http://example.invalid/a.png) and <img src=x onerror=alert(1)> for **you**"
SEG_MARKUP = "<b>x</b>"        # a segment column
SEG_DASHES = "a--b"            # a segment column
FEATURE = "<b>f</b>"           # a feature column
VALUE_MARKUP = "<b>EU</b>"     # a value of SEG_MARKUP
VERSION = "<b>v2</b>"          # the second version
FORMULA = '=HYPERLINK("http://x")'   # a value of SEG_DASHES
MODEL = "binary_model"


def hostile_workspace(folder: Path, n: int = 1500, seed: int = 11) -> Path:
    """A binary workspace: region -> ``<b>x</b>`` (values EU -> ``<b>EU</b>``), channel ->
    ``a--b`` (values web -> the formula), income -> ``<b>f</b>``, version v2 -> ``<b>v2</b>``;
    the hostile description."""
    g = make_workspace(folder, "binary", n=n, seed=seed)
    for f in (folder / "pred").glob("*.parquet"):
        t = pq.read_table(f)
        region = [VALUE_MARKUP if v == "EU" else v for v in t.column("region").to_pylist()]
        channel = [FORMULA if v == "web" else v for v in t.column("channel").to_pylist()]
        t = t.set_column(t.column_names.index("region"), SEG_MARKUP, pa.array(region))
        t = t.set_column(t.column_names.index("channel"), SEG_DASHES, pa.array(channel))
        ver = [VERSION if v == "v2" else v for v in t.column("ver").to_pylist()]
        t = t.set_column(t.column_names.index("ver"), "ver", pa.array(ver))
        t = t.rename_columns([FEATURE if c == "income" else c for c in t.column_names])
        pq.write_table(t, f)
    (m,) = tomllib.loads(g.config.read_text())["models"]
    m["description"] = DESCRIPTION
    m["columns"]["segments"] = [SEG_MARKUP, SEG_DASHES]
    m["columns"]["features"] = [FEATURE, "plan"]
    return write_toml(g.config, [m])
