import os

import pytest

from analytics.config.workspace import load_workspace
from analytics.log.engine import Engine
from .factories import make_workspace



@pytest.fixture(autouse=True)
def _own_cache_dir(tmp_path_factory, monkeypatch):
    """Every test gets its own Lastmile state folder (store, history, audit), so no
    test reads another's state or the user's ~/.cache."""
    if not os.environ.get("LASTMILE_TEST_SHARED_CACHE"):
        monkeypatch.setenv("LASTMILE_CACHE_DIR", str(tmp_path_factory.mktemp("lastmile-cache")))


@pytest.fixture
def binary_ws(tmp_path):
    """A generated binary workspace: (Generated, Workspace, Engine)."""
    g = make_workspace(tmp_path, "binary", n=3000, seed=1, duplicate_outcomes=20)
    ws = load_workspace(g.config)
    return g, ws, Engine(ws)
