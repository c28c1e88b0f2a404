"""The reliability guard and the backtest (``analytics/docs/estimate.md``).

An estimate holds only under covariate shift. :class:`Guard` collects, per
series (a group without its period), whether the realized primary metric of
each matured period fell inside the estimate's interval, and turns a group's
sums into its :class:`~.result.EstimateRow` with every reason it is not to be
trusted: too few reference labels, scores outside the reference's support, or
a backtest that disagrees.
"""

from __future__ import annotations

from analytics.config.estimate import EstimateConfig
from analytics.metrics.registry import get_metric
from .expected import ClassMasses
from .result import BacktestRow, EstimateRow

#: The metric the backtest guard watches.
PRIMARY = {"binary": "roc_auc", "multiclass": "macro_f1", "regression": "mae"}
#: A matured period needs at least this many labeled rows to count in the backtest.
MIN_BACKTEST_LABELS = 100


def outside_share(sums) -> float | None:
    """Share of a group's rows outside their version's reference support (multiclass: the worst class)."""
    rows = sums.rows
    if not rows:
        return None
    if isinstance(sums, ClassMasses):
        return max(m.outside for m in sums.per_class) / rows
    return sums.outside / rows


class Guard:
    def __init__(self, cfg: EstimateConfig, fit, task: str, ppos: int):
        self.cfg, self.fit, self.task, self.ppos = cfg, fit, task, ppos
        self.primary = PRIMARY[task]
        self.backtest: list[BacktestRow] = []
        self.missed: dict[tuple, list[tuple[str, bool]]] = {}   # series -> [(period, covered)], in period order

    def series(self, key: tuple) -> tuple:
        return key[:self.ppos] + key[self.ppos + 1:]

    def matured(self, r) -> bool:
        return bool(r.n) and r.n_labeled / r.n >= self.cfg.matured_coverage and r.n_labeled >= MIN_BACKTEST_LABELS

    def judge(self, groups: dict, record: bool) -> None:
        """Backtest every matured group (``key -> (estimates, per class, realized row)``);
        ``record``: also list them in :attr:`backtest`."""
        for key in sorted(groups, key=lambda k: str(k[self.ppos])):
            est, _, r = groups[key]
            if not self.matured(r):
                continue
            for m, e in est.items():
                rv = r.metrics.get(m)
                if rv is None or rv.value is None or e.value is None:
                    continue
                if record:
                    self.backtest.append(BacktestRow(dict(r.group), m, e, rv.value, r.n_labeled))
                if m == self.primary and e.covers(rv.value) is not None:
                    self.missed.setdefault(self.series(key), []).append((str(key[self.ppos]), bool(e.covers(rv.value))))

    def backtest_reason(self, series: tuple, upto: str | None) -> list[str]:
        cfg = self.cfg
        hist = [h for h in self.missed.get(series, []) if upto is None or h[0] <= upto][-cfg.backtest_periods:]
        misses = [p for p, ok in hist if not ok]
        if len(misses) < cfg.backtest_misses:
            return []
        label = get_metric(self.primary).label
        return [f"backtest: the measured {label} fell outside the estimate's 95% interval in {len(misses)} "
                f"of the last {len(hist)} periods whose outcomes had arrived ({', '.join(misses)}): the outcomes "
                "no longer match what the scores promised (how outcomes follow from the inputs has likely "
                "changed), so the estimates are not to be trusted"]

    def reasons(self, sums, versions, est) -> tuple[list[str], float | None]:
        """The reference and support reasons of one group, and its outside share."""
        cfg = self.cfg
        reasons: list[str] = []
        for v in sorted(versions):
            reasons += self.fit.reasons(v)
        share = outside_share(sums) if sums is not None else None
        if share is not None and share > cfg.max_outside_share:
            what = "scores" if self.task != "regression" else "rows (prediction or a numeric feature)"
            reasons.append(f"{share:.0%} of the {what} lie outside the central 99% of the reference's (at most "
                           f"{cfg.max_outside_share:.0%}): the calibration would extrapolate")
        if all(e.value is None for e in est.values()):
            reasons.append("nothing could be estimated")
        return reasons, share

    def row(self, r, est, pc, sums, versions, series: tuple, upto: str | None) -> EstimateRow:
        reasons, share = self.reasons(sums, versions, est)
        reasons += self.backtest_reason(series, upto)
        return EstimateRow(dict(r.group), r.n, r.n_labeled, est, dict(r.metrics) if r.n_labeled else None,
                           not reasons, tuple(reasons), pc, share)
