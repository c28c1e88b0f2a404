"""``[notify]`` and ``[models.notify]``: the channels, who hears about which model,
and the secrets in their URLs (see :file:`analytics/docs/alerts.md`).

```toml
[notify]
dashboard_url = "https://lastmile.example.com"   # links in messages go to its pages
repeat_hours = 24          # an unchanged warn/pull is sent again at most this often
timeout_seconds = 10       # per channel and attempt (a channel may override)
retries = 2                # attempts after the first, with exponential backoff
to = ["slack-ml"]          # channels of models without their own [models.notify] to

[notify.channels.slack-ml]
url = "env:SLACK_WEBHOOK"  # an Apprise URL, here read from the environment

[[models]]
name = "credit_default"
[models.notify]
to = ["slack-ml", "pagerduty-credit"]
```

The workspace file is validated without reading the environment; ``env:VAR`` is
resolved when a message is sent (:meth:`Channel.resolve`), and every value so
resolved is redacted (:class:`analytics.alerts.secrets.Redactor`) from what
Lastmile prints or records.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from analytics.errors import ConfigError
from analytics.errors import suggest as _suggest

if TYPE_CHECKING:
    from analytics.config.workspace import Workspace

NOTIFY_KEYS = {"dashboard_url", "repeat_hours", "timeout_seconds", "retries", "backoff_seconds", "to", "channels"}
CHANNEL_KEYS = {"url", "timeout_seconds", "retries"}
MODEL_NOTIFY_KEYS = {"to"}
DEFAULTS = {"repeat_hours": 24.0, "timeout_seconds": 10.0, "retries": 2, "backoff_seconds": 1.0}
_ENV = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: URL schemes whose channel gets the check JSON as its message (generic webhooks)
JSON_SCHEMES = ("json", "jsons")


@dataclass(frozen=True)
class Channel:
    """One ``[notify.channels.NAME]``: an Apprise URL (or ``env:VAR``) and its limits."""

    name: str
    url: str
    timeout_seconds: float
    retries: int

    @property
    def env_var(self) -> str | None:
        m = _ENV.match(self.url)
        return m.group(1) if m else None

    def resolve(self, environ: Mapping[str, str]) -> str:
        """The URL to send to; :class:`ConfigError` naming the variable when unset."""
        var = self.env_var
        if var is None:
            return self.url
        value = environ.get(var, "")
        if not value.strip():
            raise ConfigError(f"Channel {self.name!r}: environment variable {var} is not set "
                              f"([notify.channels.{self.name}] url = \"env:{var}\").")
        return value.strip()

    def is_json(self, environ: Mapping[str, str]) -> bool:
        """Whether the channel is a generic JSON webhook (``json://``, ``jsons://``)."""
        try:
            url = self.resolve(environ)
        except ConfigError:
            return False
        return url.split("://", 1)[0].lower() in JSON_SCHEMES


@dataclass(frozen=True)
class NotifySettings:
    dashboard_url: str | None = None
    repeat_hours: float = DEFAULTS["repeat_hours"]
    backoff_seconds: float = DEFAULTS["backoff_seconds"]
    default_to: tuple[str, ...] = ()
    channels: Mapping[str, Channel] = field(default_factory=dict)
    #: model -> its channel names (models absent use ``default_to``)
    routes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def channels_for(self, model: str) -> tuple[Channel, ...]:
        names = self.routes.get(model, self.default_to)
        return tuple(self.channels[n] for n in names if n in self.channels)

    def link(self, model: str) -> str | None:
        """The dashboard's overview page of ``model`` (None without ``dashboard_url``)."""
        if not self.dashboard_url:
            return None
        from urllib.parse import quote

        return f"{self.dashboard_url.rstrip('/')}/overview?model={quote(model)}"


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _unknown(table: Mapping[str, Any], allowed: set[str], where: str) -> list[str]:
    return [f"{where}: unknown key {k!r}{_suggest(k, allowed)}." for k in table if k not in allowed]


def _limits(table: Mapping[str, Any], where: str) -> list[str]:
    problems = []
    if "timeout_seconds" in table and (not _num(table["timeout_seconds"]) or table["timeout_seconds"] <= 0):
        problems.append(f"{where}: timeout_seconds must be a number > 0.")
    if "retries" in table and (not isinstance(table["retries"], int) or isinstance(table["retries"], bool)
                               or not 0 <= table["retries"] <= 10):
        problems.append(f"{where}: retries must be a whole number from 0 to 10.")
    return problems


def _names(value, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        return [f"{where}: to must be a list of channel names, e.g. to = [\"slack-ml\"]."]
    return []


def _routing(value, where: str, channels: Mapping[str, Any]) -> list[str]:
    problems = _names(value, where)
    if not problems:
        problems += [f"{where}: channel {n!r} is not declared in [notify.channels]{_suggest(n, channels)}."
                     for n in value if n not in channels]
    return problems


def validate_notify_config(raw: Any, model_tables: Mapping[str, Any] | None = None) -> list[str]:
    """Problems with ``[notify]`` and every model's ``[models.notify]`` (``model_tables``:
    model label -> raw table); one sentence each, empty when fine."""
    if not isinstance(raw, Mapping):
        return ["[notify] must be a table."]
    problems = _unknown(raw, NOTIFY_KEYS, "[notify]") + _limits(raw, "[notify]")
    url = raw.get("dashboard_url")
    if url is not None and (not isinstance(url, str) or not re.match(r"^https?://\S+$", url)):
        problems.append("[notify]: dashboard_url must be an http(s) URL such as \"https://lastmile.example.com\".")
    if "repeat_hours" in raw and (not _num(raw["repeat_hours"]) or raw["repeat_hours"] < 0):
        problems.append("[notify]: repeat_hours must be a number >= 0 (0: repeat at every check).")
    if "backoff_seconds" in raw and (not _num(raw["backoff_seconds"]) or not 0 <= raw["backoff_seconds"] <= 60):
        problems.append("[notify]: backoff_seconds must be a number from 0 to 60.")
    channels = raw.get("channels", {})
    if not isinstance(channels, Mapping):
        problems.append("[notify.channels] must be a table of NAME = { url = \"...\" }.")
        channels = {}
    for name, ch in channels.items():
        where = f"[notify.channels.{name}]"
        if not _NAME.match(name):
            problems.append(f"{where}: a channel name takes letters, digits, '-', '_' and '.'.")
        if not isinstance(ch, Mapping):
            problems.append(f"{where} must be a table with url = \"...\".")
            continue
        problems += _unknown(ch, CHANNEL_KEYS, where) + _limits(ch, where)
        u = ch.get("url")
        if not isinstance(u, str) or not u.strip():
            problems.append(f"{where}: missing required key 'url' (an Apprise URL, or \"env:VAR\").")
        elif u.startswith("env:") and not _ENV.match(u):
            problems.append(f"{where}: url \"env:...\" must name an environment variable, e.g. \"env:SLACK_WEBHOOK\".")
        elif not u.startswith("env:") and "://" not in u:
            problems.append(f"{where}: url must be an Apprise URL such as \"slack://...\" or "
                            "\"mailto://...\", or \"env:VAR\" to read it from the environment.")
    if "to" in raw:
        problems += _routing(raw["to"], "[notify]", channels)
    for label, table in (model_tables or {}).items():
        where = f"{label} [models.notify]"
        if not isinstance(table, Mapping):
            problems.append(f"{where} must be a table.")
            continue
        problems += _unknown(table, MODEL_NOTIFY_KEYS, where)
        if "to" in table:
            problems += _routing(table["to"], where, channels)
    return problems


def validate_model_notify(raw: Any) -> list[str]:
    """``[models.notify]`` on its own (channel names are checked with ``[notify]``)."""
    if not isinstance(raw, Mapping):
        return ["[models.notify] must be a table."]
    problems = _unknown(raw, MODEL_NOTIFY_KEYS, "[models.notify]")
    if "to" in raw:
        problems += _names(raw["to"], "[models.notify]")
    return problems


def notify_problems(raw: Mapping[str, Any], raw_models) -> list[str]:
    """The problems of a workspace document's ``[notify]`` and ``[models.notify]`` tables
    (checked together: ``to`` must name declared channels)."""
    if "notify" not in raw and not any("notify" in m for m in raw_models):
        return []
    return validate_notify_config(raw.get("notify", {}), {
        f"model {m.get('name')!r}": m["notify"] for m in raw_models if isinstance(m.get("notify"), dict)})


def notify_settings(ws: "Workspace") -> NotifySettings:
    """The typed ``[notify]`` of a (validated) workspace."""
    raw = dict(getattr(ws, "notify", {}) or {})
    problems = validate_notify_config(raw, {f"model {m.name!r}": dict(m.notify) for m in ws.models
                                             if getattr(m, "notify", None)})
    if problems:
        raise ConfigError(f"[notify] has a problem: {problems[0]}", tuple(problems))
    timeout = float(raw.get("timeout_seconds", DEFAULTS["timeout_seconds"]))
    retries = int(raw.get("retries", DEFAULTS["retries"]))
    channels = {name: Channel(name, ch["url"].strip(), float(ch.get("timeout_seconds", timeout)),
                              int(ch.get("retries", retries)))
                for name, ch in dict(raw.get("channels", {})).items()}
    routes = {m.name: tuple(m.notify["to"]) for m in ws.models
              if getattr(m, "notify", None) and "to" in m.notify}
    return NotifySettings(dashboard_url=raw.get("dashboard_url"),
                          repeat_hours=float(raw.get("repeat_hours", DEFAULTS["repeat_hours"])),
                          backoff_seconds=float(raw.get("backoff_seconds", DEFAULTS["backoff_seconds"])),
                          default_to=tuple(raw.get("to", ())), channels=channels, routes=routes)
