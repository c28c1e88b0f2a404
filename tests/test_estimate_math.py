"""Label-free estimation, the math on aggregates: the coverage property (pure covariate
shift), the calibration choice, the one-vs-rest sums and the AUC from expected masses,
each against brute force on rows."""

import numpy as np
import pytest
from scipy.stats import rankdata
from sklearn.isotonic import IsotonicRegression

from analytics.analyses.estimate.calibration import (BINS, FOLDS, Calibration, choose_calibration, ece, pav,
                                                     support_bins)
from analytics.analyses.estimate.expected import ClassMasses, Masses, _mc_variance, auc, binary_metrics, \
    multiclass_metrics


def bins(s):
    return np.clip(np.floor(s * BINS).astype(int), 0, BINS - 1)


def fold_aggregates(s, y, f):
    """What the engine's reference query returns: per fold and bin, rows, positives, score sum."""
    b = bins(s)
    shape = (FOLDS, BINS)
    idx = f * BINS + b
    n = np.bincount(idx, minlength=FOLDS * BINS).reshape(shape).astype(float)
    pos = np.bincount(idx, weights=y, minlength=FOLDS * BINS).reshape(shape)
    s1 = np.bincount(idx, weights=s, minlength=FOLDS * BINS).reshape(shape)
    return n, pos, s1


def cells(s, d):
    """What the engine's period query returns: per bin and decision, rows, sum s, sum s^2."""
    idx = bins(s) * 2 + d
    def agg(w):
        return np.bincount(idx, weights=w, minlength=2 * BINS).reshape(BINS, 2)
    return agg(np.ones_like(s)), agg(s), agg(s * s)


def mann_whitney_auc(y, s):
    r = rankdata(s)
    npos = y.sum()
    return (r[y == 1].sum() - npos * (npos + 1) / 2) / (npos * (len(y) - npos))


# ---------------------------------------------------------------- coverage under covariate shift

def test_interval_coverage_under_pure_covariate_shift():
    """Calibrated scores, labels drawn from them; the score distribution moves from period to
    period (covariate shift). Over 600 periods (25 references x 24 periods of 2,000 rows),
    every metric's realized value lies in its 95% interval 95% +- 2% of the time."""
    rng = np.random.default_rng(20261203)
    hits: dict[str, list[bool]] = {}
    for _ in range(25):
        s = rng.beta(2, 5, 20_000)
        y = (rng.random(s.size) < s).astype(float)
        cal = choose_calibration(*fold_aggregates(s, y, rng.integers(0, FOLDS, s.size)))
        for _ in range(24):
            a, b = rng.uniform(1.5, 3.0), rng.uniform(3.0, 6.0)   # a shifted score distribution
            s = rng.beta(a, b, 2000)
            y = (rng.random(s.size) < s).astype(int)
            d = (s >= 0.4).astype(int)
            m = Masses()
            m.add(*cells(s, d), cal)
            est = binary_metrics(m)
            tp, fp, fn = ((d == 1) & (y == 1)).sum(), ((d == 1) & (y == 0)).sum(), ((d == 0) & (y == 1)).sum()
            real = {"accuracy": (d == y).mean(), "precision": tp / (tp + fp), "recall": tp / (tp + fn),
                    "f1": 2 * tp / (2 * tp + fp + fn), "base_rate": y.mean(), "roc_auc": mann_whitney_auc(y, s)}
            for k, e in est.items():
                hits.setdefault(k, []).append(bool(e.covers(real[k])))
    rates = {k: float(np.mean(v)) for k, v in hits.items()}
    print("coverage over", len(hits["accuracy"]), "periods:", rates)
    for k, r in rates.items():
        assert 0.93 <= r <= 0.97, (k, r)


def test_intervals_are_too_narrow_without_the_calibration_term():
    """The calibration's own error is part of the interval: with a small reference, dropping it
    (identity on the same isotonic probabilities) gives narrower intervals."""
    rng = np.random.default_rng(3)
    s = rng.beta(2, 5, 2000)
    y = (rng.random(s.size) < s).astype(float)
    n, pos, _ = fold_aggregates(s, y, rng.integers(0, FOLDS, s.size))
    q, block = pav(n.sum(0), pos.sum(0))
    from analytics.analyses.estimate.calibration import block_stats
    _, var = block_stats(n.sum(0), pos.sum(0), block)
    iso = Calibration("isotonic", 2000, int(y.sum()), q=q, block=block, block_var=var)
    sp = rng.beta(2, 5, 3000)
    c = cells(sp, (sp >= 0.4).astype(int))
    with_cal, without = Masses(), Masses()
    with_cal.add(*c, iso)
    qq = q[bins(sp)]
    without.add(c[0], *cells_from_q(sp, qq), Calibration("identity", 0, 0))
    a, b = binary_metrics(with_cal), binary_metrics(without)
    for k in ("accuracy", "recall", "roc_auc"):
        assert a[k].value == pytest.approx(b[k].value, rel=1e-9, abs=1e-12)
        assert a[k].se > b[k].se


def cells_from_q(s, q):
    idx = bins(s) * 2 + (s >= 0.4).astype(int)
    def agg(w):
        return np.bincount(idx, weights=w, minlength=2 * BINS).reshape(BINS, 2)
    return agg(q), agg(q * q)


# ---------------------------------------------------------------- calibration, against brute force

def test_pav_matches_scikit_learn_isotonic_regression():
    rng = np.random.default_rng(5)
    s = rng.random(3000) ** 2
    y = (rng.random(s.size) < np.sqrt(s)).astype(float)
    b = bins(s)
    n = np.bincount(b, minlength=BINS).astype(float)
    pos = np.bincount(b, weights=y, minlength=BINS)
    q, block = pav(n, pos)
    ref = IsotonicRegression(out_of_bounds="clip").fit(b, y)   # isotonic on the rows, scores rounded to bins
    filled = n > 0
    np.testing.assert_allclose(q[filled], ref.predict(np.flatnonzero(filled)), atol=1e-12)
    assert np.all(np.diff(q) >= -1e-15)                  # non-decreasing, also over empty bins
    assert np.all(np.diff(block) >= 0)


def brute_ece(s_bin, y, p, groups=10):
    """ECE on rows: each row's group is its bin's (by the bin's middle row), |sum p - sum y| / n."""
    order = np.argsort(s_bin, kind="stable")
    s_bin, y, p = s_bin[order], y[order], p[order]
    total = len(y)
    g = np.empty(total, dtype=int)
    start = 0
    for b in np.unique(s_bin):
        cnt = int((s_bin == b).sum())
        mid = start + cnt / 2
        g[start:start + cnt] = min(int(mid * groups // total), groups - 1)
        start += cnt
    return sum(abs(p[g == k].sum() - y[g == k].sum()) for k in range(groups)) / total


def brute_choice(s, y, f):
    """The calibration choice from rows: held-out ECE of identity and of isotonic fitted on the
    other folds' rows (scikit-learn, on the bin-rounded score)."""
    b = bins(s)
    e_id, e_iso = [], []
    for k in range(FOLDS):
        tr, te = f != k, f == k
        iso = IsotonicRegression(out_of_bounds="clip").fit(b[tr], y[tr])
        e_id.append(brute_ece(b[te], y[te], s[te]))
        e_iso.append(brute_ece(b[te], y[te], iso.predict(b[te])))
    return np.mean(e_id), np.mean(e_iso)


@pytest.mark.parametrize("power, expected", [(1.0, None), (2.0, "isotonic"), (0.5, "isotonic")])
def test_calibration_choice_matches_brute_force(power, expected):
    """Scores s^power with labels drawn from s: miscalibrated unless power = 1. The choice
    and both cross-validated errors equal the row-level computation."""
    rng = np.random.default_rng(int(power * 10))
    p_true = rng.beta(2, 4, 6000)
    y = (rng.random(p_true.size) < p_true).astype(float)
    s = p_true ** power
    f = rng.integers(0, FOLDS, s.size)
    cal = choose_calibration(*fold_aggregates(s, y, f))
    e_id, e_iso = brute_choice(s, y, f)
    assert cal.cv_ece["identity"] == pytest.approx(e_id, abs=1e-9)
    # empty training bins: scikit-learn interpolates, PAV on bins carries the left block: near, not equal
    assert cal.cv_ece["isotonic"] == pytest.approx(e_iso, abs=2e-3)
    assert cal.method == ("isotonic" if e_iso < e_id else "identity")
    if expected:
        assert cal.method == expected


def test_ece_and_support_on_aggregates():
    n = np.zeros(BINS)
    n[[10, 20, 30]] = [100, 200, 100]
    pos = np.zeros(BINS)
    pos[[10, 20, 30]] = [10, 50, 60]
    pred = n * np.arange(BINS) / BINS
    assert ece(n, pos, pred, groups=2) == pytest.approx(brute_ece(
        np.repeat([10, 20, 30], [100, 200, 100]),
        np.concatenate([np.r_[np.ones(10), np.zeros(90)], np.r_[np.ones(50), np.zeros(150)],
                        np.r_[np.ones(60), np.zeros(40)]]),
        np.repeat([0.02, 0.04, 0.06], [100, 200, 100]), groups=2))
    assert support_bins(n) == (10, 30)


# ---------------------------------------------------------------- AUC from expected masses

def test_auc_from_expected_masses_matches_brute_force_pairs():
    """On 300 rows: the expected-mass AUC equals the brute-force ratio over all pairs of distinct
    rows, sum q_i (1 - q_j) [b_i > b_j] (+1/2 on ties) / sum q_i (1 - q_j)."""
    rng = np.random.default_rng(11)
    s = np.round(rng.beta(2, 3, 300), 2)            # ties within bins
    q = s
    d = (s >= 0.5).astype(int)
    m = Masses()
    m.add(*cells(s, d), Calibration("identity", 0, 0))
    b = bins(s)
    num = den = 0.0
    for i in range(len(s)):
        for j in range(len(s)):
            if i == j:
                continue
            w = q[i] * (1 - q[j])
            den += w
            num += w * (1.0 if b[i] > b[j] else 0.5 if b[i] == b[j] else 0.0)
    assert auc(m).value == pytest.approx(num / den, abs=1e-12)


def test_auc_gradient_matches_finite_differences():
    """The AUC's variance uses its gradient in one label: check it numerically."""
    rng = np.random.default_rng(2)
    s = rng.beta(2, 3, 400)
    c = cells(s, (s >= 0.5).astype(int))
    base = Masses()
    base.add(*c, Calibration("identity", 0, 0))
    b0 = 137
    m_plus = Masses(base.n, base.M.copy(), base.W, [], 0.0)
    h = 1e-6
    m_plus.M[b0, 0] += h
    num = (auc(m_plus).value - auc(base).value) / h
    P_b = base.M.sum(1)
    N_b = base.n.sum(1) - P_b
    P, N, W = P_b.sum(), N_b.sum(), base.W.sum()
    value = auc(base).value
    analytic = ((np.cumsum(N_b) - N_b + N_b / 2)[b0] - (P - np.cumsum(P_b) + P_b / 2)[b0]
                - value * (N - P)) / (P * N - W)
    assert num == pytest.approx(analytic, rel=1e-3)


# ---------------------------------------------------------------- multiclass one-vs-rest

def _multiclass_rows(rng, n=400, K=3):
    p = rng.dirichlet(np.ones(K) * 1.5, n)
    pred = p.argmax(1)
    return p, pred


def test_one_vs_rest_sums_and_variance_match_brute_force():
    """Per class k: E[TP_k] = sum of p_k over rows decided k, E[FN_k] over the others; the
    variance of macro recall's linearisation equals the exact per-row categorical variance."""
    rng = np.random.default_rng(7)
    K = 3
    p, pred = _multiclass_rows(rng, K=K)
    cm = ClassMasses.empty(("a", "b", "c"))
    for k in range(K):
        cm.per_class[k].add(*cells(p[:, k], (pred == k).astype(int)), Calibration("identity", 0, 0))
    for c in range(K):
        rows = pred == c
        for k in range(K):
            for l in range(K):
                if k != l:
                    cm.S[c, k, l] = (p[rows, k] * p[rows, l]).sum()
    tp = np.array([p[pred == k, k].sum() for k in range(K)])
    fn = np.array([p[pred != k, k].sum() for k in range(K)])
    for k in range(K):
        assert cm.per_class[k].M[:, 1].sum() == pytest.approx(tp[k])
        assert cm.per_class[k].M[:, 0].sum() == pytest.approx(fn[k])
    est, per = multiclass_metrics(cm)
    assert est["accuracy"].value == pytest.approx(tp.sum() / len(pred))
    recall = tp / (tp + fn)
    assert est["macro_recall"].value == pytest.approx(recall.mean())
    for k, c in enumerate(("a", "b", "c")):
        assert per[c]["recall"].value == pytest.approx(recall[k])
        assert per[c]["precision"].value == pytest.approx(tp[k] / (pred == k).sum())
    # exact variance of sum_i a(i) . y_i with y_i ~ Categorical(p_i)
    g1 = (fn / (tp + fn) ** 2) / K
    g0 = (-tp / (tp + fn) ** 2) / K
    exact = 0.0
    for i in range(len(pred)):
        a = g0.copy()
        a[pred[i]] = g1[pred[i]]
        exact += (a * a * p[i]).sum() - (a * p[i]).sum() ** 2
    assert _mc_variance(cm, g1, g0) == pytest.approx(exact, rel=1e-9)
    assert est["macro_recall"].se ** 2 == pytest.approx(exact, rel=1e-9)


def test_multiclass_coverage_under_covariate_shift():
    """One-vs-rest intervals hold their level too (200 periods: a quicker, looser check)."""
    rng = np.random.default_rng(99)
    K, hits = 3, {"accuracy": [], "macro_recall": [], "macro_f1": []}
    ident = Calibration("identity", 0, 0)
    for _ in range(200):
        alpha = rng.uniform(0.8, 2.5, K)
        p = rng.dirichlet(alpha, 1500)
        pred = p.argmax(1)
        y = (rng.random(len(p))[:, None] > np.cumsum(p, 1)).sum(1)   # one class drawn per row from p
        cm = ClassMasses.empty(("a", "b", "c"))
        for k in range(K):
            cm.per_class[k].add(*cells(p[:, k], (pred == k).astype(int)), ident)
        for c in range(K):
            rows = pred == c
            cm.S[c] = p[rows].T @ p[rows]
        est, _ = multiclass_metrics(cm)
        tp = np.array([((pred == k) & (y == k)).sum() for k in range(K)])
        sup = np.array([(y == k).sum() for k in range(K)])
        npp = np.array([(pred == k).sum() for k in range(K)])
        rec = tp / sup
        f1 = 2 * tp / (sup + npp)
        for name, v in (("accuracy", tp.sum() / len(y)), ("macro_recall", rec.mean()), ("macro_f1", f1.mean())):
            hits[name].append(bool(est[name].covers(v)))
    rates = {k: float(np.mean(v)) for k, v in hits.items()}
    print("multiclass coverage:", rates)
    for k, r in rates.items():
        assert 0.91 <= r <= 0.99, (k, r)
