"""Logs on object storage: s3:// paths read through s3fs, against a local S3 (moto) server.

One moto server on 127.0.0.1 for the module, with credentials enforced (moto
ignores them by default): an IAM user's access key is the only one that works.
Every test runs with an empty AWS environment (no ~/.aws, no instance metadata),
so nothing reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import math
import socket
import threading
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq
import pytest

moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed (test extra)")
boto3 = pytest.importorskip("boto3")
pytest.importorskip("s3fs")

from analytics.cli import main  # noqa: E402
from analytics.log.engine import Engine  # noqa: E402
from analytics.errors import ConfigError  # noqa: E402
from analytics.config.workspace import load_workspace, parse_workspace  # noqa: E402

from .factories import make_workspace  # noqa: E402

BUCKET = "lastmile-logs"
FILES = 3


def _post(url: str, body: bytes) -> None:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()


@pytest.fixture(scope="module")
def s3():
    """(endpoint, key, secret) of a moto S3 server that checks credentials."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        # the next 3 requests go unchecked (they create the user and its key); then every one is
        _post(f"{endpoint}/moto-api/reset-auth", b"3")
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="setup", aws_secret_access_key="setup")
        iam.create_user(UserName="lastmile")
        iam.put_user_policy(UserName="lastmile", PolicyName="s3", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        k = iam.create_access_key(UserName="lastmile")["AccessKey"]
        yield endpoint, k["AccessKeyId"], k["SecretAccessKey"]
    finally:
        try:
            _post(f"{endpoint}/moto-api/reset-auth", b"inf")
        finally:
            server.stop()


@pytest.fixture(autouse=True)
def no_aws_environment(monkeypatch, tmp_path):
    import os
    for var in list(os.environ):
        if var.startswith("AWS_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture(scope="module")
def uploaded(s3, tmp_path_factory):
    """A generated binary workspace, on disk and uploaded twice: flat and hive-partitioned."""
    endpoint, key, secret = s3
    folder = tmp_path_factory.mktemp("local")
    g = make_workspace(folder, "binary", n=900, seed=3, files=FILES)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=key, aws_secret_access_key=secret)
    client.create_bucket(Bucket=BUCKET)
    for i in range(FILES):
        body = (folder / "pred" / f"part-{i}.parquet").read_bytes()
        client.put_object(Bucket=BUCKET, Key=f"flat/pred/part-{i}.parquet", Body=body)
        client.put_object(Bucket=BUCKET, Key=f"hive/pred/dt=2026-03-0{i + 1}/part-0.parquet", Body=body)
    client.put_object(Bucket=BUCKET, Key="flat/out/part-0.parquet",
                      Body=(folder / "out" / "part-0.parquet").read_bytes())
    client.put_object(Bucket=BUCKET, Key="corrupt/pred/part-0.parquet",
                      Body=(folder / "pred" / "part-0.parquet").read_bytes())
    client.put_object(Bucket=BUCKET, Key="corrupt/pred/part-1.parquet", Body=b"not parquet at all")
    return g, client


def remote_config(folder: Path, g, *, predictions: str, outcomes: str | None = f"s3://{BUCKET}/flat/out/*.parquet",
                  s3: dict | None = None, name: str = "lastmile.toml") -> Path:
    """The generated workspace's lastmile.toml with its paths on S3 and an [engine.options.s3] table."""
    raw = load_workspace(g.config).models[0]
    text = g.config.read_text()
    text = text.replace('predictions = "pred/*.parquet"', f'predictions = "{predictions}"')
    text = text.replace('outcomes = "out/*.parquet"', f'outcomes = "{outcomes}"' if outcomes else "")
    assert raw.name in text and predictions in text
    if s3 is not None:
        head = "[engine.options.s3]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in s3.items())
        text = head + text
    path = folder / name
    path.write_text(text)
    return path


def creds(s3, **extra) -> dict:
    endpoint, key, secret = s3
    return {"endpoint_url": endpoint, "key": key, "secret": secret, **extra}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_sentence(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def close(a, b, path="") -> None:
    """Two JSON documents are equal, floats within a relative 1e-9."""
    if isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), path
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            close(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


def in_thread(fn, timeout: float = 90.0):
    """Run ``fn`` with a time budget; fail (instead of hanging the suite) past it."""
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("value", fn()), daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f"still waiting after {timeout} s"
    return box["value"]


# ---------------------------------------------------------------- same answers


def test_metrics_and_drift_on_s3_match_the_local_copy(uploaded, s3, tmp_path, capsys):
    g, _ = uploaded
    cfg = remote_config(tmp_path, g, predictions=f"s3://{BUCKET}/flat/pred/*.parquet", s3=creds(s3))
    model = "binary_model"
    for argv in (["metrics", "--model", model, "--by", "version", "--by", "period"],
                 ["drift", "--model", model]):
        code, local, err = run(capsys, *argv, "--config", str(g.config), "--format", "json")
        assert code == 0, err
        code, remote, err = run(capsys, *argv, "--config", str(cfg), "--format", "json")
        assert code == 0, err
        close(json.loads(remote), json.loads(local))


def test_a_folder_expands_to_its_hive_partitions(uploaded, s3, tmp_path):
    g, _ = uploaded
    for predictions in (f"s3://{BUCKET}/hive/pred", f"s3a://{BUCKET}/hive/pred/",
                        f"s3://{BUCKET}/hive/pred/**/*.parquet"):
        cfg = remote_config(tmp_path, g, predictions=predictions, s3=creds(s3))
        engine = Engine(load_workspace(cfg))
        spec = engine.workspace.model("binary_model")
        src = engine.source(spec, "predictions")
        assert src.hive and len(src.files) == FILES and src.rows == 900
        assert all(f.startswith(f"s3://{BUCKET}/hive/pred/dt=") for f in src.files)
        raw = engine.raw(spec)
        assert "dt" in raw.schema()
        counts = engine.execute(raw.group_by("dt").aggregate(n=raw.count()).order_by("dt")).to_pylist()
        local = [pq.read_metadata(g.config.parent / "pred" / f"part-{i}.parquet").num_rows for i in range(FILES)]
        assert [r["n"] for r in counts] == local
        assert [str(r["dt"]) for r in counts] == [f"2026-03-0{i + 1}" for i in range(FILES)]


def test_a_single_object_and_a_snapshot_read_the_same_rows(uploaded, s3, tmp_path):
    g, _ = uploaded
    cfg = remote_config(tmp_path, g, predictions=f"s3://{BUCKET}/flat/pred/part-1.parquet", s3=creds(s3))
    ws = load_workspace(cfg)
    src = Engine(ws).source(ws.models[0], "predictions")
    assert src.files == (f"s3://{BUCKET}/flat/pred/part-1.parquet",) and src.rows == 300 and not src.hive
    # the footers give the row count, so a small remote log is snapshot in memory like a local one
    engine = Engine(ws, snapshot=True)
    assert engine.snapshotted("binary_model")
    t = engine.log("binary_model")
    assert engine.execute(t.aggregate(n=t.count())).column(0)[0].as_py() == 300


def test_every_thread_reads_through_the_registered_filesystem(uploaded, s3, tmp_path):
    g, _ = uploaded
    cfg = remote_config(tmp_path, g, predictions=f"s3://{BUCKET}/flat/pred/*.parquet", s3=creds(s3))
    engine = Engine(load_workspace(cfg))

    def count():
        t = engine.raw("binary_model")
        return engine.execute(t.aggregate(n=t.count())).column(0)[0].as_py()

    assert count() == 900
    assert in_thread(count) == 900   # another thread: another cursor of the same database


def test_new_objects_show_up_in_the_next_query_without_a_listing_cache(uploaded, s3, tmp_path):
    g, client = uploaded
    for i in range(2):
        client.copy_object(Bucket=BUCKET, Key=f"growing/pred/part-{i}.parquet",
                           CopySource={"Bucket": BUCKET, "Key": f"flat/pred/part-{i}.parquet"})
    cfg = remote_config(tmp_path, g, predictions=f"s3://{BUCKET}/growing/pred/*.parquet",
                        s3=creds(s3, listing_cache_seconds=0))
    engine = Engine(load_workspace(cfg))

    def count():
        t = engine.raw("binary_model")
        return engine.execute(t.aggregate(n=t.count())).column(0)[0].as_py()

    assert count() == 600
    client.copy_object(Bucket=BUCKET, Key="growing/pred/part-2.parquet",
                       CopySource={"Bucket": BUCKET, "Key": "flat/pred/part-2.parquet"})
    assert count() == 900


def test_credentials_and_endpoint_come_from_the_environment(uploaded, s3, tmp_path, monkeypatch, capsys):
    g, _ = uploaded
    endpoint, key, secret = s3
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
    cfg = remote_config(tmp_path, g, predictions=f"s3://{BUCKET}/flat/pred/*.parquet")
    code, out, err = run(capsys, "validate", "--config", str(cfg), "--format", "json")
    assert code == 0, out + err
    assert json.loads(out)["models"]["binary_model"]["rows"] == 900


def test_secrets_may_name_environment_variables(uploaded, s3, tmp_path, monkeypatch, capsys):
    g, _ = uploaded
    endpoint, key, secret = s3
    monkeypatch.setenv("LM_TEST_KEY", key)
    monkeypatch.setenv("LM_TEST_SECRET", secret)
    cfg = remote_config(tmp_path, g, predictions=f"s3://{BUCKET}/flat/pred/*.parquet",
                        s3={"endpoint_url": endpoint, "key": "env:LM_TEST_KEY", "secret": "env:LM_TEST_SECRET"})
    code, out, err = run(capsys, "validate", "--config", str(cfg))
    assert code == 0, out + err
    monkeypatch.delenv("LM_TEST_SECRET")
    code, out, err = run(capsys, "metrics", "--model", "binary_model", "--config", str(cfg))
    assert code == 2
    assert "'LM_TEST_SECRET', which is not set" in one_sentence(err)


# ---------------------------------------------------------------- validate


def test_validate_reads_remote_footers_and_names_a_corrupt_object(uploaded, s3, tmp_path, capsys):
    g, _ = uploaded
    cfg = remote_config(tmp_path, g, predictions=f"s3://{BUCKET}/flat/pred/*.parquet", s3=creds(s3))
    code, out, err = run(capsys, "validate", "--config", str(cfg), "--format", "json")
    assert code == 0, out + err
    m = json.loads(out)["models"]["binary_model"]
    assert m["ok"] and m["rows"] == 900 and m["outcome_rows"] == len(g.outcomes["pid"])

    bad = remote_config(tmp_path, g, predictions=f"s3://{BUCKET}/corrupt/pred/*.parquet", s3=creds(s3),
                        name="corrupt.toml")
    code, out, err = run(capsys, "validate", "--config", str(bad), "--format", "json")
    assert code == 2
    problems = json.loads(out)["models"]["binary_model"]["problems"]
    assert len(problems) == 1
    assert f"'s3://{BUCKET}/corrupt/pred/part-1.parquet'" in problems[0]
    assert "is not a readable Parquet file" in problems[0]


# ---------------------------------------------------------------- one sentence each


def test_a_missing_bucket_is_one_sentence(uploaded, s3, tmp_path, capsys):
    g, _ = uploaded
    for predictions in ("s3://no-such-bucket/pred/*.parquet", "s3://no-such-bucket/pred/part-0.parquet"):
        cfg = remote_config(tmp_path, g, predictions=predictions, s3=creds(s3))
        code, _, err = run(capsys, "metrics", "--model", "binary_model", "--config", str(cfg))
        assert code == 2
        line = one_sentence(err)
        assert "Bucket 'no-such-bucket'" in line and "does not exist" in line and predictions in line


def test_a_missing_key_or_an_empty_glob_is_one_sentence(uploaded, s3, tmp_path, capsys):
    g, _ = uploaded
    cases = {f"s3://{BUCKET}/nothing/here/*.parquet": "No Parquet files match",
             f"s3://{BUCKET}/flat/pred/part-9.parquet": "does not exist",
             f"s3://{BUCKET}/no-folder": "does not exist"}
    for predictions, says in cases.items():
        cfg = remote_config(tmp_path, g, predictions=predictions, s3=creds(s3))
        code, _, err = run(capsys, "metrics", "--model", "binary_model", "--config", str(cfg))
        assert code == 2
        line = one_sentence(err)
        assert says in line and repr(predictions) in line and "Bucket" not in line


def test_wrong_credentials_are_one_sentence_without_retrying(uploaded, s3, tmp_path, capsys):
    g, _ = uploaded
    endpoint, key, _ = s3
    for wrong in ({"key": "AKIANOSUCHKEY0000000", "secret": "x"}, {"key": key, "secret": "not-the-secret"}):
        cfg = remote_config(tmp_path, g, predictions=f"s3://{BUCKET}/flat/pred/*.parquet",
                            s3={"endpoint_url": endpoint, **wrong})
        code, _, err = in_thread(lambda: run(capsys, "metrics", "--model", "binary_model", "--config", str(cfg)))
        assert code == 2
        line = one_sentence(err)
        assert "was denied" in line and f"s3://{BUCKET}/flat/pred/*.parquet" in line


def test_no_credentials_at_all_is_one_sentence(uploaded, s3, tmp_path, capsys):
    g, _ = uploaded
    cfg = remote_config(tmp_path, g, predictions=f"s3://{BUCKET}/flat/pred/*.parquet",
                        s3={"endpoint_url": s3[0]})
    code, _, err = in_thread(lambda: run(capsys, "metrics", "--model", "binary_model", "--config", str(cfg)))
    assert code == 2
    assert "No credentials to read" in one_sentence(err)


def test_an_endpoint_that_never_answers_times_out_in_one_sentence(uploaded, s3, tmp_path, capsys):
    """A port that accepts nothing (its backlog full): the connect timeout ends it, with no retry."""
    g, _ = uploaded
    _, key, secret = s3
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    filler = socket.create_connection(hole.getsockname())   # fills the backlog of 0
    try:
        endpoint = f"http://127.0.0.1:{hole.getsockname()[1]}"
        cfg = remote_config(tmp_path, g, predictions=f"s3://{BUCKET}/flat/pred/*.parquet",
                            s3={"endpoint_url": endpoint, "key": key, "secret": secret,
                                "connect_timeout": 1, "read_timeout": 1, "retries": 0})
        code, _, err = in_thread(lambda: run(capsys, "metrics", "--model", "binary_model", "--config", str(cfg)))
    finally:
        filler.close()
        hole.close()
    assert code == 2
    line = one_sentence(err)
    assert "Cannot reach the object store at " + endpoint in line and "0 retries" in line


def test_a_closed_port_is_one_sentence(uploaded, s3, tmp_path, capsys):
    g, _ = uploaded
    _, key, secret = s3
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]   # closed once the block ends: connections are refused
    cfg = remote_config(tmp_path, g, predictions=f"s3://{BUCKET}/flat/pred/*.parquet",
                        s3={"endpoint_url": f"http://127.0.0.1:{port}", "key": key, "secret": secret,
                            "connect_timeout": 1, "retries": 0})
    code, _, err = in_thread(lambda: run(capsys, "metrics", "--model", "binary_model", "--config", str(cfg)))
    assert code == 2
    assert "Cannot reach the object store" in one_sentence(err)


# ---------------------------------------------------------------- the workspace keys (no server needed)


def _ws(s3_table: str):
    import tomllib
    text = ("[engine.options]\nthreads = 2\n" + s3_table +
            '\n[[models]]\nname = "m"\ntask = "binary"\npredictions = "s3://b/p/*.parquet"\n'
            '[models.columns]\ntimestamp = "ts"\nscore = "s"\nlabel = "y"\n')
    return parse_workspace(tomllib.loads(text), root=Path("."))


def test_the_s3_table_is_parsed_and_kept_from_the_backend_connect():
    ws = _ws('[engine.options.s3]\nendpoint_url = "http://minio:9000"\nregion = "eu-west-1"\n'
             'key = "env:K"\nsecret = "env:S"\naddressing_style = "path"\nconnect_timeout = 2\nretries = 0\n')
    assert dict(ws.backend_options) == {"threads": 2}
    assert ws.s3.endpoint_url == "http://minio:9000" and ws.s3.region == "eu-west-1"
    assert ws.s3.key == "env:K" and ws.s3.addressing_style == "path"
    assert ws.s3.connect_timeout == 2.0 and ws.s3.retries == 0 and ws.s3.read_timeout == 15.0


def test_bad_s3_keys_are_workspace_problems():
    with pytest.raises(ConfigError) as info:
        _ws('[engine.options.s3]\nendpoint = "http://x"\nretries = -1\nanon = "yes"\n'
            'addressing_style = "dns"\nread_timeout = 0\n')
    problems = info.value.problems
    assert len(problems) == 5
    assert any("unknown key 'endpoint' (did you mean 'endpoint_url'?)" in p for p in problems)
    assert any("retries must be a whole number" in p for p in problems)
    assert any("anon must be true or false" in p for p in problems)
    assert any("addressing_style must be one of" in p for p in problems)
    assert any("read_timeout must be a number of seconds > 0" in p for p in problems)


def test_a_local_workspace_never_imports_s3fs(tmp_path):
    import subprocess
    import sys
    g = make_workspace(tmp_path, "binary", n=100)
    code = ("import sys\nfrom analytics.log.engine import Engine\nfrom analytics.config.workspace import load_workspace\n"
            f"e = Engine(load_workspace({str(g.config)!r}))\nt = e.raw('binary_model')\n"
            "e.execute(t.aggregate(n=t.count()))\nprint('s3fs' in sys.modules)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"
