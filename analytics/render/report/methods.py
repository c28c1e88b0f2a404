"""The report's method notes (:mod:`.appendix`) and the method part of a user's Markdown doc as HTML."""

from __future__ import annotations

import re
from pathlib import Path

from analytics.render.report.appendix import appendix

#: Users' documentation (one Markdown file per area; the method notes no longer include it).
DOCS = Path(__file__).resolve().parents[2] / "docs"


def method_notes(metrics_used: list[str], areas: list[str]) -> dict:
    """The appendix: every metric shown and how the numbers are worked out, in plain language
    (:mod:`.appendix`; no code names, no command-line options)."""
    return appendix(tuple(dict.fromkeys(metrics_used)))


#: Doc sections about usage rather than method (workspace keys, commands, JSON, internals, features
#: the report does not use) are left out; so is the metrics doc's table the registry's notes repeat.
USAGE_HEADINGS = re.compile(r"workspace|command|what-if|python|\bapi\b|example|dashboard|usage|\bapp\b|json|"
                            r"exit status|how it (runs|is computed)|\[models|sequential|^the metrics$", re.I)


#: Paragraphs and list items about usage inside method sections: those that open with a
#: command-line flag, a command with flags, a JSON shape, a Python call or a flag list.
USAGE_TEXT = re.compile(r"^`?--[a-z]|^`lastmile [^`]*--|^json\b|^in python|^output:|^flags:|^usage", re.I)


def markdown_html(text: str) -> str:
    """The method part of a user's Markdown doc as HTML (CommonMark plus tables, raw HTML off).

    Code blocks, sections whose heading is about usage (:data:`USAGE_HEADINGS`)
    and paragraphs or list items about usage (:data:`USAGE_TEXT`: flags,
    commands, JSON, Python) are dropped: the report defines methods; the README
    and docs explain usage.
    """
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(text)
    drop = [False] * len(tokens)
    skip_level = None
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            level = int(tok.tag[1])
            if skip_level is not None and level <= skip_level:
                skip_level = None
            if skip_level is None and level >= 2 and USAGE_HEADINGS.search(tokens[i + 1].content):
                skip_level = level
        drop[i] = skip_level is not None or tok.type in ("fence", "code_block")
    # a usage paragraph goes with its list item, if it is in one
    for i, tok in enumerate(tokens):
        if tok.type == "paragraph_open" and USAGE_TEXT.search(tokens[i + 1].content.strip()):
            start = i - 1 if i and tokens[i - 1].type == "list_item_open" else i
            close = "list_item_close" if start != i else "paragraph_close"
            end = next(j for j in range(i + 1, len(tokens))
                       if tokens[j].type == close and tokens[j].level == tokens[start].level)
            drop[start:end + 1] = [True] * (end + 1 - start)
    return md.renderer.render([t for t, d in zip(tokens, drop) if not d], md.options, {})
