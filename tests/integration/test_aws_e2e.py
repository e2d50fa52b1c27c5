"""The production path with real processes: the local AWS (moto + the Rekognition fake),
`vidx aws setup`, `vidx worker`, `vidx poll` and the CLI, on Redis and PostgreSQL."""

from __future__ import annotations

import json
import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.compose import vidx_argv
from tests.e2e_support import (
    REDIS_URL,
    VIDX,
    clean_env,
    one_error_line,
    start,
    stop,
    vidx,
    wait_status,
)

pytestmark = pytest.mark.integration

FEATURES = "segments,labels,moderation,faces,text"
VIDEOS = ["synthetic/no_audio.mp4", "real/bikes.mp4", "synthetic/programme.webm"]


@dataclass
class AwsStack:
    env: dict[str, str]
    logs: list[Path]


@pytest.fixture(scope="module")
def aws_stack(
    broker_db: int, pg_schema_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AwsStack]:
    root = tmp_path_factory.mktemp("aws-e2e")
    server_log = root / "aws.log"
    # jobs finish a second after Start*, so notifications come after the JobId is saved
    server = start(
        [
            sys.executable,
            "-m",
            "worker.testing.aws_server",
            "--port",
            "0",
            "--complete-after-s",
            "1",
        ],
        clean_env(),
        server_log,
        "listening on http://",
    )
    procs = [server]
    try:
        endpoint = re.search(r"listening on (http://\S+)", server_log.read_text())
        assert endpoint, server_log.read_text()
        env = clean_env(
            broker_url=f"{REDIS_URL}/{broker_db}",
            database_url=pg_schema_url,
            data_dir=str(root / "data"),
            engine="aws",
            sqs_wait_s="1",
        )
        env.update(
            AWS_ENDPOINT_URL=endpoint.group(1),
            AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
        )
        env.pop("AWS_PROFILE", None)
        setup = vidx(["aws", "setup", "--bucket", "vidx-e2e"], env)
        assert setup.returncode == 0, setup.stderr
        for line in setup.stdout.splitlines():  # the KEY=value lines a shell would source
            key, _, value = line.partition("=")
            env[key] = shlex.split(value)[0]
        assert env["VIDX_SNS_TOPIC_ARN"].split(":")[-1].startswith("AmazonRekognition")
        again = vidx(["aws", "setup", "--bucket", "vidx-e2e"], env)
        assert again.returncode == 0 and again.stdout == setup.stdout, again.stderr
        assert vidx(["db", "upgrade"], env).returncode == 0
        logs = [server_log, root / "worker.log", root / "poll.log", root / "beat.log"]
        # the compose services' own commands, so the stack and this test cannot drift
        procs.append(start([*VIDX, *vidx_argv("worker")], env, logs[1], "ready."))
        procs.append(start([*VIDX, *vidx_argv("poll")], env, logs[2], "polling for completions"))
        procs.append(start([*VIDX, *vidx_argv("beat")], env, logs[3], "Starting"))
        yield AwsStack(env, logs)
    finally:
        for proc in reversed(procs):
            stop(proc)


def test_three_videos_all_features_through_sns_and_sqs(aws_stack: AwsStack, media: Path) -> None:
    env = aws_stack.env
    ids = []
    for rel in VIDEOS:
        res = vidx(["submit", str(media / rel), "--features", FEATURES, "--json"], env)
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout)
        assert len(out["job_ids"]) == 5
        if rel.endswith(".webm"):  # VP9/WebM: Rekognition takes H.264 in MP4/MOV only
            assert any("transcoded" in n for n in out["notes"]), out
        ids.append(out["video_id"])
    for rel, video_id in zip(VIDEOS, ids, strict=True):
        status = wait_status(video_id, env, "INDEXED", 180, aws_stack.logs)
        assert set(status["features"]) == set(FEATURES.split(","))
        assert all(f["status"] == "SUCCEEDED" for f in status["features"].values())
        doc = json.loads(vidx(["timeline", video_id, "--format", "json"], env).stdout)
        truth = json.loads((media / rel).with_suffix("").with_suffix(".truth.json").read_text())
        cuts = [c["frame"] for c in truth["cuts"]]
        assert [s["start_frame"] for s in doc["shots"]] == [0, *cuts], rel
        assert doc["features"]["segments"]["engine"] == "aws"
    poll_log = aws_stack.logs[2].read_text()
    assert "handled=" in poll_log, poll_log  # completions really came through SQS
    # the compose healthchecks of the poller and the scheduler
    for name in ("poll", "beat"):
        health = vidx(["health", name], env)
        assert health.returncode == 0, health.stderr + aws_stack.logs[3].read_text()


def test_s3_uri_input_and_missing_object(aws_stack: AwsStack, media: Path) -> None:
    env = aws_stack.env
    bucket = env["VIDX_S3_BUCKET"]
    missing = vidx(["submit", f"s3://{bucket}/nope/missing.mp4", "--features", "segments"], env)
    one_error_line(missing, "s3://", "missing.mp4")
