"""The audit trail: who saw which model and page, downloaded what, built which report,
refreshed what, and when.

One JSON object a line, appended (``O_APPEND``: each event is one ``write``, so
concurrent sessions and processes never interleave inside a line), in
``<state folder>/audit.jsonl`` or ``[audit] path``; never beside the logs. The
file is created private (mode 0600). Nothing here rewrites or truncates it.

An event: ``{"ts": "2026-12-03T12:00:00Z", "user": "ana@x.io", "action": "view",
"model": "fraud", "page": "Overview", "detail": "...", "ip": "10.0.0.7"}``.
Actions: :data:`ACTIONS`.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from analytics.config.cachedir import state_dir
from analytics.errors import ConfigError

ACTIONS = ("sign-in", "view", "download", "report", "refresh", "denied")
FILE_NAME = "audit.jsonl"
_lock = threading.Lock()


@dataclass(frozen=True)
class AuditEvent:
    ts: str
    user: str
    action: str
    model: str | None = None
    page: str | None = None
    detail: str | None = None
    ip: str | None = None


def audit_path(workspace, root: Path) -> Path:
    """Where the workspace's audit trail is: ``[audit] path``, else its state folder."""
    configured = getattr(getattr(workspace, "audit", None), "path", None)
    return configured or state_dir(workspace.path, root) / FILE_NAME


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record(path: Path, user: str, action: str, *, model: str | None = None, page: str | None = None,
           detail: str | None = None, ip: str | None = None, ts: str | None = None) -> AuditEvent:
    """Append one event to the trail at ``path`` (its folder is made, private)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    def text(v):
        return None if v is None else str(v)

    event = AuditEvent(ts=ts or _now(), user=str(user), action=action, model=text(model), page=text(page),
                       detail=text(detail), ip=text(ip))
    line = json.dumps({k: v for k, v in asdict(event).items() if v is not None}, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
    return event


_AGO = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")


def parse_since(text: str, now: _dt.datetime | None = None) -> _dt.datetime:
    """``--since``: an ISO date/datetime (UTC when naive) or a span back from now (``"90m"``, ``"12h"``, ``"7d"``, ``"2w"``)."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    m = _AGO.match(text)
    if m:
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
        return now - _dt.timedelta(**{unit: int(m.group(1))})
    try:
        t = _dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--since {text!r} is neither an ISO date/datetime nor a span such as 7d, 12h or 90m.") from None
    return t if t.tzinfo else t.replace(tzinfo=_dt.timezone.utc)


def read(path: Path, since: _dt.datetime | None = None, user: str | None = None) -> list[AuditEvent]:
    """The events of the trail at ``path`` (oldest first), from ``since`` on, of ``user``
    (case-insensitive). A missing file is an empty trail; a line that is not an event
    (a crash mid-write) is skipped."""
    if not path.is_file():
        return []
    out = []
    fields = set(AuditEvent.__dataclass_fields__)
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                obj = json.loads(line)
                ev = AuditEvent(**{k: v for k, v in obj.items() if k in fields})
                ts = _dt.datetime.fromisoformat(ev.ts.replace("Z", "+00:00"))
            except (ValueError, TypeError, AttributeError):
                continue
            if since is not None and ts < since:
                continue
            if user is not None and ev.user.lower() != user.lower():
                continue
            out.append(ev)
    return out
