"""What to do about each model, in plain words: the decision a reader acts on.

``recommend(engine, model)`` turns the library's own answers into a short list of
:class:`Recommendation` (most urgent first); nothing is recomputed here:

==========  ==========================================================================
action      rule
==========  ==========================================================================
pull        the health check (:mod:`analytics.health`) puts a serving version at the
            *pull* level (its primary metric fell beyond the pull drop, a floor...).
switch      a version that serves now (or scores in the shadow) wins a like-for-like
            comparison (:func:`analytics.compare.compare_versions` over all the data up
            to the health check's current window: the days both served, or the same ids
            when paired): ``promote`` moves the decisions to the candidate, ``keep``
            moves a worse challenger's traffic back to the champion. Money: value per
            labeled prediction of each version over those days (:mod:`analytics.value`)
            times the loser's predictions a month.
threshold   binary models with business values and scores: the value-maximizing
            threshold of the champion (:func:`analytics.value.threshold_curve`, all the
            data) differs from the current one by at least :data:`MIN_THRESHOLD_STEP` and
            gains at least :data:`MIN_GAIN_SHARE` of the value at the current threshold.
watch       labels of the newest weeks are still arriving (the weeks after the health
            check's performance window), or a rule warns; the sentence says which.
keep        nothing to change: every check passes.
==========  ==========================================================================

Each recommendation carries its sentence (action, evidence, money), the numbers
it used, the window and the rule, so the CLI (``check``), the dashboard's
portfolio and page 1 of the report say the same thing.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Sequence

import ibis

from analytics.analyses.compare import compare_versions
from analytics.analyses.findings import arriving_weeks, metric_label, plain_reason
from analytics.analyses.health import checked_health, model_health
from analytics.analyses.roles import version_roles
from analytics.analyses.value import compute_value, threshold_curve
from analytics.errors import LastmileError
from analytics.log.columns import C
from analytics.metrics import get_metric
from analytics.query.selection import Grouping, Selection
from analytics.render import format as fmt
from analytics.results import record
from analytics.store.answers import remembered

ACTIONS = ("pull", "switch", "threshold", "watch", "keep")
#: A threshold move must change the threshold by at least this much ...
MIN_THRESHOLD_STEP = 0.01
#: ... and gain at least this share of the value at the current threshold.
MIN_GAIN_SHARE = 0.01
#: Days in "a month" for money per month.
MONTH_DAYS = 30


@dataclass(frozen=True)
class Recommendation:
    """One thing to do about one model, and why."""

    model: str
    action: str                     # one of ACTIONS
    sentence: str                   # what to do, the evidence and the money, in plain words
    evidence: str                   # the evidence alone
    rule: str                       # the rule that made it (module docstring)
    window: dict[str, Any]          # {"start", "end", "description"}: the rows it used
    numbers: dict[str, Any] = field(default_factory=dict)
    money: float | None = None      # in ``currency``, over ``money_per``
    money_per: str | None = None    # "month" | "period"
    currency: str | None = None
    money_reason: str | None = None  # why there is no money figure
    version: str | None = None      # the version acted on
    target: str | None = None       # switch: the version to move to
    footnotes: tuple[str, ...] = ()  # exact p-values and test names, for a footnote

    def to_dict(self) -> dict[str, Any]:
        return record(self)


def _window(start: _dt.datetime | _dt.date | None, end: _dt.datetime | _dt.date | None,
            description: str) -> dict[str, Any]:
    iso = (lambda d: d.isoformat() if d is not None else None)
    return {"start": iso(start), "end": iso(end), "description": description}


def _no_money(spec) -> str:
    return "no money figure: no business values are set for this model"


# ---------------------------------------------------------------- pieces


def _traffic(engine, spec, start: _dt.datetime, end: _dt.datetime) -> dict[str, int]:
    """Predictions per version in ``[start, end)`` (one aggregate)."""

    t = engine.log(spec)
    t = t.filter((t[C.TS] >= ibis.literal(start)) & (t[C.TS] < ibis.literal(end)))
    agg = t.group_by(v=t[C.VERSION]).aggregate(n=t.count())
    return {str(r["v"]): int(r["n"]) for r in engine.execute(agg, spec).to_pylist() if r["v"] is not None}


def _pull(spec, health) -> list[Recommendation]:

    pulls = [r for r in health.reasons if r.level == "pull"]
    if not pulls:
        return []
    versions = sorted({r.version for r in pulls if r.version}) or list(health.versions)
    refw = health.windows.get("reference")
    ref = f" ({fmt.date(refw[0])} to {fmt.last_day(refw[1])})" if refw else ""
    parts, numbers = [], {}
    for r in pulls:
        if r.rule == "drop" and r.metric:
            parts.append(f"{r.version}'s {metric_label(spec, r.metric)} is {fmt.sig(100 * r.observed)}% worse "
                         f"in {r.period} than in the reference weeks{ref}")
        else:
            parts.append(f"{r.version + ': ' if r.version else ''}{r.rule.replace('_', ' ')} at the pull level "
                         f"({fmt.sig(r.observed)} against {fmt.sig(r.threshold)}, {r.period})")
        numbers[f"{r.rule}:{r.version}"] = {"observed": r.observed, "threshold": r.threshold, "period": r.period}
    which = " and ".join(versions) if versions else "it"
    every = set(versions) >= set(health.versions) and len(versions) > 1
    evidence = "; ".join(parts)
    sentence = (f"Pull {spec.name} {'(every version: ' + which + ')' if every else which}: {evidence}. "
                "Retrain it or fall back to the rules it replaced.")
    cur = health.windows.get("performance") or health.windows.get("current")
    return [Recommendation(
        model=spec.name, action="pull", sentence=sentence, evidence=evidence,
        rule="health check at the pull level", version=versions[0] if versions else None,
        window=_window(*(cur or (None, None)), "the health check's performance window"),
        numbers=numbers, money_reason="the loss of a failing model is not priced", footnotes=tuple(
            r.message for r in pulls))]


def _switch_money(engine, spec, winner: str, loser: str, start, end) -> tuple[float | None, str | None, dict]:
    """Money a month of moving ``loser``'s decisions to ``winner``: the difference in value
    per labeled prediction over ``[start, end)`` times ``loser``'s predictions a month."""

    if spec.business is None:
        return None, _no_money(spec), {}
    try:
        res = compute_value(engine, Selection.build(spec.name, start, end, versions=(winner, loser)),
                            Grouping(by=("version",)))
    except LastmileError as exc:
        return None, f"no money figure: {exc.message}", {}
    rows = {str(r.group.get("version")): r for r in res.rows}
    w, lo = rows.get(winner), rows.get(loser)

    def per(r):  # lift (value against the baseline policy) per labeled prediction: the baseline
        # takes out what the two versions' rows differ in besides the model
        v = r.lift if r.lift is not None else r.value
        return v / r.n_labeled if v is not None and r.n_labeled else None

    if not (w and lo) or per(w) is None or per(lo) is None:
        return None, "no money figure: too few labeled predictions", {}
    per_w, per_l = per(w), per(lo)
    days = max(1.0, (end - start).total_seconds() / 86400)
    a_month = lo.n / days * MONTH_DAYS
    money = (per_w - per_l) * a_month
    return money, None, {"lift_per_prediction": {winner: per_w, loser: per_l},
                         "predictions_a_month": a_month}


def _switch(engine, spec, health, champion: str, candidates: Sequence[str], roles, end
            ) -> tuple[list[Recommendation], str | None, list[str]]:
    """Like-for-like comparisons of the champion with each other current version. Returns
    the switch recommendations, the version to move to (if any) and notes on the rest."""

    sel = Selection.build(spec.name, end=end)
    found, notes = [], []
    for cand in candidates:
        try:
            c = compare_versions(engine, sel, champion, cand, sequential=False)
        except LastmileError as exc:
            notes.append(f"{cand} cannot be compared with {champion}: {exc.message}")
            continue
        pm = c.metrics.get(c.primary_metric)
        if c.verdict == "inconclusive":
            if c.losing_segments and pm is not None and pm.candidate_better:
                s = c.losing_segments[0]
                notes.append(f"{cand} is better overall but worse for {s.column} = {s.value}, so it is not "
                             "recommended")
            continue
        winner, loser = (cand, champion) if c.verdict == "promote" else (champion, cand)
        if roles.role(loser) == "shadow":
            continue  # a worse shadow makes no decisions: nothing to move
        found.append((c, pm, winner, loser))
    if not found:
        return [], None, notes

    def gain(item):
        c, pm, _w, _l = item
        return abs(pm.delta or 0.0) / abs(pm.baseline or 1.0)

    recs: list[Recommendation] = []
    for c, pm, winner, loser in sorted(found, key=gain, reverse=True):
        recs.append(_switch_one(engine, spec, roles, sel, end, c, pm, winner, loser, [] if recs else notes))
    return recs, recs[0].target, notes


def _switch_one(engine, spec, roles, sel, end, c, pm, winner: str, loser: str, notes) -> Recommendation:
    """The switch from ``loser`` to ``winner`` that comparison ``c`` supports, with its money."""
    label = metric_label(spec, c.primary_metric)
    d = get_metric(c.primary_metric, spec.task)
    vw, vl = (pm.candidate, pm.baseline) if winner == c.candidate else (pm.baseline, pm.candidate)
    if c.window is not None and c.window.rule == "overlap" and c.window.first:
        start = _dt.datetime.combine(c.window.first, _dt.time())
        stop = _dt.datetime.combine(c.window.last, _dt.time()) + _dt.timedelta(days=1)
        where = f"on the {c.window.days} days both served ({fmt.date(start)} to {fmt.last_day(stop)})"
    else:
        first = roles.detail[c.candidate].first if c.candidate in roles.detail else None
        start = first.replace(hour=0, minute=0, second=0, microsecond=0) if first else sel.start
        stop = end
        where = "on the same cases (both scored the same requests)"
    money, why, mnum = _switch_money(engine, spec, winner, loser, start, stop)
    evidence = (f"{winner} is better than {loser} {where}: {label} {fmt.sig(vw)} vs {fmt.sig(vl)} "
                f"({'higher' if d.higher_is_better else 'lower'} is better), {fmt.chance(pm.p_value)}")
    money_text = (f", worth about {fmt.money(money, spec.business.currency, short=True)} a month more"
                  if money is not None and money > 0 else
                  f", about the same value ({fmt.money(money, spec.business.currency, short=True)} a month)"
                  if money is not None else f" ({why})")
    if winner == c.candidate:
        head = f"Switch {spec.name} from {loser} to {winner}"
    else:
        head = f"Move {spec.name}'s {loser} traffic to {winner}"
    extra = f" ({'; '.join(notes)})" if notes else ""
    sentence = f"{head}: {evidence}{money_text}{extra}."
    return Recommendation(
        model=spec.name, action="switch", sentence=sentence, evidence=evidence,
        rule=f"like-for-like comparison: verdict {c.verdict} on {c.primary_metric}",
        window=_window(start, stop, c.window.describe() if c.window else ""),
        numbers={"metric": c.primary_metric, winner: vw, loser: vl, "delta": pm.delta,
                 "ci_low": pm.ci_low, "ci_high": pm.ci_high, "p_value": pm.p_value,
                 "paired": c.paired, "verdict": c.verdict, **mnum},
        money=money, money_per="month" if money is not None else None,
        currency=spec.business.currency if spec.business else None, money_reason=why,
        version=loser, target=winner,
        footnotes=(f"{label}: {pm.method}, p = {fmt.sig(pm.p_value, 2)}" if pm.p_value is not None else
                   f"{label}: {pm.method}",))


def _threshold(engine, spec, version: str, target: str | None, end) -> list[Recommendation]:

    if spec.task != "binary" or spec.business is None or not spec.columns.score:
        return []
    sel = Selection.build(spec.name, end=end)
    try:
        tc = threshold_curve(engine, sel)
    except LastmileError:
        return []
    vc = tc.versions.get(version)
    if vc is None or vc.best_threshold is None or vc.left_on_table is None or vc.value_at_current is None:
        return []
    step = abs(vc.best_threshold - vc.current_threshold)
    if step < MIN_THRESHOLD_STEP or vc.left_on_table < MIN_GAIN_SHARE * abs(vc.value_at_current):
        return []
    cur = tc.currency
    span = _span(engine, spec, end)
    where = f"{fmt.date(span[0])} to {fmt.last_day(end)}" if span[0] else f"to {fmt.last_day(end)}"
    word = "Lower" if vc.best_threshold < vc.current_threshold else "Raise"
    evidence = (f"at {vc.best_threshold:.2f} {version}'s decisions would have earned about "
                f"{fmt.money(vc.left_on_table, cur, short=True)} more over {where} "
                f"({fmt.money(vc.best_value, cur, short=True)} instead of {fmt.money(vc.value_at_current, cur, short=True)}, "
                f"on {fmt.count(vc.n_labeled)} predictions with known outcomes)")
    after = ""
    tv = tc.versions.get(target) if target and target != version else None
    if tv is not None and tv.best_threshold is not None:
        after = (f"; after the switch, {target}'s best threshold is {tv.best_threshold:.2f} "
                 f"(worth {fmt.money(tv.left_on_table, cur, short=True)})")
    sentence = (f"{word} {spec.name}'s decision threshold from {vc.current_threshold:.2f} to "
                f"{vc.best_threshold:.2f}: {evidence}{after}.")
    return [Recommendation(
        model=spec.name, action="threshold", sentence=sentence, evidence=evidence,
        rule=f"threshold what-if: the best threshold gains at least {MIN_GAIN_SHARE:.0%} of the value",
        window=_window(span[0], end, f"every labeled prediction of {version} up to {fmt.last_day(end)}"),
        numbers={"version": version, "current_threshold": vc.current_threshold,
                 "best_threshold": vc.best_threshold, "value_at_current": vc.value_at_current,
                 "best_value": vc.best_value, "gain": vc.left_on_table, "n_labeled": vc.n_labeled,
                 **({"target_best_threshold": tv.best_threshold, "target_gain": tv.left_on_table} if tv else {})},
        money=vc.left_on_table, money_per="period", currency=cur, version=version)]


def _span(engine, spec, end) -> tuple[_dt.datetime | None, _dt.datetime | None]:

    t = engine.log(spec)
    t = t.filter(t[C.TS] < ibis.literal(end))
    r = engine.execute(t.aggregate(a=t[C.TS].min(), b=t[C.TS].max()), spec).to_pylist()[0]
    return r["a"], r["b"]


def _watch(engine, spec, health, covered: set[str]) -> list[Recommendation]:
    weeks = arriving_weeks(engine, spec, health)
    warns = [r for r in health.reasons if r.level == "warn" and r.rule not in covered
             and r.rule != "performance_window"]
    if not weeks and not warns:
        return []
    bits = []
    if weeks:
        cov = ", ".join(fmt.pct(w["coverage"], 0) for w in weeks)
        n = len(weeks)
        perf = health.windows["performance"]
        bits.append(f"outcomes for the last {n} week{'s' if n > 1 else ''} are still arriving ({cov} known so "
                    f"far, which is expected); quality is judged on {fmt.date(perf[0])} to {fmt.last_day(perf[1])} "
                    "until they do")
    seen = []
    for r in warns:
        t = plain_reason(spec, r)
        if t not in seen:
            seen.append(t)
    if seen:
        bits.append("; ".join(seen))
    evidence = "; ".join(bits)
    start = weeks[0]["start"] if weeks else health.windows.get("current", (None, None))[0]
    end = health.windows.get("current", (None, None))[1]
    return [Recommendation(
        model=spec.name, action="watch", sentence=f"Keep watching {spec.name}: {evidence}.", evidence=evidence,
        rule="labels still arriving after the performance window" if weeks else "health check at the warn level",
        window=_window(start, end, "the newest weeks"),
        numbers={"arriving": [{**w, "start": w["start"].isoformat(), "end": w["end"].isoformat()} for w in weeks],
                 "warnings": [r.rule for r in warns]},
        money_reason="nothing to price yet")]


# ---------------------------------------------------------------- entry points


@remembered("recommend")
def recommend(engine, model, now: _dt.datetime | None = None, health=None) -> tuple[Recommendation, ...]:
    """The recommendations for one model, most urgent first (see the module docstring).

    ``health``: the model's :class:`~analytics.health.Health` if already computed (as of
    ``now``); it fixes the windows every rule uses.
    A remembered answer (:mod:`analytics.store.answers`): it reads the model's settings,
    its joined log and ``health`` (whose text is in the key).
    """

    spec = engine.spec(model)
    h = health if health is not None else model_health(engine, spec, now)
    if h.status == "error":
        return ()
    cur = h.windows.get("current")
    if cur is None or not h.versions:
        msg = h.reasons[0].message if h.reasons else "no recent predictions"
        return (Recommendation(model=spec.name, action="watch", sentence=f"Keep watching {spec.name}: {msg}",
                               evidence=msg, rule="no current traffic", window=_window(None, None, ""),
                               money_reason="nothing to price"),)
    end = cur[1]
    roles = version_roles(engine, spec)
    traffic = _traffic(engine, spec, *cur)
    serving = [v for v in h.versions if roles.role(v) != "shadow"] or list(h.versions)
    champion = max(serving, key=lambda v: (traffic.get(v, 0), v))
    # candidates: the other checked versions and the shadows (left out of the verdict, not of the choice)
    others = [v for v in (*h.versions, *h.shadows) if v != champion]
    recs = _pull(spec, h)
    switch, target, _notes = _switch(engine, spec, h, champion, others, roles, end) if others else ([], None, [])
    recs += switch
    recs += _threshold(engine, spec, champion, target, end)
    covered = {"drop"} if switch or recs and recs[0].action == "pull" else set()
    if recs and recs[0].action == "pull":
        covered |= {r.rule for r in h.reasons if r.level == "pull"}
    recs += _watch(engine, spec, h, covered)
    if not recs:
        recs.append(Recommendation(model=spec.name, action="keep",
                                   sentence=f"No change needed for {spec.name}: every health check passes.",
                                   evidence="every health check passes", rule="health check healthy",
                                   window=_window(*cur, "the current week"), money_reason="nothing to change"))
    return tuple(recs)


def portfolio_recommendations(engine, healths: Sequence = (), now: _dt.datetime | None = None
                              ) -> tuple[Recommendation, ...]:
    """Every model's recommendations, in the workspace's model order (``healths``: the
    health of each model, if already computed; models without one are checked here)."""

    by_model = {h.model: h for h in healths}
    out: list[Recommendation] = []
    for spec in engine.workspace.models:
        h = by_model.get(spec.name) or checked_health(engine, spec, now)
        try:
            out += recommend(engine, spec, now, h)
        except LastmileError as exc:
            out.append(Recommendation(model=spec.name, action="watch",
                                      sentence=f"{spec.name} cannot be assessed: {exc.message}",
                                      evidence=exc.message, rule="error", window=_window(None, None, ""),
                                      money_reason="cannot be assessed"))
    return tuple(out)


def lines(recs: Sequence[Recommendation]) -> list[str]:
    """One line per recommendation for a terminal: ``[action] sentence``."""
    return [f"[{r.action}] {r.sentence}" for r in recs]
