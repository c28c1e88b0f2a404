"""``drifted_features`` (the share of features the drift rule flags, each named with the
rule's numbers and ranked by the importance proxy) and ``prediction_psi`` (the
score/prediction flagged by the same rule), on the champion's current week."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

from analytics.config.workspace import ModelSpec
from analytics.errors import EmptySelectionError, LastmileError
from analytics.log.engine import Engine
from analytics.query.selection import Selection
from ...drift import compute_drift
from analytics.render import format as fmt

from ...drift.importance import feature_importance
from ..reasons import crossed
from .registry import HealthRule, register_rule

if TYPE_CHECKING:
    from ..context import HealthContext


def evaluate(ctx: HealthContext) -> None:
    """``drifted_features`` and ``prediction_psi`` on the champion's current week."""
    engine, spec, chk, ref_sel, champion = ctx.engine, ctx.spec, ctx.findings, ctx.ref_sel, ctx.champion
    cur_start, cur_end, ref_period, cur_period = ctx.cur_start, ctx.cur_end, ctx.ref_period, ctx.cur_period
    rf, rp = ctx.cfg.rules["drifted_features"], ctx.cfg.rules["prediction_psi"]
    if not (rf["enabled"] or rp["enabled"]):
        return
    cur = Selection.build(spec.name, cur_start, cur_end, (champion,))
    try:
        try:
            res = compute_drift(engine, spec, ref_sel.replace(versions=(champion,)), cur)
        except EmptySelectionError:  # the champion is newer than the reference: compare with all of it
            res = compute_drift(engine, spec, ref_sel.replace(versions=()), cur)
    except LastmileError as exc:
        chk.info("drift", cur_period, f"Drift of {champion} cannot be measured against the reference "
                 f"({ref_period}): {exc}", version=champion)
        return
    if rf["enabled"] and res.features:
        drifted = res.drifted_features
        share = len(drifted) / len(res.features)
        level, th = crossed(share, rf["warn"], rf["pull"], below=False)
        details = _drift_details(engine, spec, res, drifted, ref_sel, cur) if drifted else []
        listed = "; ".join(_detail_text(d) for d in details)
        if level is None and drifted:  # a drifted feature below the share threshold: worth a note
            chk.info("drifted_features", cur_period, f"{champion}: drifted feature(s): {listed}; "
                     f"{fmt.pct(share, 0)} of the features (warn from {fmt.pct(rf['warn'], 0)}).", version=champion)
        elif level:
            chk.add("drifted_features", None, share, th, level, cur_period,
                    f"{champion}: {len(drifted)} of {len(res.features)} features drifted in {cur_period} against "
                    f"the reference {ref_period}, by the drift rule{_ranked(details)}: {listed}; {level} from "
                    f"{fmt.pct(th, 0)} of the features.", champion, details)
    pred = res.prediction
    if rp["enabled"] and pred is not None and pred.drifted and rp["warn"] is not None:
        level, th = "warn", res.config.psi_threshold
        if rp["pull"] is not None and pred.psi is not None and pred.psi >= rp["pull"]:
            level, th = "pull", rp["pull"]
        chk.add("prediction_psi", "psi", pred.psi, th, level, cur_period,
                f"{champion}: the distribution of its predictions shifted in {cur_period} against the "
                f"reference {ref_period}: {pred.name} {pred.why} (drift rule: {pred.rule}); {level}.", champion,
                [{"feature": pred.name, "role": "prediction", "why": pred.why, "rule": pred.rule,
                  "psi": pred.psi}])


def _drift_details(engine: Engine, spec: ModelSpec, res, drifted: Sequence[str], ref_sel: Selection,
                   cur: Selection) -> list[dict[str, Any]]:
    """Per drifted feature: the rule's sentence and the importance proxy, most important first
    (features whose importance cannot be computed last, by name)."""
    out = []
    for name in drifted:
        f = res.features[name]
        try:
            imp = feature_importance(engine, spec, name, res.reference or ref_sel, res.current or cur)
        except LastmileError as exc:
            imp = None
            why_not = str(exc)
        out.append({"feature": name, "why": f.why, "rule": f.rule, "psi": f.psi,
                    "importance": imp.value if imp else None,
                    "importance_metric": imp.metric if imp else None,
                    "importance_worse": imp.worse if imp else None,
                    "importance_reason": imp.reason if imp else why_not})
    return sorted(out, key=lambda d: (d["importance"] is None, -(d["importance"] or 0.0), d["feature"]))


def _ranked(details: Sequence[Mapping[str, Any]]) -> str:
    metric = next((d["importance_metric"] for d in details if d["importance"] is not None), None)
    return f", most important for {metric} first" if metric and len(details) > 1 else ""


def _detail_text(d: Mapping[str, Any]) -> str:
    """"income: normed Wasserstein 0.36 >= 0.2 (moves roc_auc by 0.0016)"."""
    if d["importance"] is None:
        return f"{d['feature']}: {d['why']}"
    sign = "" if d["importance_worse"] is None else (" for the worse" if d["importance_worse"] else "")
    return (f"{d['feature']}: {d['why']} (its shift alone moves {d['importance_metric']} by "
            f"{fmt.sig(d['importance'], 2)}{sign})")


register_rule(HealthRule("drifted_features", "current", "features the drift rule flags (a share of them), and "
                         "the prediction it flags (prediction_psi), on the champion's current week", evaluate,
                         settings="drifted_features"))
