"""HTML (Jinja2 templates) to PDF (WeasyPrint).

The templates and the stylesheet live in ``templates/``. Paper size is a CSS
``@page`` rule chosen here (A4 or US Letter); the page footer ("Page N of M")
and header are CSS margin boxes, which do not inherit the body's font, so the
stylesheet sets the font on ``@page`` too. Fonts are the system's Liberation
Sans / DejaVu Sans, which WeasyPrint embeds (subsetted) in the PDF.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Mapping

import jinja2

from ..charts import format as fmt
from ..errors import LastmileError

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Paper name -> CSS page size.
PAPERS = {"a4": "A4", "letter": "letter"}


def paper_size(paper: str) -> str:
    """The CSS page size of ``paper`` ("A4" or "Letter", any case)."""
    key = str(paper).strip().lower()
    if key not in PAPERS:
        raise LastmileError(f"Paper {paper!r} is not one of A4, Letter.")
    return PAPERS[key]


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(count=fmt.count, num=fmt.num,
                       b64=lambda text: base64.b64encode(text.encode("utf-8")).decode("ascii"))
    env.globals["MISSING"] = fmt.MISSING
    return env


def render_html(context: Mapping[str, Any], template: str = "report.html.j2") -> str:
    """The report's HTML from its context (see :func:`analytics.report.build_report`)."""
    return _environment().get_template(template).render(**context)


def html_to_pdf(html: str, paper: str = "A4") -> bytes:
    """Typeset ``html`` with the report stylesheet on ``paper``; the PDF's bytes."""
    import weasyprint  # heavy import: only when a PDF is made

    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    page = f"@page {{ size: {paper_size(paper)}; }}"
    return weasyprint.HTML(string=html, base_url=str(TEMPLATES)).write_pdf(
        stylesheets=[weasyprint.CSS(string=css), weasyprint.CSS(string=page)])
