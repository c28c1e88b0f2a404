"""HTML (Jinja2 templates) to PDF (WeasyPrint).

The templates and the stylesheet live in ``templates/``. Paper size is a CSS
``@page`` rule chosen here (A4 or US Letter); the page footer ("Page N of M")
and header are CSS margin boxes, which do not inherit the body's font, so the
stylesheet sets the font on ``@page`` too. Fonts are the system's Liberation
Sans / DejaVu Sans, which WeasyPrint embeds (subsetted) in the PDF.

A report is typeset in parts on a frame (see :mod:`.typeset`): a part adds
``part.css`` (no page number), the frame ``frame.css`` (nothing but the page
number). This module imports neither WeasyPrint nor the rest of the library
until it is used, so the typesetting helper processes start light.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Mapping

from analytics.errors import LastmileError
from analytics.render import format as fmt

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Paper name -> CSS page size.
PAPERS = {"a4": "A4", "letter": "letter"}


def paper_size(paper: str) -> str:
    """The CSS page size of ``paper`` ("A4" or "Letter", any case)."""
    key = str(paper).strip().lower()
    if key not in PAPERS:
        raise LastmileError(f"Paper {paper!r} is not one of A4, Letter.")
    return PAPERS[key]


def _environment():
    import jinja2


    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(count=fmt.count, num=fmt.num,
                       b64=lambda text: base64.b64encode(text.encode("utf-8")).decode("ascii"))
    env.globals["MISSING"] = fmt.MISSING
    return env


def render_html(context: Mapping[str, Any], template: str) -> str:
    """HTML of ``template`` (a part or the frame, see :mod:`.typeset`) from ``context``."""
    return _environment().get_template(template).render(**context)


def html_to_pdf(html: str, paper: str = "A4", sheet: str | None = None) -> bytes:
    """Typeset ``html`` with the report stylesheet (and ``sheet`` from ``templates/`` on
    top) on ``paper``; the PDF's bytes."""
    import weasyprint  # heavy import: only when a PDF is made

    sheets = ["report.css"] + ([sheet] if sheet else [])
    css = [weasyprint.CSS(string=(TEMPLATES / name).read_text(encoding="utf-8")) for name in sheets]
    page = weasyprint.CSS(string=f"@page {{ size: {paper_size(paper)}; }}")
    return weasyprint.HTML(string=html, base_url=str(TEMPLATES)).write_pdf(stylesheets=css + [page])
