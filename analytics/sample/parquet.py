"""The fixed Parquet writer of the sample (part of what makes its bytes reproducible)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


PARQUET_OPTIONS = {
    "compression": "zstd",
    "compression_level": 3,
    "version": "2.6",
    "data_page_version": "1.0",
    "store_schema": False,  # the Parquet logical types say it all; saves ~1 KB a file
}
"""Fixed Parquet writer options (part of what makes the output reproducible).

On top of these, each column gets an encoding chosen from its type (see
``_column_options``): dictionary for low-cardinality strings, DELTA_BYTE_ARRAY for
the ids, PLAIN for floats, DELTA_BINARY_PACKED for integers and timestamps; min/max
statistics are kept for the ids, versions and timestamps. Every encoding is one
that DuckDB, pyarrow, Spark 4.0 and Trino read (BYTE_STREAM_SPLIT, which packs
floats tighter, is rejected by Spark 4.0's reader). Every float is rounded to the
precision a production log would keep (scores to 5 or 6 decimals, money to cents),
which also makes the bytes the same on every CPU: numpy's ``exp`` can differ in the
last bit between SIMD paths.
"""


def _column_options(schema: pa.Schema) -> dict:
    """Per-column encodings and statistics, derived from the schema alone."""
    dictionary, encodings, statistics = [], {}, []
    for field in schema:
        if field.name == "prediction_id":
            encodings[field.name] = "DELTA_BYTE_ARRAY"  # shared prefixes: cd-20260525-...
        elif pa.types.is_string(field.type):
            dictionary.append(field.name)
        elif pa.types.is_floating(field.type):
            # PLAIN, not BYTE_STREAM_SPLIT: Spark 4.0's reader rejects the latter
            encodings[field.name] = "PLAIN"
        else:  # int64, timestamp[us]
            encodings[field.name] = "DELTA_BINARY_PACKED"
        if field.name in ("prediction_id", "model_version") or pa.types.is_timestamp(field.type):
            statistics.append(field.name)
    return {"use_dictionary": dictionary, "column_encoding": encodings, "write_statistics": statistics}


def write_chunk(table: pa.Table, path: Path) -> None:
    """Write one chunk with the fixed writer options."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, **PARQUET_OPTIONS, **_column_options(table.schema))
