"""Alerts that reach people: ``[notify]`` settings (:mod:`.config`), the verdict
history (:mod:`.history`), snoozes (:mod:`.snooze`), what to send and how
(:mod:`.notify`), and past days' verdicts (:mod:`.backfill`).
See :file:`analytics/docs/alerts.md`."""
