"""Regression: estimated MAE and RMSE from a model of the error (DLE-style).

On the reference (each version's window, :mod:`.reference`), two
scikit-learn ``HistGradientBoostingRegressor`` models learn E[|e| | x] and
E[e^2 | x] from the prediction, the declared features and the version (e =
label - prediction). Why this library: it is already the project's test
reference, handles missing values and categorical inputs natively, trains on
200k rows in seconds on one core, and needs no new dependency (LightGBM
would). Training uses a bounded, deterministic sample: at most
``[models.estimate] sample_rows`` (default 200,000) labeled reference rows,
every k-th in time order; one row in five is held out.

The periods' rows are then streamed from the engine in Arrow batches of
``BATCH_ROWS`` rows (never all at once), scored, and reduced per group to a
few sums: sum m, sum s, sum max(s - m^2, 0), sum s^2, rows, rows outside the
reference's range. From them (``analytics/docs/estimate.md``):

* MAE-hat = mean m; Var = r_abs sum max(s - m^2, 0) / n^2 + (b_abs MAE-hat)^2;
* MSE-hat = mean s; Var = r_sq sum s^2 / n^2 + (b_sq MSE-hat)^2; RMSE-hat = sqrt,
  its interval the square roots of the MSE interval's ends;

where r_abs, r_sq rescale the per-row variance models to what the held-out
rows show, and b_abs, b_sq are the relative standard errors of the held-out
mean residual (the error model's own uncertainty).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import polars as pl
import pyarrow as pa

from analytics.config.workspace import ModelSpec
from analytics.errors import DependencyError, LastmileError
from analytics.log.backend import failure
from analytics.log.columns import C
from analytics.log.engine import Engine
from .classify import row_order
from .expected import Estimate, Z95, interval, none
from .reference import Window, in_reference

#: Rows per Arrow batch when the error model scores the periods.
BATCH_ROWS = 100_000
REGRESSION_METRICS = ("mae", "rmse")


@dataclass
class ErrorModel:
    inputs: tuple[str, ...]                 # canonical prediction column, features, version
    categories: dict[str, dict[Any, int]]   # categorical input -> value -> code
    abs_model: Any
    sq_model: Any
    r_abs: float
    r_sq: float
    b_abs: float
    b_sq: float
    n_train: int
    n_holdout: int
    support: dict[str, tuple[float, float]]  # numeric input -> central 99% of the reference
    holdout: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)     # version -> labeled reference rows in the sample

    def matrix(self, cols: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(the model inputs as floats, a flag per row: some numeric input outside the reference range)."""
        X = np.empty((len(next(iter(cols.values()))), len(self.inputs)))
        outside = np.zeros(X.shape[0], dtype=bool)
        for j, name in enumerate(self.inputs):
            if name in self.categories:
                codes = self.categories[name]
                X[:, j] = [codes.get(x, np.nan) if x is not None else np.nan for x in cols[name]]
            else:
                x = np.asarray(cols[name], dtype=float)
                X[:, j] = x
                lo, hi = self.support.get(name, (-np.inf, np.inf))
                with np.errstate(invalid="ignore"):
                    outside |= (x < lo) | (x > hi)
        return X, outside

    def to_dict(self) -> dict:
        return {"method": "error model (HistGradientBoostingRegressor on |e| and e^2)",
                "n_train": self.n_train, "n_holdout": self.n_holdout, "inputs": list(self.inputs),
                "holdout": self.holdout}


def one_thread():
    """OpenMP limited to one thread for the boosting: on a small, shared machine its
    default (a thread per core, spinning) is many times slower than one thread."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=1, user_api="openmp")


def _sklearn():
    try:
        from sklearn.ensemble import HistGradientBoostingRegressor
    except ImportError:  # pragma: no cover - a declared dependency
        raise DependencyError("Estimating regression errors needs scikit-learn: pip install scikit-learn.") from None
    return HistGradientBoostingRegressor


def _inputs(spec: ModelSpec) -> list[str]:
    return [C.PRED] + [f for f in spec.columns.features] + [C.VERSION]


def _columns(tbl) -> dict[str, np.ndarray]:
    out = {}
    for name in tbl.column_names:
        col = tbl.column(name)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type) or pa.types.is_boolean(col.type):
            out[name] = np.array(col.to_pylist(), dtype=object)
        else:
            out[name] = col.to_numpy(zero_copy_only=False)
    return out


def fit_error_model(engine: Engine, spec: ModelSpec, windows: dict[str, Window], sample_rows: int) -> ErrorModel | None:
    """Train the error models on the reference sample (None when it has fewer than 50 rows)."""
    Regressor = _sklearn()
    t = engine.log(spec)
    r = t.filter(t[C.LABELED], t[C.PRED].notnull(), in_reference(t, windows))
    inputs = _inputs(spec)
    total = int(engine.execute(r.aggregate(n=r.count()), spec).column("n")[0].as_py())
    stride = max(1, -(-total // sample_rows))     # every stride-th row (in time order): at most sample_rows
    q = r.select(*inputs, y=r[C.LABEL], _lm_i=row_order(r, spec))
    q = q.filter(q._lm_i % stride == 0) if stride > 1 else q
    # in row order: the hold-out split and the fit below depend on it (an engine returns a
    # filtered window's rows in any order: the estimate moved between two identical runs)
    tbl = engine.execute(q.order_by("_lm_i"), spec)
    tbl = tbl.drop_columns(["_lm_i"])
    if tbl.num_rows < 50:
        return None
    cols = _columns(tbl)
    categories: dict[str, dict[Any, int]] = {}
    support: dict[str, tuple[float, float]] = {}
    for name in inputs:
        x = cols[name]
        if x.dtype == object:
            vals = sorted({v for v in x if v is not None}, key=str)
            categories[name] = {v: i for i, v in enumerate(vals[:250])}
        else:
            xf = np.asarray(x, dtype=float)
            xf = xf[np.isfinite(xf)]
            if xf.size:
                support[name] = (float(np.quantile(xf, 0.005)), float(np.quantile(xf, 0.995)))
    model = ErrorModel(tuple(inputs), categories, None, None, 1.0, 1.0, 0.0, 0.0, 0, 0, support)
    X, _ = model.matrix(cols)
    e = np.asarray(cols["y"], dtype=float) - np.asarray(cols[C.PRED], dtype=float)
    hold = (np.arange(len(e)) % 5) == 4
    cat = np.array([name in categories for name in inputs])
    kw = dict(max_iter=50, learning_rate=0.15, max_leaf_nodes=15, min_samples_leaf=40,
              categorical_features=cat if cat.any() else None, random_state=0)
    with one_thread():
        abs_m = Regressor(**kw).fit(X[~hold], np.abs(e[~hold]))
        sq_m = Regressor(**kw).fit(X[~hold], e[~hold] ** 2)
        m = np.maximum(abs_m.predict(X[hold]), 0.0)
        s = np.maximum(sq_m.predict(X[hold]), m * m)
    ae, se2 = np.abs(e[hold]), e[hold] ** 2
    v_abs = np.maximum(s - m * m, 1e-12)
    nh = int(hold.sum())
    r_abs = float(np.mean((ae - m) ** 2) / np.mean(v_abs))
    r_sq = float(np.mean((se2 - s) ** 2) / np.mean(s * s))
    b_abs = float(np.std(ae - m, ddof=1) / math.sqrt(nh) / max(np.mean(m), 1e-12))
    b_sq = float(np.std(se2 - s, ddof=1) / math.sqrt(nh) / max(np.mean(s), 1e-12))
    model.abs_model, model.sq_model = abs_m, sq_m
    model.r_abs, model.r_sq, model.b_abs, model.b_sq = r_abs, r_sq, b_abs, b_sq
    model.n_train, model.n_holdout = int((~hold).sum()), nh
    vals, cnt = np.unique(np.array([str(v) for v in cols[C.VERSION]]), return_counts=True)
    model.counts = {str(v): int(c) for v, c in zip(vals, cnt)}
    model.holdout = {"mae": float(ae.mean()), "mae_estimated": float(m.mean()),
                     "rmse": float(math.sqrt(se2.mean())), "rmse_estimated": float(math.sqrt(s.mean()))}
    return model


@dataclass
class ErrorSums:
    """One group's reduced error-model predictions (additive over groups)."""

    n: float = 0.0
    m: float = 0.0
    s: float = 0.0
    v_abs: float = 0.0
    s_sq: float = 0.0
    outside: float = 0.0

    def merged(self, o: "ErrorSums") -> "ErrorSums":
        return ErrorSums(self.n + o.n, self.m + o.m, self.s + o.s, self.v_abs + o.v_abs, self.s_sq + o.s_sq,
                         self.outside + o.outside)

    @property
    def rows(self) -> int:
        return int(self.n)


def error_sums(engine: Engine, spec: ModelSpec, t, keys: Sequence[str], model: ErrorModel) -> dict[tuple, ErrorSums]:
    """Score the rows of ``t`` (annotated with ``keys``) in batches; sums per group."""
    s = t.filter(t[C.PRED].notnull()).select(*keys, *model.inputs)
    out: dict[tuple, ErrorSums] = {}
    try:
        batches = _batches(engine, spec, s)
        for batch in batches:
            if batch.num_rows == 0:
                continue
            cols = _columns(batch)
            X, outside = model.matrix(cols)
            with one_thread():
                m = np.maximum(model.abs_model.predict(X), 0.0)
                sq = np.maximum(model.sq_model.predict(X), m * m)
            frame = pl.from_arrow(batch.select(list(keys))) if keys else pl.DataFrame({"_": np.zeros(len(m))})
            frame = frame.with_columns(pl.Series("m", m), pl.Series("s", sq), pl.Series("v", sq - m * m),
                                       pl.Series("q", sq * sq), pl.Series("o", outside.astype(float)))
            agg = frame.group_by(list(keys) or ["_"]).agg(pl.len().alias("n"), pl.col("m").sum(), pl.col("s").sum(),
                                                           pl.col("v").sum(), pl.col("q").sum(), pl.col("o").sum())
            for r in agg.iter_rows(named=True):
                g = tuple(r[k] for k in keys)
                out[g] = out.get(g, ErrorSums()).merged(ErrorSums(r["n"], r["m"], r["s"], r["v"], r["q"], r["o"]))
    except LastmileError:
        raise
    except Exception as exc:  # noqa: BLE001 - sorted by failure(): bad data or a bug
        raise failure(exc, spec, "the logs") from exc
    return out


def _batches(engine: Engine, spec: ModelSpec, expr):
    """The rows of ``expr`` as Arrow record batches (DuckDB streams them; other backends
    return one table, cut into batches)."""
    be = engine.backend
    if be.name == "duckdb":
        # duckdb 2.x: a relation's reader streams; it is consumed to the end by the caller
        return be.con.sql(be.compile(expr)).to_arrow_reader(BATCH_ROWS)
    return engine.execute(expr, spec).to_batches(BATCH_ROWS)


def regression_metrics(e: ErrorSums, model: ErrorModel) -> dict[str, Estimate]:
    if e.n <= 0:
        return {k: none("no predictions") for k in REGRESSION_METRICS}
    n = e.n
    mae = e.m / n
    var_mae = model.r_abs * e.v_abs / n ** 2 + (model.b_abs * mae) ** 2
    out = {"mae": interval(mae, var_mae, 0.0, math.inf)}
    mse = e.s / n
    var_mse = model.r_sq * e.s_sq / n ** 2 + (model.b_sq * mse) ** 2
    se_mse = math.sqrt(max(var_mse, 0.0))
    rmse = math.sqrt(mse)
    lo, hi = max(mse - Z95 * se_mse, 0.0), mse + Z95 * se_mse
    out["rmse"] = Estimate(rmse, math.sqrt(lo), math.sqrt(hi), se_mse / (2 * rmse) if rmse > 0 else None)
    return out
