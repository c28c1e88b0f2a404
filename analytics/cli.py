"""The `lastmile` command line (see CONTRACT.md section 2).

Each subcommand lives in ``analytics/commands/<name>.py`` with two functions:
``add_parser(subparsers)`` and ``run(args, ctx) -> int``; they are discovered
automatically. Errors caused by input are :class:`LastmileError`: one sentence
on stderr, exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from dataclasses import dataclass
from pathlib import Path

from . import commands as _commands_pkg
from .engine import Engine
from .errors import LastmileError
from .output import FORMATS
from .workspace import Workspace, find_config, load_workspace


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
            # a command is short-lived: small logs are joined once and queried in memory
            self._engine = Engine(self.workspace, snapshot=True)
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


def command_modules():
    for info in sorted(pkgutil.iter_modules(_commands_pkg.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{_commands_pkg.__name__}.{info.name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lastmile",
        description="Lastmile: monitor ML models in production from the logs they already write.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod in command_modules():
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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
        sys.stderr.write(f"internal error: {type(exc).__name__}: {exc} "
                         "(set LASTMILE_DEBUG=1 for the traceback, and please report it)\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
