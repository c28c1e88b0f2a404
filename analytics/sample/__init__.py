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

The package: one module per story (:mod:`.credit`, :mod:`.tickets`, :mod:`.eta`), the
incidents (:mod:`.incidents`), the constants (:mod:`.constants`), what the stories share
(:mod:`.helpers`), the Parquet writer (:mod:`.parquet`) and the workspace file
(:mod:`.workspace_file`); this module plans the days and writes them.

Readers that discover hive partitions (duckdb's ``read_parquet`` on a glob,
``pyarrow.dataset``) add a ``dt`` column, in both predictions and outcomes.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from analytics.errors import SelectionError
# the public constants, importable from here (analytics.sample.DRIFT_START)
from .constants import (DATA_START, DATA_END, N_DAYS, DEFAULT_ROWS, DEFAULT_SEED, MODEL_SHARES,
                       CREDIT_V2_START, CREDIT_V2_TRAFFIC_SHARE, CREDIT_SHADOW_START, CREDIT_SHADOW_FRACTION,
                       CREDIT_WORSE_SEGMENT, DRIFT_START, LABEL_DELAY_DAYS, LABEL_CUTOFF,
                       DUPLICATE_OUTCOME_RATE, TICKET_CLASSES, TICKET_V2_START, TICKET_GROWING_CLASS,
                       TICKET_UNLABELED_RATE, ROADWORKS_START, ROADWORKS_CITY, ETA_V2_START,
                       ETA_V2_TRAFFIC_SHARE, QUALITY_NULLS, QUALITY_UNIT_CHANGE, QUALITY_OUTAGE)
from .credit import CREDIT_WEEKDAY, CREDIT_OUTCOME_COLUMNS, CREDIT_PREDICTION_COLUMNS, credit_day
from .eta import ETA_WEEKDAY, ETA_OUTCOME_COLUMNS, ETA_PREDICTION_COLUMNS, eta_day
from .helpers import Progress, daily_counts, chunk_rng
from .incidents import apply_incidents
from .parquet import PARQUET_OPTIONS, write_chunk
from .tickets import TICKET_WEEKDAY, TICKET_PREDICTION_COLUMNS, ticket_day
from .workspace_file import workspace_toml

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
        "credit_default": daily_counts(credit_rows, CREDIT_WEEKDAY, growth=0.15),
        "ticket_router": daily_counts(ticket_rows, TICKET_WEEKDAY, growth=0.25),
        "delivery_eta": daily_counts(rows - credit_rows - ticket_rows, ETA_WEEKDAY, growth=0.1),
    }


def build_day(model: str, day_index: int, n: int, seed: int = DEFAULT_SEED) -> tuple[pa.Table, pa.Table | None]:
    """The logs of one model on one day: ``(predictions, outcomes or None)``.

    ``n`` is that day's row count (see :func:`daily_plan`). The result depends
    only on its arguments, so any chunk can be rebuilt on its own.
    """
    day = DATA_START + timedelta(days=day_index)
    rng = chunk_rng(seed, model, day_index)
    n = max(int(n), 1)
    if model == "credit_default":
        chunk = credit_day(rng, day, n)
    elif model == "ticket_router":
        chunk = ticket_day(rng, day, day_index, n)
    elif model == "delivery_eta":
        chunk = eta_day(rng, day, n)
    else:
        raise ValueError(f"unknown sample model {model!r}; expected one of {', '.join(MODEL_SHARES)}")
    return apply_incidents(model, day, day_index, seed, chunk.predictions, chunk.outcomes)


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
            write_chunk(predictions, _partition(out, model, "predictions", day))
            if outcomes is not None:
                write_chunk(outcomes, _partition(out, model, "outcomes", day))
            if progress is not None and (i % 7 == 6 or i == N_DAYS - 1):
                progress(f"{model}: week {i // 7 + 1}/{weeks} written (through {day})")

    toml_path = out / "lastmile.toml"
    toml_path.write_text(workspace_toml(), encoding="utf-8")
    return toml_path
