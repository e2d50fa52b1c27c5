"""The aws_server as another process: boto3 over HTTP, SNS -> SQS, control over HTTP."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from mypy_boto3_rekognition.client import RekognitionClient
from mypy_boto3_s3.client import S3Client
from mypy_boto3_sqs.client import SQSClient

from worker.testing.fake_control import FakeControl, FakeControlError

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
MEDIA = REPO.parent / "shared" / "media"
REGION = "us-east-1"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


def _first_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise TimeoutError(f"aws_server printed nothing in {timeout} s")
    return proc.stdout.readline().strip()


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("aws_server") / "stderr.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | CREDENTIALS
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "worker.testing.aws_server", "--port", "0"],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        line = _first_line(proc, timeout=20)
        assert line.startswith("listening on http://127.0.0.1:"), (line, log.read_text())
        yield line.removeprefix("listening on ")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=10)
    assert code == 0, log.read_text()  # a clean stop on SIGTERM


@dataclass
class Clients:
    rek: RekognitionClient
    rek_once: RekognitionClient
    s3: S3Client
    sqs: SQSClient
    control: FakeControl
    topic_arn: str
    queue_url: str
    role_arn: str


@pytest.fixture
def aws(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Clients:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    control = FakeControl(endpoint)
    control.reset()  # every test starts from empty backends and a fresh fake

    def client(service: str, config: Config | None = None) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=endpoint, config=config)

    sns, sqs, iam = client("sns"), client("sqs"), client("iam")
    s3: S3Client = client("s3")
    s3.create_bucket(Bucket="media")
    topic_arn = sns.create_topic(Name="rekognition-done")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="rekognition-done")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    role = iam.create_role(RoleName="rekognition-sns", AssumeRolePolicyDocument="{}")
    return Clients(
        rek=client("rekognition"),
        rek_once=client("rekognition", Config(retries={"total_max_attempts": 1})),
        s3=s3,
        sqs=sqs,
        control=control,
        topic_arn=topic_arn,
        queue_url=queue_url,
        role_arn=role["Role"]["Arn"],
    )


def _messages(aws: Clients, wait_s: int = 5) -> list[dict[str, Any]]:
    got = aws.sqs.receive_message(QueueUrl=aws.queue_url, WaitTimeSeconds=wait_s)
    return [json.loads(json.loads(m["Body"])["Message"]) for m in got.get("Messages", [])]


@pytest.mark.skipif(not MEDIA.is_dir(), reason="shared media not found")
def test_segment_job_over_http_matches_the_truth(aws: Clients) -> None:
    truth = json.loads((MEDIA / "synthetic" / "no_audio.truth.json").read_text())
    aws.s3.upload_file(str(MEDIA / "synthetic" / "no_audio.mp4"), "media", "in/no_audio.mp4")
    request: Any = {
        "Video": {"S3Object": {"Bucket": "media", "Name": "in/no_audio.mp4"}},
        "SegmentTypes": ["TECHNICAL_CUE", "SHOT"],
        "NotificationChannel": {"SNSTopicArn": aws.topic_arn, "RoleArn": aws.role_arn},
        "ClientRequestToken": "no-audio-segments",
        "JobTag": "video-1",
    }
    job_id = aws.rek.start_segment_detection(**request)["JobId"]
    assert aws.rek.start_segment_detection(**request)["JobId"] == job_id

    [message] = _messages(aws)
    assert message["JobId"] == job_id and message["Status"] == "SUCCEEDED"
    assert message["API"] == "StartSegmentDetection" and message["JobTag"] == "video-1"

    pages, token = [], None
    while True:
        more = {"NextToken": token} if token else {}
        page = aws.rek.get_segment_detection(JobId=job_id, MaxResults=2, **more)
        pages.append(page)
        if (token := page.get("NextToken")) is None:
            break
    assert len(pages) > 1 and all(len(p["Segments"]) <= 2 for p in pages)
    for page in pages:
        [meta] = page["VideoMetadata"]
        assert (meta["FrameWidth"], meta["FrameHeight"]) == (truth["width"], truth["height"])
        assert meta["DurationMillis"] == truth["duration_ms"]
    shots = [s for p in pages for s in p["Segments"] if s["Type"] == "SHOT"]
    assert [s["ShotSegment"]["Index"] for s in shots] == list(range(len(shots)))
    assert [s["StartFrameNumber"] for s in shots[1:]] == [c["frame"] for c in truth["cuts"]]
    assert [s["StartTimestampMillis"] for s in shots[1:]] == [c["ms"] for c in truth["cuts"]]


def test_faults_and_planting_over_http(aws: Clients) -> None:
    aws.s3.put_object(Bucket="media", Key="clip.mp4", Body=b"results are planted")
    planted = {
        "VideoMetadata": {"Codec": "h264", "DurationMillis": 1000, "Format": "QuickTime / MOV",
                          "FrameRate": 25.0, "FrameHeight": 360, "FrameWidth": 640},
        "ModerationLabels": [
            {"Timestamp": 0, "ModerationLabel": {"Name": "Violence", "ParentName": "",
                                                 "Confidence": 90.0}},
        ],
    }  # fmt: skip
    aws.control.plant(("moderation", "clip.mp4"), planted)
    aws.control.notification_fault(drop=True)
    job_id = aws.rek.start_content_moderation(
        Video={"S3Object": {"Bucket": "media", "Name": "clip.mp4"}},
        NotificationChannel={"SNSTopicArn": aws.topic_arn, "RoleArn": aws.role_arn},
    )["JobId"]
    assert _messages(aws, wait_s=1) == []  # dropped: only Get* tells the job is done

    aws.control.fail_next("GetContentModeration", "ProvisionedThroughputExceededException")
    with pytest.raises(ClientError) as exc:
        aws.rek_once.get_content_moderation(JobId=job_id)
    assert exc.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    got = aws.rek_once.get_content_moderation(JobId=job_id)
    assert got["ModerationLabels"] == planted["ModerationLabels"]

    record = aws.control.record()
    assert record["calls"] == {"StartContentModeration": 1, "GetContentModeration": 2}
    assert record["errors"] == {
        "GetContentModeration": {"ProvisionedThroughputExceededException": 1}
    }
    assert [n["Delivery"] for n in record["notifications"]] == ["dropped"]
    with pytest.raises(FakeControlError, match="no job"):
        aws.control.finish("unknown-job")
