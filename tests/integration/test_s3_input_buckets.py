"""POST /videos {"uri": "s3://..."} and `vidx submit s3://...` read only buckets on
VIDX_S3_INPUT_BUCKETS (default: VIDX_S3_BUCKET), and answer the same for a bucket not
allowed as for an object that is not there: nothing tells which buckets or objects exist."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import redis
from fastapi.testclient import TestClient

from tests.conftest import MEDIA
from tests.e2e_support import REDIS_URL, clean_env, one_error_line, start, stop, vidx
from tests.fake_aws import aws_flow
from tests.integration.test_api_read import problem
from tests.integration.test_api_write import videos
from tests.integration.test_bad_inputs import snapshot
from worker.api import create_app

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
]
SHORT = MEDIA / "synthetic" / "no_audio.mp4"
OTHER = "someone-elses-media"
THIRD = "third-bucket"


def without_uri(body: dict[str, Any], uri: str) -> dict[str, Any]:
    assert uri in body["detail"]
    return body | {"detail": body["detail"].replace(uri, "<uri>")}


def submit(client: TestClient, uri: str) -> Any:
    return client.post("/videos", json={"uri": uri, "engine": "aws", "features": ["labels"]})


def accepted(client: TestClient, flow: Any, uri: str) -> str:
    res = submit(client, uri)
    assert res.status_code == 202, res.text
    video_id: str = res.json()["video_id"]
    deadline = time.monotonic() + 30  # started by the background thread; wait for it
    while flow.states(video_id) != ["IN_PROGRESS"]:
        assert time.monotonic() < deadline, flow.states(video_id)
        time.sleep(0.1)
    return video_id


def plant(s3: Any, *buckets: str) -> None:
    """The clip at in/clip.mp4 in each bucket (created unless it exists)."""
    for bucket in buckets:
        if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="in/clip.mp4", Body=SHORT.read_bytes())


def test_api_reads_the_configured_bucket_only(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with aws_flow(monkeypatch, tmp_path / "data", f"sqlite:///{tmp_path / 'vidx.db'}") as flow:
        flow.fake.configure(auto_complete=False)
        bucket = flow.prov.bucket  # VIDX_S3_BUCKET; VIDX_S3_INPUT_BUCKETS unset
        plant(flow.ctx.aws.s3, bucket, OTHER)
        with TestClient(create_app(flow.ctx)) as client:
            answers = {}
            for uri in (f"s3://{OTHER}/in/clip.mp4", f"s3://{bucket}/in/nothing.mp4"):
                answers[uri] = without_uri(problem(submit(client, uri), 422), uri)
            [not_allowed, missing] = answers.values()
            assert not_allowed == missing, answers  # same status, same words
            assert videos(flow.ctx) == 0
            accepted(client, flow, f"s3://{bucket}/in/clip.mp4")
        assert videos(flow.ctx) == 1


def test_api_with_several_buckets(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'vidx.db'}"
    listed = f"{OTHER}, vidx-test-media"
    with aws_flow(monkeypatch, tmp_path / "data", database, s3_input_buckets=listed) as flow:
        flow.fake.configure(auto_complete=False)
        plant(flow.ctx.aws.s3, flow.prov.bucket, OTHER, THIRD)
        with TestClient(create_app(flow.ctx)) as client:
            for bucket in (OTHER, flow.prov.bucket):
                accepted(client, flow, f"s3://{bucket}/in/clip.mp4")
            third, missing = f"s3://{THIRD}/in/clip.mp4", f"s3://{OTHER}/in/nothing.mp4"
            assert without_uri(problem(submit(client, third), 422), third) == without_uri(
                problem(submit(client, missing), 422), missing
            )
        assert videos(flow.ctx) == 2


@pytest.fixture(scope="module")
def aws_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The local AWS (moto + Rekognition fake) as a process of its own, for the CLI."""
    log = tmp_path_factory.mktemp("aws") / "aws.log"
    server = start(
        [sys.executable, "-m", "worker.testing.aws_server", "--port", "0"],
        clean_env(),
        log,
        "listening on http://",
    )
    try:
        found = re.search(r"listening on (http://\S+)", log.read_text())
        assert found, log.read_text()
        yield found.group(1)
    finally:
        stop(server)


def test_cli_submit_answers_the_same(aws_endpoint: str, broker_db: int, tmp_path: Path) -> None:
    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    s3 = boto3.client(
        "s3",
        endpoint_url=aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    plant(s3, "vidx-cli-media", OTHER)
    broker = f"{REDIS_URL}/{broker_db}"
    env = clean_env(
        data_dir=str(tmp_path / "data"),
        engine="aws",
        s3_bucket="vidx-cli-media",
        broker_url=broker,
    )
    env.pop("AWS_PROFILE", None)
    env.update(AWS_ENDPOINT_URL=aws_endpoint, AWS_REGION="us-east-1", **credentials)
    assert vidx(["db", "upgrade"], env).returncode == 0
    before = snapshot(tmp_path / "data")
    lines = {}
    for uri in (f"s3://{OTHER}/in/clip.mp4", "s3://vidx-cli-media/in/nothing.mp4"):
        res = vidx(["submit", uri, "--features", "labels"], env)
        lines[uri] = one_error_line(res, uri).replace(uri, "<uri>")
    [not_allowed, missing] = lines.values()
    assert not_allowed == missing, lines
    assert snapshot(tmp_path / "data") == before
    assert redis.Redis.from_url(broker).llen("celery") == 0  # nothing queued
