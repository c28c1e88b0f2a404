"""The public constants of the sample: the calendar of the data and of its stories
(see :mod:`analytics.sample`)."""

from __future__ import annotations

from datetime import date, datetime


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
