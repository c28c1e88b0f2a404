"""User text on the page as text: names verbatim, free text never read as markup.

Streamlit renders ``st.markdown``, ``st.caption``, headings, ``st.info`` and friends as
Markdown, with extras: ``:red[...]`` directives, ``$...$`` math, ``:emoji:`` and
``:material/...:`` icons, and it turns `` -- `` into an em dash and ``->`` into an
arrow. Text from the workspace or the logs (descriptions, model, version, column and
segment names, messages quoting them) must not become images, links, styling or other
characters:

* :func:`literal` -- a name as an inline code span: shown character for character
  (no Markdown, no Streamlit replacement applies inside code);
* :func:`escape_md` -- free text inside Markdown: the characters that start Markdown
  or Streamlit markup are backslash-escaped (no image, link, emphasis, directive,
  math or HTML can come from it);
* descriptions are drawn with ``st.text`` (no Markdown at all).
"""

from __future__ import annotations

import re

#: Characters that open Markdown (CommonMark + GFM) or Streamlit markup anywhere in a line.
_MARKUP = re.compile(r"([\\`*_\[\]<>#|~$&])")


def escape_md(text: object) -> str:
    """``text`` for a Markdown string: every markup-opening character backslash-escaped."""
    return _MARKUP.sub(r"\\\1", str(text))


def literal(name: object) -> str:
    """``name`` as an inline code span that shows it verbatim (a fence longer than any
    run of backticks inside it; padded when it starts or ends with a backtick)."""
    s = str(name).replace("\n", " ")
    runs = [len(m) for m in re.findall(r"`+", s)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or (s.startswith(" ") and s.endswith(" ") and s.strip()) else ""
    return f"{fence}{pad}{s}{pad}{fence}"
