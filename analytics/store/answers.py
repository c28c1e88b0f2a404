"""The answer cache: a question asked again on the same stored data costs no query.

An answer is kept in the store's folder (``answers/<model key>/<key>.pickle``) under a
key made of the question (the function's name and its arguments, canonically written),
the model's settings (its whole ``ModelSpec``), the stored files that hold the model's
joined log (new data is written to new files: their names are the data's generation),
the library's code (the size and mtime of every module) and the versions of the
libraries that compute (Ibis, DuckDB, NumPy, SciPy, Polars, PyArrow). A question is only remembered when the store serves the model exactly
(:meth:`~analytics.log.engine.Engine.stored`) and the engine reads it (not an in-memory
snapshot, which may be older than the store); on the raw path (``--no-store``, a stale
store, another backend without ``[store] database``) nothing is read or written.

So an answer read back is the answer the function computes on that data: deleting the
folder changes no answer. An argument that has no canonical form (a function, an
object without a value ``repr``) makes the call uncached.

Per-period answers (:func:`remembered` with ``periods``): after a refresh, when the
data differ from a remembered answer of the same question only on some days, only the
periods holding those days are computed again (see :mod:`.incremental`).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import pickle
import re
import threading
from pathlib import Path
from typing import Any, Callable

from analytics.store import manifest as mf
from analytics.store.incremental import prediction_days

#: Bumped when the layout of a kept answer changes.
FORMAT = 1
FOLDER = "answers"
#: How many answers are kept per model (the oldest are swept by :func:`sweep`).
KEEP = 400
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")
_code: list[str] = []
_code_lock = threading.Lock()


def code_version() -> str:
    """A fingerprint of the library's modules (sizes and mtimes) and of the computing
    libraries' versions, computed once a process."""
    with _code_lock:
        if not _code:
            from importlib.metadata import PackageNotFoundError, version

            def ver(name: str) -> str:
                try:
                    return version(name)
                except PackageNotFoundError:
                    return "-"

            base = Path(__file__).resolve().parent.parent
            libs = "|".join(ver(n) for n in ("ibis-framework", "duckdb", "numpy", "scipy", "polars", "pyarrow"))
            h = hashlib.sha1(f"{FORMAT}|{libs}".encode())
            for dirpath, dirnames, filenames in sorted(os.walk(base)):
                dirnames.sort()
                for f in sorted(filenames):
                    if f.endswith(".py"):
                        st = os.stat(os.path.join(dirpath, f))
                        h.update(f"{os.path.relpath(os.path.join(dirpath, f), base)}|{st.st_size}|"
                                 f"{st.st_mtime_ns}\n".encode())
            _code.append(h.hexdigest())
        return _code[0]


def canonical(value: Any) -> str | None:
    """The argument's canonical text (None: it has none, the call is not cached)."""
    if isinstance(value, (list, tuple)):
        parts = [canonical(v) for v in value]
        return None if any(p is None for p in parts) else "[" + ",".join(parts) + "]"
    if callable(value) and not isinstance(value, type):
        return None
    text = repr(value)
    return None if _ADDRESS.search(text) else text


def _model_of(args: dict[str, Any]) -> Any:
    if "model" in args:
        return args["model"]
    sel = args.get("selection")
    return getattr(sel, "model", None)


class Question:
    """One call of a remembered function: where its answers live and under which keys."""

    def __init__(self, name: str, engine, args: dict[str, Any]):
        self.ok = False
        #: per stored day, the fingerprint of its prediction rows (set by :func:`day_files`)
        self.pred_days: dict[str, str] | None = None
        model = _model_of(args)
        reader = getattr(engine, "stored_by", None)
        if model is None or reader is None:
            return
        spec = engine.spec(model)
        if engine.snapshotted(spec):   # an in-memory snapshot may hold older data than the store
            return
        stored = engine.stored(spec)
        texts = {k: canonical(v) for k, v in args.items()}
        if stored is None or any(t is None for t in texts.values()):
            return
        self.spec, self.files = spec, stored[0]
        self.folder = Path(reader.root) / FOLDER / mf.model_key(spec.name)
        q = repr((name, sorted(texts.items()), repr(spec), engine.workspace.backend, code_version()))
        #: the question alone (any data), and the question on this data
        self.question = hashlib.sha1(q.encode("utf-8")).hexdigest()
        self.key = hashlib.sha1(repr((self.question, self.files)).encode("utf-8")).hexdigest()
        self.ok = True

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.pickle"

    def load(self, key: str | None = None) -> dict | None:
        """The kept record (``answer``, ``files``), None when absent or unreadable."""
        try:
            with open(self.path(key or self.key), "rb") as fh:
                if not _own(fh.fileno()):   # a pickle runs code when read: only our own files
                    return None
                rec = pickle.load(fh)
        except Exception:  # noqa: BLE001 - absent, torn or foreign: computed again
            return None
        return rec if isinstance(rec, dict) and rec.get("format") == FORMAT else None

    def latest(self) -> dict | None:
        """The last answer kept for this question on any data (for :mod:`.incremental`)."""
        try:
            key = (self.folder / f"{self.question}.latest").read_text(encoding="ascii").strip()
        except OSError:
            return None
        return self.load(key)

    def save(self, answer: Any, **extra: Any) -> None:
        """Keep ``answer`` (written to a temporary file, then renamed: never torn)."""
        rec = {"format": FORMAT, "answer": answer, "files": list(self.files), **extra}
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            tmp = self.folder / f".{self.key}.{os.getpid()}.{threading.get_ident()}.tmp"
            with open(tmp, "wb") as fh:
                pickle.dump(rec, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path(self.key))
            tmp = self.folder / f".{self.question}.{os.getpid()}.{threading.get_ident()}.tmp"
            tmp.write_text(self.key, encoding="ascii")
            os.replace(tmp, self.folder / f"{self.question}.latest")
        except OSError:
            pass   # a cache that cannot be written is only slower


def _own(fd: int) -> bool:
    """Whether the open file is this user's and nobody else may write it (an answer is a
    pickle: reading one written by someone else would run their code)."""
    st = os.fstat(fd)
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def remembered(name: str, periods: Callable | None = None):
    """Decorate an analysis ``fn(engine, ...)`` whose answer depends only on its
    arguments, the model's settings and its joined log: answers are kept per
    :class:`Question`. ``periods`` (see :mod:`.incremental`) makes an answer on changed
    data reuse the unchanged periods of the last one."""
    def wrap(fn):
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def inner(engine, *args, **kwargs):
            bound = sig.bind(engine, *args, **kwargs)
            bound.apply_defaults()
            given = dict(bound.arguments)
            given.pop(next(iter(sig.parameters)))
            q = Question(name, engine, given)
            if not q.ok:
                return fn(engine, *args, **kwargs)
            rec = q.load()
            if rec is not None:
                return rec["answer"]
            days = day_files(engine, q)
            answer = None
            if periods is not None and days is not None:
                try:
                    answer = periods(q, fn, engine, given, days)
                except Exception:  # noqa: BLE001 - whatever went wrong there, the whole answer is computed
                    answer = None
            if answer is None:
                answer = fn(engine, *args, **kwargs)
            after = engine.stored(q.spec)
            if after is not None and after[0] == q.files:   # computed on the data of the key
                q.save(answer, days=days, pred_days=q.pred_days)
            return answer
        inner.uncached = fn
        return inner
    return wrap


def day_files(engine, q: Question) -> dict[str, list[str]] | None:
    """The stored files of ``q``'s model by day, from the manifest the engine serves
    (None when that manifest no longer names exactly ``q.files``: a refresh came between);
    sets ``q.pred_days`` (:func:`analytics.store.incremental.prediction_days`) from the same manifest."""
    entry = engine.stored_by.manifest()["models"].get(q.spec.name) or {}
    days = {d: sorted(f for f, _ in v["files"]) for d, v in entry.get("days", {}).items()}
    named = {os.path.join(engine.stored_by.root, f) for fs in days.values() for f in fs}
    if named != set(q.files):
        return None
    q.pred_days = prediction_days(entry)   # per day, what its prediction rows depend on
    return days


def sweep(root: Path, keep: int = KEEP) -> int:
    """Keep the ``keep`` newest answers of each model (and their pointers); the count removed."""
    base = Path(root) / FOLDER
    if not base.is_dir():
        return 0
    n = 0
    for folder in base.iterdir():
        if not folder.is_dir():
            continue
        files = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        live = {p.stem for p in files[:keep]}
        for p in files[keep:]:
            p.unlink(missing_ok=True)
            n += 1
        for p in list(folder.glob("*.latest")) + list(folder.glob(".*.tmp")):
            try:
                if p.suffix == ".tmp" or p.read_text(encoding="ascii").strip() not in live:
                    p.unlink(missing_ok=True)
            except OSError:
                pass
    return n
