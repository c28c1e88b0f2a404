"""Secrets in channel URLs: whatever is read from ``env:VAR`` never shows in what
Lastmile prints, sends back or records (see :file:`analytics/docs/alerts.md`)."""

from __future__ import annotations

from typing import Any, Mapping

from analytics.config.notify import NotifySettings

REDACTED = "***"


class Redactor:
    """Removes secrets from text: every URL resolved from ``env:VAR`` is shown as
    ``env:VAR``, and each secret-looking piece of it (its password; its host, path
    segments, query values and fragment of 8 characters or more: Apprise URLs carry
    tokens there) as ``***``, wherever it appears."""

    def __init__(self):
        self._whole: dict[str, str] = {}
        self._parts: set[str] = set()

    def add(self, secret: str, shown: str) -> None:
        from urllib.parse import parse_qsl, unquote, urlsplit

        if not secret:
            return
        self._whole[secret] = shown
        try:
            u = urlsplit(secret)
            if u.password:
                self._parts.update({u.password, unquote(u.password)})
            host = u.netloc.rsplit("@", 1)[-1].rsplit(":", 1)[0]   # as written (hostname lowercases)
            pieces = [u.username, host] + u.path.split("/")
            pieces += [v for _, v in parse_qsl(u.query)]
            pieces += [u.fragment]
        except ValueError:
            pieces = []
        for p in pieces:
            if p and len(p) >= 8:
                self._parts.add(p)
                self._parts.add(unquote(p))

    def __call__(self, text: Any) -> Any:
        if not isinstance(text, str) or not (self._whole or self._parts):
            return text
        for secret in sorted(self._whole, key=len, reverse=True):
            text = text.replace(secret, self._whole[secret])
        for part in sorted(self._parts, key=len, reverse=True):
            text = text.replace(part, REDACTED)
        return text


def redactor_for(settings: NotifySettings, environ: Mapping[str, str]) -> Redactor:
    """A :class:`Redactor` knowing every ``env:`` URL of ``settings`` set in ``environ``."""
    r = Redactor()
    for ch in settings.channels.values():
        if ch.env_var and environ.get(ch.env_var, "").strip():
            r.add(environ[ch.env_var].strip(), f"env:{ch.env_var}")
    return r
