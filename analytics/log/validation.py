"""`lastmile validate`: check every model's files, columns and rows; list each problem.

Problems come in three kinds, all reported at once:
- the workspace file itself (unknown keys, missing keys, task mismatches);
- files and columns (missing files, corrupt Parquet, absent or mistyped columns);
- row-level defects with their counts (NaN scores, labels outside the classes,
  string labels none of which is the positive one, null or implausible timestamps,
  prediction ids repeated within a version, outcomes that match no prediction,
  duplicated outcomes); the rules are in :mod:`analytics.log.defects`.
Duplicated outcomes and features without values are reported as notes; every
other finding makes validation fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis

from analytics.config.workspace import ModelSpec, Workspace, load_workspace
from analytics.errors import ConfigError, LastmileError
from .checks import check_columns
from .defect_counts import count_defects
from .defects import null_features
from .engine import Engine


@dataclass(frozen=True)
class ModelReport:
    model: str
    rows: int | None = None
    outcome_rows: int | None = None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ValidationReport:
    config: str
    config_problems: tuple[str, ...] = ()
    models: tuple[ModelReport, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.config_problems and all(m.ok for m in self.models)

    @property
    def problems(self) -> list[str]:
        return list(self.config_problems) + [p for m in self.models for p in m.problems]

    def to_dict(self) -> dict:
        return {
            "config": self.config, "ok": self.ok,
            "config_problems": list(self.config_problems),
            "models": {m.model: {"ok": m.ok, "rows": m.rows, "outcome_rows": m.outcome_rows,
                                 "problems": list(m.problems), "notes": list(m.notes)}
                       for m in self.models},
        }


def validate_path(path) -> ValidationReport:
    """Load the workspace at ``path`` and validate it, collecting every problem."""
    try:
        ws = load_workspace(path)
    except ConfigError as exc:
        return ValidationReport(config=str(path), config_problems=exc.problems)
    return validate(ws, Engine(ws))


def validate(ws: Workspace, engine: Engine) -> ValidationReport:
    return ValidationReport(config=str(ws.path), models=tuple(validate_model(engine, m) for m in ws.models))


def validate_model(engine: Engine, spec: ModelSpec) -> ModelReport:
    problems: list[str] = []
    notes: list[str] = []
    pred = out = None
    for role in ("predictions", "outcomes"):
        if role == "outcomes" and not spec.outcomes:
            continue
        try:
            t = engine.raw(spec, role)
        except LastmileError as exc:
            problems.append(str(exc))
            continue
        if role == "predictions":
            pred = t
        else:
            out = t
    if pred is None or (spec.outcomes and out is None):
        return ModelReport(spec.name, problems=tuple(problems))
    col_problems = check_columns(spec, pred.schema(), out.schema() if out is not None else None,
                                 f"the predictions of model {spec.name!r}",
                                 f"the outcomes of model {spec.name!r}" if out is not None else None)
    if col_problems:
        return ModelReport(spec.name, problems=tuple(problems + col_problems))
    try:
        rows = int(engine.execute(pred.aggregate(n=pred.count()), spec).column(0)[0].as_py())
        out_rows = None
        for w in count_defects(engine, spec):
            if w.count:
                problems.append(f"Model {spec.name!r}: {w.message}")
        for f in null_features(engine, spec):
            notes.append(f"Feature {f!r} has no values (Parquet type null); drift leaves it out.")
        if out is not None:
            c = spec.columns
            out_rows = int(engine.execute(out.aggregate(n=out.count()), spec).column(0)[0].as_py())
            ids = pred.select(_lm_pid=pred[c.id]).distinct()
            unmatched = out.anti_join(ids, out[c.id] == ids._lm_pid)
            n_un = int(engine.execute(unmatched.aggregate(n=unmatched.count()), spec).column(0)[0].as_py())
            if n_un:
                problems.append(f"Model {spec.name!r}: {n_un:,} outcomes match no prediction "
                                f"(by {c.id!r}); they are ignored.")
            dup = out.group_by(out[c.id]).aggregate(k=out.count()).filter(ibis._.k > 1)
            n_dup = int(engine.execute(dup.aggregate(n=dup.count()), spec).column(0)[0].as_py())
            if n_dup:
                rule = "latest label_timestamp" if c.label_timestamp else "largest label"
                notes.append(f"{n_dup:,} ids have several outcomes; the one with the {rule} is used.")
        if spec.shadow:
            known = engine.versions(spec)
            problems.extend(f"Model {spec.name!r}: [models] shadow names version {v!r}, which is not in "
                            f"its log (versions: {', '.join(known) or 'none'})." for v in spec.shadow if v not in known)
    except LastmileError as exc:
        problems.append(str(exc))
        return ModelReport(spec.name, problems=tuple(problems))
    return ModelReport(spec.name, rows=rows, outcome_rows=out_rows, problems=tuple(problems), notes=tuple(notes))
