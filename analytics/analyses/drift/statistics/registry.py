"""The drift statistic registry: one :class:`DriftStatistic` per statistic.

A descriptor says which kinds of target the statistic applies to, which engine
aggregates it is finished from (:data:`AGGREGATES`), the finishing function, its
default threshold when the drift rule uses it, and its documentation. The drift
evaluation, the result's JSON and table columns, the CLI, the dashboard and the PDF
report are built from the registry (people's tables through :func:`shown` and :func:`cell`), so adding a statistic is one file in this package (registered in
``__init__.py``): see ``anderson_darling.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from analytics.render import format as fmt

#: The aggregates a statistic may be finished from, for one target and window:
#: ``sizes``: ``n_ref``, ``n_cur`` (values compared); ``bins``: ``ref_bins``, ``cur_bins``
#: (counts on the reference's quantile bins, or per category, aligned); ``sorted_pass``:
#: ``ks_num`` (the KS numerator, an integer) and ``wasserstein`` (the integral), from
#: one sorted pass; ``reference_summary``: ``ref_var`` (the reference's variance). A
#: statistic may also bring aggregates of that pass (:attr:`DriftStatistic.pooled`) or
#: its own engine query (:attr:`DriftStatistic.query`).
AGGREGATES = ("sizes", "bins", "sorted_pass", "reference_summary")

KINDS = ("numeric", "categorical")


class Missing(Exception):
    """Raised by a finishing function: the statistic cannot be computed; the message says why."""


@dataclass(frozen=True)
class DriftStatistic:
    """One drift statistic (see the module docstring)."""

    name: str                                   # the result's field and JSON key
    kinds: tuple[str, ...]                      # numeric and/or categorical
    needs: tuple[str, ...]                      # names from AGGREGATES (and the query's own columns)
    finish: Callable[[Mapping[str, Any]], float]  # aggregates -> value; raises Missing(reason)
    doc: str                                    # one sentence: what it is, as which reference computes it
    label: str                                  # as people read its name (dashboard column)
    fmt: str = "num"                            # num | p_value: how it is printed
    threshold: float | None = None              # default threshold when the drift rule uses it
    #: An engine query of its own: ``query(counts, targets) -> table`` with one row per
    #: target ``_lm_f`` and current key ``_lm_key``; its other columns join the aggregates.
    query: Callable[..., Any] | None = None
    #: Aggregates over the sorted pass's pooled values (numeric targets: one row per pooled
    #: value of the reference and a current window, :func:`analytics.analyses.drift.queries.pooled`):
    #: ``pooled(p) -> {column: aggregate}``, computed in the sorted pass's own query.
    pooled: Callable[[Any], Mapping[str, Any]] | None = None
    #: Shown in the dashboard's table (False: folded into another column, see ``with_p``).
    shown: bool = True
    #: A p-value shown beside this statistic in the dashboard ("0.12 (p 0.003)").
    with_p: str | None = None


STATISTICS: dict[str, DriftStatistic] = {}


def register(stat: DriftStatistic) -> DriftStatistic:
    """Add ``stat`` to the registry (in the order of the result's columns)."""
    if stat.name in STATISTICS:
        raise ValueError(f"drift statistic {stat.name!r} is registered twice")
    if not set(stat.kinds) <= set(KINDS) or not stat.kinds:
        raise ValueError(f"drift statistic {stat.name!r}: kinds must be among {KINDS}")
    unknown = [n for n in stat.needs if n not in AGGREGATES]
    if unknown and stat.query is None and stat.pooled is None:
        raise ValueError(f"drift statistic {stat.name!r} needs unknown aggregates {unknown}")
    STATISTICS[stat.name] = stat
    return stat


def for_kind(kind: str) -> tuple[DriftStatistic, ...]:
    """The statistics of a kind of target, in registry order."""
    return tuple(s for s in STATISTICS.values() if kind in s.kinds)


def names(kind: str | None = None) -> tuple[str, ...]:
    """The statistics' names (of one kind, or all), in registry order."""
    return tuple(s.name for s in (STATISTICS.values() if kind is None else for_kind(kind)))


def finish(kind: str, aggregates: Mapping[str, Any]) -> tuple[dict[str, float | None], list[str]]:
    """Every statistic of ``kind`` from one target's and window's aggregates:
    ``(values, reasons)``; a statistic that cannot be computed is None with its reason."""
    values: dict[str, float | None] = {}
    reasons: list[str] = []
    for s in for_kind(kind):
        try:
            values[s.name] = s.finish(aggregates)
        except Missing as exc:
            values[s.name] = None
            reasons.append(f"{s.name}: {exc}")
    return values, reasons


def shown() -> tuple[DriftStatistic, ...]:
    """The statistics people's tables show, one column each (the dashboard's and the PDF's),
    in registry order; the others are folded into one of them (``with_p``)."""
    return tuple(s for s in STATISTICS.values() if s.shown)


def cell(stat: DriftStatistic, target: Any) -> str:
    """``stat`` of one target's result (anything with the statistics as attributes) as people
    read it: its format, and the p-value it carries (``0.12  (p 0.003)``); a statistic that
    does not apply or is missing reads as the formatter's missing mark."""
    v = getattr(target, stat.name)
    text = fmt.p_value(v) if stat.fmt == "p_value" else fmt.num(v)
    if stat.with_p and v is not None:
        text += f"  (p {fmt.p_value(getattr(target, stat.with_p))})"
    return text
