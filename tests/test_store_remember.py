"""The health verdict, the label-free estimates, the quality checks, the advice and the
release timeline are remembered answers (analytics/store/answers.py): on the store they equal the raw logs' answers
(their JSON, floats to 1e-12), are read back without a query when asked again, and a new
log day or a changed workspace forgets them."""

from __future__ import annotations

import json
import shutil

import pytest

from analytics.config.store import store_root
from analytics.config.workspace import load_workspace
from analytics.log.engine import Engine
from analytics.store import open_engine, refresh

from .factories import make_workspace
from .test_store import BUSINESS, close

MODEL = "binary_model"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A small binary workspace (2 prediction files of 4 weeks each), the last held back."""
    folder = tmp_path_factory.mktemp("remember") / "ws"
    make_workspace(folder, "binary", n=1200, seed=11, files=2, business=BUSINESS)
    shutil.move(folder / "pred" / "part-1.parquet", folder / "held-pred-1.parquet")
    return folder


@pytest.fixture
def ws_dir(base, tmp_path):
    folder = tmp_path / "ws"
    shutil.copytree(base, folder)
    return folder


def answers(eng) -> list:
    """Each remembered answer of this module, as JSON (the CLI's form)."""
    from analytics.analyses.estimate import estimate_performance
    from analytics.analyses.health import model_health
    from analytics.analyses.quality.compute import run_quality
    from analytics.analyses.recommend import recommend
    from analytics.analyses.timeline import events
    from analytics.query.selection import Grouping, Selection

    health = model_health(eng, MODEL)
    out = [health.to_dict(),
           estimate_performance(eng, Selection.build(MODEL), Grouping(by=("period",))).to_dict(),
           run_quality(eng, MODEL, period="week").to_dict(),
           [r.to_dict() for r in recommend(eng, MODEL, health=health)], events(eng, MODEL).to_dict()]
    return json.loads(json.dumps(out, default=str))


def kept(config) -> set[str]:
    return {p.name for p in (store_root(load_workspace(config)) / "answers").rglob("*.pickle")}


def no_query(*a, **k):
    raise AssertionError("a remembered answer ran a query")


def test_health_estimates_quality_advice_and_timeline_are_remembered(ws_dir, monkeypatch):
    config = ws_dir / "lastmile.toml"
    refresh(load_workspace(config))
    raw = answers(open_engine(load_workspace(config), use_store=False))
    first = answers(open_engine(load_workspace(config)))
    close(first, raw)
    before = kept(config)
    names = {p.parent.name for p in (store_root(load_workspace(config)) / "answers").rglob("*.pickle")}
    assert before and names == {next(iter(names))}
    with monkeypatch.context() as mp:      # asked again, in a new engine: no engine work at all
        mp.setattr(Engine, "execute", no_query)
        mp.setattr(Engine, "temporary", no_query)
        assert answers(open_engine(load_workspace(config))) == first

    shutil.move(ws_dir / "held-pred-1.parquet", ws_dir / "pred" / "part-1.parquet")   # new days
    refresh(load_workspace(config))
    after = answers(open_engine(load_workspace(config)))
    close(after, answers(open_engine(load_workspace(config), use_store=False)))
    assert after[0] != first[0] and after[2] != first[2]   # forgotten: the verdict moved with "now"


def test_a_changed_workspace_forgets_them(ws_dir):
    config = ws_dir / "lastmile.toml"
    refresh(load_workspace(config))
    first = answers(open_engine(load_workspace(config)))
    text = config.read_text()
    assert "[models.business]" in text
    config.write_text(text.replace("[models.business]", "[models.quality]\nreference_end = \"2026-03-12\"\n\n"
                                   "[models.business]"))
    refresh(load_workspace(config))
    calls = []
    real = Engine.execute
    try:
        Engine.execute = lambda self, *a, **k: calls.append(1) or real(self, *a, **k)
        changed = answers(open_engine(load_workspace(config)))
    finally:
        Engine.execute = real
    assert calls     # computed again, not read back
    close(changed, answers(open_engine(load_workspace(config), use_store=False)))
    assert changed[2] != first[2]
