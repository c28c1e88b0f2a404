"""delivery_eta: regression, outcomes a day or three later (see :mod:`analytics.sample`)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from .constants import ETA_V2_START, ETA_V2_TRAFFIC_SHARE, ROADWORKS_START
from .helpers import (CUTOFF_US, US_PER_DAY, US_PER_MINUTE, Chunk, day_us, intraday_us, labels_array, make_ids,
                      ts_array)


ETA_WEEKDAY = (0.85, 0.85, 0.9, 0.95, 1.1, 1.25, 1.2)
_ETA_HOURS = (1, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5, 9, 14, 12, 6, 4, 5, 8, 14, 16, 12, 7, 4, 2)
_CITIES = ("Berlin", "Paris", "Madrid", "Milan", "Warsaw")
_CITY_P = (0.25, 0.25, 0.2, 0.15, 0.15)
_CITY_SLOW = np.array([1.0, 1.1, 0.95, 1.05, 0.97])
_VEHICLES = ("bike", "scooter", "car")
_VEHICLE_P = (0.45, 0.35, 0.2)
_VEHICLE_KMH = np.array([14.0, 22.0, 20.0])
_WEATHER = ("clear", "rain", "wind", "snow")
_WEATHER_SLOW = np.array([1.0, 1.15, 1.05, 1.4])
_ROADWORKS_SLOW = 1.35
_ETA_V2_LEARNT = 0.5  # share of the roadworks slowdown that v2 has learnt

ETA_PREDICTION_COLUMNS = (
    "prediction_id", "ts", "model_version", "predicted_minutes", "latency_ms", "city",
    "vehicle", "distance_km", "items", "hour", "weather",
)  # fmt: skip
ETA_OUTCOME_COLUMNS = ("prediction_id", "actual_minutes", "delivered_ts")


def _weather_p(day: date) -> tuple[float, ...]:
    """Weather mix by month: summer mostly clear, autumn wet, some snow in November."""
    if day.month in (6, 7, 8):
        return (0.8, 0.12, 0.08, 0.0)
    if day.month in (9, 10):
        return (0.55, 0.3, 0.15, 0.0)
    return (0.45, 0.3, 0.15, 0.1) if day.month == 11 else (0.7, 0.2, 0.1, 0.0)


def eta_day(rng: np.random.Generator, day: date, n: int) -> Chunk:
    ts = day_us(day) + intraday_us(rng, _ETA_HOURS, n)
    hour = (ts - day_us(day)) // 3_600_000_000
    city_i = rng.choice(5, size=n, p=_CITY_P)
    vehicle_i = rng.choice(3, size=n, p=_VEHICLE_P)
    weather_i = rng.choice(4, size=n, p=_weather_p(day))
    distance = 0.3 + rng.gamma(2.2, 1.3 + 1.0 * (vehicle_i == 2))
    distance = np.round(distance, 2)
    items = (1 + rng.poisson(1.8, n)).astype(np.int64)

    rush = np.isin(hour, (12, 13, 18, 19, 20))
    expected = (
        (9.0 + 1.1 * items + distance / _VEHICLE_KMH[vehicle_i] * 60.0)
        * _CITY_SLOW[city_i]
        * _WEATHER_SLOW[weather_i]
        * np.where(rush, 1.12, 1.0)
    )
    actual = expected * np.exp(rng.normal(0.0, 0.18, n))
    roadworks = (city_i == 1) & (day >= ROADWORKS_START)
    actual = np.where(roadworks, actual * _ROADWORKS_SLOW, actual)

    is_v2 = (rng.random(n) < ETA_V2_TRAFFIC_SHARE) if day >= ETA_V2_START else np.zeros(n, bool)
    predicted = expected * np.exp(rng.normal(0.0, 0.07, n))
    learnt = 1.0 + _ETA_V2_LEARNT * (_ROADWORKS_SLOW - 1.0)
    predicted = np.where(roadworks & is_v2, predicted * learnt, predicted)
    latency = np.exp(rng.normal(np.log(12.0), 0.4, n))
    ids = make_ids("eta", day, n)

    predictions = pa.table(
        {
            "prediction_id": ids,
            "ts": ts_array(ts),
            "model_version": pa.array(np.where(is_v2, "v2", "v1").astype(object), pa.string()),
            "predicted_minutes": pa.array(np.round(predicted, 1)),
            "latency_ms": pa.array(np.round(latency, 1)),
            "city": labels_array(_CITIES, city_i),
            "vehicle": labels_array(_VEHICLES, vehicle_i),
            "distance_km": pa.array(distance),
            "items": pa.array(items),
            "hour": pa.array(hour.astype(np.int64)),
            "weather": labels_array(_WEATHER, weather_i),
        }
    )

    # The delivery record is synced 1-3 days later; ~1% of orders are cancelled.
    actual = np.round(actual, 1)
    delivered_us = (ts + (actual * US_PER_MINUTE).astype(np.int64)) // 1_000_000 * 1_000_000
    synced_us = ts + ((1.0 + 2.0 * rng.random(n)) * US_PER_DAY).astype(np.int64)
    keep = np.flatnonzero((synced_us <= CUTOFF_US) & (rng.random(n) >= 0.01))
    keep = keep[np.argsort(delivered_us[keep], kind="stable")]
    outcomes = pa.table(
        {
            "prediction_id": ids.take(pa.array(keep)),
            "actual_minutes": pa.array(actual[keep]),
            "delivered_ts": ts_array(delivered_us[keep]),
        }
    )
    return Chunk(predictions, outcomes)
