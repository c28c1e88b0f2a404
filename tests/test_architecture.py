"""Rules a machine can check: layering, no SQL built from strings."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def py_files(folder):
    return sorted((ROOT / folder).rglob("*.py"))


def test_analytics_never_imports_streamlit_statically():
    offenders = []
    for f in py_files("analytics"):
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{f.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "streamlit"]
    assert offenders == []


def test_importing_every_analytics_module_loads_no_streamlit():
    code = (
        "import importlib, pkgutil, sys, analytics\n"
        "for m in pkgutil.walk_packages(analytics.__path__, 'analytics.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('streamlit' in sys.modules)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


SQL_CALLS = {"sql", "raw_sql", "execute", "query"}


def test_no_sql_is_built_from_formatted_strings():
    offenders = []
    for folder in ("analytics", "app"):
        for f in py_files(folder):
            for node in ast.walk(ast.parse(f.read_text(), str(f))):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in SQL_CALLS:
                    for arg in node.args[:1]:
                        if isinstance(arg, ast.JoinedStr) or (
                                isinstance(arg, ast.BinOp) and isinstance(arg.op, (ast.Add, ast.Mod))) or (
                                isinstance(arg, ast.Call) and getattr(arg.func, "attr", None) == "format"):
                            offenders.append(f"{f.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_app_pages_live_in_views_not_pages():
    assert not (ROOT / "app" / "pages").exists()


# ----------------------------------------------------------------- the import graph

#: The layers of ``analytics/``, lowest first (see analytics/docs/architecture.md). A module
#: belongs to the layer of its longest listed prefix; it may import its own layer and the
#: ones below, never one above. The metric *catalogue* (what each metric is) sits below the
#: workspace, which validates metric names and directions against it; computing metrics over
#: a selection sits above the log and the query specs. The quality *catalogue* (its registry,
#: results and check files) sits below the workspace for the same reason; running the checks
#: (``analyses.quality.compute``) is an analysis. Names reserved for packages being
#: built (store, access, alerts, analyses.estimate/quality/recommend) have their layer already.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # the one formatter is pure (no imports): analyses word their findings with it (recommend.py)
    ("errors and results", ("analytics.errors", "analytics.results", "analytics.render.format")),
    ("statistics", ("analytics.stats",)),
    ("canonical columns", ("analytics.log.columns",)),
    ("metric catalogue", ("analytics.metrics", "analytics.metrics.registry", "analytics.metrics.definitions",
                          "analytics.metrics.queries", "analytics.metrics.rest")),
    ("quality catalogue", ("analytics.analyses.quality.registry", "analytics.analyses.quality.results",
                           "analytics.analyses.quality.checks")),
    ("config", ("analytics.config", "analytics.access")),
    ("log", ("analytics.log",)),
    ("store", ("analytics.store",)),
    ("query specs", ("analytics.query",)),
    ("metric computation", ("analytics.metrics.compute", "analytics.metrics.perclass")),
    ("analyses", ("analytics.analyses",)),
    ("alerts", ("analytics.alerts",)),
    ("render", ("analytics.render",)),
    ("sample", ("analytics.sample",)),
    ("cli", ("analytics.cli",)),
)

#: Imports inside functions, each with its reason (everything else is imported at the top).
LAZY_IMPORTS = {
    ("analytics.cli", "analytics.store"): "a command that does not query never loads Ibis (the engine comes "
                                          "from the store's open_engine)",
    ("analytics.cli.commands.generate", "analytics.sample"): "numpy and polars load only for `generate`",
    ("analytics.cli.commands.report", "analytics.render.report"):
        "the report loads after parsing; its press starts before the sections' heavy imports",
    ("analytics.log.backend", "analytics.log.spark"): "pyspark is an optional extra",
    ("analytics.config.compare", "analytics.metrics"): "the catalogue (Ibis, scipy) loads only when a metric is named",
    ("analytics.config.alerts", "analytics.metrics"): "the catalogue (Ibis, scipy) loads only when a metric is named",
    ("analytics.config.quality", "analytics.analyses.quality.checks"):
        "the quality checks (Ibis) load only when a model has [models.quality] or a quality run starts",
    ("analytics.render.report", "analytics.query.selection"):
        "the typesetting helper process imports analytics.render.report and must not load Ibis",
    ("analytics.render.report", "analytics.render.report.typeset"): "WeasyPrint loads in the press only",
    ("analytics.render.report", "analytics.render.report.sections"):
        "the analyses and charts load once the press (browser, typesetter) has started",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_nodes(tree) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return out


def import_edges():
    """(importer, imported, line, inside a function, type-checking only) for every import of an
    ``analytics`` module by an ``analytics`` module, found with ``ast`` (function bodies too)."""
    files = {module_name(f): f for f in py_files("analytics")}
    edges = []
    for mod, f in files.items():
        tree = ast.parse(f.read_text(), str(f))
        in_function = {id(n) for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                       for n in ast.walk(fn)}
        typing_only = _type_checking_nodes(tree)
        package = mod if f.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = ".".join(base[:len(base) - node.level + 1])
                    src = base + ("." + node.module if node.module else "")
                else:
                    src = node.module or ""
                targets = [f"{src}.{a.name}" if f"{src}.{a.name}" in files else src for a in node.names]
            else:
                continue
            for t in targets:
                while t not in files and "." in t:
                    t = t.rpartition(".")[0]
                if t in files and t != mod:
                    edges.append((mod, t, node.lineno, id(node) in in_function, id(node) in typing_only))
    return files, edges


def test_no_import_cycle_in_analytics():
    """Runtime imports (function-level ones included; type-checking-only ones are not
    executed) form no cycle: dependencies point one way."""
    files, edges = import_edges()
    graph = {m: set() for m in files}
    for a, b, _line, _fn, typing_only in edges:
        if not typing_only:
            graph[a].add(b)
    state: dict[str, int] = {}
    cycles = []

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert cycles == [], " | ".join(" -> ".join(c) for c in cycles)


def layer_of(module: str) -> int:
    best, best_len = None, -1
    for i, (_name, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best_len:
                best, best_len = i, len(p)
    return best


def test_every_module_has_a_layer():
    files, _ = import_edges()
    assert [m for m in files if m != "analytics" and layer_of(m) is None] == []


def test_a_lower_layer_never_imports_a_higher_one():
    _, edges = import_edges()
    bad = [f"{a}:{line} imports {b} ({LAYERS[layer_of(a)][0]} < {LAYERS[layer_of(b)][0]})"
           for a, b, line, _fn, _t in edges if layer_of(a) is not None and layer_of(b) is not None
           and layer_of(a) < layer_of(b)]
    assert bad == []


def test_function_level_imports_are_the_listed_lazy_ones():
    _, edges = import_edges()
    found = {(a, b) for a, b, _line, fn, _t in edges if fn}
    assert found - set(LAZY_IMPORTS) == set(), "import at the top of the module, or list it with its reason"
    assert set(LAZY_IMPORTS) - found == set(), "stale entry in LAZY_IMPORTS"


# ----------------------------------------------------------------- sizes

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

#: Modules and functions allowed over the limits, each with its reason. An entry whose
#: module or function has come under the limit fails the test (remove it).
SIZE_ALLOWED = {
    "analytics/analyses/compare/__init__.py::_compare_on": "runs the comparison's queries in one temporary "
                                                          "table, in the order the verdict needs them",
    "analytics/log/checks.py::check_columns": "one check per declared column role",
    "analytics/log/defect_counts.py::count_defects": "every defect counted in one aggregate",
    "analytics/log/joined.py::build_log": "the canonical log's columns for each task, in one select",
}


def test_module_and_function_sizes():
    over = {}
    for f in py_files("analytics"):
        rel = str(f.relative_to(ROOT))
        text = f.read_text()
        if len(text.split("\n")) > MAX_MODULE_LINES:
            over[rel] = len(text.split("\n"))
        for node in ast.walk(ast.parse(text, rel)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    over[f"{rel}::{node.name}"] = n
    assert {k: v for k, v in over.items() if k not in SIZE_ALLOWED} == {}, "split it, or allow it with a reason"
    assert [k for k in SIZE_ALLOWED if k not in over] == [], "stale entry in SIZE_ALLOWED"
    assert all(len(reason) > 20 for reason in SIZE_ALLOWED.values())
