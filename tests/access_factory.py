"""A two-model team workspace with sign-in (issue #21): ``binary_model`` (hostile names, see
tests/hostile.py) for group ``risk`` and ``secret_model`` for group ``ops``."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from .factories import write_toml
from .hostile import hostile_workspace

SECRET = "secret_model"
SECRET_DESCRIPTION = "Confidential: the ops team's model"
COOKIE_SECRET = "a-cookie-secret-for-tests-only-0123456789"
CLIENT_SECRET = "client-secret-for-tests"
#: the `lastmile` command in a fresh process (whatever the CLI package's layout)
LASTMILE = [sys.executable, "-c", "import sys; from analytics.cli import main; sys.exit(main(sys.argv[1:]))"]


def team_workspace(folder: Path, auth: str, grants: str | None = None, n: int = 1500) -> Path:
    """``folder/lastmile.toml`` with the two models, ``auth`` (the ``[auth]`` table's body)
    and ``grants`` (default: risk -> binary_model as analyst, ops -> secret_model as viewer,
    boss@example.com -> every model as admin)."""
    config = hostile_workspace(folder, n=n)
    (m,) = tomllib.loads(config.read_text())["models"]
    other = dict(m, name=SECRET, description=SECRET_DESCRIPTION)
    write_toml(config, [m, other])
    if grants is None:
        grants = """
[[access.grant]]
groups = ["risk"]
models = ["binary_model"]
role = "analyst"

[[access.grant]]
groups = ["ops"]
models = ["secret_model"]
role = "viewer"

[[access.grant]]
emails = ["Boss@Example.com"]
models = ["*"]
role = "admin"
"""
    config.write_text(config.read_text() + f"\n[auth]\n{auth}\n{grants}")
    return config
