"""Typesetting the report in parts, in helper processes, while its queries run.

WeasyPrint is pure Python: importing it and laying out pages holds the
interpreter for seconds, so in the report's own process typesetting could only
follow the queries. Instead a report is typeset in **parts**, each an HTML
document of its own, as soon as its content is known:

* the method notes, at once (they depend only on the models' tasks);
* each chapter of a model, once its sections are built and their charts drawn;
* the cover, last (it sums up every section).

A part carries its content, headers and bookmarks but no page number
(``part.css``). Once every part is typeset, the **frame** -- as many empty pages
as the parts have, each with "Page N of M" (``frame.css``) -- is typeset, and
:func:`merge` draws the parts' pages onto it in reading order, copies their
bookmarks and gives each part's font subsets names of their own. Each part
starts on a new page; a chapter is a few pages, so the cost is some white
space at the end of a chapter.

:class:`Typesetter` runs the parts in :data:`HELPERS` helper process(es)
(``python -m analytics.render.report.typeset``; each imports WeasyPrint once), so
typesetting uses the second core while the report's process runs queries, and
the report's process never imports WeasyPrint. When a helper cannot start or
fails, its parts are typeset in the report's process instead (slower, the
same PDF): a helper can cost speed, never a report.

The protocol: pickled ``(kind, key, args)`` requests on a helper's stdin, one
pickled ``(key, "ok", value)`` or ``(key, "error", text)`` reply per request on
its stdout.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Hashable

from .pdf import html_to_pdf

#: Helper processes per report. One: the report's process keeps a core for its queries
#: and the chart browser, the helper typesets on the other (measured with
#: bench/bench_report.py: a second helper competes with the queries for the two cores
#: and makes the report 0.5 s slower).
HELPERS = 1
#: Prefix of the form XObjects holding the parts' pages on the frame's pages.
PART_XOBJECT = "/LastmilePart"


# ------------------------------------------------------------------ the work (either process)


def typeset_part(html: str, paper: str) -> tuple[bytes, int]:
    """A part's PDF (no page numbers) and its page count."""
    from pypdf import PdfReader

    pdf = html_to_pdf(html, paper, sheet="part.css")
    return pdf, len(PdfReader(io.BytesIO(pdf)).pages)


def _retag(resources, salt: bytes, seen: set) -> None:
    """New subset tags (the six letters before ``+``) for the fonts under ``resources``:
    WeasyPrint derives a tag from the font file, so one font subsetted in two parts
    would otherwise carry one name for two different sets of glyphs."""
    from pypdf.generic import NameObject

    def tag(name: str) -> str:
        if len(name) > 8 and name[7] == "+" and name[1:7].isalpha() and name[1:7].isupper():
            digest = hashlib.md5(salt + name.encode()).digest()
            return "/" + "".join(chr(65 + b % 26) for b in digest[:6]) + name[7:]
        return name

    fonts = resources.get("/Font")
    for ref in (fonts.get_object().values() if fonts is not None else ()):
        font = ref.get_object()
        if id(font) in seen:
            continue
        seen.add(id(font))
        for f in [font] + [d.get_object() for d in font.get("/DescendantFonts", ())]:
            if "/BaseFont" in f:
                f[NameObject("/BaseFont")] = NameObject(tag(str(f["/BaseFont"])))
            desc = f.get("/FontDescriptor")
            if desc is not None and "/FontName" in desc.get_object():
                desc = desc.get_object()
                desc[NameObject("/FontName")] = NameObject(tag(str(desc["/FontName"])))
    xobjects = resources.get("/XObject")
    for ref in (xobjects.get_object().values() if xobjects is not None else ()):
        x = ref.get_object()
        if "/Resources" in x:
            _retag(x["/Resources"].get_object(), salt, seen)


def merge(frame: bytes, parts: list[tuple[bytes, bool]]) -> bytes:
    """``frame`` with the pages of ``parts`` drawn onto its pages, in order, and the
    parts' bookmarks. ``parts`` holds ``(pdf, nest)``: a part with ``nest`` hangs its
    top-level bookmarks under the last top-level bookmark before it (a model's chapters
    under the model).

    Each part page becomes a form XObject drawn after the frame page's own content
    (wrapped in ``q``/``Q`` so the frame's graphics state cannot leak into it); no content
    stream is parsed, so merging costs milliseconds. The document's metadata is the frame's.
    """
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(frame))
    readers = [(PdfReader(io.BytesIO(pdf)), nest) for pdf, nest in parts]
    total = sum(len(r.pages) for r, _nest in readers)
    if total != len(writer.pages):
        raise ValueError(f"the frame has {len(writer.pages)} pages but the parts {total}")

    def copy_outline(reader, items, offset, parent):
        last = None
        for item in items:
            if isinstance(item, list):
                copy_outline(reader, item, offset, last)
            else:
                last = writer.add_outline_item(title=item.title, parent=parent,
                                               page_number=offset + reader.get_destination_page_number(item))
        return last

    page = 0
    top = None  # the last top-level bookmark so far
    for i, (reader, nest) in enumerate(readers):
        seen: set = set()
        for src in reader.pages:
            _draw_part_page(writer, src, writer.pages[page], f"{PART_XOBJECT}{page}", f"part{i}".encode(), seen)
            page += 1
        last = copy_outline(reader, reader.outline, page - len(reader.pages), top if nest else None)
        if not nest and last is not None:
            top = last
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _stream(data: bytes):
    from pypdf.generic import DecodedStreamObject

    s = DecodedStreamObject()
    s.set_data(data)
    return s


def _draw_part_page(writer, src, dst, xobject: str, salt: bytes, seen: set) -> None:
    """Draw the part's page ``src`` onto the frame's page ``dst``: ``src`` becomes the form
    XObject ``xobject`` (its fonts renamed with ``salt``), drawn after ``dst``'s own content."""
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject

    resources = src["/Resources"].get_object().clone(writer)
    _retag(resources, salt, seen)
    contents = src.get_contents()
    form = _stream(contents.get_data() if contents is not None else b"")
    form.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                 NameObject("/BBox"): src.mediabox, NameObject("/Resources"): resources})
    name = NameObject(xobject)
    # the frame's pages may share one resource dictionary: one name per page keeps them apart
    own = dst["/Resources"].get_object()
    if "/XObject" not in own:
        own[NameObject("/XObject")] = DictionaryObject()
    own["/XObject"].get_object()[name] = writer._add_object(form.flate_encode())
    before = dst["/Contents"].get_object()
    before = list(before) if isinstance(before, ArrayObject) else [dst["/Contents"]]
    dst[NameObject("/Contents")] = ArrayObject(
        [writer._add_object(_stream(b"q\n"))] + before
        + [writer._add_object(_stream(f"\nQ q {name} Do Q\n".encode()))])


def typeset_frame(html: str, paper: str, parts: list[tuple[bytes, bool]]) -> bytes:
    """The frame (``html``: the empty numbered pages) typeset and the parts merged onto it."""
    return merge(html_to_pdf(html, paper, sheet="frame.css"), parts)


# ------------------------------------------------------------------ helper processes


class _Helper:
    """One helper process, seen from the report's process. A reader thread collects its
    replies as they come (so a helper never waits for the report's process to read)."""

    def __init__(self, on_reply: Callable[["_Helper", int | None, str, object], None]):
        self.pending: set = set()
        self.alive = True
        self._on_reply = on_reply
        self._lock = threading.Lock()      # alive, pending
        self._writing = threading.Lock()   # one request written at a time
        self._err = tempfile.TemporaryFile()
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[3])  # import this package from here
        env["PYTHONPATH"] = os.pathsep.join([root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        try:
            self._proc = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=self._err, env=env)
        except BaseException:
            self._err.close()
            raise
        self._reader = threading.Thread(target=self._read, name="lastmile-typeset-reader", daemon=True)
        self._reader.start()

    def send(self, kind: str, key: int, *args) -> bool:
        """Queue a request; False when the helper is gone.

        A write blocks while the helper's input pipe is full, and the helper only reads
        its next request once its last reply is read: so ``_lock`` (which the reader
        takes) is never held while writing; ``_writing`` keeps two senders apart.
        """
        with self._lock:
            if not self.alive:
                return False
            self.pending.add(key)
        with self._writing:
            try:
                pickle.dump((kind, key, args), self._proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                self._proc.stdin.flush()
                return True
            except (OSError, ValueError):
                with self._lock:
                    self.alive = False
                    self.pending.discard(key)
                return False

    def _read(self) -> None:
        while True:
            try:
                key, status, value = pickle.load(self._proc.stdout)
            except Exception:  # noqa: BLE001 - EOF or garbage: the helper is gone
                with self._lock:
                    self.alive = False
                self._on_reply(self, None, "gone", self.last_words())
                return
            with self._lock:
                self.pending.discard(key)
            self._on_reply(self, key, status, value)

    def last_words(self) -> str:
        try:
            self._err.seek(0)
            lines = self._err.read().decode("utf-8", "replace").strip().splitlines()
        except (OSError, ValueError):
            return ""
        return lines[-1] if lines else ""

    def close(self) -> None:
        with self._lock:
            self.alive = False
        if not self._writing.acquire(timeout=10):  # a sender stuck on a helper that stopped reading
            self._proc.kill()
            self._writing.acquire()
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        finally:
            self._writing.release()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._reader.join(10)
        self._proc.stdout.close()
        self._err.close()


@dataclass
class _Job:
    kind: str
    args: tuple
    result: object = None
    done: bool = False
    helper: _Helper | None = None  # None: not (or no longer) with a helper


class Typesetter:
    """The parts of one report, typeset as they are submitted; :meth:`finish` joins them.

    ``helpers`` processes typeset the parts (0: everything in this process, at
    :meth:`finish`). Use it as a context manager so the helpers always stop.
    Resubmitting a key replaces that part. A helper's failure only moves its work
    to this process (``failures`` says why); errors of the typesetting itself are
    raised by :meth:`finish`, from this process, as they would be without helpers.
    """

    def __init__(self, paper: str, helpers: int = HELPERS):
        self.paper = paper
        self._jobs: dict[int, _Job] = {}
        self._parts: dict[Hashable, tuple[int, bool]] = {}  # key -> (job id, nest)
        self._done = threading.Condition()
        self._helpers: list[_Helper] = []
        self.failures: list[str] = []
        for _ in range(helpers):
            try:
                self._helpers.append(_Helper(self._reply))
            except OSError as exc:
                self.failures.append(f"a helper did not start: {exc}")
                break

    def _reply(self, helper: _Helper, job_id, status: str, value) -> None:
        """A helper's answer (called on its reader thread)."""
        with self._done:
            if status == "gone":
                if helper in self._helpers:  # not stopped by close(): it died
                    self.failures.append(f"a helper ended{': ' + value if value else ''}")
                for job in self._jobs.values():
                    if job.helper is helper and not job.done:
                        job.helper = None  # done here instead
            elif job_id in self._jobs:
                job = self._jobs[job_id]
                if status == "ok":
                    job.result, job.done = value, True
                else:
                    self.failures.append(f"a helper failed ({job.kind}): {value}")
                    job.helper = None
            self._done.notify_all()

    def _start(self, kind: str, *args) -> int:
        """Hand a job to the least busy live helper (if any); its id."""
        with self._done:
            job_id = len(self._jobs)
            job = self._jobs[job_id] = _Job(kind, args)
            live = [h for h in self._helpers if h.alive]
            if live:
                job.helper = min(live, key=lambda h: len(h.pending))
        if job.helper is not None and not job.helper.send(kind, job_id, *args):
            with self._done:
                job.helper = None
        return job_id

    def _result(self, job_id: int):
        """Wait for a job; do it here if no helper (still) has it."""
        job = self._jobs[job_id]
        with self._done:
            self._done.wait_for(lambda: job.done or job.helper is None)
        if not job.done:
            job.result = (typeset_part if job.kind == "part" else typeset_frame)(*job.args)
            job.done = True
        return job.result

    def submit(self, key: Hashable, html: str, nest: bool = False) -> None:
        """Start typesetting part ``key`` (see :func:`merge` for ``nest``)."""
        self._parts[key] = (self._start("part", html, self.paper), nest)

    def finish(self, order: list[Hashable], frame: Callable[[int], str]) -> bytes:
        """The report: the parts ``order`` names, in that order, on the frame that
        ``frame(pages)`` renders for their total page count."""
        results = [(self._result(self._parts[k][0]), self._parts[k][1]) for k in order]
        parts = [(pdf, nest) for (pdf, _pages), nest in results]
        html = frame(sum(pages for (_pdf, pages), _nest in results))
        return self._result(self._start("frame", html, self.paper, parts))

    def close(self) -> None:
        helpers, self._helpers = self._helpers, []
        for h in helpers:
            h.close()

    def __enter__(self) -> "Typesetter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def serve(stdin=None, stdout=None) -> None:
    """A helper's loop: answer requests until stdin closes."""
    if stdout is None:
        stdout = sys.stdout.buffer
        sys.stdout = sys.stderr  # nothing but replies may reach the protocol pipe
    stdin = stdin or sys.stdin.buffer
    import weasyprint  # noqa: F401 - load it before the first part arrives

    while True:
        try:
            kind, key, args = pickle.load(stdin)
        except EOFError:
            return
        try:
            if kind == "part":
                reply = (key, "ok", typeset_part(*args))
            elif kind == "frame":
                reply = (key, "ok", typeset_frame(*args))
            else:
                raise ValueError(f"unknown request {kind!r}")
        except Exception as exc:  # noqa: BLE001 - every failure is answered; the report's process redoes it
            reply = (key, "error", f"{type(exc).__name__}: {exc}")
        pickle.dump(reply, stdout, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.flush()


if __name__ == "__main__":  # pragma: no cover - run by Typesetter as a helper process
    serve()
    # the report is done: end at once, without tearing every module down one by one
    sys.stderr.flush()
    os._exit(0)
