"""Small champion/challenger logs for the compare and health tests.

``ab_workspace`` writes one model's predictions + outcomes (one Parquet file
each) and a ``lastmile.toml``, with a controlled story: how well each version
separates the classes (``quality``), per segment (``partner_quality``), whether
the candidate re-scores the baseline's ids (``paired``), and how many rows.
It returns the rows as numpy arrays so tests can compute reference answers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .factories import write_toml

START = dt.datetime(2026, 3, 2)  # a Monday


@dataclass
class AB:
    config: Path
    rows: dict[str, np.ndarray]   # one entry per prediction row (label: joined outcome or -1)


def _score(rng, y, quality):
    """A probability whose separation of the classes grows with ``quality``."""
    z = quality * (2 * y - 1) + rng.normal(0, 1, len(y))
    return np.round(1 / (1 + np.exp(-z)), 3)   # rounded: many ties


def ab_workspace(folder: Path, *, task: str = "binary", n_baseline: int = 2000, n_candidate: int = 2000,
                 quality=(1.0, 1.0), partner_quality: tuple[float, float] | None = None,
                 paired: bool = False, days: int = 28, seed: int = 0, label_share: float = 1.0,
                 base_rate: float = 0.3, alerts: dict | None = None, compare: dict | None = None,
                 versions=("v1", "v2"), latency=(30.0, 30.0), drift_after_day: int | None = None,
                 business: dict | None = None, decisions_only: bool = False) -> AB:
    """Write the workspace; see the module docstring.

    ``paired``: the candidate scores the same ids as the baseline (``n_candidate``
    is then ignored). ``drift_after_day``: from that day the feature ``income``
    shifts and every version's quality drops to a quarter. Regression: ``quality``
    is the inverse of the error spread. ``decisions_only`` (binary): the log
    holds the 0/1 decision (score >= 0.5) in ``decision`` and no score.
    """
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    (folder / "pred").mkdir(parents=True, exist_ok=True)
    (folder / "out").mkdir(parents=True, exist_ok=True)
    nb = n_baseline
    nc = n_baseline if paired else n_candidate
    n_ids = nb if paired else nb + nc
    ids = np.array([f"id{i:07d}" for i in range(n_ids)])
    offs = np.sort(rng.integers(0, days * 86400, n_ids))
    channel = rng.choice(["web", "partner"], n_ids, p=[0.7, 0.3])
    income = rng.normal(50, 10, n_ids)
    day = offs // 86400
    if drift_after_day is not None:
        income = np.where(day >= drift_after_day, income - 15, income)
    if task == "binary":
        y = (rng.random(n_ids) < base_rate).astype(np.int64)
    else:
        y = 20 + 0.5 * income + rng.normal(0, 5, n_ids)
    if paired:
        idx_b, idx_c = np.arange(nb), np.arange(nb)
    else:  # the two versions interleaved over the whole period (a traffic split)
        order = rng.permutation(n_ids)
        idx_b, idx_c = np.sort(order[:nb]), np.sort(order[nb:])

    def preds(idx, q, qp):
        qq = np.full(len(idx), float(q))
        if qp is not None:
            qq = np.where(channel[idx] == "partner", qp, qq)
        if drift_after_day is not None:
            qq = np.where(day[idx] >= drift_after_day, qq / 4, qq)
        if task == "binary":
            return _score(rng, y[idx], qq)
        return np.round(y[idx] + rng.normal(0, 1.0, len(idx)) * 5 / qq, 2)

    pb = partner_quality[0] if partner_quality else None
    pc = partner_quality[1] if partner_quality else None
    cols = {
        "pid": np.concatenate([ids[idx_b], ids[idx_c]]),
        "ts": np.concatenate([offs[idx_b], offs[idx_c] + (1 if paired else 0)]),
        "ver": np.array([versions[0]] * len(idx_b) + [versions[1]] * len(idx_c)),
        "channel": np.concatenate([channel[idx_b], channel[idx_c]]),
        "income": np.concatenate([income[idx_b], income[idx_c]]),
        "lat": np.concatenate([rng.gamma(4, latency[0] / 4, len(idx_b)), rng.gamma(4, latency[1] / 4, len(idx_c))]),
        "out": np.concatenate([preds(idx_b, quality[0], pb), preds(idx_c, quality[1], pc)]),
    }
    labeled_id = rng.random(n_ids) < label_share
    owner = np.concatenate([idx_b, idx_c])
    cols["label"] = np.where(labeled_id[owner], y[owner], -1 if task == "binary" else np.nan)
    cols["cost"] = np.full(len(owner), -50.0)
    ts = np.array([START + dt.timedelta(seconds=int(s)) for s in cols["ts"]], dtype="datetime64[us]")
    table = {"pid": cols["pid"], "ts": pa.array(ts, type=pa.timestamp("us")), "ver": cols["ver"],
             "channel": cols["channel"], "income": cols["income"], "lat": cols["lat"],
             "loss": cols["cost"],
             ("score" if task == "binary" else "yhat"): cols["out"]}
    if decisions_only:
        table["decision"] = (table.pop("score") >= 0.5).astype(np.int64)
    pq.write_table(pa.table(table), folder / "pred" / "part-0.parquet")
    lab = np.flatnonzero(labeled_id)
    out = {"pid": ids[lab], "y": y[lab],
           "label_ts": pa.array([START + dt.timedelta(seconds=int(offs[i]) + 86400) for i in lab],
                                type=pa.timestamp("us"))}
    pq.write_table(pa.table(out), folder / "out" / "part-0.parquet")
    columns = {"id": "pid", "timestamp": "ts", "version": "ver", "label": "y", "label_timestamp": "label_ts",
               "latency_ms": "lat", "segments": ["channel"], "features": ["income"]}
    if task == "binary":
        columns["prediction" if decisions_only else "score"] = "decision" if decisions_only else "score"
    else:
        columns["prediction"] = "yhat"
    model = {"name": "m", "task": task, "predictions": "pred/*.parquet", "outcomes": "out/*.parquet",
             "columns": columns}
    if business:
        model["business"] = business
    if compare:
        model["compare"] = compare
    config = write_toml(folder / "lastmile.toml", [model])
    if alerts:
        config.write_text(config.read_text() + _alerts_toml(alerts))
    cols["ts"] = ts
    return AB(config=config, rows=cols)


def _alerts_toml(alerts: dict) -> str:
    """``[models.alerts]`` with nested tables (write_toml writes one level only)."""
    from .factories import _toml_value
    flat = {k: v for k, v in alerts.items() if not isinstance(v, dict)}
    nested = {k: v for k, v in alerts.items() if isinstance(v, dict)}
    lines = ["[models.alerts]"] + [f"{k} = {_toml_value(v)}" for k, v in flat.items()]
    for k, v in nested.items():
        lines.append(f"[models.alerts.{k}]")
        lines += [f"{kk} = {_toml_value(vv)}" for kk, vv in v.items()]
    return "\n" + "\n".join(lines) + "\n"


def compiling_engine(workspace):
    """An Engine that also compiles every query it runs for Trino (the architecture
    rule: every query must compile there) and counts them."""
    import ibis
    import ibis.expr.types as ir

    from analytics.log.engine import Engine

    class _Compiling(Engine):
        compiled = 0
        exact_quantiles = False   # the portable queries, as Trino would get them

        def execute(self, expr, model=None):
            ibis.to_sql(expr if isinstance(expr, ir.Table) else expr.as_table(), dialect="trino")
            type(self).compiled += 1
            return super().execute(expr, model)

    return _Compiling(workspace)
