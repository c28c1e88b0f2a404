"""credit_default: binary, late outcomes, a challenger, a shadow, drift (see :mod:`analytics.sample`)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from .constants import (CREDIT_SHADOW_FRACTION, CREDIT_SHADOW_START, CREDIT_V2_START, CREDIT_V2_TRAFFIC_SHARE,
                        DRIFT_START, DUPLICATE_OUTCOME_RATE, LABEL_DELAY_DAYS)
from .helpers import CUTOFF_US, US_PER_DAY, Chunk, day_us, intraday_us, labels_array, make_ids, sigmoid, ts_array


CREDIT_WEEKDAY = (1.0, 1.04, 1.02, 1.0, 0.93, 0.55, 0.45)
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


def credit_day(rng: np.random.Generator, day: date, n_target: int) -> Chunk:
    """One day of credit_default: applicants, the truth, the versions' scores, the shadow twin
    rows and the late outcomes, drawn from ``rng`` in that order."""
    drifted = day >= DRIFT_START
    v2_live = day >= CREDIT_V2_START
    shadow_live = day >= CREDIT_SHADOW_START
    # Shadow rows count towards the model's rows: serve fewer primary requests.
    v1_share = 1.0 - CREDIT_V2_TRAFFIC_SHARE if v2_live else 1.0
    n = round(n_target / (1.0 + CREDIT_SHADOW_FRACTION * v1_share)) if shadow_live else n_target

    ts = day_us(day) + intraday_us(rng, _CREDIT_HOURS, n)
    a = _applicants(rng, n, drifted)
    linear, hinge, log_inc, actual = _truth(rng, a, drifted)
    is_v2, score, latency, z_v3 = _scores(rng, a, linear, hinge, log_inc, v2_live)
    ids = make_ids("cd", day, n)
    predictions = pa.table({
        "prediction_id": ids,
        "ts": ts_array(ts),
        "model_version": pa.array(np.where(is_v2, "v2", "v1").astype(object), pa.string()),
        "score": pa.array(np.round(score, 5)),
        "latency_ms": pa.array(np.round(latency, 1)),
        "region": labels_array(_REGIONS, a["region_i"]),
        "channel": labels_array(_CHANNELS, a["channel_i"]),
        "income": pa.array(a["income"]),
        "age": pa.array(a["age"]),
        "debt_ratio": pa.array(a["debt_ratio"]),
        "employment": labels_array(_EMPLOYMENT, a["emp_i"]),
        "loan_amount": pa.array(a["loan_amount"]),
    })
    if shadow_live:
        predictions = _with_shadow(rng, predictions, ts, is_v2, z_v3)
    return Chunk(predictions, _outcomes(rng, ids, ts, actual, a["loan_amount"]))


def _applicants(rng: np.random.Generator, n: int, drifted: bool) -> dict[str, np.ndarray]:
    """The applicants' segments and features. After the drift: lower incomes, higher debt
    ratios, more self-employed."""
    region_i = rng.choice(4, size=n, p=_REGION_P)
    channel_i = rng.choice(3, size=n, p=_CHANNEL_P)
    emp_p = _EMPLOYMENT_P_AFTER if drifted else _EMPLOYMENT_P_BEFORE
    emp_i = rng.choice(4, size=n, p=emp_p)

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
    return {"region_i": region_i, "channel_i": channel_i, "emp_i": emp_i, "income": income, "age": age,
            "debt_ratio": debt_ratio, "loan_amount": loan_amount}


def _truth(rng: np.random.Generator, a: dict[str, np.ndarray], drifted: bool):
    """The truth: a linear part, a hinge on high debt ratios that a linear model mostly
    misses, and unobserved risk (caps what any model can achieve). Labels are drawn from
    it; the models only estimate it. Returns ``(linear, hinge, log_inc, actual)``."""
    n, emp_i, debt_ratio = len(a["income"]), a["emp_i"], a["debt_ratio"]
    log_inc = np.log(a["income"] / 55_000)
    linear = (
        -3.1
        - 1.5 * log_inc
        + 5.0 * (debt_ratio - 0.3)
        + _EMPLOYMENT_RISK[emp_i]
        - 0.025 * (a["age"] - 40)
        + 0.25 * np.log(a["loan_amount"] / 12_000)
        + _REGION_RISK[a["region_i"]]
        + _CHANNEL_RISK[a["channel_i"]]
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
    actual = (rng.random(n) < sigmoid(truth)).astype(np.int64)
    return linear, hinge, log_inc, actual


def _scores(rng: np.random.Generator, a: dict[str, np.ndarray], linear, hinge, log_inc, v2_live: bool):
    """The models: imperfect estimates of the truth, learnt before the drift. Returns
    ``(is_v2, score, latency, z_v3)`` (v3's logit for the shadow rows)."""
    n = len(linear)
    eps_v1 = rng.normal(0.0, 0.7, n)
    z_v1 = 0.9 * linear + 0.1 * hinge + eps_v1  # linear model: misses most of the hinge
    # v2 (boosted trees, fresher data) gets the hinge, leans less on income and
    # has already seen self-employed applicants getting riskier.
    z_v2 = linear + 0.5 * log_inc + 0.6 * (a["emp_i"] == 1) + 1.1 * hinge + rng.normal(0.0, 0.15, n)
    partner = a["channel_i"] == 2
    # v2 was trained without partner applications: its partner scores are mostly noise.
    z_v2[partner] = 0.3 * z_v2[partner] + rng.normal(-1.8, 0.8, int(partner.sum()))
    # v3 (shadow) is v1 retrained with a hinge feature: correlated with v1, a bit better.
    z_v3 = 0.9 * linear + 0.6 * hinge + 0.7 * eps_v1 + rng.normal(0.0, 0.25, n)

    is_v2 = (rng.random(n) < CREDIT_V2_TRAFFIC_SHARE) if v2_live else np.zeros(n, bool)
    score = np.where(is_v2, sigmoid(z_v2), sigmoid(z_v1))
    latency = np.where(
        is_v2,
        np.exp(rng.normal(np.log(72.0), 0.45, n)),
        np.exp(rng.normal(np.log(31.0), 0.35, n)),
    )
    return is_v2, score, latency, z_v3


def _with_shadow(rng: np.random.Generator, predictions: pa.Table, ts, is_v2, z_v3) -> pa.Table:
    """v3 re-scores a random share of v1's predictions under the same id, interleaved by time."""
    n = predictions.num_rows
    shadowed = np.flatnonzero(~is_v2 & (rng.random(n) < CREDIT_SHADOW_FRACTION))
    shadow = predictions.take(pa.array(shadowed))
    shadow = shadow.set_column(2, "model_version", pa.array(["v3"] * len(shadowed), pa.string()))
    shadow = shadow.set_column(3, "score", pa.array(np.round(sigmoid(z_v3[shadowed]), 5)))
    v3_latency = np.exp(rng.normal(np.log(36.0), 0.35, len(shadowed)))
    shadow = shadow.set_column(4, "latency_ms", pa.array(np.round(v3_latency, 1)))
    # Interleave by time; the live row comes before its shadow twin.
    order = np.argsort(np.concatenate([ts, ts[shadowed]]), kind="stable")
    return pa.concat_tables([predictions, shadow]).take(pa.array(order))


def _outcomes(rng: np.random.Generator, ids: pa.Array, ts, actual, loan_amount) -> pa.Table:
    """One outcome per served prediction, known 7..35 days later (mode ~10 days); ~0.2% get a
    first, wrong label that a later record (1..10 days on) corrects."""
    n = len(actual)
    lo, hi = LABEL_DELAY_DAYS
    delay_us = ((lo + (hi - lo) * rng.beta(1.5, 5.0, n)) * US_PER_DAY).astype(np.int64)
    outcome_ts = (ts + delay_us) // 1_000_000 * 1_000_000  # whole seconds
    loss = np.round(-0.6 * loan_amount, 2)
    fix_us = rng.integers(1, 11, n) * US_PER_DAY + rng.integers(0, US_PER_DAY // 1_000_000, n) * 1_000_000
    corrected = (rng.random(n) < DUPLICATE_OUTCOME_RATE) & (outcome_ts + fix_us <= CUTOFF_US)
    first_label = np.where(corrected, 1 - actual, actual)
    known = outcome_ts <= CUTOFF_US

    rows = np.flatnonzero(known)
    fixes = np.flatnonzero(known & corrected)
    out_ids = np.concatenate([rows, fixes])
    out_label = np.concatenate([first_label[rows], actual[fixes]])
    out_ts = np.concatenate([outcome_ts[rows], outcome_ts[fixes] + fix_us[fixes]])
    order = np.lexsort((out_ids, out_ts))  # by outcome_ts, then prediction order
    return pa.table(
        {
            "prediction_id": ids.take(pa.array(out_ids[order])),
            "actual": pa.array(out_label[order].astype(np.int64)),
            "outcome_ts": ts_array(out_ts[order]),
            "loan_amount_loss": pa.array(loss[out_ids[order]]),
        }
    )
