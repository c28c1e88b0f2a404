"""Typesetting a report in parts (analytics/render/report/typeset.py): the merge onto the
numbered frame, the helper processes, and falling back to this process when a
helper fails. Small hand-written parts keep these fast; tests/test_report.py
checks whole reports."""

from __future__ import annotations

import io
import pickle
import re

import pypdf
import pytest

from analytics.render.report.pdf import render_html
from analytics.render.report.typeset import Typesetter, merge, serve, typeset_part


def _part(title: str, pages: int, word: str, running: str | None = "Doc title") -> str:
    """A part of ``pages`` pages: an h2 (a bookmark) and one paragraph per page."""
    body = "".join(f'<p style="break-before: {"page" if i else "auto"}">{word} page {i + 1}</p>' for i in range(pages))
    head = f'<div class="running-title hidden">{running}</div>' if running else ""
    return f"<html><body>{head}<h2>{title}</h2>{body}<h3>{title} end</h3></body></html>"


def _frame(pages: int) -> str:
    return render_html({"title": "Frame", "pages": pages}, "frame.html.j2")


def _texts(pdf: bytes) -> list[str]:
    return [re.sub(r"\s+", " ", p.extract_text()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def _outline(pdf: bytes) -> list[tuple[int, str, int]]:
    """(depth, title, page) of every bookmark, in order."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    out: list = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                out.append((depth, item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline, 0)
    return out


def _fonts(pdf: bytes) -> dict[str, list]:
    """BaseFont name -> the font objects carrying it (pages and the parts' form XObjects)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    found: dict[str, list] = {}

    def walk(resources):
        resources = resources.get_object()
        for ref in (resources.get("/Font") or {}).values():
            f = ref.get_object()
            desc = (f["/DescendantFonts"][0].get_object() if "/DescendantFonts" in f else f)["/FontDescriptor"]
            assert any(k in desc.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            found.setdefault(str(f["/BaseFont"]), [])
            if all(x is not f for x in found[str(f["/BaseFont"])]):
                found[str(f["/BaseFont"])].append(f)
        for ref in (resources.get("/XObject") or {}).values():
            if "/Resources" in ref.get_object():
                walk(ref.get_object()["/Resources"])

    for page in reader.pages:
        walk(page["/Resources"])
    return found


@pytest.fixture(scope="module")
def parts():
    """Two parts: a model's first part (an h1 and a chapter) and a second chapter to nest under it."""
    first = ("<html><body><h1 class='model-title'>model_a</h1><h2>Chapter one</h2>"
             "<p>alpha page 1</p><p style='break-before: page'>alpha page 2</p></body></html>")
    second = _part("Chapter two", 3, "beta", running="model_a")
    return [typeset_part(first, "A4"), typeset_part(second, "A4")]


def test_parts_are_drawn_onto_the_numbered_frame(parts):
    (a, na), (b, nb) = parts
    assert (na, nb) == (2, 3)
    pdf = merge(_frame_pdf(5), [(a, False), (b, True)])
    texts = _texts(pdf)
    assert len(texts) == 5
    for i, text in enumerate(texts, start=1):
        assert f"Page {i} of 5" in text  # the frame's number
        assert text.count("Page ") == 1  # and only the frame's: parts carry none
    assert "alpha page 1" in texts[0] and "alpha page 2" in texts[1]
    assert [f"beta page {i}" in texts[1 + i] for i in (1, 2, 3)] == [True] * 3
    # the parts keep their headers: the chapter's running title and section
    assert "model_a" in texts[3] and "Chapter two" in texts[3]


def _frame_pdf(pages: int) -> bytes:
    from analytics.render.report.pdf import html_to_pdf

    return html_to_pdf(_frame(pages), "A4", sheet="frame.css")


def test_bookmarks_keep_their_pages_and_chapters_nest_under_their_model(parts):
    (a, _), (b, _) = parts
    outline = _outline(merge(_frame_pdf(5), [(a, False), (b, True)]))
    assert outline == [(0, "model_a", 1), (1, "Chapter one", 1),
                       (1, "Chapter two", 3), (2, "Chapter two end", 5)]
    # not nested: the second part's bookmarks stay at the top level
    assert _outline(merge(_frame_pdf(5), [(a, False), (b, False)]))[2] == (0, "Chapter two", 3)


def test_each_part_embeds_fonts_under_names_of_its_own(parts):
    (a, _), (b, _) = parts
    fonts = _fonts(merge(_frame_pdf(5), [(a, False), (b, True)]))
    assert fonts and all(len(objs) == 1 for objs in fonts.values()), \
        {name: len(objs) for name, objs in fonts.items()}
    # the same font, subsetted by each part and by the frame, under three tags
    assert sum(name.endswith("+Liberation-Sans") for name in fonts) >= 2


def test_a_frame_of_the_wrong_length_is_refused(parts):
    (a, _), _ = parts
    with pytest.raises(ValueError, match="frame has 3 pages but the parts 2"):
        merge(_frame_pdf(3), [(a, False)])


@pytest.mark.parametrize("helpers", [0, 1, 2])
def test_the_same_pdf_with_or_without_helpers(helpers):
    with Typesetter("A4", helpers=helpers) as ts:
        ts.submit("notes", _part("Notes", 2, "gamma", running="Report"))
        ts.submit("one", _part("One", 1, "delta"))
        ts.submit("two", _part("Two", 2, "epsilon"), nest=True)
        pdf = ts.finish(["one", "two", "notes"], _frame)
        assert ts.failures == []
    texts = _texts(pdf)
    assert len(texts) == 5 and all(f"Page {i} of 5" in t for i, t in enumerate(texts, start=1))
    assert "delta page 1" in texts[0] and "epsilon page 2" in texts[2] and "gamma page 2" in texts[4]


def test_a_resubmitted_part_replaces_the_first():
    with Typesetter("A4", helpers=1) as ts:
        ts.submit("notes", _part("Notes", 3, "first draft"))
        ts.submit("notes", _part("Notes", 1, "second draft"))
        texts = _texts(ts.finish(["notes"], _frame))
    assert len(texts) == 1 and "second draft" in texts[0] and "first draft" not in " ".join(texts)


def test_a_helper_that_dies_costs_speed_not_the_report():
    with Typesetter("A4", helpers=1) as ts:
        helper = ts._helpers[0]
        helper._proc.kill()
        helper._proc.wait()
        ts.submit("one", _part("One", 2, "zeta"))  # the helper is gone: done here
        texts = _texts(ts.finish(["one"], _frame))
        assert ts.failures and "ended" in ts.failures[0]
    assert len(texts) == 2 and "zeta page 2" in texts[1] and "Page 2 of 2" in texts[1]


def test_a_helper_that_cannot_start_is_no_error(monkeypatch):
    import analytics.render.report.typeset as typeset

    def refuse(*_a, **_k):
        raise OSError("no processes left")

    monkeypatch.setattr(typeset.subprocess, "Popen", refuse)
    with Typesetter("A4", helpers=2) as ts:
        ts.submit("one", _part("One", 1, "eta"))
        texts = _texts(ts.finish(["one"], _frame))
        assert ts.failures == ["a helper did not start: no processes left"]
    assert "eta page 1" in texts[0] and "Page 1 of 1" in texts[0]


def test_the_helper_answers_each_request_and_reports_errors():
    requests = io.BytesIO()
    for message in [("part", 0, (_part("One", 1, "theta"), "A4")), ("nonsense", 1, ()),
                    ("part", 2, ("<html><body>x</body></html>", "Z9"))]:
        pickle.dump(message, requests)
    requests.seek(0)
    replies = io.BytesIO()
    serve(requests, replies)  # returns at the end of its input
    replies.seek(0)
    answers = [pickle.load(replies) for _ in range(3)]
    assert answers[0][:2] == (0, "ok") and answers[0][2][1] == 1 and answers[0][2][0].startswith(b"%PDF")
    assert answers[1] == (1, "error", "ValueError: unknown request 'nonsense'")
    assert answers[2][:2] == (2, "error") and "Z9" in answers[2][2]


def test_large_parts_and_replies_do_not_jam_the_pipes():
    """Requests and replies larger than a pipe's buffer (64 KiB), sent while the helper is busy:
    the reader must keep draining replies while a sender waits to write (this deadlocked once)."""
    import threading

    words = " ".join(f"word{i}" for i in range(6000))
    big = [f"<html><body><h2>Part {k}</h2>" + "".join(f"<p>{k} {j} {words}</p>" for j in range(3))
           + "</body></html>" for k in range(4)]
    assert all(len(h) > 2 * 65536 for h in big)
    result: dict = {}

    def work():
        with Typesetter("A4", helpers=1) as ts:
            for k, html in enumerate(big):
                ts.submit(k, html)
            result["pdf"] = ts.finish(list(range(4)), _frame)
            result["failures"] = ts.failures

    t = threading.Thread(target=work, daemon=True)
    t.start()
    # A deadlock never ends; a slow machine (a loaded CI box) still ends well within this.
    t.join(600)
    assert not t.is_alive(), "the typesetter is stuck"
    assert result["failures"] == []
    assert len(result["pdf"]) > 4 * 65536


def test_the_helper_starts_without_the_query_stack():
    """A helper imports this package's typesetting only: not Ibis, DuckDB, scipy or plotly."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, analytics.render.report.typeset\n"
            "print([m for m in ('ibis', 'duckdb', 'scipy', 'plotly', 'polars', 'weasyprint') if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       cwd=Path(__file__).resolve().parent.parent)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
