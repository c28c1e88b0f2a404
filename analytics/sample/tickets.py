"""ticket_router: multiclass, labels in the predictions file (see :mod:`analytics.sample`)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from .constants import N_DAYS, TICKET_CLASSES, TICKET_UNLABELED_RATE, TICKET_V2_START
from .helpers import Chunk, draw_labels, day_us, make_ids, intraday_us, ts_array


TICKET_WEEKDAY = (1.0, 0.97, 0.95, 0.93, 0.88, 0.42, 0.35)
_TICKET_HOURS = (1, 1, 1, 1, 1, 1, 2, 4, 8, 11, 12, 12, 10, 11, 11, 10, 9, 8, 6, 5, 4, 3, 2, 1)
_LANGUAGES = ("en", "de", "es", "fr")
_LANGUAGE_P = (0.5, 0.2, 0.15, 0.15)
_PLANS = ("free", "pro", "enterprise")
_PLAN_P = (0.5, 0.35, 0.15)
_TICKET_LENGTH = np.log(np.array([280.0, 620.0, 240.0, 350.0]))  # median message length
_TICKET_ATTACH = np.array([0.5, 1.2, 0.2, 0.1])  # mean attachments
# How strongly each version's scores point at the true class (billing, technical, account, sales).
_TICKET_SIGNAL = {"v1": np.array([2.3, 1.0, 2.1, 2.3]), "v2": np.array([2.4, 2.2, 2.2, 2.4])}

TICKET_PREDICTION_COLUMNS = (
    "prediction_id", "ts", "model_version",
    *(f"p_{c}" for c in TICKET_CLASSES),
    "predicted", "actual", "latency_ms", "language", "plan", "message_length", "attachments",
)  # fmt: skip


def _ticket_shares(day_index: int) -> np.ndarray:
    """True class mix on a day: technical grows from ~22% to ~42%."""
    t = day_index / (N_DAYS - 1)
    technical = 0.22 + 0.20 * t
    others = np.array([0.33, 0.25, 0.20]) / 0.78 * (1.0 - technical)
    return np.array([others[0], technical, others[1], others[2]])


def ticket_day(rng: np.random.Generator, day: date, day_index: int, n: int) -> Chunk:
    version = "v2" if day >= TICKET_V2_START else "v1"
    k = len(TICKET_CLASSES)
    ts = day_us(day) + intraday_us(rng, _TICKET_HOURS, n)
    true = rng.choice(k, size=n, p=_ticket_shares(day_index))
    language = draw_labels(rng, _LANGUAGES, _LANGUAGE_P, n)
    plan = draw_labels(rng, _PLANS, _PLAN_P, n)
    length = np.exp(rng.normal(_TICKET_LENGTH[true], 0.6))
    message_length = np.clip(np.round(length), 5, 20_000).astype(np.int64)
    attachments = rng.poisson(_TICKET_ATTACH[true]).astype(np.int64)

    logits = rng.normal(0.0, 1.0, (n, k))
    logits[np.arange(n), true] += _TICKET_SIGNAL[version][true]
    if version == "v1":  # v1 mistakes many technical tickets for account questions
        logits[true == 1, 2] += 1.3
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)  # softmax
    # Logged to 6 decimals, as production logs are: numpy's exp may differ in the
    # last bit between CPUs (SIMD paths), and rounding makes every machine write
    # the same bytes. Rows then sum to 1 within 4e-6; the decision is the first
    # class with the highest logged probability (the engine's own rule).
    probs = np.round(probs, 6)
    top = probs.argmax(axis=1)
    classes = np.asarray(TICKET_CLASSES, dtype=object)
    actual = classes[true].copy()
    actual[rng.random(n) < TICKET_UNLABELED_RATE] = None
    latency_median = 44.0 if version == "v1" else 49.0

    columns = {
        "prediction_id": make_ids("tr", day, n),
        "ts": ts_array(ts),
        "model_version": pa.array([version] * n, pa.string()),
        **{f"p_{c}": pa.array(probs[:, i]) for i, c in enumerate(TICKET_CLASSES)},
        "predicted": pa.array(classes[top], pa.string()),
        "actual": pa.array(actual, pa.string()),
        "latency_ms": pa.array(np.round(np.exp(rng.normal(np.log(latency_median), 0.3, n)), 1)),
        "language": pa.array(language, pa.string()),
        "plan": pa.array(plan, pa.string()),
        "message_length": pa.array(message_length),
        "attachments": pa.array(attachments),
    }
    return Chunk(pa.table(columns))
