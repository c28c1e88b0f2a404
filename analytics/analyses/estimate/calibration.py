"""Score calibration from per-bin aggregates, chosen by cross-validated calibration error.

Everything here works on small arrays the engine computed: for each fold ``f``
(the row number in time order, modulo the folds) and score bin ``b`` (``floor(score * BINS)``), the
number of labeled reference rows ``n[f, b]``, their positives ``pos[f, b]`` and
the sum of their scores ``s1[f, b]``. Rows never reach Python.

Two calibrations compete (``analytics/docs/estimate.md``):

* ``identity`` -- the scores are taken as probabilities;
* ``isotonic`` -- the pool-adjacent-violators fit of the positive rate on the
  bins (isotonic regression of the label on the score, with the scores rounded
  to the bin grid), weighted by the bins' row counts.

Each is fitted on all folds but one and scored on the held-out fold by the
expected calibration error (ECE) over ``ECE_GROUPS`` equal-mass groups of the
held-out scores; isotonic is used only when its mean held-out ECE is lower.
Unlike NannyML's ``needs_calibration`` (row-level shuffle splits), this needs
only the per-fold bin counts, and the choice and both errors are recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Score bins on [0, 1]: fine enough that rounding a score to its bin moves ROC AUC
#: by far less than its sampling error, coarse enough to keep aggregates small.
BINS = 500
#: Cross-validation folds (row number in time order modulo FOLDS, computed in the engine).
FOLDS = 5
#: Equal-mass groups of held-out scores over which the ECE is measured.
ECE_GROUPS = 10


@dataclass(frozen=True)
class Calibration:
    """The calibration of one score (a version's score, or one class's one-vs-rest score).

    ``q[b]``: the probability every row of bin ``b`` gets (isotonic), None for
    identity (each row keeps its score). ``block[b]``: the PAV block of bin
    ``b`` and ``block_var[j]``: the variance of block ``j``'s fitted rate,
    ``q_j (1 - q_j) / n_j`` (the calibration's own sampling error, carried into
    every interval).
    """

    method: str                          # "identity" | "isotonic"
    n: int                               # labeled reference rows
    positives: int
    cv_ece: dict = field(default_factory=dict)   # method -> mean held-out ECE (None: not measured)
    q: np.ndarray | None = None
    block: np.ndarray | None = None
    block_var: np.ndarray | None = None
    support: tuple[int, int] = (0, BINS - 1)     # bins holding the central 99% of reference scores

    def to_dict(self) -> dict:
        return {"method": self.method, "n_labeled": self.n, "positives": self.positives,
                "cv_ece": {k: (None if v is None else float(v)) for k, v in self.cv_ece.items()},
                "support": [self.support[0] / BINS, (self.support[1] + 1) / BINS]}


def pav(n: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted pool-adjacent-violators on bins: (rate per bin, block id per bin).

    Bins without rows take the rate of the nearest fitted block to their left
    (right for leading empty bins), so the map is a non-decreasing step function.
    """
    n = np.asarray(n, dtype=float)
    pos = np.asarray(pos, dtype=float)
    idx = np.flatnonzero(n > 0)
    q = np.zeros(len(n))
    block = np.zeros(len(n), dtype=int)
    if idx.size == 0:
        return q, block
    # stack of blocks: [weight, positives, first index into idx]
    w: list[float] = []
    p: list[float] = []
    start: list[int] = []
    for k, b in enumerate(idx):
        w.append(n[b])
        p.append(pos[b])
        start.append(k)
        while len(w) > 1 and p[-2] / w[-2] >= p[-1] / w[-1]:
            w[-2] += w[-1]
            p[-2] += p[-1]
            w.pop()
            p.pop()
            start.pop()
    ends = start[1:] + [idx.size]
    for j, (a, e) in enumerate(zip(start, ends)):
        bins = idx[a:e]
        q[bins] = p[j] / w[j]
        block[bins] = j
    # empty bins: carry the previous block forward (the first block backward)
    filled = np.zeros(len(n), dtype=bool)
    filled[idx] = True
    last = np.maximum.accumulate(np.where(filled, np.arange(len(n)), -1))
    last = np.where(last < 0, idx[0], last)
    return q[last], block[last]


def block_stats(n: np.ndarray, pos: np.ndarray, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per PAV block: (rows, variance of the fitted rate q (1 - q) / rows)."""
    nb = np.bincount(block, weights=n)
    pb = np.bincount(block, weights=pos)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(nb > 0, pb / nb, 0.0)
        var = np.where(nb > 0, rate * (1 - rate) / nb, 0.0)
    return nb, var


def ece(n: np.ndarray, pos: np.ndarray, pred_sum: np.ndarray, groups: int = ECE_GROUPS) -> float | None:
    """Expected calibration error over ``groups`` equal-mass groups of consecutive bins.

    ``pred_sum[b]``: the sum of the predicted probabilities of bin ``b``'s rows.
    ECE = sum over groups of |sum pred - sum positives| / total rows.
    """
    total = float(n.sum())
    if total <= 0:
        return None
    cum = np.cumsum(n)
    g = np.minimum((cum - n / 2) * groups // total, groups - 1).astype(int)   # each bin's group by its middle row
    diff = np.bincount(g, weights=pred_sum, minlength=groups) - np.bincount(g, weights=pos, minlength=groups)
    return float(np.abs(diff).sum() / total)


def support_bins(n: np.ndarray, share: float = 0.005) -> tuple[int, int]:
    """First and last bins of the central ``1 - 2 share`` of the reference rows."""
    total = n.sum()
    if total <= 0:
        return 0, len(n) - 1
    cum = np.cumsum(n)
    lo = int(np.searchsorted(cum, share * total, side="right"))
    hi = int(np.searchsorted(cum, (1 - share) * total, side="left"))
    return min(lo, len(n) - 1), min(max(hi, lo), len(n) - 1)


def choose_calibration(n: np.ndarray, pos: np.ndarray, s1: np.ndarray) -> Calibration:
    """Fit identity and isotonic on the folds ``n[f, b], pos[f, b], s1[f, b]``; keep the better.

    Isotonic wins only when its mean held-out ECE is lower than identity's. With
    fewer than two folds holding rows, or one class only, identity is kept (and
    the guard says whether that is enough).
    """
    n = np.asarray(n, dtype=float)
    pos = np.asarray(pos, dtype=float)
    s1 = np.asarray(s1, dtype=float)
    tot_n, tot_pos = n.sum(axis=0), pos.sum(axis=0)
    N, P = int(tot_n.sum()), int(round(tot_pos.sum()))
    support = support_bins(tot_n)
    folds = [f for f in range(n.shape[0]) if n[f].sum() > 0]
    if len(folds) < 2 or P == 0 or P == N:
        return Calibration("identity", N, P, {"identity": None, "isotonic": None}, support=support)
    errs: dict[str, list[float]] = {"identity": [], "isotonic": []}
    for f in folds:
        tr_n, tr_pos = tot_n - n[f], tot_pos - pos[f]
        q, _ = pav(tr_n, tr_pos)
        e_id = ece(n[f], pos[f], s1[f])
        e_iso = ece(n[f], pos[f], q * n[f])
        if e_id is not None and e_iso is not None:
            errs["identity"].append(e_id)
            errs["isotonic"].append(e_iso)
    cv = {k: (float(np.mean(v)) if v else None) for k, v in errs.items()}
    if cv["isotonic"] is None or cv["identity"] is None or cv["isotonic"] >= cv["identity"]:
        return Calibration("identity", N, P, cv, support=support)
    q, block = pav(tot_n, tot_pos)
    _, var = block_stats(tot_n, tot_pos, block)
    return Calibration("isotonic", N, P, cv, q=q, block=block, block_var=var, support=support)
