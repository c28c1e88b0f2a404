"""`lastmile serve`: start the dashboard, hardened, with the workspace's sign-in.

The bind rules (which ``[auth] provider`` may listen where) are
:func:`analytics.access.bind.check_bind`: a refusal is one sentence and exit 2.
With ``provider = "oidc"`` the sign-in settings Streamlit's ``st.login`` reads are
written, private (0600), into the workspace's state folder and Streamlit is
pointed at that file (``--secrets.files``).
"""

import os
import sys
from pathlib import Path

from analytics.access.bind import check_bind, oidc_secrets, streamlit_flags, write_private
from analytics.cli import add_common
from analytics.config.cachedir import cache_root, state_dir


def add_parser(sub):
    p = sub.add_parser("serve", help="start the dashboard (Streamlit); 127.0.0.1 unless [auth] signs users in")
    add_common(p, formats=False)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1); another address "
                        "needs [auth] in the workspace (analytics/docs/deploy.md)")
    p.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    return p


#: Streamlit's secrets file for st.login, in the workspace's state folder.
SECRETS_FILE = "streamlit-auth.toml"


def command(ws, host: str, port: int, environ) -> tuple[list[str], dict[str, str]]:
    """The ``streamlit run`` command line and its environment (refuses a bind the workspace forbids)."""
    check_bind(ws.auth, host)
    app = Path(__file__).resolve().parents[3] / "app" / "main.py"
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), *streamlit_flags(ws.auth, host, port)]
    secrets = state_dir(ws.path, cache_root(environ)) / SECRETS_FILE
    if ws.auth.provider == "oidc":
        write_private(secrets, oidc_secrets(ws.auth, environ, host, port))
    elif secrets.exists():  # a previous OIDC start: sign-in is off now
        secrets.unlink()
    # only our file: a ~/.streamlit/secrets.toml with its own [auth] must not switch sign-in on or off
    cmd += ["--secrets.files", str(secrets)]
    env = dict(environ, LASTMILE_CONFIG=str(Path(ws.path).resolve()),
               # a team's server computes every model's filter-free answers ahead (app/resources.py)
               LASTMILE_PRECOMPUTE=environ.get("LASTMILE_PRECOMPUTE", "1"),
               # the peer address the app sees is the TCP peer's (uvicorn would otherwise take a
               # loopback peer's X-Forwarded-For): the header provider checks it against trusted_proxies
               FORWARDED_ALLOW_IPS="0.0.0.0/32")
    return cmd, env


def run(args, ctx) -> int:
    ws = ctx.workspace  # fail early, with the clear message, on a bad workspace
    cmd, env = command(ws, args.host, args.port, os.environ)
    where = f"http://{args.host}:{args.port}"
    ctx.warn(f"Lastmile dashboard on {where} (workspace {ctx.config_path}, sign-in: {ws.auth.provider}); "
             "Ctrl+C stops it.")
    sys.stderr.flush()
    # Become Streamlit (no child process): Ctrl+C and SIGTERM from a supervisor reach it directly.
    os.chdir(Path(cmd[4]).parent.parent)
    os.execve(sys.executable, cmd, env)
    return 0  # pragma: no cover - execve does not return
