"""Roles of a model's versions: **serving** (its decisions act) or **shadow** (it
scores requests another version decides; its decisions act on nothing).

A version is shadow when

* **declared**: ``[models] shadow = ["v3"]`` in the workspace (declared wins); or
* **detected**: at least :data:`SHADOW_SHARE` (99.9%) of its distinct ids are also
  scored by versions that remain serving. 99.9% rather than 100% tolerates a
  handful of ids whose live row was lost or filtered out of the log.

Detection runs ONE aggregate in the engine over the model's whole log (not the
selection: a role belongs to the deployment, not to a date filter): per id, the
set of versions that scored it as a bitmask, and the number of ids per bitmask
(a handful of rows). The rest is pure Python (:func:`assign_roles`).

**Ties.** When versions cover each other (two versions that both score every
request share 100% of their ids), not all of them can be shadows: someone decided.
Candidates are examined from the *least* likely to be serving to the most:
latest first prediction first, then fewer rows, then the greater name. Each is
made shadow only if its ids are covered by the versions still serving *other than
itself*; so of two mirror versions the one that started first (or, started
together, has more rows; or the smaller name) stays serving. A version scoring
every request while two others split the traffic is the shadow when it started
last (the usual rollout); when that guess is wrong, declare the roles.

A version that was shadow and then promoted scores ids nobody else scores, so it
reads as serving over the whole log (roles do not change over time). Models without
an id column cannot be detected (only declared roles apply). Declared names that
are not in the log are reported in :attr:`Roles.warnings`.

Roles are cached per engine and model (like ``Engine.versions``).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import ibis

from analytics.config.workspace import ModelSpec
from analytics.log.columns import C
from analytics.log.engine import Engine
from analytics.query.selection import Selection
from analytics.results import record

SERVING = "serving"
SHADOW = "shadow"
#: Share of a version's distinct ids that must be scored by serving versions too.
SHADOW_SHARE = 0.999
#: Bitmask detection handles up to this many versions (int64 masks).
MAX_VERSIONS = 62


@dataclass(frozen=True)
class VersionRole:
    version: str
    role: str                       # "serving" | "shadow"
    reason: str                     # "declared" | "detected" | "" (serving)
    n_ids: int | None = None        # distinct ids (None: not detected)
    shared: float | None = None     # share of its ids scored by another version too
    first: object = None            # first prediction timestamp
    rows: int | None = None

    def to_dict(self) -> dict:
        return record(self, drop=("first", "rows"), reason=self.reason or None)


@dataclass(frozen=True)
class Roles(Mapping):
    """``version -> "serving" | "shadow"``, with the reasons in :attr:`detail`."""

    model: str
    detail: Mapping[str, VersionRole]
    warnings: tuple[str, ...] = ()
    #: why detection did not run (no id column, too many versions), else None
    detection: str | None = None

    def __getitem__(self, version: str) -> str:
        return self.detail[version].role

    def __iter__(self) -> Iterator[str]:
        return iter(self.detail)

    def __len__(self) -> int:
        return len(self.detail)

    def role(self, version) -> str:
        """The role of ``version`` ("serving" for a version unknown here)."""
        d = self.detail.get(str(version)) if version is not None else None
        return d.role if d else SERVING

    @property
    def serving(self) -> tuple[str, ...]:
        return tuple(v for v, d in self.detail.items() if d.role == SERVING)

    @property
    def shadow(self) -> tuple[str, ...]:
        return tuple(v for v, d in self.detail.items() if d.role == SHADOW)

    def describe(self, versions=None) -> str:
        """``"v1, v2 (serving)"``: the serving versions among ``versions`` (all by default)."""
        keep = self.serving if versions is None else tuple(v for v in versions if self.role(v) == SERVING)
        return f"{', '.join(keep) or 'none'} (serving)"

    def to_dict(self) -> dict:
        return {"serving": list(self.serving), "shadow": list(self.shadow),
                "versions": {v: d.to_dict() for v, d in self.detail.items()}}


def assign_roles(model: str, versions: tuple[str, ...], declared: tuple[str, ...],
                 masks: Mapping[int, int] | None, first: Mapping[str, object] | None = None,
                 rows: Mapping[str, int] | None = None, share: float = SHADOW_SHARE,
                 detection: str | None = None) -> Roles:
    """Roles from the id-overlap aggregate (pure).

    ``masks``: ``{bitmask: ids}``, bit i set when ``versions[i]`` scored the id
    (None: no detection). ``first``/``rows``: first prediction and row count per
    version, for the tie rule.
    """
    first = first or {}
    rows = rows or {}
    warnings = tuple(f"[models] shadow names version {v!r}, which is not in the log of model {model!r}"
                     for v in declared if v not in versions)
    bit = {v: 1 << i for i, v in enumerate(versions)}
    n_ids = {v: sum(n for m, n in (masks or {}).items() if m & bit[v]) for v in versions}
    shared_any = {v: (sum(n for m, n in (masks or {}).items() if m & bit[v] and m & ~bit[v]) / n_ids[v])
                  if n_ids[v] else None for v in versions}

    def covered(v: str, by: set[str]) -> float:
        if not masks or not n_ids[v]:
            return 0.0
        others = sum(bit[w] for w in by if w != v)
        return sum(n for m, n in masks.items() if m & bit[v] and m & others) / n_ids[v]

    role = {v: (SHADOW, "declared") if v in declared else (SERVING, "") for v in versions}
    if masks is not None:
        serving = {v for v in versions if role[v][0] == SERVING}
        cands = [v for v in serving if shared_any[v] is not None and shared_any[v] >= share]

        def order(v: str):  # least likely serving first: latest start, fewer rows, greater name
            f = first.get(v)
            return (f is not None, f if f is not None else 0, -rows.get(v, 0), v)

        for v in sorted(cands, key=order, reverse=True):
            if len(serving) > 1 and covered(v, serving) >= share:
                serving.discard(v)
                role[v] = (SHADOW, "detected")
    detail = {v: VersionRole(v, role[v][0], role[v][1], n_ids[v] if masks is not None else None,
                             shared_any[v] if masks is not None else None, first.get(v), rows.get(v))
              for v in versions}
    return Roles(model=model, detail=detail, warnings=warnings, detection=detection)


_cache: "weakref.WeakKeyDictionary[Engine, dict[str, Roles]]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def version_roles(engine: Engine, model: str | ModelSpec) -> Roles:
    """The roles of the model's versions (one aggregate query, cached per engine)."""
    spec = engine.spec(model)
    with _lock:
        hit = _cache.get(engine, {}).get(spec.name)
    if hit is not None:
        return hit
    versions = engine.versions(spec)
    t = engine.log(spec)
    stats = t.group_by(v=t[C.VERSION]).aggregate(first=t[C.TS].min(), rows=t.count())
    st = {str(r["v"]): r for r in engine.execute(stats, spec).to_pylist() if r["v"] is not None}
    first = {v: st[v]["first"] for v in st}
    nrows = {v: int(st[v]["rows"]) for v in st}
    masks: dict[int, int] | None = None
    why = None
    if not spec.columns.id:
        why = "the model declares no id column, so shadows can only be declared"
    elif len(versions) > MAX_VERSIONS:
        why = f"more than {MAX_VERSIONS} versions: shadows can only be declared"
    elif len(versions) > 1:
        bits = ibis.cases(*[(t[C.VERSION] == ibis.literal(v), ibis.literal(1 << i, type="int64"))
                            for i, v in enumerate(versions)], else_=ibis.literal(0, type="int64"))
        pairs = t.filter(t[C.ID].notnull()).select(i=t[C.ID], b=bits).distinct()
        per_id = pairs.group_by("i").aggregate(m=pairs.b.sum())
        agg = per_id.group_by("m").aggregate(n=per_id.count())
        masks = {int(r["m"]): int(r["n"]) for r in engine.execute(agg, spec).to_pylist()}
    else:
        masks = {}
    roles = assign_roles(spec.name, versions, tuple(spec.shadow), masks, first, nrows, detection=why)
    with _lock:
        _cache.setdefault(engine, {})[spec.name] = roles
    return roles


def pooled_selection(engine: Engine, selection: Selection) -> tuple[Selection, str]:
    """The selection a pooled tile reads, and the words saying what it pools.

    By default (no version chosen) the serving versions: a shadow's re-scores are
    not traffic and its metrics are not the deployment's. Versions chosen explicitly
    are pooled as chosen, shadows left out unless only shadows are chosen.
    """
    roles = version_roles(engine, selection.model)
    chosen = tuple(selection.versions) or tuple(roles)
    serving = tuple(v for v in chosen if roles.role(v) == SERVING)
    caption = pooled_caption(roles, chosen)
    if serving and len(serving) < len(chosen):
        return selection.replace(versions=serving), caption
    return selection, caption


def pooled_caption(roles: Roles, versions=None) -> str:
    """``"pooled over v1, v2 (serving); v3 (shadow) left out"``."""
    vs = tuple(versions) if versions is not None else tuple(roles)
    serving = [v for v in vs if roles.role(v) == SERVING]
    shadow = [v for v in vs if roles.role(v) == SHADOW]
    if not serving:
        return f"pooled over {', '.join(shadow)} (shadow: chosen alone)"
    text = f"pooled over {', '.join(serving)} (serving)"
    if shadow:
        text += f"; {', '.join(shadow)} (shadow) left out"
    return text


__all__ = ["SERVING", "SHADOW", "SHADOW_SHARE", "Roles", "VersionRole", "assign_roles",
           "version_roles", "pooled_caption"]
