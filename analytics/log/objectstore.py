"""Logs on object storage: ``s3://`` paths (AWS S3, MinIO, Cloudflare R2, Ceph...).

DuckDB's own S3 support is its ``httpfs`` extension, which DuckDB downloads on
first use; many machines cannot reach the extension repository (this one cannot).
So Lastmile reads object storage through **s3fs** (the fsspec filesystem for S3,
on aiobotocore) and registers it on the DuckDB database with
``register_filesystem``: DuckDB then globs, reads hive partitions and pulls byte
ranges of Parquet files through it, on every cursor of that database. The same
filesystem expands the workspace's globs and reads every file's footer before
any query runs, as :func:`analytics.log.sources.resolve_source` does for local files.

Settings live in ``[engine.options.s3]`` (stripped from the options passed to the
backend's ``connect()``); anything not set there comes from the standard AWS
environment (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_SESSION_TOKEN``, ``AWS_PROFILE``, ``AWS_REGION``, ``AWS_ENDPOINT_URL_S3`` /
``AWS_ENDPOINT_URL``, ``~/.aws``...), resolved by botocore. Secrets may be given
as ``"env:VAR"``. Every request has a connect and a read timeout and a bounded
number of retries, so a wrong endpoint fails within seconds with one sentence.

This module imports s3fs only when a workspace names an ``s3://`` path.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping

from analytics.config.s3 import OPTIONS_KEY, S3Options, is_s3
from analytics.errors import (BackendError, ConfigError, CorruptFileError, DataError, LastmileError,
                              MissingFileError)

#: Footers read at once (each is one ranged GET).
_FOOTER_THREADS = 8


def for_workspace(workspace) -> "ObjectStore | None":
    """The object store a DuckDB workspace reads through, or None when no model
    names an ``s3://`` path (or another backend reads the files itself)."""
    if workspace.backend != "duckdb":
        return None
    paths = [p for m in workspace.models for p in (m.predictions, m.outcomes) if p]
    if not any(is_s3(p) for p in paths):
        return None
    return ObjectStore(getattr(workspace, "s3", None) or S3Options())


class ObjectStore:
    """One s3fs filesystem (created on first use) for a workspace's ``s3://`` paths."""

    def __init__(self, options: S3Options, environ: Mapping[str, str] | None = None):
        self.options = options
        self._environ = os.environ if environ is None else environ
        self._fs = None
        self._lock = threading.Lock()

    def handles(self, path: str) -> bool:
        return is_s3(path)

    # -- the filesystem ------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """Where requests go, for messages."""
        env = self._environ
        return (self.options.endpoint_url or env.get("AWS_ENDPOINT_URL_S3")
                or env.get("AWS_ENDPOINT_URL") or "AWS S3")

    def _secret(self, name: str) -> str | None:
        value = getattr(self.options, name)
        if isinstance(value, str) and value.startswith("env:"):
            var = value[4:]
            if var not in self._environ:
                raise ConfigError(f"[engine.options.{OPTIONS_KEY}] {name} names the environment "
                                  f"variable {var!r}, which is not set.")
            return self._environ[var]
        return value

    @property
    def fs(self):
        with self._lock:
            if self._fs is None:
                self._fs = self._make_fs()
            return self._fs

    def _make_fs(self):
        try:
            import s3fs
        except ImportError as exc:
            raise BackendError(f"Reading s3:// paths needs the s3fs package ({exc}); "
                               f"install it with `pip install s3fs`.") from None
        o = self.options
        config: dict[str, Any] = {
            "connect_timeout": o.connect_timeout,
            "read_timeout": o.read_timeout,
            "retries": {"total_max_attempts": 1 + o.retries, "mode": "standard"},
        }
        if o.addressing_style:
            config["s3"] = {"addressing_style": o.addressing_style}
        client: dict[str, Any] = {}
        if o.region:
            client["region_name"] = o.region
        if o.verify is not None:
            client["verify"] = o.verify
        kwargs: dict[str, Any] = {}
        if o.profile:
            kwargs["profile"] = o.profile
        # Listings are reused for a while: DuckDB lists the folder and asks each file's
        # size and date again on every query, one request each; with the cache a query
        # of files already seen costs only its byte ranges. New files show up when the
        # listing expires.
        if o.listing_cache_seconds > 0:
            kwargs.update(use_listings_cache=True, listings_expiry_time=o.listing_cache_seconds)
        else:
            kwargs["use_listings_cache"] = False
        fs = s3fs.S3FileSystem(
            anon=o.anon, endpoint_url=o.endpoint_url,
            key=self._secret("key"), secret=self._secret("secret"), token=self._secret("token"),
            client_kwargs=client, config_kwargs=config,
            skip_instance_cache=True,   # this workspace's options, not a cached instance's
            **kwargs)
        # botocore retries each request (total_max_attempts above); s3fs's own retry loop
        # around it would multiply the attempts (and the time a dead endpoint takes).
        fs.retries = 1
        return fs

    def register(self, backend) -> None:
        """Make ``s3://`` readable by a DuckDB database (all of its cursors)."""
        try:
            backend.con.register_filesystem(self.fs)
        except LastmileError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise BackendError(f"Cannot register the S3 filesystem on DuckDB: {_reason(exc)}.") from None

    # -- sources -------------------------------------------------------------

    def resolve(self, url: str, what: str) -> tuple[str, tuple[str, ...], int]:
        """Expand a file, glob or folder URL: (pattern DuckDB reads, files, total rows
        from the footers). Raises one sentence naming the URL."""
        rest = url.split("://", 1)[1]
        # DuckDB knows the filesystem by its first protocol: s3a:// is read as s3://
        base = "s3://" + rest
        fs = self.fs
        try:
            if any(ch in rest for ch in "*?["):
                pattern = base
                found = fs.glob(rest, detail=True)
            else:
                info = fs.info(rest)
                if info.get("type") == "directory":
                    pattern = base.rstrip("/") + "/**/*.parquet"
                    found = fs.glob(rest.rstrip("/") + "/**/*.parquet", detail=True)
                else:
                    pattern, found = base, {rest: info}
        except LastmileError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._explain(exc, url, what) from None
        entries = sorted((p, d) for p, d in found.items() if d.get("type") == "file")
        if not entries:
            self._check_bucket(url, what)
            raise MissingFileError(f"No Parquet files match {url!r} ({what}).")
        files = tuple(f"s3://{p}" for p, _ in entries)
        jobs = [(p, d.get("size"), f) for (p, d), f in zip(entries, files)]
        if len(jobs) == 1:
            rows = [self._footer_rows(*jobs[0], what)]
        else:
            with ThreadPoolExecutor(max_workers=min(_FOOTER_THREADS, len(jobs))) as pool:
                rows = list(pool.map(lambda j: self._footer_rows(*j, what), jobs))
        return pattern, files, sum(rows)

    def _footer_rows(self, path: str, size: int | None, url: str, what: str) -> int:
        """A file's row count from its footer (one ranged read), or raise naming it."""
        import pyarrow.parquet as pq

        try:
            f = self.fs.open(path, "rb", size=size, cache_type="readahead", block_size=1 << 20)
        except Exception as exc:  # noqa: BLE001
            raise self._explain(exc, url, what) from None
        try:
            with f:
                return pq.read_metadata(f).num_rows
        except (PermissionError, FileNotFoundError, TimeoutError, ConnectionError) as exc:
            raise self._explain(exc, url, what) from None
        except Exception as exc:  # noqa: BLE001 - anything else: not Parquet
            if _is_network(exc):
                raise self._explain(exc, url, what) from None
            raise CorruptFileError(f"File {url!r} ({what}) is not a readable Parquet file: "
                                   f"{_reason(exc)}.") from None

    def _check_bucket(self, url: str, what: str) -> None:
        """Raise if the URL's bucket is missing (or cannot be reached)."""
        bucket = url.split("://", 1)[1].split("/", 1)[0]
        try:
            self.fs.call_s3("head_bucket", Bucket=bucket)
        except FileNotFoundError:
            raise MissingFileError(f"Bucket {bucket!r} of {url!r} ({what}) does not exist{self._at}.") from None
        except PermissionError:
            return  # may list and read but not HEAD the bucket: the message about the files stands
        except Exception as exc:  # noqa: BLE001
            raise self._explain(exc, url, what) from None

    @property
    def _at(self) -> str:
        return f" at {self.endpoint}"

    def _explain(self, exc: Exception, url: str, what: str) -> LastmileError:
        """One sentence for a failed request about ``url``."""
        reason = _reason(exc)
        name = type(exc).__name__
        if isinstance(exc, FileNotFoundError):
            self._check_bucket(url, what)
            return MissingFileError(f"File {url!r} ({what}) does not exist{self._at}.")
        if isinstance(exc, PermissionError):
            return DataError(f"Access to {url!r} ({what}) was denied{self._at} ({reason}); check the "
                             f"credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or key and "
                             f"secret in [engine.options.{OPTIONS_KEY}]).")
        if name in ("NoCredentialsError", "PartialCredentialsError"):
            return DataError(f"No credentials to read {url!r} ({what}): set AWS_ACCESS_KEY_ID and "
                             f"AWS_SECRET_ACCESS_KEY, key and secret in [engine.options.{OPTIONS_KEY}], "
                             f"or anon = true for a public bucket.")
        if _is_network(exc):
            o = self.options
            return BackendError(f"Cannot reach the object store{self._at} to read {url!r} ({what}) "
                                f"within {o.connect_timeout:g} s connect / {o.read_timeout:g} s read "
                                f"timeouts and {o.retries} retr{'y' if o.retries == 1 else 'ies'}: {reason}.")
        return DataError(f"Reading {url!r} ({what}) from the object store{self._at} failed: {reason}.")


def _is_network(exc: BaseException) -> bool:
    """A connection, timeout or transport failure (botocore, aiohttp, sockets)."""
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return True
    for cls in type(exc).__mro__:
        if cls.__module__.startswith(("botocore", "aiohttp", "urllib3")) and cls.__name__ in (
                "ConnectionError", "HTTPClientError", "ClientConnectionError", "ServerTimeoutError",
                "ClientPayloadError", "ConnectTimeoutError", "ReadTimeoutError", "EndpointConnectionError"):
            return True
    return False


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().split("\n")[0] or type(exc).__name__
    return text.rstrip(".")


# ------------------------------------------------------------------ DuckDB


def read_parquet(backend, pattern: str, hive: bool):
    """A DuckDB temporary view over ``read_parquet(pattern)``, read through the
    registered filesystem. (Ibis's ``read_parquet`` would first install DuckDB's
    httpfs extension for an ``s3://`` path, a download that fails offline.)"""
    import sqlglot as sg
    import sqlglot.expressions as sge
    from ibis import util

    name = util.gen_name("read_parquet")
    source = sg.select(sge.Star()).from_(sge.Anonymous(this="read_parquet", expressions=[
        sge.convert(pattern),
        sge.EQ(this=sg.to_identifier("hive_partitioning"), expression=sge.convert(bool(hive))),
        sge.EQ(this=sg.to_identifier("union_by_name"), expression=sge.convert(True)),
    ]))
    view = sge.Create(this=sg.to_identifier(name, quoted=True), kind="VIEW", expression=source,
                      replace=True, properties=sge.Properties(expressions=[sge.TemporaryProperty()]))
    backend.raw_sql(view)  # a DDL statement: no result to consume
    return backend.table(name)
