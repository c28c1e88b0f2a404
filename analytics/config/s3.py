"""``[engine.options.s3]``: how ``s3://`` paths are read (reading them is
:mod:`analytics.log.objectstore`)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping

#: URL schemes read through s3fs (``s3a://`` is Hadoop's spelling of the same store).
S3_SCHEMES = ("s3://", "s3a://")

#: The sub-table of ``[engine.options]`` that holds these settings.
OPTIONS_KEY = "s3"

_STR_KEYS = ("endpoint_url", "region", "key", "secret", "token", "profile", "addressing_style")
_SECRET_KEYS = ("key", "secret", "token")
_ADDRESSING = ("auto", "path", "virtual")


@dataclass(frozen=True)
class S3Options:
    """``[engine.options.s3]``; ``None`` means "from the AWS environment"."""

    endpoint_url: str | None = None
    region: str | None = None
    key: str | None = None          # may be "env:VAR"
    secret: str | None = None       # may be "env:VAR"
    token: str | None = None        # may be "env:VAR"
    profile: str | None = None
    anon: bool = False              # unsigned requests (public buckets)
    addressing_style: str | None = None   # "path" for stores without virtual-host buckets
    verify: bool | str | None = None      # False, or a CA bundle path (on-prem TLS)
    connect_timeout: float = 5.0    # seconds, per request
    read_timeout: float = 15.0      # seconds without a byte, per request
    retries: int = 1                # retries after the first attempt of a request
    listing_cache_seconds: float = 60.0   # how long a folder listing is reused (0: never)


_KEYS = tuple(f.name for f in fields(S3Options))


def is_s3(path: str) -> bool:
    return isinstance(path, str) and path.lower().startswith(S3_SCHEMES)


# ------------------------------------------------------------------ parsing


def split_engine_options(options: Mapping[str, Any], problems: list[str]) -> tuple[dict, S3Options]:
    """``[engine.options]`` without its ``s3`` table (the backend's connect() must not
    see it), and the parsed S3 options. Problems are appended, one sentence each."""
    opts = dict(options)
    raw = opts.pop(OPTIONS_KEY, None)
    return opts, parse_s3_options(raw, problems)


def parse_s3_options(raw: Any, problems: list[str]) -> S3Options:
    where = f"[engine.options.{OPTIONS_KEY}]"
    if raw is None:
        return S3Options()
    if not isinstance(raw, dict):
        problems.append(f"{where} must be a table.")
        return S3Options()
    import difflib

    values: dict[str, Any] = {}
    for k, v in raw.items():
        if k not in _KEYS:
            close = difflib.get_close_matches(str(k), _KEYS, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"{where}: unknown key {k!r}{hint}; known keys are: {', '.join(_KEYS)}.")
            continue
        if k in _STR_KEYS:
            if not isinstance(v, str) or not v:
                problems.append(f"{where} {k} must be a non-empty string.")
                continue
            if k == "addressing_style" and v not in _ADDRESSING:
                problems.append(f"{where} addressing_style must be one of {', '.join(_ADDRESSING)}.")
                continue
        elif k == "anon":
            if not isinstance(v, bool):
                problems.append(f"{where} anon must be true or false.")
                continue
        elif k == "verify":
            if not isinstance(v, (bool, str)) or v == "":
                problems.append(f"{where} verify must be true, false or the path of a CA bundle.")
                continue
        elif k in ("connect_timeout", "read_timeout"):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                problems.append(f"{where} {k} must be a number of seconds > 0.")
                continue
            v = float(v)
        elif k == "listing_cache_seconds":
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
                problems.append(f"{where} listing_cache_seconds must be a number of seconds >= 0 (0: no cache).")
                continue
            v = float(v)
        elif k == "retries":
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                problems.append(f"{where} retries must be a whole number >= 0.")
                continue
        values[k] = v
    return S3Options(**values)


# ------------------------------------------------------------------ the store
