"""Notifications: real Apprise channels against servers on 127.0.0.1 (pytest-httpserver
for Slack-shaped and generic JSON webhooks, aiosmtpd for email), change-only delivery,
repeats, snoozes, recoveries, retries, and secrets that never show."""

from __future__ import annotations

import datetime as dt
import html
import json
import socket
import time

import apprise.plugins.slack
import pytest
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer
from werkzeug import Response

from analytics.alerts import snooze
from analytics.alerts.secrets import Redactor
from analytics.config.notify import notify_settings
from analytics.alerts.history import History
from analytics.alerts.record import record_check
from analytics.errors import ConfigError
from analytics.config.workspace import SAMPLE_CONFIG, parse_workspace

SLACK_TOKENS = "T1234ABCD/B1234ABCD/abcdefghijklmnopqrstuvwx"
T0 = dt.datetime(2026, 11, 23, 8, 0)


@pytest.fixture(scope="module")
def http():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def web(http, monkeypatch):
    http.clear()
    monkeypatch.setattr(apprise.plugins.slack.NotifySlack, "webhook_url", http.url_for("/services"))
    return http


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture(scope="module")
def smtp():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    inbox = _Inbox()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    yield port, inbox
    ctl.stop()


def workspace(tmp_path, notify: dict, model_notify: dict | None = None):
    model = {"name": "m", "task": "binary", "predictions": "p.parquet",
             "columns": {"timestamp": "ts", "label": "y", "score": "s", "version": "v"}}
    if model_notify is not None:
        model["notify"] = model_notify
    other = {**model, "name": "quiet"}
    other.pop("notify", None)
    return parse_workspace({"notify": notify, "models": [model, other]}, root=tmp_path,
                           path=tmp_path / "lastmile.toml")


def reason(rule="drop", level="warn", version="v1", metric="roc_auc", message=None):
    return {"rule": rule, "level": level, "version": version, "metric": metric, "observed": 0.61,
            "threshold": 0.05, "period": "2026-11-16 to 2026-11-22",
            "message": message or f"{version}: {metric} fell by 8% ({rule})."}


def payload(status, *reasons, name="m", **extra):
    windows = {"current": {"start": "2026-11-16T00:00:00", "end": "2026-11-23T00:00:00"},
               "reference": {"start": "2026-05-25T00:00:00", "end": "2026-06-22T00:00:00"}}
    return {"status": status, "models": [{"model": name, "status": status, "versions": ["v1"],
                                          "windows": windows, "reasons": list(reasons), **extra}]}


def no_sleep(_):
    pass


def run(ws, tmp_path, p, now=T0, environ=None):
    return record_check(ws, p, tmp_path / "state", notify=True, environ=environ or {}, now=now, by="tester",
                        sleep=no_sleep)


def bodies(server, path):
    return [json.loads(req.get_data()) for req, _ in server.log if req.path == path]


# --------------------------------------------------------------------------- channels


def test_a_warn_reaches_slack_a_json_webhook_and_email(web, smtp, tmp_path):
    port, inbox = smtp
    web.expect_request("/hook", method="POST").respond_with_data("ok")
    web.expect_request(f"/services/{SLACK_TOKENS}", method="POST").respond_with_data("ok")
    ws = workspace(tmp_path, {
        "dashboard_url": "https://lastmile.example.com/",
        "channels": {"hook": {"url": web.url_for("/hook").replace("http://", "json://")},
                     "slack": {"url": f"slack://{SLACK_TOKENS}"},
                     "mail": {"url": f"mailto://127.0.0.1:{port}?from=lastmile@example.com&to=ml@example.com"}}},
        {"to": ["hook", "slack", "mail"]})
    p = payload("warn", reason(message="v1: roc_auc fell from 0.78 to 0.72."),
                reason("latency_p95", "info", message="a note that is not a reason"))
    # the shape analytics.analyses.recommend writes: top-level, one entry per model and action
    p["recommendations"] = [{"model": "m", "action": "retrain", "sentence": "Retrain v1 on the last 8 weeks."},
                            {"model": "quiet", "action": "keep", "sentence": "Keep quiet as it is."}]
    rec = run(ws, tmp_path, p)
    (o,) = [o for o in rec.outcomes if o.decision.model == "m"]
    assert o.decision.event == "change" and [d.ok for d in o.deliveries] == [True, True, True]

    (hook,) = bodies(web, "/hook")
    assert hook["title"] == "Lastmile: m healthy -> warn" and hook["type"] == "warning"
    carried = json.loads(hook["message"])
    assert carried["check"] == p["models"][0]              # the generic webhook carries the check JSON
    assert carried["event"] == "change" and carried["previous_status"] == "healthy"
    assert carried["dashboard_url"] == "https://lastmile.example.com/overview?model=m"
    assert carried["recommendations"] == ["Retrain v1 on the last 8 weeks."]

    (slack,) = bodies(web, f"/services/{SLACK_TOKENS}")
    att = {k: html.unescape(v) for k, v in slack["attachments"][0].items() if isinstance(v, str)}
    assert att["title"] == "Lastmile: m healthy -> warn"
    assert "m went from healthy to WARN." in att["text"]
    assert "Performance dropped [warn]: v1: roc_auc fell from 0.78 to 0.72." in att["text"]
    assert "not a reason" not in att["text"]
    assert "Recommendation:\n- Retrain v1 on the last 8 weeks." in att["text"]
    assert "Dashboard: https://lastmile.example.com/overview?model=m" in att["text"]

    (mail,) = [m for m in inbox.messages if b"m healthy -> warn" in m.content]
    assert mail.rcpt_tos == ["ml@example.com"]
    text = mail.content.decode("utf-8", "replace")
    assert "Subject: Lastmile: m healthy -> warn" in text
    assert "roc_auc fell from 0.78 to 0.72." in text

    # the history records the verdict, that it was told, and each channel
    (v,) = History.in_state_dir(tmp_path / "state").verdicts("m")
    assert v.told and v.event == "change" and v.status == "warn"
    assert v.data_start == "2026-05-25T00:00:00" and v.data_end == "2026-11-23T00:00:00"
    assert [(n["channel"], n["ok"]) for n in v.notifications] == [("hook", True), ("slack", True), ("mail", True)]
    assert v.recommendations == ("Retrain v1 on the last 8 weeks.",)


def test_only_changes_are_sent_repeats_and_recovery(web, tmp_path):
    web.expect_request("/hook").respond_with_data("ok")
    ws = workspace(tmp_path, {"repeat_hours": 24, "to": ["hook"],
                              "channels": {"hook": {"url": web.url_for("/hook").replace("http://", "json://")}}})

    def step(p, now):
        before = len(web.log)
        (o,) = run(ws, tmp_path, p, now).outcomes
        sent = [json.loads(json.loads(r.get_data())["message"]) for r, _ in web.log[before:]]
        assert len(sent) == (1 if o.decision.sends else 0)
        return o.decision.event, sent

    drop, lat = reason(), reason("latency_p95", metric="latency_p95")
    assert step(payload("healthy"), T0)[0] == "unchanged"          # healthy from the start: nothing
    assert step(payload("warn", drop), T0)[0] == "change"
    assert step(payload("warn", drop), T0 + dt.timedelta(hours=1))[0] == "unchanged"
    event, (msg,) = step(payload("warn", drop, lat), T0 + dt.timedelta(hours=2))
    assert event == "new_reason" and msg["new_reasons"] == [["latency_p95", "v1", "latency_p95"]]
    assert "(new)" in msg["text"]
    assert step(payload("warn", lat), T0 + dt.timedelta(hours=3))[0] == "unchanged"  # a reason gone: no news
    pull = reason(level="pull")
    assert step(payload("pull", pull), T0 + dt.timedelta(hours=4))[0] == "change"
    assert step(payload("pull", pull), T0 + dt.timedelta(hours=20))[0] == "unchanged"
    assert step(payload("pull", pull), T0 + dt.timedelta(hours=28))[0] == "repeat"   # 24 h after the last
    assert step(payload("pull", pull), T0 + dt.timedelta(hours=30))[0] == "unchanged"
    event, (msg,) = step(payload("healthy"), T0 + dt.timedelta(hours=31))
    assert event == "recovery" and msg["title"] == "Lastmile: m recovered (pull -> healthy)"
    assert step(payload("healthy"), T0 + dt.timedelta(hours=32))[0] == "unchanged"
    events = [v.event for v in History.in_state_dir(tmp_path / "state").verdicts("m")]
    assert events.count("repeat") == 1 and events[-2:] == ["recovery", "unchanged"]


def test_snoozes_silence_a_model_or_one_rule(web, tmp_path):
    web.expect_request("/hook").respond_with_data("ok")
    ws = workspace(tmp_path, {"to": ["hook"],
                              "channels": {"hook": {"url": web.url_for("/hook").replace("http://", "json://")}}})
    h = History.in_state_dir(tmp_path / "state")
    s = snooze.add(h, "m", T0 + dt.timedelta(days=2), "known drift, retraining", "alice", now=T0)
    drift = reason("drifted_features", metric=None)
    (o,) = run(ws, tmp_path, payload("warn", drift), T0).outcomes
    assert o.decision.event == "snoozed" and not web.log
    assert "by alice: known drift, retraining" in o.describe()
    assert snooze.clear(h, "m", "bob", now=T0 + dt.timedelta(hours=1)) == 1
    snooze.add(h, "m", T0 + dt.timedelta(days=2), "drift is expected", "alice", rule="drifted_features", now=T0)
    (o,) = run(ws, tmp_path, payload("warn", drift), T0 + dt.timedelta(hours=2)).outcomes
    assert o.decision.event == "unchanged" and o.decision.status == "healthy" and not web.log
    (o,) = run(ws, tmp_path, payload("warn", drift, reason()), T0 + dt.timedelta(hours=3)).outcomes
    assert o.decision.event == "change"
    carried = json.loads(json.loads(web.log[-1][0].get_data())["message"])
    assert "Inputs drifted" not in carried["text"] and "Performance dropped" in carried["text"]
    assert "- rule drifted_features of m snoozed until 2026-11-25T08:00:00 by alice" in carried["text"]
    listed = snooze.listed(h, now=T0 + dt.timedelta(hours=3), include_past=True)
    assert [(x.by, x.cleared_by) for x in listed] == [("alice", "bob"), ("alice", None)]
    assert s.until == "2026-11-25T08:00:00"
    # after the snooze ends, notifications resume
    assert not snooze.listed(h, now=T0 + dt.timedelta(days=3))


def test_a_failing_channel_is_retried_recorded_and_does_not_stop_the_others(web, tmp_path):
    web.expect_oneshot_request("/flaky").respond_with_data("busy", status=500)
    web.expect_oneshot_request("/flaky").respond_with_data("ok")
    web.expect_request("/down").respond_with_data("no", status=500)
    web.expect_request("/slow").respond_with_handler(lambda req: (time.sleep(1.0), Response("late"))[1])
    web.expect_request("/good").respond_with_data("ok")
    url = lambda p: web.url_for(p).replace("http://", "json://")  # noqa: E731
    ws = workspace(tmp_path, {"retries": 2, "backoff_seconds": 0.5, "to": ["slow", "down", "flaky", "good"],
                              "channels": {"flaky": {"url": url("/flaky")},
                                           "down": {"url": url("/down")},
                                           "slow": {"url": url("/slow"), "timeout_seconds": 0.2, "retries": 1},
                                           "good": {"url": url("/good")}}})
    waits = []
    rec = record_check(ws, payload("pull", reason(level="pull")), tmp_path / "state", notify=True, environ={},
                       now=T0, sleep=waits.append)
    (o,) = rec.outcomes
    got = {d.channel: (d.ok, d.attempts) for d in o.deliveries}
    assert got == {"slow": (False, 2), "down": (False, 3), "flaky": (True, 2), "good": (True, 1)}
    assert waits == [0.5, 0.5, 1.0, 0.5]           # exponential backoff per channel
    assert rec.failed and o.told
    (v,) = History.in_state_dir(tmp_path / "state").verdicts("m")
    errors = {n["channel"]: n["error"] for n in v.notifications if not n["ok"]}
    assert set(errors) == {"slow", "down"} and all(errors.values())
    assert "FAILED after 3 attempts" in o.describe()


# --------------------------------------------------------------------------- settings and secrets


@pytest.mark.parametrize("notify, model_notify, expected", [
    ({"repeat_hour": 4}, None, "[notify]: unknown key 'repeat_hour' (did you mean 'repeat_hours'?)"),
    ({"channels": {"a": {"url": "json://x", "timout_seconds": 1}}}, None,
     "[notify.channels.a]: unknown key 'timout_seconds' (did you mean 'timeout_seconds'?)"),
    ({"channels": {"a": {}}}, None, "missing required key 'url'"),
    ({"channels": {"a": {"url": "env:1BAD"}}}, None, "must name an environment variable"),
    ({"channels": {"a": {"url": "hooks.example.com"}}}, None, "must be an Apprise URL"),
    ({"dashboard_url": "lastmile.example.com"}, None, "dashboard_url must be an http(s) URL"),
    ({"channels": {"slack-ml": {"url": "json://x"}}}, {"to": ["slack-lm"]},
     "model 'm' [models.notify]: channel 'slack-lm' is not declared in [notify.channels] (did you mean 'slack-ml'?)"),
    ({}, {"too": ["x"]}, "[models.notify]: unknown key 'too' (did you mean 'to'?)"),
    ({"retries": -1}, None, "retries must be a whole number from 0 to 10"),
])
def test_bad_notify_settings_are_named(tmp_path, notify, model_notify, expected):
    with pytest.raises(ConfigError) as e:
        workspace(tmp_path, notify, model_notify)
    assert any(expected in p for p in e.value.problems), e.value.problems


def test_routing_and_defaults(tmp_path):
    ws = workspace(tmp_path, {"to": ["b"], "channels": {"a": {"url": "env:A_URL", "retries": 0},
                                                        "b": {"url": "json://h/x"}}}, {"to": ["a", "b"]})
    s = notify_settings(ws)
    assert [c.name for c in s.channels_for("m")] == ["a", "b"]
    assert [c.name for c in s.channels_for("quiet")] == ["b"]
    assert (s.channels["a"].retries, s.channels["b"].retries, s.channels["b"].timeout_seconds) == (0, 2, 10.0)
    assert s.link("m") is None


def test_redactor_hides_urls_and_their_tokens():
    r = Redactor()
    r.add("slack://T1234ABCD/B1234ABCD/abcdefghijklmnopqrstuvwx", "env:SLACK")
    r.add("mailto://bot:hunter2@smtp.example.com?to=ml@example.com", "env:MAIL")
    assert r("to slack://T1234ABCD/B1234ABCD/abcdefghijklmnopqrstuvwx failed") == "to env:SLACK failed"
    assert "abcdefghijklmnopqrstuvwx" not in r("https://hooks.slack.com/services/x/abcdefghijklmnopqrstuvwx")
    assert "hunter2" not in r("login bot:hunter2 refused")


def test_secrets_never_show_in_output_errors_or_history(web, tmp_path, monkeypatch, capsys):
    """The CLI: a channel whose URL (from the environment) carries a token answers 500;
    the token is in no output, no error and no history row. The verdict is made up
    (this is about delivery, not health), so no log is read."""
    from analytics.cli import main
    from analytics.cli.commands import check
    from analytics.analyses.health import Health, Reason

    secret = "S3cr3tT0kenXYZ987"
    web.expect_request(f"/hook/{secret}").respond_with_data("no", status=500)
    web.expect_request("/ok").respond_with_data("ok")
    cfg = tmp_path / "lastmile.toml"
    cfg.write_text('[notify]\nretries = 1\nbackoff_seconds = 0\nto = ["secret", "plain"]\n'
                   '[notify.channels.secret]\nurl = "env:LM_TEST_HOOK"\n'
                   f'[notify.channels.plain]\nurl = "{web.url_for("/ok").replace("http://", "json://")}"\n\n'
                   '[[models]]\nname = "m"\ntask = "binary"\npredictions = "p.parquet"\n'
                   '[models.columns]\ntimestamp = "ts"\nlabel = "y"\nscore = "s"\n')
    verdict = Health("m", "warn", (Reason("drop", "roc_auc", 0.08, 0.05, "warn", "2026-11-16 to 2026-11-22",
                                          "v1: roc_auc fell by 8%.", "v1"),),
                     {"current": (dt.datetime(2026, 11, 16), dt.datetime(2026, 11, 23))}, ("v1",))
    monkeypatch.setattr(check, "checked_health", lambda engine, spec, now=None: verdict)
    monkeypatch.setenv("LM_TEST_HOOK", web.url_for(f"/hook/{secret}").replace("http://", "json://"))
    texts = []
    for run_in, flags, want in (("a", [], 3), ("b", ["--fail-on-notify"], 5)):
        monkeypatch.setenv("LASTMILE_CACHE_DIR", str(tmp_path / "cache" / run_in))
        code = main(["check", "--config", str(cfg), "--model", "m", "--notify", "--format", "json", *flags])
        out, err = capsys.readouterr()
        texts += [out, err]
        assert code == want                    # the verdict's (warn: 3), unless --fail-on-notify
        (n,) = json.loads(out)["notifications"]
        assert [(d["channel"], d["ok"], d["attempts"]) for d in n["deliveries"]] == [("secret", False, 2),
                                                                                   ("plain", True, 1)]
        assert "secret FAILED after 2 attempts" in err and "env:LM_TEST_HOOK" not in out
    code = main(["history", "--config", str(cfg), "--model", "m"])
    out, err = capsys.readouterr()
    assert code == 0 and "secret FAILED" in out
    texts += [out, err]
    stored = b"".join(p.read_bytes() for p in (tmp_path / "cache").rglob("history.sqlite*"))
    for text in texts + [stored.decode("latin-1")]:
        assert secret not in text
    assert secret in "".join(r.path for r, _ in web.log)   # it was really used


def test_a_damaged_history_is_one_sentence_and_never_fails_a_check(tmp_path, monkeypatch, capsys):
    from analytics.cli import main
    from analytics.cli.commands import check
    from analytics.analyses.health import Health

    cfg = tmp_path / "lastmile.toml"
    cfg.write_text('[[models]]\nname = "m"\ntask = "binary"\npredictions = "p.parquet"\n'
                   '[models.columns]\ntimestamp = "ts"\nlabel = "y"\nscore = "s"\n')
    monkeypatch.setattr(check, "checked_health", lambda engine, spec, now=None: Health("m", "healthy", ()))
    monkeypatch.setenv("LASTMILE_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["check", "--config", str(cfg), "--model", "m"]) == 0
    (db,) = (tmp_path / "cache").rglob("history.sqlite")
    db.write_bytes(b"this is not a database" * 100)
    capsys.readouterr()
    assert main(["check", "--config", str(cfg), "--model", "m", "--notify"]) == 0
    out, err = capsys.readouterr()
    assert "warning: the verdict history could not be written" in err and "Traceback" not in err
    assert main(["history", "--config", str(cfg)]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: The verdict history") and err.count("\n") == 1
