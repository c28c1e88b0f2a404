"""Where Lastmile keeps what it derives: one folder per workspace, never beside the logs.

The incremental store, the verdict history and the audit trail all live in the
workspace's *state folder*. Its default is ``<cache root>/<workspace stem>-<hash>``,
where the cache root is ``$LASTMILE_CACHE_DIR``, else ``$XDG_CACHE_HOME/lastmile``,
else ``~/.cache/lastmile``, and the hash (8 hex digits of the workspace file's
absolute path) keeps two workspaces called ``lastmile.toml`` apart.

The environment is read only by :func:`cache_root`, which callers (the CLI, the
app) invoke and pass down; the library's functions take the folder explicitly.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["cache_root", "state_dir"]


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    """The folder under which every workspace's state folder is made."""
    env = os.environ if environ is None else environ
    if env.get("LASTMILE_CACHE_DIR"):
        return Path(env["LASTMILE_CACHE_DIR"]).expanduser()
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]).expanduser() / "lastmile"
    return Path.home() / ".cache" / "lastmile"


def state_dir(workspace_path: str | Path | None, root: Path) -> Path:
    """The state folder of the workspace read from ``workspace_path`` (``None``: an
    in-memory workspace, which gets ``<root>/unsaved``)."""
    if workspace_path is None:
        return root / "unsaved"
    p = Path(workspace_path).resolve()
    digest = hashlib.sha1(str(p).encode("utf-8")).hexdigest()[:8]
    return root / f"{p.stem}-{digest}"
