"""How numbers look to people: one set of formatters for the app, the PDF and the CLI.

Every page, table and chart label goes through these, so a rate reads the same
(``81.2%``) on the dashboard, in its tooltip and in the executive report. A
value that could not be computed (``None``, NaN) shows as an en dash, never as
``0``.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

MISSING = "–"

#: Currency symbols shown before the amount; other codes follow it ("1,200 CHF").
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹"}


def _ok(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and not math.isfinite(v))


def pct(v: float | None, digits: int = 1) -> str:
    """A share as a percentage: ``0.8123 -> "81.2%"``."""
    return f"{v * 100:,.{digits}f}%" if _ok(v) else MISSING


def num(v: float | None, digits: int = 3) -> str:
    """A statistic on its own scale (AUC, MAE, ...): ``0.81234 -> "0.812"``."""
    if not _ok(v):
        return MISSING
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a != 0 and a < 10 ** -digits:
        return f"{v:.2g}"
    return f"{v:.{digits}f}"


def count(v: float | int | None) -> str:
    """A count with thousands separators: ``12345 -> "12,345"``."""
    return f"{int(round(v)):,}" if _ok(v) else MISSING


def compact(v: float | int | None) -> str:
    """A large number in short form for tiles: ``1234567 -> "1.23M"``."""
    if not _ok(v):
        return MISSING
    a = abs(v)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:.3g}"


def ms(v: float | None) -> str:
    """A latency in milliseconds: ``12.345 -> "12.3 ms"``."""
    return f"{v:,.1f} ms" if _ok(v) else MISSING


def money(v: float | None, currency: str = "USD", short: bool = False) -> str:
    """An amount of money: ``-1234.5, "USD" -> "-$1,235"``; ``short`` gives ``"$1.2k"``."""
    if not _ok(v):
        return MISSING
    sign = "-" if v < 0 else ""
    body = compact(abs(v)) if short else (f"{abs(v):,.0f}" if abs(v) >= 100 else f"{abs(v):,.2f}")
    sym = _SYMBOLS.get(currency.upper())
    return f"{sign}{sym}{body}" if sym else f"{sign}{body} {currency}"


#: Above this ROI (net value / compute cost) the return is shown as the cost's share of value.
ROI_SHARE_ABOVE = 1000.0


def _amount(v: float, currency: str) -> str:
    """Money with cents below 10 (``$1.35``), whole units above (``$38``, ``$1,001``)."""
    body = f"{abs(v):,.2f}" if abs(v) < 10 else f"{abs(v):,.0f}"
    sign = "-" if v < 0 else ""
    sym = _SYMBOLS.get(currency.upper())
    return f"{sign}{sym}{body}" if sym else f"{sign}{body} {currency}"


def value_for_money(net_value: float | None, compute_cost: float | None, currency: str = "USD",
                    short: bool = False) -> str:
    """What compute buys, for a reader rather than a ratio (the raw ROI goes in the details).

    With ``roi = net_value / compute_cost`` and ``lift = net_value + compute_cost``:

    ===================================  =====================================  ==========================
    case                                 text                                   ``short`` (tiles)
    ===================================  =====================================  ==========================
    net value or cost unknown            ``–``                                  ``–``
    compute cost 0                       ``no compute cost``                    same
    net value < 0                        ``costs more than it earns``           same
    net value 0                          ``breaks even``                        same
    0 < roi <= 1,000                     ``$1 of compute returns $38``          ``$38 per $1``
    roi > 1,000                          ``compute cost is 0.0023% of value``   ``cost 0.0023% of value``
    ===================================  =====================================  ==========================

    "Returns" is the lift per unit of compute (``roi + 1``: the unit back plus the net);
    "value" in the share is the lift (``compute_cost / lift``, two significant digits;
    ``under 0.0001%`` below that).
    """
    if not (_ok(net_value) and _ok(compute_cost)):
        return MISSING
    if compute_cost <= 0:
        return "no compute cost"
    if net_value < 0:
        return "costs more than it earns"
    if net_value == 0:
        return "breaks even"
    ratio = net_value / compute_cost
    unit = _amount(1.0, currency).replace(".00", "")
    if ratio > ROI_SHARE_ABOVE:
        text = _cost_share(100.0 * compute_cost / (net_value + compute_cost))
        return f"cost {text} of value" if short else f"compute cost is {text} of value"
    back = _amount(ratio + 1.0, currency)
    return f"{back} per {unit}" if short else f"{unit} of compute returns {back}"


def _cost_share(share: float) -> str:
    """The compute cost's share of value, in percent: two significant digits, a floor."""
    return "under 0.0001%" if share < 1e-4 else f"{share:.2g}%" if share < 0.1 else f"{share:.2f}%"


def roi(v: float | None) -> str:
    """A raw ROI (net value / compute cost) by the same rule as :func:`value_for_money`:
    ``0.35 -> "35%"``, ``37.2 -> "37.2×"``; above 1,000x never a bare ratio, but the
    cost's share of value (``1 / (roi + 1)``): ``435000 -> "compute cost is 0.00023% of value"``."""
    if not _ok(v):
        return MISSING
    if v > ROI_SHARE_ABOVE:
        return f"compute cost is {_cost_share(100.0 / (v + 1.0))} of value"
    return pct(v, 0) if abs(v) < 10 else f"{sig(v)}×"


def days(v: float | None) -> str:
    """A delay in days: ``13.6 -> "13.6 days"``."""
    if not _ok(v):
        return MISSING
    return f"{v:.1f} day" if abs(v - 1) < 0.05 else f"{v:.1f} days"


def p_value(v: float | None) -> str:
    """A p-value: ``0.00001 -> "<0.001"``."""
    if not _ok(v):
        return MISSING
    return "<0.001" if v < 0.001 else f"{v:.3f}"


def p_text(v: float | None) -> str:
    """A p-value in a sentence: ``"p = 0.041"``, ``"p < 0.001"``."""
    text = p_value(v)
    return f"p < {text[1:]}" if text.startswith("<") else f"p = {text}"


def date(v: Any) -> str:
    """A date (or datetime, or ISO text) as ``2026-03-02``."""
    if v is None:
        return MISSING
    if isinstance(v, _dt.datetime):
        return v.date().isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    return str(v)[:10]


def by_kind(v: Any, kind: str, currency: str = "USD") -> str:
    """Format ``v`` by a metric's ``fmt`` (pct, num, ms, count) or ``money``."""
    if kind == "pct":
        return pct(v)
    if kind == "ms":
        return ms(v)
    if kind == "count":
        return count(v)
    if kind == "money":
        return money(v, currency)
    return num(v)


def interval(lo: float | None, hi: float | None, kind: str = "num", currency: str = "USD") -> str:
    """A confidence interval as ``[0.801, 0.823]`` (en dash when unknown)."""
    if not (_ok(lo) and _ok(hi)):
        return MISSING
    return f"[{by_kind(lo, kind, currency)}, {by_kind(hi, kind, currency)}]"


def delta(v: float | None, kind: str = "num", currency: str = "USD") -> str:
    """A signed change: ``+1.2 pp`` for rates, ``+0.004`` for statistics."""
    if not _ok(v):
        return MISSING
    sign = "+" if v > 0 else ("-" if v < 0 else "±")
    a = abs(v)
    if kind == "pct":
        return f"{sign}{a * 100:.1f} pp"
    if kind == "money":
        return sign + money(a, currency)
    if kind == "ms":
        return f"{sign}{a:,.1f} ms"
    if kind == "count":
        return f"{sign}{int(round(a)):,}"
    return f"{sign}{num(a)}"


#: plotly d3-format strings per kind, for axes and hover labels.
D3 = {"pct": ".1%", "num": ".3f", "ms": ",.1f", "count": ",d", "money": ",.0f", "days": ",.1f"}


def d3_money(values) -> str:
    """Axis format for money: cents only when the amounts are small."""
    finite = [abs(v) for v in values if _ok(v)]
    return ",.2f" if finite and max(finite) < 100 else ",.0f"


def sig(v: float | None, digits: int = 3) -> str:
    """A number for people, to ``digits`` significant digits: ``0.73647 -> "0.736"``,
    ``6.219 -> "6.22"``, ``147.39 -> "147"``, ``12345.6 -> "12,300"``; below 0.0001 in
    powers of ten (``2.1e-10``)."""
    if not _ok(v):
        return MISSING
    if v == 0:
        return "0"
    if abs(v) < 1e-4:
        return f"{v:.{digits}g}"
    exp = math.floor(math.log10(abs(v)))
    places = digits - 1 - exp
    r = round(v, places)
    if r != 0 and math.floor(math.log10(abs(r))) > exp:   # 9.996 -> 10.0: one place fewer
        places -= 1
    if places <= 0:
        return f"{r:,.0f}"
    return f"{r:,.{places}f}"


def signed(v: float | None, digits: int = 3) -> str:
    """A difference for people, always with its sign: ``+0.0274``, ``-2.27``."""
    if not _ok(v):
        return MISSING
    text = sig(v, digits)
    return text if text.startswith("-") or text == "0" else "+" + text


def against(v: float | None, threshold: float | None, digits: int = 3) -> str:
    """``v`` as :func:`sig`, with more digits where rounding would put it on the other
    side of ``threshold`` or on it (0.1996 against 0.2 is "0.1996", not "0.200"), so a
    verdict reads off the numbers shown."""
    if not _ok(v):
        return MISSING
    if not _ok(threshold):
        return sig(v, digits)
    side = (v > threshold) - (v < threshold)
    for d in (digits, digits + 1, digits + 2, digits + 4, 10):
        text = sig(v, d)
        shown = float(text.replace(",", ""))
        if (shown > threshold) - (shown < threshold) == side:
            return text
    return repr(float(v))


def pct_against(v: float | None, threshold: float | None) -> str:
    """A share as :func:`pct` (one decimal), with more where rounding would put it on the
    other side of ``threshold`` or on it (0.04996 against 0.05 is "4.996%", not "5.0%")."""
    if not _ok(v):
        return MISSING
    if not _ok(threshold):
        return pct(v)
    side = (v > threshold) - (v < threshold)
    for d in (1, 2, 3, 5):
        text = pct(v, d)
        shown = float(text.rstrip("%").replace(",", "")) / 100
        if (shown > threshold) - (shown < threshold) == side:
            return text
    return pct(v, 8)


def ratio(v: float | None) -> str:
    """A multiple: ``2.647 -> "2.65x"``."""
    return f"{sig(v)}x" if _ok(v) else MISSING


def points(v: float | None) -> str:
    """A change of a share in percentage points: ``0.0123 -> "+1.2 pp"``."""
    return delta(v, "pct")


def p_words(p: float | None) -> str:
    """A p-value in words with the value: ``"very unlikely to be chance (p < 0.001)"``."""
    return f"{chance(p)} ({p_text(p)})" if _ok(p) else chance(p)


def p_against(p: float | None, alpha: float) -> str:
    """A p-value against the level that decides, the value always shown (two significant
    digits, more where rounding would cross the level): ``"p = 0.012 < 0.05"``,
    ``"p = 2e-10 < 0.05"``, ``"p = 0.31 >= 0.05"``."""
    if not _ok(p):
        return "p missing"
    return f"p = {against(p, alpha, 2)} {'<' if p < alpha else '>='} {alpha:g}"


def last_day(end: Any) -> str:
    """The last day before an exclusive ``end``: ``2026-06-22 -> "2026-06-21"``."""
    if isinstance(end, (_dt.date, _dt.datetime)):
        end = end - _dt.timedelta(days=1)
    return date(end)


def date_range(start: Any, end: Any, exclusive: bool = True) -> str:
    """A period as people read it: ``2026-05-25 to 2026-06-21``; ``end`` is exclusive
    (a window's bound) unless ``exclusive=False``."""
    last = last_day(end) if exclusive and end is not None else date(end)
    return f"{date(start)} to {last}"


def metric_cell(v: float | None, kind: str = "num") -> str:
    """A metric in a table (CLI, report): pct as percent, ms with unit, counts with
    separators, other statistics with 4 decimals (``-`` when missing)."""
    if v is None:
        return "-"
    if kind == "pct":
        return f"{100 * v:.1f}%"
    if kind == "ms":
        return f"{v:,.1f} ms"
    if kind == "count":
        return f"{v:,.0f}"
    return f"{v:.4f}" if abs(v) < 1000 else f"{v:,.1f}"


def cell(v: Any) -> str:
    """Any value in a text table of the CLI (``-`` when missing, yes/no for booleans)."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "-"
        a = abs(v)
        if a != 0 and (a < 1e-3 or a >= 1e6):
            return f"{v:.3g}" if a < 1e-3 else f"{v:,.0f}"
        if a >= 1000:
            return f"{v:,.1f}"
        return f"{v:.4f}"
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()
    return str(v)


def chance(p: float | None) -> str:
    """A p-value in plain words (the value itself belongs in a footnote)."""
    if not _ok(p):
        return "not tested"
    if p < 0.001:
        return "very unlikely to be chance"
    if p < 0.05:
        return "unlikely to be chance"
    return "could be chance"
