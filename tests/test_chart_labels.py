"""Charts never clip their labels: every text of the report's SVG charts lies inside the
viewBox (drawn by kaleido as the report draws them, measured by Chromium)."""

import datetime as dt
import shutil

import polars as pl
import pytest

from analytics.render.charts import distribution_chart, metric_over_time
from analytics.render.charts.markers import mark_timeline
from analytics.render.report.svg import ChartSet

pytestmark = pytest.mark.skipif(not shutil.which("chromium"), reason="needs Chromium")

MEASURE = """svg => {
  document.body.innerHTML = svg;
  const root = document.querySelector('svg');
  const box = root.getBoundingClientRect();
  const out = [];
  for (const t of root.querySelectorAll('text')) {
    if (!t.textContent.trim()) continue;
    const r = t.getBoundingClientRect();
    if (r.width === 0) continue;
    out.push({text: t.textContent, left: r.left - box.left, right: r.right - box.left,
              top: r.top - box.top, bottom: r.bottom - box.top});
  }
  return {width: box.width, height: box.height, texts: out};
}"""


def _weekly(weeks=26, versions=("v1", "v2")):
    start = dt.date(2026, 5, 25)
    rows = []
    for i in range(weeks):
        for j, v in enumerate(versions):
            if v == "v2" and i < 8:
                continue
            val = 0.78 - 0.002 * i + 0.01 * j
            rows.append({"period": start + dt.timedelta(weeks=i), "version": v, "m": val,
                         "m_ci_low": val - 0.02, "m_ci_high": val + 0.02, "n": 1000})
    return pl.DataFrame(rows)


def _figures():
    hist = metric_over_time(_weekly(), "m", label="ROC AUC", title="ROC AUC per week, whole history", height=230)
    mark_timeline(hist, {"v1": dt.date(2026, 5, 25), "v2": dt.date(2026, 7, 20), "v3": dt.date(2026, 11, 16)},
                  dt.date(2026, 9, 14), (dt.datetime(2026, 10, 26), dt.datetime(2026, 11, 23)))
    bins = pl.DataFrame({"bin": [f"[{a:,}, {a + 5000:,})" for a in range(20000, 120000, 5000)],
                         "ref_share": [0.05] * 20, "cur_share": [0.05] * 20})
    dist = distribution_chart(bins, bucket="bin", title="income: reference vs current share", height=260)
    # a control the measure must catch: a label pushed past the right edge
    clipped = metric_over_time(_weekly(), "m", label="ROC AUC", height=230)
    clipped.add_annotation(x=1.0, xref="paper", y=0.5, yref="paper", xanchor="left", showarrow=False,
                           text="a label that runs off the chart")
    return [("history", hist, 720, 230), ("distribution", dist, 720, 260), ("control", clipped, 720, 230)]


@pytest.fixture(scope="module")
def svgs():
    with ChartSet(enabled=True) as cs:
        charts = [(name, cs.add(fig, alt=name, width=w, height=h)) for name, fig, w, h in _figures()]
        cs.render()
        return [(name, c.svg) for name, c in charts]


def test_every_label_stays_inside_the_chart(svgs, chromium):
    page = chromium.new_page()
    try:
        for name, svg in svgs:
            m = page.evaluate(MEASURE, svg)
            assert m["texts"], name
            out = [t for t in m["texts"] if t["left"] < -0.5 or t["top"] < -0.5
                   or t["right"] > m["width"] + 0.5 or t["bottom"] > m["height"] + 0.5]
            if name == "control":
                assert [t["text"] for t in out] == ["a label that runs off the chart"], out
            else:
                assert not out, (name, m["width"], m["height"], out)
    finally:
        page.close()
