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


@pytest.fixture(scope="session")
def chromium():
    """The process's one Playwright and Chromium (tests/browser.py), for the browser tests
    and the chart-label measure alike."""
    from pathlib import Path

    from .browser import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """The one local Spark session of this test process, built the way a workspace file
    builds it (tests/sparkconf.py), its warehouse (``[store] database``) in a temporary
    folder. A workspace whose ``[engine.options]`` builds a local session meanwhile gets
    this one back (Spark keeps one session a process)."""
    pytest.importorskip("pyspark", reason="the test extra installs pyspark")
    from analytics.log.spark import build_session
    from .sparkconf import MASTER, SMALL_DATA

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = build_session({"master": MASTER, "app_name": "lastmile-tests",
                             "config": {**SMALL_DATA, "spark.sql.warehouse.dir": str(warehouse)}})
    yield session
    from py4j.protocol import Py4JError

    try:
        session.stop()
    except (Py4JError, ConnectionError) as exc:
        # the JVM is already gone (seen once, on a machine at load 20, after every Spark
        # test had passed): there is nothing left to stop, and no test's claim is at stake
        import warnings

        warnings.warn(f"the tests' Spark session could not be stopped (its JVM is gone): {exc}")


#: xdist groups (``--dist loadgroup``) that run longest, started first so that no worker
#: is left with one of them at the end: Spark's two JVMs, then the browser tests that
#: share one server over the bundled sample.
FIRST_GROUPS = ("spark-b", "spark", "e2e-sample")


def _group(item) -> str | None:
    """The test's xdist group: its closest ``xdist_group`` mark (a test's own mark wins
    over its module's ``pytestmark``)."""
    mark = item.get_closest_marker("xdist_group")
    if mark is None:
        return None
    return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """The long xdist groups first (:data:`FIRST_GROUPS`), every other test in its order."""
    def rank(item):
        group = _group(item)
        return FIRST_GROUPS.index(group) if group in FIRST_GROUPS else len(FIRST_GROUPS)
    items.sort(key=rank)   # stable: the order within a rank stays
    _name_groups(config, items)


def _name_groups(config, items) -> None:
    """``--dist loadgroup`` sends a group's tests to one worker by the ``@group`` suffix of
    their node ids. pytest-xdist 3.8 writes that suffix to ``item._nodeid``, which pytest
    9.2 no longer reads (a node's id is ``item._id`` now): every group was spread over all
    workers, each starting its own Spark JVM. Until xdist follows, the suffix is written
    here, on the workers, the way pytest 9.2 keeps ids."""
    if not (hasattr(config, "workerinput") and config.getoption("loadgroup", False)):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        # a test without a group goes with its module (as --dist loadscope would): a module's
        # fixtures (the sample's recommendations, a report) are then built once, not once per
        # worker that happens to get one of its tests (4 x 80 s for tests/test_recommend.py)
        name = _group(item) or item.nodeid.split("::", 1)[0]
        if not item.nodeid.endswith("@" + name) and hasattr(item, "_id"):
            item._id = NodeId.parse(f"{item.nodeid}@{name}")
