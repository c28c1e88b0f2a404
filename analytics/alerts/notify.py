"""What to tell whom after a ``check``, and telling it through Apprise.

:func:`decide` compares a model's verdict with the last one that reached people
(the history's last *told* verdict): a status change, a reason that was not there
(by rule, version and metric), a recovery to healthy, or an unchanged ``pull``
whose last message is at least ``repeat_hours`` old is worth a message; nothing
else is. Snoozes (:mod:`analytics.alerts.snooze`) are applied first.

:func:`deliver` sends one message to one channel: an Apprise URL, one attempt at a
time with a timeout, retried with exponential backoff; it returns whether it got
through and, if not, why (with every secret redacted). A failed channel never
stops the others. Generic JSON webhooks (``json://``, ``jsons://``) get the
model's ``check`` JSON as their message (see :file:`analytics/docs/alerts.md`).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from analytics.alerts.secrets import Redactor
from analytics.alerts.snooze import silenced
from analytics.config.notify import Channel, NotifySettings
from analytics.errors import ConfigError

#: decisions that send a message
SENDING = ("change", "new_reason", "recovery", "repeat")
_RANK = {"healthy": 0, "info": 0, "warn": 1, "pull": 2, "error": 3}
_STATUS = ("healthy", "warn", "pull", "error")
#: a reason's rule in plain words
RULE_WORDS = {
    "floor": "Below its floor", "ceiling": "Above its ceiling", "drop": "Performance dropped",
    "drifted_features": "Inputs drifted", "prediction_psi": "Predictions shifted",
    "net_value": "Net value too low", "latency_p95": "Slow responses", "label_coverage": "Labels missing",
    "performance_window": "Too few labels to judge performance", "traffic": "Too little traffic",
    "error": "Cannot be checked",
}


def reason_key(r: Mapping[str, Any]) -> tuple:
    return (r.get("rule"), r.get("version"), r.get("metric"))


def _notable(reasons: Sequence[Mapping[str, Any]], snoozed_rules: frozenset[str]) -> list[Mapping[str, Any]]:
    return [r for r in reasons if r.get("level") in ("warn", "pull", "error") and r.get("rule") not in snoozed_rules]


def _worst(reasons: Sequence[Mapping[str, Any]]) -> str:
    return _STATUS[max((_RANK.get(r.get("level"), 0) for r in reasons), default=0)]


@dataclass(frozen=True)
class Decision:
    model: str
    event: str                        # change | new_reason | recovery | repeat | unchanged | snoozed
    status: str                       # the status notified (snoozed rules left out)
    previous: str                     # the status last told (healthy when never)
    reasons: tuple[Mapping[str, Any], ...] = ()
    new: frozenset = frozenset()      # reason keys not in the last told verdict
    snoozed: tuple[str, ...] = ()     # the snoozes in force, described

    @property
    def sends(self) -> bool:
        return self.event in SENDING


def decide(model: Mapping[str, Any], last, snoozes: Sequence, now: _dt.datetime,
           repeat_hours: float) -> Decision:
    """``model``: one entry of the check JSON's ``models``; ``last``: the last told
    :class:`~analytics.alerts.history.Verdict` (or None); ``snoozes``: those in force."""
    whole, rules = silenced(snoozes)
    described = tuple(s.describe() for s in snoozes)
    reasons = _notable(model.get("reasons") or (), rules)
    status = _worst(reasons)
    before = _notable(last.reasons, rules) if last is not None else []
    previous = _worst(before)
    new = frozenset(reason_key(r) for r in reasons) - frozenset(reason_key(r) for r in before)
    name = model["model"]
    if whole:
        return Decision(name, "snoozed", status, previous, tuple(reasons), new, described)
    if status != previous:
        event = "recovery" if status == "healthy" else "change"
    elif status != "healthy" and new:
        event = "new_reason"
    elif status == "pull" and last is not None and \
            now - _dt.datetime.fromisoformat(last.checked_at) >= _dt.timedelta(hours=repeat_hours):
        event = "repeat"
    else:
        event = "unchanged"
    return Decision(name, event, status, previous, tuple(reasons), new, described)


# --------------------------------------------------------------------------- the message


def recommendations_of(payload: Mapping[str, Any], model: Mapping[str, Any]) -> list[str]:
    """The recommendations for ``model`` in the check JSON, as sentences: a model's own
    ``recommendations`` (strings, or objects with a ``sentence`` or another text), else
    the top-level ones naming it (``{"model", "action", "sentence", ...}`` as
    :mod:`analytics.analyses.recommend` writes them). Empty when the check made none."""
    found = model.get("recommendations")
    if found is None:
        top = payload.get("recommendations")
        if isinstance(top, Mapping):
            found = top.get(model.get("model"))
        elif isinstance(top, list):
            found = [r for r in top if not isinstance(r, Mapping) or r.get("model") in (None, model.get("model"))]
    if found is None:
        return []
    if isinstance(found, (str, Mapping)):
        found = [found]
    out = []
    for r in found:
        if isinstance(r, str):
            out.append(r)
        elif isinstance(r, Mapping):
            text = next((r[k] for k in ("sentence", "message", "text", "summary", "recommendation", "title", "action")
                         if isinstance(r.get(k), str) and r.get(k)), None)
            if text:
                out.append(text)
    return out


def _data_through(as_of: str) -> str:
    """"Data through 2026-11-22." for an end at midnight (the end is exclusive)."""
    try:
        end = _dt.datetime.fromisoformat(as_of)
    except ValueError:
        return f"Data up to {as_of}."
    if end.time() == _dt.time(0):
        return f"Data through {(end - _dt.timedelta(days=1)).date().isoformat()}."
    return f"Data up to {end.isoformat(sep=' ')}."


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    json_body: str
    notify_type: str        # Apprise: info | success | warning | failure


def compose(decision: Decision, model: Mapping[str, Any], as_of: str, link: str | None,
            recommendations: Sequence[str]) -> Message:
    """The title, the text body (every reason in plain words) and the JSON body."""
    d = decision
    name, status = d.model, d.status
    if d.event == "recovery":
        title = f"Lastmile: {name} recovered ({d.previous} -> healthy)"
        head = f"{name} is healthy again (was {d.previous}): every rule passes."
    elif d.event == "repeat":
        title = f"Lastmile: {name} is still {status}"
        head = f"{name} is still {status.upper()}: nothing has changed since the last message."
    elif d.event == "new_reason":
        title = f"Lastmile: {name} {status}, new reason"
        head = f"{name} is {status.upper()}, with a new reason."
    else:
        title = f"Lastmile: {name} {d.previous} -> {status}"
        head = f"{name} went from {d.previous} to {status.upper()}."
    lines = [head, _data_through(as_of)]
    if d.reasons:
        lines += ["", "Reasons:"]
        for r in sorted(d.reasons, key=lambda r: -_RANK.get(r.get("level"), 0)):
            words = RULE_WORDS.get(r.get("rule"), str(r.get("rule")).replace("_", " ").capitalize())
            mark = " (new)" if d.previous != "healthy" and reason_key(r) in d.new else ""
            lines.append(f"- {words} [{r.get('level')}]{mark}: {r.get('message')}")
    if recommendations:
        lines += ["", "Recommendation:" if len(recommendations) == 1 else "Recommendations:"]
        lines += [f"- {t}" for t in recommendations]
    if d.snoozed:
        lines += ["", "Snoozed:"] + [f"- {s}" for s in d.snoozed]
    if link:
        lines += ["", f"Dashboard: {link}"]
    body = "\n".join(lines)
    payload = {"source": "lastmile", "event": d.event, "model": name, "status": status,
               "previous_status": d.previous, "as_of": as_of, "title": title, "text": body,
               "new_reasons": [list(k) for k in sorted(d.new, key=str)], "recommendations": list(recommendations),
               "dashboard_url": link, "check": dict(model)}
    kind = {"recovery": "success", "warn": "warning"}.get(d.event if d.event == "recovery" else status, "failure")
    return Message(title, body, json.dumps(payload, default=str), kind)


# --------------------------------------------------------------------------- delivery


@dataclass(frozen=True)
class Delivery:
    channel: str
    ok: bool
    attempts: int
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _attempt(url: str, channel: Channel, message: Message, body: str) -> tuple[bool, str | None]:
    import apprise

    asset = apprise.AppriseAsset(app_id="Lastmile", app_desc="Lastmile model monitoring", async_mode=False)
    plugin = apprise.Apprise.instantiate(url, asset=asset)
    if plugin is None:
        return False, "not a URL Apprise understands (check its scheme and tokens)"
    # one bound for connecting and one for reading the answer (requests-based plugins, SMTP)
    for attr in ("socket_connect_timeout", "socket_read_timeout"):
        if hasattr(plugin, attr):
            setattr(plugin, attr, channel.timeout_seconds)
    ap = apprise.Apprise(asset=asset)
    ap.add(plugin)
    ok = bool(ap.notify(body=body, title=message.title, notify_type=message.notify_type))
    return ok, None


def deliver(channel: Channel, environ: Mapping[str, str], message: Message, redact: Redactor,
            backoff_seconds: float = 1.0, sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """Send ``message`` to ``channel`` (up to ``1 + retries`` attempts, waiting
    ``backoff_seconds * 2**k`` before retry ``k + 1``)."""
    import apprise

    try:
        url = channel.resolve(environ)
    except ConfigError as exc:
        return Delivery(channel.name, False, 0, redact(exc.message))
    body = message.json_body if channel.is_json(environ) else message.body
    error = None
    attempts = 0
    for k in range(1 + channel.retries):
        if k:
            sleep(backoff_seconds * 2 ** (k - 1))
        attempts += 1
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as logs:
            try:
                ok, why = _attempt(url, channel, message, body)
            except Exception as exc:  # noqa: BLE001 - a plugin's bug must not stop the other channels
                ok, why = False, f"{type(exc).__name__}: {exc}"
        if ok:
            return Delivery(channel.name, True, attempts)
        said = [ln.strip() for ln in logs.getvalue().splitlines() if ln.strip()]
        error = redact(why or ("; ".join(said[-2:]) if said else "the service refused the message"))
        if why and why.startswith("not a URL"):
            break          # no retry can fix the URL
    return Delivery(channel.name, False, attempts, error)


@dataclass(frozen=True)
class Outcome:
    """What was decided and delivered for one model."""

    decision: Decision
    deliveries: tuple[Delivery, ...] = ()
    channels: tuple[str, ...] = field(default=())

    @property
    def told(self) -> bool:
        return any(d.ok for d in self.deliveries)

    def to_dict(self) -> dict[str, Any]:
        d = self.decision
        return {"model": d.model, "event": d.event,
                "status": d.status, "previous_status": d.previous, "channels": list(self.channels),
                "deliveries": [x.to_dict() for x in self.deliveries], "snoozed": list(d.snoozed)}

    def describe(self) -> str:
        d = self.decision
        if d.event == "snoozed":
            return f"{d.model}: snoozed, nothing sent ({'; '.join(d.snoozed)})"
        if not d.sends:
            return f"{d.model}: {d.status}, unchanged since the last message; nothing sent"
        if not self.channels:
            return f"{d.model}: {d.event} ({d.previous} -> {d.status}) but no channel is routed to it"
        parts = [f"{x.channel} ok" if x.ok else
                 f"{x.channel} FAILED after {x.attempts} attempt{'s' if x.attempts != 1 else ''}: {x.error}"
                 for x in self.deliveries]
        return f"{d.model}: {d.event} ({d.previous} -> {d.status}): " + "; ".join(parts)


def notify_models(payload: Mapping[str, Any], settings: NotifySettings, environ: Mapping[str, str],
                  lasts: Mapping[str, Any], snoozes: Mapping[str, Sequence], as_of: Mapping[str, str],
                  now: _dt.datetime, redact: Redactor,
                  sleep: Callable[[float], None] = time.sleep) -> tuple[Outcome, ...]:
    """Decide and deliver for every model of the check JSON ``payload``."""
    out = []
    for model in payload.get("models", ()):
        name = model["model"]
        decision = decide(model, lasts.get(name), snoozes.get(name, ()), now, settings.repeat_hours)
        channels = settings.channels_for(name)
        if not decision.sends or not channels:
            out.append(Outcome(decision, (), tuple(c.name for c in channels)))
            continue
        message = compose(decision, model, as_of[name], settings.link(name), recommendations_of(payload, model))
        deliveries = tuple(deliver(c, environ, message, redact, settings.backoff_seconds, sleep) for c in channels)
        out.append(Outcome(decision, deliveries, tuple(c.name for c in channels)))
    return tuple(out)
