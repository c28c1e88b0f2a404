"""The sample's data-quality incidents, each on a few known days, drawn from its own random
stream so that no other row changes (the ``QUALITY_*`` constants)."""

from __future__ import annotations

import zlib
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute

from .constants import QUALITY_NULLS, QUALITY_OUTAGE, QUALITY_UNIT_CHANGE
from .helpers import TS_TYPE, day_us


def apply_incidents(model: str, day: date, day_index: int, seed: int, predictions: pa.Table,
               outcomes: pa.Table | None) -> tuple[pa.Table, pa.Table | None]:
    """The data-quality incidents of one model-day (see the ``QUALITY_*`` constants)."""
    m, col, first, last, share = QUALITY_NULLS
    if model == m and first <= day <= last:
        rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(model.encode()), day_index, 19]))
        nulls = pa.array(rng.random(predictions.num_rows) < share)
        i = predictions.schema.get_field_index(col)
        kept = pa.compute.if_else(nulls, pa.scalar(None, predictions[col].type), predictions[col])
        predictions = predictions.set_column(i, col, kept)
    m, col, first, last, factor = QUALITY_UNIT_CHANGE
    if model == m and first <= day <= last:
        i = predictions.schema.get_field_index(col)
        metres = np.round(predictions[col].to_numpy() * factor, 1)
        predictions = predictions.set_column(i, col, pa.array(metres))
    m, lost_day, hour = QUALITY_OUTAGE
    if model == m and day == lost_day:
        cutoff = pa.scalar(day_us(day) + hour * 3_600_000_000, pa.int64()).cast(TS_TYPE)
        predictions = predictions.filter(pa.compute.less(predictions["ts"], cutoff))
        if outcomes is not None:
            outcomes = outcomes.filter(pa.compute.is_in(outcomes["prediction_id"],
                                                        value_set=predictions["prediction_id"]))
    return predictions, outcomes
