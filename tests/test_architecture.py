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
