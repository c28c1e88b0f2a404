"""Deterministic sample prediction logs for three models, with stories to find.

``generate(out_dir)`` writes about six months of production logs (Parquet,
hive-partitioned by day) for three models plus the ``lastmile.toml`` workspace
that describes them, and returns the path of that toml. The bundled
``sample_data/`` folder is built with the defaults.

The models and what a user should discover in them:

``credit_default`` (binary; predictions + late outcomes)
    * ``v1`` (champion) serves all traffic; ``v2`` (challenger) takes ~30% of it
      from :data:`CREDIT_V2_START`. ``v2`` has the better ROC AUC overall but is
      clearly worse on ``channel = partner`` (:data:`CREDIT_WORSE_SEGMENT`).
    * ``v3`` is a shadow from :data:`CREDIT_SHADOW_START`: it re-scores a random
      half of ``v1``'s predictions under the *same* ``prediction_id`` (its own
      row, ``model_version = v3``), so the comparison can be paired.
    * From :data:`DRIFT_START` the applicants change (income down, debt ratio up,
      more self-employed) and so does the true default relation (income protects
      less, self-employment got riskier): ``v1``'s AUC drops visibly, ``v2``'s less.
    * Labels arrive 7-35 days late (skewed to ~2 weeks); only outcomes known by
      :data:`LABEL_CUTOFF` exist, so the last five weeks are partly labelled and
      the last week not at all. ~0.2% of outcomes come twice: a first, wrong
      label and a later correction (the latest ``outcome_ts`` wins).
    * ``v2``'s latency p95 is ~2.7x ``v1``'s. The default rate is ~10%.

``ticket_router`` (multiclass; labels inside the predictions, ~15% never labelled)
    * ``v1`` until :data:`TICKET_V2_START`, then ``v2`` with a better macro F1.
    * The share of ``technical`` tickets (:data:`TICKET_GROWING_CLASS`) grows from
      ~22% to ~42% over the period (label and prediction drift), and ``v1``'s recall on it is poor (it sends
      many technical tickets to ``account``).

``delivery_eta`` (regression; outcomes arrive 1-3 days later)
    * From :data:`ROADWORKS_START` deliveries in :data:`ROADWORKS_CITY` take
      ~35% longer: the model under-predicts there (negative bias, worse MAE).
    * From :data:`ETA_V2_START` ``v2`` serves half the orders and has learnt about
      half of the slowdown.

Data-quality incidents, each on a few known days (drawn from their own random
stream, so no other row changes): :data:`QUALITY_NULLS` (ticket_router's
``message_length`` 30% null for four days), :data:`QUALITY_UNIT_CHANGE`
(delivery_eta's ``distance_km`` logged in metres for three days) and
:data:`QUALITY_OUTAGE` (delivery_eta's predictions lost from 02:00 on one day,
and their outcomes with them).

Determinism and scale: every (model, day) chunk draws from its own random
stream, seeded by ``numpy.random.SeedSequence([seed, model_key, day_index])``,
and is written to its own file before the next one is built, so memory use does
not grow with ``rows`` (``rows=100_000_000`` is fine) and the same ``seed`` and
``rows`` always give byte-identical Parquet files with a given pyarrow version
(fixed writer options, no wall-clock timestamps anywhere; the footer names the
pyarrow version, so only the bytes, not the contents, differ across versions).

Readers that discover hive partitions (duckdb's ``read_parquet`` on a glob,
``pyarrow.dataset``) add a ``dt`` column, in both predictions and outcomes.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute
import pyarrow.parquet as pq

from .errors import SelectionError

__all__ = [
    "DATA_START",
    "DATA_END",
    "N_DAYS",
    "DEFAULT_ROWS",
    "DEFAULT_SEED",
    "MODEL_SHARES",
    "CREDIT_V2_START",
    "CREDIT_V2_TRAFFIC_SHARE",
    "CREDIT_SHADOW_START",
    "CREDIT_SHADOW_FRACTION",
    "CREDIT_WORSE_SEGMENT",
    "DRIFT_START",
    "LABEL_DELAY_DAYS",
    "LABEL_CUTOFF",
    "DUPLICATE_OUTCOME_RATE",
    "TICKET_CLASSES",
    "TICKET_V2_START",
    "TICKET_GROWING_CLASS",
    "TICKET_UNLABELED_RATE",
    "ROADWORKS_START",
    "ROADWORKS_CITY",
    "ETA_V2_START",
    "ETA_V2_TRAFFIC_SHARE",
    "QUALITY_NULLS",
    "QUALITY_UNIT_CHANGE",
    "QUALITY_OUTAGE",
    "CREDIT_PREDICTION_COLUMNS",
    "CREDIT_OUTCOME_COLUMNS",
    "TICKET_PREDICTION_COLUMNS",
    "ETA_PREDICTION_COLUMNS",
    "ETA_OUTCOME_COLUMNS",
    "PARQUET_OPTIONS",
    "build_day",
    "daily_plan",
    "generate",
    "workspace_toml",
]

# --------------------------------------------------------------------------
# Public constants: the calendar of the data and of its stories.
# --------------------------------------------------------------------------

DATA_START = date(2026, 5, 25)
"""First day of traffic (a Monday)."""
DATA_END = date(2026, 11, 22)
"""Last day of traffic, inclusive (a Sunday)."""
N_DAYS = (DATA_END - DATA_START).days + 1  # 182 days = 26 weeks

DEFAULT_ROWS = 150_000
"""Total prediction rows across the three models for the bundled sample."""
DEFAULT_SEED = 7

MODEL_SHARES = {"credit_default": 0.6, "ticket_router": 0.2, "delivery_eta": 0.2}
"""Share of ``rows`` that each model gets (credit's share includes shadow rows)."""

# credit_default
CREDIT_V2_START = date(2026, 7, 20)  # Monday of week 9
CREDIT_V2_TRAFFIC_SHARE = 0.30
CREDIT_SHADOW_START = date(2026, 8, 10)  # Monday of week 12
CREDIT_SHADOW_FRACTION = 0.5  # share of v1's predictions that v3 re-scores
CREDIT_WORSE_SEGMENT = ("channel", "partner")  # where v2 is worse than v1
DRIFT_START = date(2026, 9, 14)  # Monday of week 17
LABEL_DELAY_DAYS = (7, 35)  # outcome_ts - ts, in days (skewed towards ~2 weeks)
LABEL_CUTOFF = datetime(2026, 11, 22, 23, 59, 59)
"""Outcomes (and delivery records) known after this moment are not in the logs."""
DUPLICATE_OUTCOME_RATE = 0.002

# ticket_router
TICKET_CLASSES = ("billing", "technical", "account", "sales")
TICKET_V2_START = date(2026, 8, 24)  # Monday of week 14
TICKET_GROWING_CLASS = "technical"
TICKET_UNLABELED_RATE = 0.15

# delivery_eta
ROADWORKS_START = date(2026, 9, 28)
ROADWORKS_CITY = "Paris"
ETA_V2_START = date(2026, 10, 19)
ETA_V2_TRAFFIC_SHARE = 0.5

# data-quality incidents (the checks of analytics/analyses/quality find them)
QUALITY_NULLS = ("ticket_router", "message_length", date(2026, 10, 5), date(2026, 10, 8), 0.30)
"""(model, column, first day, last day, share): the column is null on that share of the rows."""
QUALITY_UNIT_CHANGE = ("delivery_eta", "distance_km", date(2026, 8, 11), date(2026, 8, 13), 1000.0)
"""(model, column, first day, last day, factor): the column logged in metres, not km."""
QUALITY_OUTAGE = ("delivery_eta", date(2026, 7, 8), 2)
"""(model, day, hour): the logging pipeline lost that day's rows from that hour on."""

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

_US_PER_DAY = 86_400_000_000
_US_PER_MINUTE = 60_000_000
_EPOCH = date(1970, 1, 1)
_CUTOFF_US = (LABEL_CUTOFF - datetime(1970, 1, 1)) // timedelta(microseconds=1)
_TS = pa.timestamp("us")

Progress = Callable[[str], None]


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _day_us(day: date) -> int:
    """Microseconds since the epoch at midnight of ``day``."""
    return (day - _EPOCH).days * _US_PER_DAY


def _rng(seed: int, model: str, day_index: int) -> np.random.Generator:
    """The random stream of one (seed, model, day) chunk; independent of all others."""
    model_key = zlib.crc32(model.encode())  # stable across runs, unlike hash()
    return np.random.default_rng(np.random.SeedSequence([seed, model_key, day_index]))


def _choice(rng: np.random.Generator, labels: tuple[str, ...], probs, n: int) -> np.ndarray:
    """``n`` draws of ``labels`` as a numpy array of Python strings."""
    p = np.asarray(probs, dtype=float)
    idx = rng.choice(len(labels), size=n, p=p / p.sum())
    return np.asarray(labels, dtype=object)[idx]


def _intraday_us(rng: np.random.Generator, hour_weights, n: int) -> np.ndarray:
    """Microseconds after midnight, sorted, following a 24-hour traffic profile."""
    w = np.asarray(hour_weights, dtype=float)
    hours = rng.choice(24, size=n, p=w / w.sum())
    offsets = hours * 3_600_000_000 + rng.integers(0, 3_600_000_000, size=n)
    return np.sort(offsets)


def _ids(prefix: str, day: date, n: int) -> pa.Array:
    """Readable unique ids, e.g. ``cd-20260525-000042``."""
    stem = f"{prefix}-{day:%Y%m%d}-"
    return pa.array([f"{stem}{i:06d}" for i in range(n)], type=pa.string())


def _ts_array(us: np.ndarray) -> pa.Array:
    return pa.array(us.astype("int64"), type=pa.int64()).cast(_TS)


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integer parts proportional to ``weights`` (largest remainder)."""
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    if short > 0:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:short]] += 1
    return counts


def _daily_counts(total: int, weekday_factor: tuple[float, ...], growth: float) -> np.ndarray:
    """Rows per day: weekly seasonality times a gentle linear trend."""
    days = np.arange(N_DAYS)
    weekdays = np.array([(DATA_START + timedelta(days=int(d))).weekday() for d in days])
    weights = np.asarray(weekday_factor)[weekdays] * (1.0 + growth * days / (N_DAYS - 1))
    return _allocate(total, weights)


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


def _write(table: pa.Table, path: Path) -> None:
    """Write one chunk with the fixed writer options."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, **PARQUET_OPTIONS, **_column_options(table.schema))


@dataclass(frozen=True)
class _Chunk:
    """One model-day of logs: predictions and, when the model has them, outcomes."""

    predictions: pa.Table
    outcomes: pa.Table | None = None


# --------------------------------------------------------------------------
# credit_default: binary, late outcomes, challenger, shadow, drift
# --------------------------------------------------------------------------

_CREDIT_WEEKDAY = (1.0, 1.04, 1.02, 1.0, 0.93, 0.55, 0.45)
_CREDIT_HOURS = (1, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 11, 10, 11, 12, 12, 11, 10, 9, 8, 6, 4, 2, 1)
_REGIONS = ("EU", "NA", "APAC", "LATAM")
_REGION_P = (0.35, 0.30, 0.20, 0.15)
_REGION_RISK = np.array([0.0, -0.1, 0.1, 0.3])
_CHANNELS = ("web", "branch", "partner")
_CHANNEL_P = (0.55, 0.25, 0.20)
_CHANNEL_RISK = np.array([0.0, -0.2, 0.25])
_EMPLOYMENT = ("salaried", "self_employed", "unemployed", "retired")
_EMPLOYMENT_P_BEFORE = (0.68, 0.17, 0.05, 0.10)
_EMPLOYMENT_P_AFTER = (0.57, 0.26, 0.07, 0.10)
_EMPLOYMENT_RISK = np.array([0.0, 0.35, 1.1, 0.1])
_EMPLOYMENT_RISK_SHIFT = np.array([0.0, 1.0, 0.0, -0.2])  # added to the truth after the drift
_EMPLOYMENT_INCOME = np.array([0.0, 0.05, -0.7, -0.3])  # log-income offsets

CREDIT_PREDICTION_COLUMNS = (
    "prediction_id", "ts", "model_version", "score", "latency_ms", "region", "channel",
    "income", "age", "debt_ratio", "employment", "loan_amount",
)  # fmt: skip
CREDIT_OUTCOME_COLUMNS = ("prediction_id", "actual", "outcome_ts", "loan_amount_loss")


def _credit_day(rng: np.random.Generator, day: date, n_target: int) -> _Chunk:
    drifted = day >= DRIFT_START
    v2_live = day >= CREDIT_V2_START
    shadow_live = day >= CREDIT_SHADOW_START
    # Shadow rows count towards the model's rows: serve fewer primary requests.
    v1_share = 1.0 - CREDIT_V2_TRAFFIC_SHARE if v2_live else 1.0
    n = round(n_target / (1.0 + CREDIT_SHADOW_FRACTION * v1_share)) if shadow_live else n_target

    ts = _day_us(day) + _intraday_us(rng, _CREDIT_HOURS, n)
    region_i = rng.choice(4, size=n, p=_REGION_P)
    channel_i = rng.choice(3, size=n, p=_CHANNEL_P)
    emp_p = _EMPLOYMENT_P_AFTER if drifted else _EMPLOYMENT_P_BEFORE
    emp_i = rng.choice(4, size=n, p=emp_p)

    # Applicant features. After the drift: lower incomes, higher debt ratios.
    income = np.exp(rng.normal(np.log(55_000) + _EMPLOYMENT_INCOME[emp_i], 0.45))
    if drifted:
        income *= 0.82
    income = np.clip(np.round(income, -1), 6_000, None)
    age = np.where(
        emp_i == 3,
        rng.normal(67, 5, n),
        rng.normal(39, 11, n),
    )
    age = np.clip(np.round(age), 21, 85).astype(np.int64)
    debt_ratio = rng.beta(2.9, 4.6, n) if drifted else rng.beta(2.0, 5.0, n)
    debt_ratio = np.round(debt_ratio, 3)
    loan = np.exp(rng.normal(np.log(12_000) + 0.5 * np.log(income / 55_000), 0.55))
    loan_amount = np.clip(np.round(loan, -2), 1_000, 150_000)

    # The truth: a linear part, a hinge on high debt ratios that a linear model
    # mostly misses, and unobserved risk (caps what any model can achieve).
    # Labels are drawn from it; the models below only estimate it.
    log_inc = np.log(income / 55_000)
    linear = (
        -3.1
        - 1.5 * log_inc
        + 5.0 * (debt_ratio - 0.3)
        + _EMPLOYMENT_RISK[emp_i]
        - 0.025 * (age - 40)
        + 0.25 * np.log(loan_amount / 12_000)
        + _REGION_RISK[region_i]
        + _CHANNEL_RISK[channel_i]
    )
    hinge = 6.0 * np.maximum(debt_ratio - 0.45, 0.0)
    truth = linear + hinge + rng.normal(0.0, 0.3, n)
    if drifted:  # the economy changed: income protects less, some jobs got riskier
        truth += (
            _EMPLOYMENT_RISK_SHIFT[emp_i]
            + 1.2 * log_inc
            + rng.normal(0.0, 1.2, n)  # new risks that no logged feature shows
            - 1.2
        )
    actual = (rng.random(n) < _sigmoid(truth)).astype(np.int64)

    # The models: imperfect estimates of the truth, learnt before the drift.
    eps_v1 = rng.normal(0.0, 0.7, n)
    z_v1 = 0.9 * linear + 0.1 * hinge + eps_v1  # linear model: misses most of the hinge
    # v2 (boosted trees, fresher data) gets the hinge, leans less on income and
    # has already seen self-employed applicants getting riskier.
    z_v2 = linear + 0.5 * log_inc + 0.6 * (emp_i == 1) + 1.1 * hinge + rng.normal(0.0, 0.15, n)
    partner = channel_i == 2
    # v2 was trained without partner applications: its partner scores are mostly noise.
    z_v2[partner] = 0.3 * z_v2[partner] + rng.normal(-1.8, 0.8, int(partner.sum()))
    # v3 (shadow) is v1 retrained with a hinge feature: correlated with v1, a bit better.
    z_v3 = 0.9 * linear + 0.6 * hinge + 0.7 * eps_v1 + rng.normal(0.0, 0.25, n)

    is_v2 = (rng.random(n) < CREDIT_V2_TRAFFIC_SHARE) if v2_live else np.zeros(n, bool)
    score = np.where(is_v2, _sigmoid(z_v2), _sigmoid(z_v1))
    latency = np.where(
        is_v2,
        np.exp(rng.normal(np.log(72.0), 0.45, n)),
        np.exp(rng.normal(np.log(31.0), 0.35, n)),
    )
    version = np.where(is_v2, "v2", "v1").astype(object)
    ids = _ids("cd", day, n)

    columns = {
        "prediction_id": ids,
        "ts": _ts_array(ts),
        "model_version": pa.array(version, pa.string()),
        "score": pa.array(np.round(score, 5)),
        "latency_ms": pa.array(np.round(latency, 1)),
        "region": pa.array(np.asarray(_REGIONS, dtype=object)[region_i], pa.string()),
        "channel": pa.array(np.asarray(_CHANNELS, dtype=object)[channel_i], pa.string()),
        "income": pa.array(income),
        "age": pa.array(age),
        "debt_ratio": pa.array(debt_ratio),
        "employment": pa.array(np.asarray(_EMPLOYMENT, dtype=object)[emp_i], pa.string()),
        "loan_amount": pa.array(loan_amount),
    }
    predictions = pa.table(columns)

    if shadow_live:
        shadowed = np.flatnonzero(~is_v2 & (rng.random(n) < CREDIT_SHADOW_FRACTION))
        shadow = predictions.take(pa.array(shadowed))
        shadow = shadow.set_column(2, "model_version", pa.array(["v3"] * len(shadowed), pa.string()))
        shadow = shadow.set_column(3, "score", pa.array(np.round(_sigmoid(z_v3[shadowed]), 5)))
        v3_latency = np.exp(rng.normal(np.log(36.0), 0.35, len(shadowed)))
        shadow = shadow.set_column(4, "latency_ms", pa.array(np.round(v3_latency, 1)))
        # Interleave by time; the live row comes before its shadow twin.
        order = np.argsort(np.concatenate([ts, ts[shadowed]]), kind="stable")
        predictions = pa.concat_tables([predictions, shadow]).take(pa.array(order))

    # Outcomes: one per served prediction, known 7..35 days later (mode ~10 days).
    lo, hi = LABEL_DELAY_DAYS
    delay_us = ((lo + (hi - lo) * rng.beta(1.5, 5.0, n)) * _US_PER_DAY).astype(np.int64)
    outcome_ts = (ts + delay_us) // 1_000_000 * 1_000_000  # whole seconds
    loss = np.round(-0.6 * loan_amount, 2)
    # ~0.2% get a first, wrong label that a later record (1..10 days on) corrects.
    fix_us = rng.integers(1, 11, n) * _US_PER_DAY + rng.integers(0, _US_PER_DAY // 1_000_000, n) * 1_000_000
    corrected = (rng.random(n) < DUPLICATE_OUTCOME_RATE) & (outcome_ts + fix_us <= _CUTOFF_US)
    first_label = np.where(corrected, 1 - actual, actual)
    known = outcome_ts <= _CUTOFF_US

    rows = np.flatnonzero(known)
    fixes = np.flatnonzero(known & corrected)
    out_ids = np.concatenate([rows, fixes])
    out_label = np.concatenate([first_label[rows], actual[fixes]])
    out_ts = np.concatenate([outcome_ts[rows], outcome_ts[fixes] + fix_us[fixes]])
    order = np.lexsort((out_ids, out_ts))  # by outcome_ts, then prediction order
    outcomes = pa.table(
        {
            "prediction_id": ids.take(pa.array(out_ids[order])),
            "actual": pa.array(out_label[order].astype(np.int64)),
            "outcome_ts": _ts_array(out_ts[order]),
            "loan_amount_loss": pa.array(loss[out_ids[order]]),
        }
    )
    return _Chunk(predictions, outcomes)


# --------------------------------------------------------------------------
# ticket_router: multiclass, labels in the predictions file
# --------------------------------------------------------------------------

_TICKET_WEEKDAY = (1.0, 0.97, 0.95, 0.93, 0.88, 0.42, 0.35)
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


def _ticket_day(rng: np.random.Generator, day: date, day_index: int, n: int) -> _Chunk:
    version = "v2" if day >= TICKET_V2_START else "v1"
    k = len(TICKET_CLASSES)
    ts = _day_us(day) + _intraday_us(rng, _TICKET_HOURS, n)
    true = rng.choice(k, size=n, p=_ticket_shares(day_index))
    language = _choice(rng, _LANGUAGES, _LANGUAGE_P, n)
    plan = _choice(rng, _PLANS, _PLAN_P, n)
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
        "prediction_id": _ids("tr", day, n),
        "ts": _ts_array(ts),
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
    return _Chunk(pa.table(columns))


# --------------------------------------------------------------------------
# delivery_eta: regression, outcomes a day or three later
# --------------------------------------------------------------------------

_ETA_WEEKDAY = (0.85, 0.85, 0.9, 0.95, 1.1, 1.25, 1.2)
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


def _eta_day(rng: np.random.Generator, day: date, n: int) -> _Chunk:
    ts = _day_us(day) + _intraday_us(rng, _ETA_HOURS, n)
    hour = (ts - _day_us(day)) // 3_600_000_000
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
    ids = _ids("eta", day, n)

    predictions = pa.table(
        {
            "prediction_id": ids,
            "ts": _ts_array(ts),
            "model_version": pa.array(np.where(is_v2, "v2", "v1").astype(object), pa.string()),
            "predicted_minutes": pa.array(np.round(predicted, 1)),
            "latency_ms": pa.array(np.round(latency, 1)),
            "city": pa.array(np.asarray(_CITIES, dtype=object)[city_i], pa.string()),
            "vehicle": pa.array(np.asarray(_VEHICLES, dtype=object)[vehicle_i], pa.string()),
            "distance_km": pa.array(distance),
            "items": pa.array(items),
            "hour": pa.array(hour.astype(np.int64)),
            "weather": pa.array(np.asarray(_WEATHER, dtype=object)[weather_i], pa.string()),
        }
    )

    # The delivery record is synced 1-3 days later; ~1% of orders are cancelled.
    actual = np.round(actual, 1)
    delivered_us = (ts + (actual * _US_PER_MINUTE).astype(np.int64)) // 1_000_000 * 1_000_000
    synced_us = ts + ((1.0 + 2.0 * rng.random(n)) * _US_PER_DAY).astype(np.int64)
    keep = np.flatnonzero((synced_us <= _CUTOFF_US) & (rng.random(n) >= 0.01))
    keep = keep[np.argsort(delivered_us[keep], kind="stable")]
    outcomes = pa.table(
        {
            "prediction_id": ids.take(pa.array(keep)),
            "actual_minutes": pa.array(actual[keep]),
            "delivered_ts": _ts_array(delivered_us[keep]),
        }
    )
    return _Chunk(predictions, outcomes)


# --------------------------------------------------------------------------
# The workspace file and the driver
# --------------------------------------------------------------------------


def workspace_toml() -> str:
    """The ``lastmile.toml`` that describes the generated logs (paths relative to it)."""
    ticket_scores = ", ".join(f'{c} = "p_{c}"' for c in TICKET_CLASSES)
    return f"""\
# Lastmile sample workspace: six months of logs of three models.
# Generated by `lastmile generate` (analytics/sample.py); see README.md for the stories.

[engine]
backend = "duckdb"

[[models]]
name = "credit_default"
task = "binary"
description = "Probability that a loan applicant defaults; v2 challenger from {CREDIT_V2_START}, v3 shadow from {CREDIT_SHADOW_START}"
predictions = "credit_default/predictions/**/*.parquet"
outcomes = "credit_default/outcomes/**/*.parquet"

[models.columns]
id = "prediction_id"
timestamp = "ts"
version = "model_version"
score = "score"
label = "actual"
label_timestamp = "outcome_ts"
latency_ms = "latency_ms"
segments = ["region", "channel"]
features = ["income", "age", "debt_ratio", "employment", "loan_amount"]
positive_label = 1

[models.business]
currency = "USD"
threshold = 0.3
tp = 120.0
fp = -15.0
fn = "loan_amount_loss"
tn = 1500.0                    # margin earned on a loan that is repaid
baseline = "all_negative"
cost_per_1k = 0.40

[[models]]
name = "ticket_router"
task = "multiclass"
description = "Routes support tickets to the team that answers them; v2 from {TICKET_V2_START}"
predictions = "ticket_router/predictions/**/*.parquet"

[models.columns]
id = "prediction_id"
timestamp = "ts"
version = "model_version"
class_scores = {{ {ticket_scores} }}
prediction = "predicted"
label = "actual"
latency_ms = "latency_ms"
segments = ["language", "plan"]
features = ["message_length", "attachments", "language"]

[[models]]
name = "delivery_eta"
task = "regression"
description = "Minutes from order to doorstep; v2 serves half the orders from {ETA_V2_START}"
predictions = "delivery_eta/predictions/**/*.parquet"
outcomes = "delivery_eta/outcomes/**/*.parquet"

[models.columns]
id = "prediction_id"
timestamp = "ts"
version = "model_version"
prediction = "predicted_minutes"
label = "actual_minutes"
label_timestamp = "delivered_ts"
latency_ms = "latency_ms"
segments = ["city", "vehicle"]
features = ["distance_km", "items", "hour", "weather"]

[models.quality.new_categories]
known = {{ weather = ["snow"] }}   # snow comes in November; the summer reference never saw it
"""


def _partition(out_dir: Path, model: str, kind: str, day: date) -> Path:
    return out_dir / model / kind / f"dt={day.isoformat()}" / "part-0.parquet"


def daily_plan(rows: int) -> dict[str, np.ndarray]:
    """Prediction rows per model and day for a total of ``rows`` (no randomness).

    Weekly seasonality (credit and tickets quieter at weekends, deliveries busier)
    times a gentle upward trend; the split between models is :data:`MODEL_SHARES`.
    For credit_default the count includes the shadow rows.
    """
    credit_rows = round(rows * MODEL_SHARES["credit_default"])
    ticket_rows = round(rows * MODEL_SHARES["ticket_router"])
    return {
        "credit_default": _daily_counts(credit_rows, _CREDIT_WEEKDAY, growth=0.15),
        "ticket_router": _daily_counts(ticket_rows, _TICKET_WEEKDAY, growth=0.25),
        "delivery_eta": _daily_counts(rows - credit_rows - ticket_rows, _ETA_WEEKDAY, growth=0.1),
    }


def build_day(model: str, day_index: int, n: int, seed: int = DEFAULT_SEED) -> tuple[pa.Table, pa.Table | None]:
    """The logs of one model on one day: ``(predictions, outcomes or None)``.

    ``n`` is that day's row count (see :func:`daily_plan`). The result depends
    only on its arguments, so any chunk can be rebuilt on its own.
    """
    day = DATA_START + timedelta(days=day_index)
    rng = _rng(seed, model, day_index)
    n = max(int(n), 1)
    if model == "credit_default":
        chunk = _credit_day(rng, day, n)
    elif model == "ticket_router":
        chunk = _ticket_day(rng, day, day_index, n)
    elif model == "delivery_eta":
        chunk = _eta_day(rng, day, n)
    else:
        raise ValueError(f"unknown sample model {model!r}; expected one of {', '.join(MODEL_SHARES)}")
    return _incidents(model, day, day_index, seed, chunk.predictions, chunk.outcomes)


def _incidents(model: str, day: date, day_index: int, seed: int, predictions: pa.Table,
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
        cutoff = pa.scalar(_day_us(day) + hour * 3_600_000_000, pa.int64()).cast(_TS)
        predictions = predictions.filter(pa.compute.less(predictions["ts"], cutoff))
        if outcomes is not None:
            outcomes = outcomes.filter(pa.compute.is_in(outcomes["prediction_id"],
                                                        value_set=predictions["prediction_id"]))
    return predictions, outcomes


def generate(
    out_dir: str | Path,
    rows: int = DEFAULT_ROWS,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
) -> Path:
    """Write the sample logs of three models and their ``lastmile.toml`` into ``out_dir``.

    ``rows`` is the total number of prediction rows across the three models
    (60% credit_default including its shadow rows, 20% each for the others; the
    credit total is met within ~1%). Files are
    ``<model>/predictions/dt=YYYY-MM-DD/part-0.parquet`` and, for credit_default
    and delivery_eta, ``<model>/outcomes/dt=YYYY-MM-DD/part-0.parquet``
    (partitioned by the day of the prediction). One model-day is built and
    written at a time, so memory stays flat whatever ``rows`` is. Existing files
    at those paths are overwritten. ``progress`` receives a short message after
    each model-week. Returns the path of the written ``lastmile.toml``.
    """
    if isinstance(rows, bool) or not isinstance(rows, int | np.integer) or rows < 1_000:
        raise SelectionError(f"--rows must be at least 1000 (got {rows!r}): the sample needs a few rows per model and day.")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SelectionError(f"--seed must be a non-negative integer (got {seed!r}).")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows, seed = int(rows), int(seed)

    weeks = (N_DAYS + 6) // 7
    for model, counts in daily_plan(rows).items():
        for i in range(N_DAYS):
            day = DATA_START + timedelta(days=i)
            predictions, outcomes = build_day(model, i, int(counts[i]), seed)
            _write(predictions, _partition(out, model, "predictions", day))
            if outcomes is not None:
                _write(outcomes, _partition(out, model, "outcomes", day))
            if progress is not None and (i % 7 == 6 or i == N_DAYS - 1):
                progress(f"{model}: week {i // 7 + 1}/{weeks} written (through {day})")

    toml_path = out / "lastmile.toml"
    toml_path.write_text(workspace_toml(), encoding="utf-8")
    return toml_path
