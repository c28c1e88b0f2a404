"""The portfolio leads with what to do: the same recommendations as `lastmile check`,
and each card's findings in plain, rounded words."""

import re

from analytics.analyses.recommend import recommend
from analytics.analyses.health import model_health

from .conftest import open_page
from app.components.text import escape_md

MODEL = "binary_model"


def test_portfolio_leads_with_the_recommendations_of_check(app, app_engine):
    at = open_page(app, "portfolio")
    blocks = [m.value for m in at.markdown]
    first = next(i for i, b in enumerate(blocks) if "What to do" in b)
    cards = next(i for i, b in enumerate(blocks) if MODEL in b and "###" in b)
    assert first < cards, blocks[:6]
    expected = recommend(app_engine, MODEL, health=model_health(app_engine, MODEL))
    board = blocks[first + 1]
    for r in expected:
        assert escape_md(r.sentence) in board, (r.sentence, board)
    # the cards' findings: plain words, statistics to 3 significant digits at most
    findings = "\n".join(b for b in blocks if b.startswith("- ") and "badge" in b and b not in board)
    assert not re.search(r"\d\.\d{4,}", findings), findings
