"""Small generated logs for tests, written as a real workspace.

``make_workspace`` writes predictions (and outcomes) Parquet files plus a
``lastmile.toml`` into a folder and returns the rows as plain Python/numpy data
so that a test can compute the reference answer (scikit-learn, scipy) row by
row. Knobs cover the awkward cases: tied scores, one-class groups, unlabeled
periods, duplicated and unmatched outcomes, NaN scores, odd segment values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

START = dt.datetime(2026, 3, 2)  # a Monday
CLASSES = ("alpha", "beta", "gamma")


@dataclass
class Generated:
    config: Path
    predictions: dict[str, np.ndarray]   # column -> values, one entry per prediction row
    outcomes: dict[str, np.ndarray] | None
    truth: dict[str, np.ndarray]         # per prediction row: the joined label etc. (None = unlabeled)

    def frame(self):
        """Predictions with the joined truth, as pandas (for reference computations)."""
        import pandas as pd
        d = dict(self.predictions)
        d.update(self.truth)
        return pd.DataFrame(d)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml_value(x)}' for k, x in v.items()) + " }"
    raise TypeError(v)


def write_toml(path: Path, models: list[dict], engine: dict | None = None) -> Path:
    """Write a lastmile.toml from plain dicts (sub-tables: columns, business, alerts, drift, compare)."""
    lines = []
    if engine:
        lines.append("[engine]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in engine.items()]
    for m in models:
        lines.append("\n[[models]]")
        subs = {k: v for k, v in m.items() if isinstance(v, dict) and k != "class_scores"}
        for k, v in m.items():
            if k not in subs:
                lines.append(f"{k} = {_toml_value(v)}")
        for k, v in subs.items():
            lines.append(f"[models.{k}]")
            for kk, vv in v.items():
                lines.append(f"{kk} = {_toml_value(vv)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def make_workspace(folder: Path, task: str = "binary", n: int = 2000, seed: int = 0, *,
                   days: int = 56, versions=("v1", "v2"), ties: bool = False,
                   label_share: float = 0.8, outcomes: bool = True,
                   duplicate_outcomes: int = 0, unmatched_outcomes: int = 0,
                   nan_scores: int = 0, unlabeled_after_day: int | None = None,
                   one_class_segment: bool = False, files: int = 1,
                   business: dict | None = None, extra_model: dict | None = None,
                   value_columns: tuple[str, ...] = (), value_nulls: int = 0,
                   outcome_value_columns: tuple[str, ...] = ()) -> Generated:
    """Write a one-model workspace of ``task`` into ``folder``.

    - ``ties``: scores rounded to 1 decimal (many ties).
    - ``label_share``: share of predictions that get an outcome.
    - ``unlabeled_after_day``: no outcomes for predictions made after that day.
    - ``one_class_segment``: segment ``region == "solo"`` only ever has label 0 (binary).
    - ``files``: split predictions across that many files.
    - ``value_columns``: per-row money columns (floats) in the predictions, with
      ``value_nulls`` nulls each; ``outcome_value_columns``: the same in the outcomes
      (so null on unlabeled rows). Drawn from their own random stream: the other
      columns do not change.
    """
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    (folder / "pred").mkdir(parents=True, exist_ok=True)
    ids = np.array([f"p{i:07d}" for i in range(n)])
    offs = np.sort(rng.integers(0, days * 24 * 3600, n))
    ts = np.array([START + dt.timedelta(seconds=int(s)) for s in offs], dtype="datetime64[us]")
    version = rng.choice(list(versions), n)
    region = rng.choice(["EU", "NA", "it's; \"odd\""], n, p=[0.5, 0.3, 0.2]).astype(object)
    channel = rng.choice(["web", "branch"], n)
    income = rng.normal(50.0, 12.0, n)
    plan = rng.choice(["free", "pro", "team"], n)
    latency = rng.gamma(2.0, 15.0, n).round(1)
    pred: dict[str, np.ndarray] = {"pid": ids, "ts": ts, "ver": version, "region": region,
                                   "channel": channel, "income": income, "plan": plan, "lat": latency}
    truth: dict[str, np.ndarray] = {}
    columns: dict[str, Any] = {"id": "pid", "timestamp": "ts", "version": "ver", "label": "y",
                               "latency_ms": "lat", "segments": ["region", "channel"],
                               "features": ["income", "plan"]}
    if task == "binary":
        logit = (income - 50.0) / 12.0 + rng.normal(0, 1.0, n)
        p_true = 1 / (1 + np.exp(-logit))
        y = (rng.random(n) < p_true).astype(np.int64)
        if one_class_segment:
            region[: n // 20] = "solo"
            y[: n // 20] = 0
        score = np.clip(p_true + rng.normal(0, 0.15, n), 0.001, 0.999)
        if ties:
            score = np.round(score, 1)
        if nan_scores:
            score[rng.choice(n, nan_scores, replace=False)] = np.nan
        pred["score"] = score
        columns["score"] = "score"
    elif task == "multiclass":
        k = len(CLASSES)
        logits = rng.normal(0, 1, (n, k)) + np.outer((income - 50) / 12, np.arange(k) - 1)
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        y = np.array([CLASSES[rng.choice(k, p=p)] for p in probs], dtype=object)
        noisy = probs + rng.dirichlet(np.ones(k), n) * 0.5
        noisy = noisy / noisy.sum(1, keepdims=True)
        for i, c in enumerate(CLASSES):
            pred[f"p_{c}"] = noisy[:, i]
        columns["class_scores"] = {c: f"p_{c}" for c in CLASSES}
    elif task == "regression":
        y = 20 + 0.5 * income + rng.normal(0, 5, n)
        pred["yhat"] = y + rng.normal(1.0, 4.0, n)
        if ties:
            pred["yhat"] = np.round(pred["yhat"])
        columns["prediction"] = "yhat"
    else:
        raise ValueError(task)

    vrng = np.random.default_rng([seed, 7919])
    money: dict[str, np.ndarray] = {}
    for col in tuple(value_columns) + tuple(outcome_value_columns):
        vals = np.round(vrng.uniform(-200.0, 200.0, n), 2).astype(object)
        if value_nulls:
            vals[vrng.choice(n, value_nulls, replace=False)] = None
        money[col] = vals
    for col in value_columns:
        pred[col] = money[col]

    labeled = rng.random(n) < label_share
    if unlabeled_after_day is not None:
        labeled &= offs < unlabeled_after_day * 24 * 3600
    label_ts = ts + np.array([np.timedelta64(int(d), "h") for d in rng.integers(24, 24 * 20, n)])

    truth_y = np.array([y[i] if labeled[i] else None for i in range(n)], dtype=object)
    truth["y_true"] = truth_y
    for col in outcome_value_columns:
        truth[col] = np.array([money[col][i] if labeled[i] else None for i in range(n)], dtype=object)
    out_tab = None
    if outcomes:
        idx = np.flatnonzero(labeled)
        o_ids, o_y, o_ts = list(ids[idx]), list(y[idx]), list(label_ts[idx])
        # duplicated outcomes: an earlier, wrong label that the later one corrects
        for i in idx[:duplicate_outcomes]:
            wrong = (1 - y[i]) if task == "binary" else (y[i] if task == "multiclass" else y[i] + 100.0)
            o_ids.append(ids[i]); o_y.append(wrong); o_ts.append(label_ts[i] - np.timedelta64(1, "h"))
        for j in range(unmatched_outcomes):
            o_ids.append(f"orphan{j}"); o_y.append(y[0]); o_ts.append(label_ts[0])
        (folder / "out").mkdir(exist_ok=True)
        ycol = pa.array(o_y, type=pa.string() if task == "multiclass" else None)
        out_cols = {"pid": o_ids, "y": ycol, "label_ts": pa.array(o_ts, type=pa.timestamp("us"))}
        for col in outcome_value_columns:
            # duplicated outcomes repeat the row's value; orphans get 0
            o_vals = [money[col][i] for i in idx] + [money[col][i] for i in idx[:duplicate_outcomes]]
            out_cols[col] = pa.array(o_vals + [0.0] * unmatched_outcomes, type=pa.float64())
        out_tab = pa.table(out_cols)
        pq.write_table(out_tab, folder / "out" / "part-0.parquet")
        columns["label_timestamp"] = "label_ts"
    else:
        pred["y"] = truth_y if task != "multiclass" else truth_y

    arrays = {}
    for k, v in pred.items():
        if k == "ts":
            arrays[k] = pa.array(v, type=pa.timestamp("us"))
        elif k == "y":
            typ = pa.string() if task == "multiclass" else (pa.int64() if task == "binary" else pa.float64())
            arrays[k] = pa.array([None if x is None else x for x in v], type=typ)
        elif k in money:
            arrays[k] = pa.array(list(v), type=pa.float64())
        else:
            arrays[k] = pa.array(list(v) if v.dtype == object else v)
    table = pa.table(arrays)
    bounds = np.linspace(0, n, files + 1).astype(int)
    for f in range(files):
        pq.write_table(table.slice(bounds[f], bounds[f + 1] - bounds[f]), folder / "pred" / f"part-{f}.parquet")

    model = {"name": f"{task}_model", "task": task, "description": f"A generated {task} model",
             "predictions": "pred/*.parquet", "columns": columns}
    if outcomes:
        model["outcomes"] = "out/*.parquet"
    if business:
        model["business"] = business
    models = [model] + ([extra_model] if extra_model else [])
    config = write_toml(folder / "lastmile.toml", models)
    return Generated(config=config, predictions=pred,
                     outcomes={k: np.array(out_tab[k].to_pylist(), dtype=object) for k in out_tab.column_names}
                     if out_tab is not None else None,
                     truth=truth)
