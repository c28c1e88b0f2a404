import pytest

from analytics.engine import Engine
from analytics.workspace import load_workspace

from .factories import make_workspace


@pytest.fixture
def binary_ws(tmp_path):
    """A generated binary workspace: (Generated, Workspace, Engine)."""
    g = make_workspace(tmp_path, "binary", n=3000, seed=1, duplicate_outcomes=20)
    ws = load_workspace(g.config)
    return g, ws, Engine(ws)
