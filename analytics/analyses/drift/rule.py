"""The drift decision, in one place: which numbers flag a target as drifted, and why.

One :class:`DriftRule` per kind, built from ``[models.drift]``
(:meth:`DriftRule.for_kind`); every consumer (the CLI table and JSON, the
dashboard, the charts' threshold lines, the health reasons, the PDF) reads
its thresholds and its sentence from here. The user's description is the
"decision" section of ``analytics/docs/drift.md``:

* **effect sizes decide**: numeric targets drift when ``psi >= psi_threshold``
  (0.2) or ``wasserstein_normed >= wasserstein_threshold`` (0.2 reference
  standard deviations); categorical targets when ``psi >= psi_threshold`` or
  ``js_distance >= js_threshold`` (0.1);
* **p-values only where n is small**: while either window holds fewer than
  ``large_n`` values (1,000), the effect must in addition be confirmed by the
  test (``ks_p_value`` / ``chi2_p_value < p_value_threshold``, 0.01) -- at
  small n an effect size can be large by chance alone (PSI's bias grows like
  bins / n); at large n every test rejects, so the test is not consulted.

The same thresholds apply at every n, so a chart can draw them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from analytics.render import format as fmt

__all__ = ["DriftRule", "Decision", "LABELS"]

#: How each statistic is named in sentences ("PSI 0.23 >= 0.2"; the numbers by
#: :func:`analytics.render.format.against`, 2 significant digits, more near the threshold).
LABELS = {
    "psi": "PSI",
    "wasserstein_normed": "normed Wasserstein",
    "js_distance": "JS distance",
    "ks_p_value": "KS p",
    "chi2_p_value": "chi-square p",
}


@dataclass(frozen=True)
class Decision:
    """What the rule says about one target: ``method``, ``drifted`` and the sentence ``why``."""

    method: str
    drifted: bool
    why: str


@dataclass(frozen=True)
class DriftRule:
    """The default decision for one kind of target (numeric or categorical).

    ``effects`` are ``(statistic, threshold)`` pairs: the target drifts when
    any statistic reaches its threshold (``>=``). While either window holds
    fewer than ``large_n`` values, ``test < p_value_threshold`` is also required.
    """

    kind: str
    name: str                                   # the ``method`` at large n (small n: ks | chi2)
    effects: tuple[tuple[str, float], ...]
    test: str                                   # ks_p_value | chi2_p_value
    p_value_threshold: float
    large_n: int

    @classmethod
    def for_kind(cls, kind: str, cfg: Any) -> "DriftRule":
        """The rule for ``kind`` with the thresholds of a :class:`~analytics.analyses.drift.DriftConfig`."""
        if kind == "numeric":
            return cls("numeric", "wasserstein_psi",
                       (("psi", cfg.psi_threshold), ("wasserstein_normed", cfg.wasserstein_threshold)),
                       "ks_p_value", cfg.p_value_threshold, cfg.large_n)
        return cls("categorical", "js_psi", (("psi", cfg.psi_threshold), ("js_distance", cfg.js_threshold)),
                   "chi2_p_value", cfg.p_value_threshold, cfg.large_n)

    # ------------------------------------------------------------------ reading the rule

    @property
    def thresholds(self) -> dict[str, float]:
        """The effect thresholds by statistic (what a chart draws)."""
        return dict(self.effects)

    def small(self, n_ref: int, n_cur: int) -> bool:
        """Is either window below ``large_n`` values (so the test must confirm)?"""
        return min(n_ref, n_cur) < self.large_n

    def method(self, n_ref: int, n_cur: int) -> str:
        return self.test.split("_")[0] if self.small(n_ref, n_cur) else self.name

    def text(self, n_ref: int | None = None, n_cur: int | None = None) -> str:
        """The rule in words; with the window sizes, the part that applies to them."""
        effect = " or ".join(f"{LABELS[s]} >= {t:g}" for s, t in self.effects)
        test = f"{LABELS[self.test]} < {self.p_value_threshold:g}"
        if n_ref is None or n_cur is None:
            return f"{effect}; with fewer than {self.large_n:,} values in a window, also {test}"
        if self.small(n_ref, n_cur):
            return f"{effect}, and {test} (fewer than {self.large_n:,} values in a window)"
        return effect

    # ------------------------------------------------------------------ applying it

    def decide(self, n_ref: int, n_cur: int, stats: Mapping[str, float | None]) -> Decision:
        """The decision on the statistics ``stats`` of windows of ``n_ref`` and ``n_cur`` values."""
        fired, quiet, missing = [], [], []
        for s, t in self.effects:
            x = stats.get(s)
            if x is None or (isinstance(x, float) and math.isnan(x)):
                missing.append(f"{LABELS[s]} missing")
            elif x >= t:
                fired.append(f"{LABELS[s]} {fmt.against(x, t, 2)} >= {t:g}")
            else:
                quiet.append(f"{LABELS[s]} {fmt.against(x, t, 2)} < {t:g}")
        effect = bool(fired)
        method = self.method(n_ref, n_cur)
        if not self.small(n_ref, n_cur):
            why = ", ".join(fired) if effect else " and ".join(quiet + missing) or "no statistic"
            return Decision(method, effect, why)
        p = stats.get(self.test)
        pt = self.p_value_threshold
        p_text = f"{LABELS[self.test]} missing" if p is None else f"{LABELS[self.test]} {fmt.against(p, pt, 2)}"
        small = f"fewer than {self.large_n:,} values: the test must confirm"
        if not effect:
            return Decision(method, False, " and ".join(quiet + missing) or "no statistic")
        if p is not None and p < pt:
            return Decision(method, True, f"{', '.join(fired)} and {p_text} < {pt:g}")
        return Decision(method, False, f"{', '.join(fired)} but {p_text}"
                                       f"{'' if p is None else f' >= {pt:g}'} ({small})")

    def explain(self, result: Any) -> str:
        """The sentence for a :class:`~analytics.analyses.drift.FeatureDrift` (or a dict of its JSON)."""
        get = result.get if isinstance(result, Mapping) else (lambda k: getattr(result, k, None))
        stats = {s: get(s) for s, _ in self.effects}
        stats[self.test] = get(self.test)
        return self.decide(int(get("n_ref") or 0), int(get("n_cur") or 0), stats).why


#: The statistics a drift chart can plot per period, with the kinds whose rule uses them.
CHART_STATS = {
    "psi": ("numeric", "categorical"),
    "wasserstein_normed": ("numeric",),
    "js_distance": ("categorical",),
}


def chart_threshold(cfg: Any, stat: str) -> tuple[float, str]:
    """``(threshold, label)`` of the drift rule for ``stat`` (a key of :data:`CHART_STATS`):
    the line a chart of ``stat`` draws."""
    th = {"psi": cfg.psi_threshold, "wasserstein_normed": cfg.wasserstein_threshold,
          "js_distance": cfg.js_threshold}[stat]
    kinds = " and ".join(CHART_STATS[stat])
    return th, f"drift rule ({kinds}): {LABELS[stat]} >= {th:g}"
