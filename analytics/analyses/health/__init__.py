"""The health verdict: for each model, healthy / warn / pull, with every reason
(or error: its logs cannot be read, so it cannot be checked at all).

``model_health(engine, model)`` evaluates the rules of ``[models.alerts]``
(defaults below; the user's description is :file:`analytics/docs/health.md`)
over three windows, all in whole days on the prediction timestamp:

* **current** -- the last 7 days up to ``now`` (default: the day of the latest
  prediction): traffic, latency and drift are judged here.
* **performance** -- labels arrive late, so label metrics are judged on the
  most recent 7-day window (stepping back a week at a time from the current
  one, at most ``lookback_weeks``) that has at least ``min_labels`` labeled
  predictions and a label coverage of at least ``min_label_coverage``.
* **reference** -- what "normal" was: ``reference_start``/``reference_end`` of
  ``[models.alerts]``, else the drift module's default reference window
  (``[models.drift]`` or the first 28 days of data).

Every serving version with at least ``min_rows`` predictions in the current
window is checked (or the ``versions`` listed); drift is measured on the version
with the most current traffic. A shadow (:mod:`analytics.analyses.roles`) decides
nothing: it is left out of the verdict (one ``info`` reason says so, and
``Health.shadows`` names it), of the reference's main version and of the traffic.
The rules, each with a ``warn`` and a ``pull`` level:

* ``floors`` / ``ceilings`` -- a metric below its floor (above its ceiling);
  label metrics on the performance window, operational ones on the current;
* ``drop`` -- the primary metric worse than in the reference window by at
  least a relative ``warn``/``pull`` amount *and* significantly so (the
  difference's test, as in :mod:`analytics.analyses.compare`, at ``alpha``);
* ``drifted_features`` -- the share of features the drift module flags (its
  documented rule, :class:`analytics.analyses.drift.rule.DriftRule`; each feature named
  with the rule's numbers, ranked by the importance proxy of
  :mod:`analytics.analyses.drift.importance`);
* ``prediction_psi`` -- the score/prediction flagged by the same drift rule
  (``pull``: also PSI at or above it);
* ``net_value`` -- net value (value module) on the performance window;
* ``latency_p95`` -- p95 latency in ms, and its ratio to the reference p95;
* ``label_coverage`` -- the share labeled among predictions ``after_weeks``
  weeks old (labels that should have arrived by then);
* ``quality`` -- the data-quality checks of ``[models.quality]``, by day over the
  current window (:mod:`analytics.analyses.quality`; one reason per check and column);
* ``estimated_drop`` -- while the latest week's labels are not in, its label-free
  estimate of the primary metric against the reference (:mod:`..estimate.health`;
  warns, pulls only with ``[models.estimate] pull = true``);
* ``volume_drop`` -- this week's serving predictions against the reference's
  typical week (a relative drop), on the quality ``volume`` check's counts and
  definition; with the quality rule's days of the same drop, one reason.

The rules are a table (:mod:`.rules`): one small module per rule, run in order
over a context computed once (:mod:`.context`: windows, versions, the metrics
every rule reads); their reasons are :mod:`.reasons`.

The status is the worst level among the reasons. A rule that cannot be
evaluated adds an ``info`` reason saying why (it does not change the status).
"""

from __future__ import annotations

import datetime as _dt

from analytics.config.alerts import AlertSettings
from analytics.config.workspace import ModelSpec
from analytics.errors import LastmileError
from analytics.log.columns import C
from analytics.log.engine import Engine
from analytics.store.answers import remembered
from .context import build_context
from .reasons import LEVELS, STATUSES, Findings, Health, Reason, worst
from .rules import RULES

__all__ = ["LEVELS", "STATUSES", "Health", "Reason", "worst", "model_health", "checked_health",
           "portfolio_health", "unreadable"]


@remembered("model_health")
def model_health(engine: Engine, model: str | ModelSpec, now: _dt.datetime | None = None) -> Health:
    """Evaluate every ``[models.alerts]`` rule of one model (see the module docstring):
    the shared context once, then each rule of the table in order.

    A remembered answer (:mod:`analytics.store.answers`): the verdict reads nothing but the
    model's settings and its joined log, and ``now=None`` resolves to the log's latest
    prediction, so the key (the arguments, the settings, the stored files) holds it."""
    spec = engine.spec(model)
    cfg = AlertSettings.from_spec(spec)
    chk = Findings()
    if now is None:
        t = engine.log(spec)
        now = engine.execute(t.aggregate(hi=t[C.TS].max()), spec).to_pylist()[0]["hi"]
        if now is None:
            chk.add("traffic", "volume", 0.0, None, "warn", "all data", f"Model {spec.name!r} has no predictions.")
            return Health(spec.name, "warn", tuple(chk.reasons))
    ctx, windows = build_context(engine, spec, cfg, chk, now)
    if ctx is None:
        return Health(spec.name, worst([r.level for r in chk.reasons]), tuple(chk.reasons), windows, ())
    for rule in RULES:
        rule.evaluate(ctx)
    return Health(spec.name, worst([r.level for r in chk.reasons]), tuple(chk.reasons), ctx.windows, ctx.versions,
                  ctx.shadows)


def unreadable(model: str, exc: LastmileError) -> Health:
    """The verdict of a model that cannot be checked: status ``error``, the error's
    sentence as its one reason."""
    reason = Reason("error", None, None, None, "error", "all data",
                    f"Model {model!r} cannot be checked: {exc}")
    return Health(model, "error", (reason,))


def checked_health(engine: Engine, spec: ModelSpec, now: _dt.datetime | None = None) -> Health:
    """:func:`model_health`, except that a model whose logs cannot be read (any input
    problem met while checking it) gets status ``error`` instead of raising."""
    try:
        return model_health(engine, spec, now)
    except LastmileError as exc:
        return unreadable(spec.name, exc)


def portfolio_health(engine: Engine, now: _dt.datetime | None = None) -> tuple[Health, ...]:
    """:func:`checked_health` of every model: a model whose logs cannot be read has
    status ``error`` and the others are still checked."""
    return tuple(checked_health(engine, spec, now) for spec in engine.workspace.models)
