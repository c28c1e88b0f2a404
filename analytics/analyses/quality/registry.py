"""The registry of data-quality checks: one :class:`QualityCheck` per check, declared in
its own file under :mod:`analytics.analyses.quality.checks`.

A check says what it is (name, title, what it measures, its unit), which columns it
applies to, its default ``warn`` / ``pull`` levels (and any other settings of
``[models.quality.<name>]``), how the levels read (``above``: a larger observed value
is worse; ``below``: a smaller one), and how it is computed:

* **column checks** (``scope = "numeric" | "categorical" | "column"``) add aggregates
  to the engine's two passes -- ``reference(v)`` over the reference window, and
  ``current(v, ref)`` per period (``ref``: that column's reference aggregates, as
  Python values, turned into literals) -- and ``evaluate(cur, ref, cfg)`` turns a
  period's aggregates into ``(observed, detail)``;
* **model checks** (``scope = "model"``) get the shared per-day counts and the
  run's context and return their findings themselves (``run(ctx)``).

The CLI (``lastmile quality``), the Data quality page, the PDF section and the docs
table read the registry; adding a check is adding one file under ``checks/``.
``analytics.analyses.quality.checks.CHECKS`` is the registry with every check loaded.

The registry and the checks are the quality *catalogue*: like the metric catalogue they
sit below the workspace (which validates ``[models.quality]`` against them), so a check
file imports nothing of the library above the canonical columns; what a model check
needs from the log comes through its :class:`~analytics.analyses.quality.compute.Context`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

SCOPES = ("numeric", "categorical", "column", "model")


@dataclass(frozen=True)
class QualityCheck:
    """One data-quality check (see the module docstring)."""

    name: str
    title: str
    measures: str                 # one sentence: what ``observed`` is
    scope: str                    # numeric | categorical | column | model
    unit: str = "share"           # share | ratio | factor | hours | count
    warn: float | None = None
    pull: float | None = None
    direction: str = "above"      # above: larger is worse; below: smaller is worse
    settings: Mapping[str, Any] = field(default_factory=dict)   # other keys and their defaults
    reference: Callable[..., dict] | None = None
    current: Callable[..., dict] | None = None
    evaluate: Callable[..., tuple] | None = None
    run: Callable[..., list] | None = None
    doc: str = ""

    def __post_init__(self):
        if self.scope not in SCOPES:
            raise ValueError(f"check {self.name}: scope {self.scope!r} is not one of {SCOPES}")
        if (self.scope == "model") != (self.run is not None):
            raise ValueError(f"check {self.name}: model checks define run(), column checks evaluate()")

    @property
    def defaults(self) -> dict[str, Any]:
        """Every setting of ``[models.quality.<name>]`` with its default."""
        return {"enabled": True, "warn": self.warn, "pull": self.pull, **dict(self.settings)}

    def level(self, observed: float | None, cfg: Mapping[str, Any]) -> tuple[str, float | None]:
        """``("pull" | "warn" | "ok", threshold crossed)`` for an observed value."""
        if observed is None:
            return "ok", None
        for lv in ("pull", "warn"):
            th = cfg.get(lv)
            if th is not None and (observed > th if self.direction == "above" else observed < th):
                return lv, th
        return "ok", None


@dataclass(frozen=True)
class Measure:
    """A column check's answer for one period: the observed value (None: not computed,
    ``text`` says why), a sentence fragment, details, and, for counts, the p-value of
    the difference from the reference (a level needs it below the check's ``alpha``)."""

    observed: float | None
    text: str
    details: Mapping[str, Any] = field(default_factory=dict)
    p_value: float | None = None


CHECKS: dict[str, QualityCheck] = {}


def register(check: QualityCheck) -> QualityCheck:
    if check.name in CHECKS:
        raise ValueError(f"quality check {check.name!r} registered twice")
    CHECKS[check.name] = check
    return check


