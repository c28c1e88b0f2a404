"""The report's champion is a serving version, even when a shadow scores more rows in the
period; the cover names the shadow as one."""

import datetime as dt

from analytics.config.workspace import load_workspace
from analytics.log.engine import Engine
from analytics.render.report import model_input, sections
from analytics.render.report.common import champion_and_challengers
from analytics.render.report.svg import ChartSet
from .test_health_shadows import traffic_logs


def test_a_busier_shadow_is_never_the_champion(tmp_path):
    config, df = traffic_logs(tmp_path / "logs", drop=0.3, shadow_last_week=300)
    engine = Engine(load_workspace(config))
    mi = model_input(engine, engine.spec("m"), ChartSet(enabled=False), dt.datetime(2026, 4, 13))
    s, e = mi.selection.start, mi.selection.end
    in_period = df[(df.ts >= s) & (df.ts < e)].model_version.value_counts()
    assert in_period.idxmax() == "v3"          # the shadow has the most rows: the case at stake
    k = sections.kpis(mi)
    champion, challengers = champion_and_challengers(k)
    assert champion == "v1" and challengers == ["v2", "v3"]
    cover = sections.cover(mi, [k])
    assert cover["versions"] == "v1, v2, v3 (shadow)"
