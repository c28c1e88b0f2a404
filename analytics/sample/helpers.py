"""What the sample's stories share: random streams, draws, ids, timestamps, daily counts
and the chunk of one model-day."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pyarrow as pa

from .constants import DATA_START, LABEL_CUTOFF, N_DAYS


US_PER_DAY = 86_400_000_000
US_PER_MINUTE = 60_000_000
_EPOCH = date(1970, 1, 1)
CUTOFF_US = (LABEL_CUTOFF - datetime(1970, 1, 1)) // timedelta(microseconds=1)
TS_TYPE = pa.timestamp("us")

Progress = Callable[[str], None]


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def day_us(day: date) -> int:
    """Microseconds since the epoch at midnight of ``day``."""
    return (day - _EPOCH).days * US_PER_DAY


def chunk_rng(seed: int, model: str, day_index: int) -> np.random.Generator:
    """The random stream of one (seed, model, day) chunk; independent of all others."""
    model_key = zlib.crc32(model.encode())  # stable across runs, unlike hash()
    return np.random.default_rng(np.random.SeedSequence([seed, model_key, day_index]))


def draw_labels(rng: np.random.Generator, labels: tuple[str, ...], probs, n: int) -> np.ndarray:
    """``n`` draws of ``labels`` as a numpy array of Python strings."""
    p = np.asarray(probs, dtype=float)
    idx = rng.choice(len(labels), size=n, p=p / p.sum())
    return np.asarray(labels, dtype=object)[idx]


def intraday_us(rng: np.random.Generator, hour_weights, n: int) -> np.ndarray:
    """Microseconds after midnight, sorted, following a 24-hour traffic profile."""
    w = np.asarray(hour_weights, dtype=float)
    hours = rng.choice(24, size=n, p=w / w.sum())
    offsets = hours * 3_600_000_000 + rng.integers(0, 3_600_000_000, size=n)
    return np.sort(offsets)


def make_ids(prefix: str, day: date, n: int) -> pa.Array:
    """Readable unique ids, e.g. ``cd-20260525-000042``."""
    stem = f"{prefix}-{day:%Y%m%d}-"
    return pa.array([f"{stem}{i:06d}" for i in range(n)], type=pa.string())


def labels_array(labels: tuple[str, ...], idx: np.ndarray) -> pa.Array:
    """The strings ``labels[idx]`` as an Arrow string column."""
    return pa.array(np.asarray(labels, dtype=object)[idx], pa.string())


def ts_array(us: np.ndarray) -> pa.Array:
    return pa.array(us.astype("int64"), type=pa.int64()).cast(TS_TYPE)


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integer parts proportional to ``weights`` (largest remainder)."""
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    if short > 0:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:short]] += 1
    return counts


def daily_counts(total: int, weekday_factor: tuple[float, ...], growth: float) -> np.ndarray:
    """Rows per day: weekly seasonality times a gentle linear trend."""
    days = np.arange(N_DAYS)
    weekdays = np.array([(DATA_START + timedelta(days=int(d))).weekday() for d in days])
    weights = np.asarray(weekday_factor)[weekdays] * (1.0 + growth * days / (N_DAYS - 1))
    return _allocate(total, weights)


@dataclass(frozen=True)
class Chunk:
    """One model-day of logs: predictions and, when the model has them, outcomes."""

    predictions: pa.Table
    outcomes: pa.Table | None = None
