"""The `lastmile` command line (see CONTRACT.md section 2).

Each subcommand lives in ``analytics/cli/commands/<name>.py`` with two functions:
``add_parser(subparsers)`` and ``run(args, ctx) -> int``; they are discovered
automatically. Errors caused by input are :class:`LastmileError`: one sentence
on stderr, exit status 2, never a traceback.

A command line that names a command imports that command's module only (the
others may import the whole library: Ibis, scipy, plotly), so a light command
starts light and ``lastmile report`` starts its browser and typesetting helper
before the heavy imports. Anything else (help, a typo) builds the full parser.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from analytics.config.workspace import Workspace, find_config, load_workspace
from analytics.errors import InternalError, LastmileError
from analytics.render.output import FORMATS
from . import commands as _commands_pkg

if TYPE_CHECKING:
    from analytics.log.engine import Engine


@dataclass
class Context:
    """What a command needs: the workspace, the engine, where to print."""

    args: argparse.Namespace
    config_path: Path
    _workspace: Workspace | None = None
    _engine: Engine | None = None

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = load_workspace(self.config_path)
        return self._workspace

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from analytics.store import open_engine  # lazy: Ibis loads only for commands that query

            # a command is short-lived: small logs are joined once and queried in memory;
            # a model's log is read from the store when it answers exactly (unless --no-store)
            self._engine = open_engine(self.workspace, not getattr(self.args, "no_store", False),
                                       snapshot=True)
        return self._engine

    @property
    def fmt(self) -> str:
        return getattr(self.args, "format", "table")

    def out(self, text: str) -> None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")

    def warn(self, text: str) -> None:
        sys.stderr.write(text.rstrip("\n") + "\n")

    def warn_data(self, model: str) -> None:
        """Print the row-level defects of ``model`` that queries work around."""
        for w in self.engine.data_warnings(model):
            self.warn(str(w))


def add_common(p: argparse.ArgumentParser, formats: bool = True) -> None:
    """--config (every command) and --format (commands that print results)."""
    p.add_argument("--config", metavar="PATH", help="workspace file (default: $LASTMILE_CONFIG, "
                   "./lastmile.toml, then the bundled sample workspace)")
    p.add_argument("--no-store", action="store_true", help="read the raw logs, not the incremental store")
    if formats:
        p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")


def add_selection(p: argparse.ArgumentParser, model: bool = True) -> None:
    """--model, --start, --end, --where: the contract's selection flags."""
    if model:
        p.add_argument("--model", required=True, metavar="M", help="model name")
    p.add_argument("--start", metavar="ISO", help="first timestamp included (date or datetime)")
    p.add_argument("--end", metavar="ISO", help="first timestamp excluded (date or datetime)")
    p.add_argument("--where", action="append", default=[], metavar="COL=VALUE",
                   help="keep rows whose segment COL equals VALUE (repeatable)")


def command_names() -> list[str]:
    """The subcommands, from the module names (nothing is imported)."""
    return sorted(info.name for info in pkgutil.iter_modules(_commands_pkg.__path__)
                  if not info.name.startswith("_"))


def command_modules(names: list[str] | None = None):
    for name in command_names() if names is None else names:
        yield importlib.import_module(f"{_commands_pkg.__name__}.{name}")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv`` whose first word is a command, only that command's."""
    parser = argparse.ArgumentParser(
        prog="lastmile",
        description="Lastmile: monitor ML models in production from the logs they already write.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    names = command_names()
    if argv and argv[0] in names:
        names = [argv[0]]
    for mod in command_modules(names):
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    config = find_config(getattr(args, "config", None), os.environ.get("LASTMILE_CONFIG"))
    ctx = Context(args=args, config_path=config)
    try:
        return int(args._run(args, ctx) or 0)
    except LastmileError as exc:
        sys.stderr.write(f"error: {exc.message}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug, not bad input: say so in one line, keep the trace on demand
        if os.environ.get("LASTMILE_DEBUG"):
            raise
        what = str(exc) if isinstance(exc, InternalError) else f"{type(exc).__name__}: {exc}"
        sys.stderr.write(f"internal error: {what} "
                         "(set LASTMILE_DEBUG=1 for the traceback, and please report it)\n")
        return 1


#: The collector's thresholds for a command's process (Python's default is 700, 10, 10).
#: Ibis and WeasyPrint allocate hundreds of thousands of short-lived objects; at the
#: default, full collections re-scan them over and over (0.5 s of a report's 10 s).
GC_THRESHOLDS = (10_000, 10, 10)


def run() -> None:
    """The ``lastmile`` executable: :func:`main` in a process tuned for one command.

    A larger garbage-collection threshold (:data:`GC_THRESHOLDS`), and a quick exit:
    once the output is flushed and the exit handlers have run, the process ends without
    tearing down every module and object one by one (0.45 s after a report). Only the
    executable does this; :func:`main` itself changes nothing in the caller's process.
    """
    import atexit
    import gc

    gc.set_threshold(*GC_THRESHOLDS)
    code = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
