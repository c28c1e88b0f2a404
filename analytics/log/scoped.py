"""An engine that knows only some models: what a signed-in user's pages query through.

:func:`scoped_engine` returns a view of a shared :class:`~analytics.log.engine.Engine`
(same connections, snapshots, caches) whose workspace is
:meth:`Workspace.restricted <analytics.config.workspace.Workspace.restricted>` to the
user's models. Every library call that names a model goes through
``engine.spec(name)`` -> ``workspace.model(name)``, so a model outside the view is
an :class:`~analytics.errors.UnknownModelError` with the same sentence as a model
that does not exist (the view lists only the user's models), and a portfolio
report iterates only the user's models.
"""

from __future__ import annotations

from analytics.config.workspace import Workspace
from analytics.log.engine import Engine


class ScopedEngine(Engine):
    """A view of ``base`` through ``workspace``: methods run on the view (so they see its
    workspace); every other attribute (connections, locks, snapshots) is the base's."""

    def __init__(self, base: Engine, workspace: Workspace):  # noqa: D107 - no Engine.__init__: share base's state
        object.__setattr__(self, "_base", base.base if isinstance(base, ScopedEngine) else base)
        object.__setattr__(self, "workspace", workspace)

    @property
    def base(self) -> Engine:
        return self.__dict__["_base"]

    def __getattr__(self, name: str):
        return getattr(self.__dict__["_base"], name)

    def __setattr__(self, name: str, value) -> None:
        if name == "workspace":
            raise AttributeError("a scoped engine's workspace is fixed")
        setattr(self.__dict__["_base"], name, value)


def scoped_engine(base: Engine, models: tuple[str, ...] | list[str]) -> Engine:
    """``base`` restricted to ``models`` (the whole engine when they are all its models)."""
    ws = base.workspace
    if tuple(models) == ws.model_names:
        return base
    return ScopedEngine(base, ws.restricted(models))
