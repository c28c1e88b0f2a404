"""The verdict history: every ``check`` run, each model's verdict and reasons, the
data range it saw, and the notifications sent (or that failed).

It is a small SQLite database, ``history.sqlite``, in the workspace's state folder
(:mod:`analytics.config.cachedir`), never beside the logs. SQLite from the standard
library, in WAL mode (readers never wait for the writer); each write is one short
transaction, and a writer waits up to 30 s for another to finish. The schema
(version 1; :file:`analytics/docs/alerts.md` documents it for readers):

``runs``
    one row per ``check`` (``kind = 'check'``) or backfilled day (``'backfill'``):
    ``id``, ``started_at`` (UTC wall clock), ``kind``, ``by`` (user), ``notify`` (0/1).
``verdicts``
    one row per model and run: ``run_id``, ``model``, ``as_of`` (the time the verdict
    describes: the end of the data it saw), ``checked_at`` (wall clock), ``status``,
    ``reasons`` (JSON list of the check JSON's reasons), ``data_start`` /
    ``data_end`` (the earliest and latest bound of the windows it judged),
    ``windows``, ``versions``, ``recommendations`` (JSON), ``told`` (1 when a
    notification about it reached at least one channel), ``event`` (what was
    decided: change, new_reason, repeat, recovery, unchanged, snoozed, no_channel).
``notifications``
    one row per channel tried: ``verdict_id``, ``model``, ``channel`` (its name,
    never its URL), ``sent_at``, ``event``, ``ok`` (0/1), ``attempts``, ``error``
    (redacted).
``snoozes``
    see :mod:`analytics.alerts.snooze`.

Times are naive UTC ISO strings (they sort as text).
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from analytics.errors import DataError
from analytics.results import record

FILENAME = "history.sqlite"


class HistoryError(DataError):
    """The history database cannot be read or written (corrupt, locked too long, read-only)."""


SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, kind TEXT NOT NULL,
    by TEXT, notify INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS verdicts (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),
    model TEXT NOT NULL, as_of TEXT NOT NULL, checked_at TEXT NOT NULL,
    status TEXT NOT NULL, reasons TEXT NOT NULL, data_start TEXT, data_end TEXT,
    windows TEXT NOT NULL DEFAULT '{}', versions TEXT NOT NULL DEFAULT '[]',
    recommendations TEXT NOT NULL DEFAULT '[]', told INTEGER NOT NULL DEFAULT 0,
    event TEXT);
CREATE INDEX IF NOT EXISTS verdicts_model ON verdicts (model, as_of);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY, verdict_id INTEGER NOT NULL REFERENCES verdicts(id),
    model TEXT NOT NULL, channel TEXT NOT NULL, sent_at TEXT NOT NULL, event TEXT NOT NULL,
    ok INTEGER NOT NULL, attempts INTEGER NOT NULL, error TEXT);
CREATE INDEX IF NOT EXISTS notifications_model ON notifications (model, sent_at);
CREATE TABLE IF NOT EXISTS snoozes (
    id INTEGER PRIMARY KEY, model TEXT NOT NULL, rule TEXT, until TEXT NOT NULL,
    reason TEXT NOT NULL, by TEXT NOT NULL, created_at TEXT NOT NULL,
    cleared_at TEXT, cleared_by TEXT);
"""


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def iso(ts: _dt.datetime | None) -> str | None:
    return ts.isoformat(sep="T") if ts is not None else None


@dataclass(frozen=True)
class Verdict:
    """One model's recorded verdict."""

    id: int
    model: str
    as_of: str
    checked_at: str
    kind: str
    status: str
    reasons: tuple[dict[str, Any], ...]
    data_start: str | None
    data_end: str | None
    recommendations: tuple[Any, ...]
    told: bool
    event: str | None
    notifications: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return record(self, drop=("id",))


class History:
    """The history database of one workspace (``path``: the ``history.sqlite`` file)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def in_state_dir(cls, state_dir: str | Path) -> "History":
        return cls(Path(state_dir) / FILENAME)

    @contextmanager
    def connect(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction: committed on success, rolled back on error,
        always closed. ``write``: take the write lock at once (one writer at a time) and
        make the schema; otherwise a read-only connection (the file must exist)."""
        try:
            with self._connect(write) as con:
                yield con
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"The verdict history {str(self.path)!r} cannot be used: {exc} (move the file "
                               "away to start a new history).") from None

    @contextmanager
    def _connect(self, write: bool) -> Iterator[sqlite3.Connection]:
        if write:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        else:
            con = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30.0,
                                  isolation_level=None)
        con.row_factory = sqlite3.Row
        try:
            if write:
                con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA busy_timeout=30000")
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            if write:
                for stmt in _SCHEMA.strip().split(";"):
                    if stmt.strip():
                        con.execute(stmt)
                con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            yield con
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    # -- writing -----------------------------------------------------------

    def start_run(self, con: sqlite3.Connection, kind: str, by: str | None, notify: bool,
                  started_at: _dt.datetime | None = None) -> int:
        cur = con.execute("INSERT INTO runs (started_at, kind, by, notify) VALUES (?, ?, ?, ?)",
                          (iso(started_at or utcnow()), kind, by, int(notify)))
        return int(cur.lastrowid)

    def add_verdict(self, con: sqlite3.Connection, run_id: int, model: Mapping[str, Any], as_of: str,
                    checked_at: _dt.datetime | None = None, event: str | None = None,
                    recommendations: Sequence[Any] = (), replace_backfill: bool = False) -> int:
        """Record one model's ``check`` JSON (``model``: an entry of its ``models``)."""
        windows = dict(model.get("windows") or {})
        starts = [w["start"] for w in windows.values() if w.get("start")]
        ends = [w["end"] for w in windows.values() if w.get("end")]
        if replace_backfill:  # a day backfilled again replaces its earlier backfilled verdict
            old = [r[0] for r in con.execute(
                "SELECT v.id FROM verdicts v JOIN runs r ON r.id = v.run_id "
                "WHERE r.kind = 'backfill' AND v.model = ? AND v.as_of = ?", (model["model"], as_of))]
            con.executemany("DELETE FROM notifications WHERE verdict_id = ?", [(i,) for i in old])
            con.executemany("DELETE FROM verdicts WHERE id = ?", [(i,) for i in old])
        cur = con.execute(
            "INSERT INTO verdicts (run_id, model, as_of, checked_at, status, reasons, data_start, data_end, "
            "windows, versions, recommendations, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, model["model"], as_of, iso(checked_at or utcnow()), model["status"],
             json.dumps(list(model.get("reasons") or []), default=str), min(starts, default=None),
             max(ends, default=None), json.dumps(windows, default=str),
             json.dumps(list(model.get("versions") or [])), json.dumps(list(recommendations), default=str),
             event))
        return int(cur.lastrowid)

    def set_outcome(self, con: sqlite3.Connection, verdict_id: int, event: str, told: bool) -> None:
        con.execute("UPDATE verdicts SET event = ?, told = ? WHERE id = ?", (event, int(told), verdict_id))

    def add_notification(self, con: sqlite3.Connection, verdict_id: int, model: str, channel: str,
                         event: str, ok: bool, attempts: int, error: str | None,
                         sent_at: _dt.datetime | None = None) -> None:
        con.execute("INSERT INTO notifications (verdict_id, model, channel, sent_at, event, ok, attempts, error) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (verdict_id, model, channel, iso(sent_at or utcnow()), event, int(ok), attempts, error))

    # -- reading -----------------------------------------------------------

    def last_told(self, con: sqlite3.Connection, model: str) -> Verdict | None:
        """The latest verdict of ``model`` that a notification delivered (checks only)."""
        rows = con.execute(_SELECT_TOLD, (model,)).fetchall()
        return _verdict(rows[0]) if rows else None

    def verdicts(self, model: str | None = None, since: str | None = None,
                 until: str | None = None) -> tuple[Verdict, ...]:
        """Recorded verdicts, oldest first (by ``as_of``), with their notifications;
        ``since``/``until``: ISO bounds on ``as_of`` (``[since, until)``). An empty
        tuple when there is no history yet."""
        if not self.path.is_file():
            return ()
        params = (model, model, since, since, until, until)
        with self.connect(write=False) as con:
            out = [_verdict(r) for r in con.execute(_SELECT_VERDICTS, params)]
            notes: dict[int, list[dict[str, Any]]] = {}
            for r in con.execute(_SELECT_NOTIFICATIONS, params):
                notes.setdefault(r["verdict_id"], []).append(
                    {"channel": r["channel"], "sent_at": r["sent_at"], "event": r["event"],
                     "ok": bool(r["ok"]), "attempts": r["attempts"], "error": r["error"]})
        return tuple(Verdict(**{**v.__dict__, "notifications": tuple(notes.get(v.id, ()))}) for v in out)


_FILTER = ("(? IS NULL OR v.model = ?) AND (? IS NULL OR v.as_of >= ?) AND (? IS NULL OR v.as_of < ?)")
_SELECT_VERDICTS = ("SELECT v.*, r.kind FROM verdicts v JOIN runs r ON r.id = v.run_id WHERE " + _FILTER
                    + " ORDER BY v.as_of, v.checked_at, v.id")
_SELECT_NOTIFICATIONS = ("SELECT n.* FROM notifications n JOIN verdicts v ON v.id = n.verdict_id WHERE "
                         + _FILTER + " ORDER BY n.id")
_SELECT_TOLD = ("SELECT v.*, r.kind FROM verdicts v JOIN runs r ON r.id = v.run_id "
                "WHERE v.model = ? AND v.told = 1 AND r.kind = 'check' ORDER BY v.checked_at DESC, v.id DESC LIMIT 1")


def _verdict(r: sqlite3.Row) -> Verdict:
    return Verdict(id=r["id"], model=r["model"], as_of=r["as_of"], checked_at=r["checked_at"],
                   kind=r["kind"], status=r["status"], reasons=tuple(json.loads(r["reasons"])),
                   data_start=r["data_start"], data_end=r["data_end"],
                   recommendations=tuple(json.loads(r["recommendations"])), told=bool(r["told"]),
                   event=r["event"])
