"""`lastmile serve`: start the dashboard on 127.0.0.1."""

import os
import sys
from pathlib import Path

from analytics.cli import add_common


def add_parser(sub):
    p = sub.add_parser("serve", help="start the dashboard (Streamlit) on 127.0.0.1")
    add_common(p, formats=False)
    p.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    return p


def run(args, ctx) -> int:
    ctx.workspace  # fail early, with the clear message, on a bad workspace  # noqa: B018
    app = Path(__file__).resolve().parents[3] / "app" / "main.py"
    env = dict(os.environ, LASTMILE_CONFIG=str(ctx.config_path.resolve()))
    cmd = [sys.executable, "-m", "streamlit", "run", str(app),
           "--server.address", "127.0.0.1", "--server.port", str(args.port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    ctx.warn(f"Lastmile dashboard on http://127.0.0.1:{args.port} (workspace {ctx.config_path}); Ctrl+C stops it.")
    sys.stderr.flush()
    # Become Streamlit (no child process): Ctrl+C and SIGTERM from a supervisor reach it directly.
    os.chdir(app.parent.parent)
    os.execve(sys.executable, cmd, env)
    return 0  # pragma: no cover - execve does not return
