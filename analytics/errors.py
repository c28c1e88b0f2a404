"""The one exception hierarchy of Lastmile.

Every error a user can cause -- a missing file, a mistyped column, an unknown
model -- is a :class:`LastmileError` whose message is one clear sentence naming
the culprit. The CLI prints it and exits 2; the app shows it as a message.
Anything else is a bug, not bad input: :class:`InternalError` (or whatever Python
raised) reaches the CLI as one line "internal error: ..." and exit 1, with the
cause chained (``LASTMILE_DEBUG=1`` shows the whole traceback); the app shows one
sentence and logs the traceback on the server.

:func:`suggest` is the one "did you mean" every message uses.
"""

from __future__ import annotations

import difflib


def suggest(word: str, choices) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices`` to ``word``, or ``""``.

    >>> suggest("aucc", ["roc_auc", "auc"])
    " (did you mean 'auc'?)"
    """
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class InternalError(Exception):
    """A bug met while running a query (the cause is chained): not the user's input,
    so not a :class:`LastmileError` (the CLI says "internal error" and exits 1)."""


class LastmileError(Exception):
    """Base class: a problem with the user's input, explained in one sentence."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class ConfigError(LastmileError, ValueError):
    """The workspace file is missing, unreadable or invalid."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()):
        super().__init__(message)
        self.problems = tuple(problems) or (message,)


class DataError(LastmileError):
    """A log file is missing, corrupt or has columns of the wrong kind."""


class MissingFileError(DataError, FileNotFoundError):
    """A file or glob named in the workspace matches nothing."""


class CorruptFileError(DataError):
    """A Parquet file cannot be read."""


class ColumnError(DataError, KeyError):
    """A declared column is absent or of the wrong type."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class SelectionError(LastmileError, ValueError):
    """A query asks for something that does not exist or selects nothing."""


class UnknownModelError(SelectionError, KeyError):
    def __str__(self) -> str:
        return self.message


class UnknownVersionError(SelectionError, KeyError):
    def __str__(self) -> str:
        return self.message


class EmptySelectionError(SelectionError):
    """The selection holds no rows (or no labeled rows where labels are needed)."""


class UnknownMetricError(SelectionError, KeyError):
    def __str__(self) -> str:
        return self.message


class BackendError(LastmileError):
    """The configured engine backend cannot be used (not installed, cannot connect)."""


class DependencyError(LastmileError):
    """A system dependency (Chromium, fonts) is missing; the message says how to install it."""
