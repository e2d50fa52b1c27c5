"""The fake Rekognition video operations under mock_aws, through real boto3 clients."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.exceptions import JsonRESTError
from mypy_boto3_rekognition.client import RekognitionClient
from mypy_boto3_s3.client import S3Client
from mypy_boto3_sns.client import SNSClient
from mypy_boto3_sqs.client import SQSClient

from worker.testing.rekognition import FakeRekognition, fake_rekognition, install

REGION, ACCOUNT = "us-east-1", "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/rekognition-publish"
BUCKET = "media"
FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "rekognition"
MEDIA = Path(__file__).resolve().parents[2].parent / "shared" / "media"
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def labels(n: int) -> dict[str, Any]:
    """A complete GetLabelDetection response with n labels."""
    return {
        "JobStatus": "SUCCEEDED",
        "VideoMetadata": {"Codec": "h264", "DurationMillis": 9600, "Format": "QuickTime / MOV",
                          "FrameRate": 25.0, "FrameHeight": 1080, "FrameWidth": 1920,
                          "ColorRange": "LIMITED"},
        "LabelModelVersion": "3.0",
        "Labels": [
            {"Timestamp": 40 * i, "Label": {"Name": f"Label{i}", "Confidence": 90.0 + i}}
            for i in range(n)
        ],
    }  # fmt: skip


@dataclass
class Aws:
    rek: RekognitionClient
    rek_once: RekognitionClient  # no retries: every injected error reaches the test
    s3: S3Client
    sns: SNSClient
    sqs: SQSClient
    topic_arn: str
    fake: FakeRekognition

    def queue(self, name: str = "done", raw: bool = False) -> str:
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        attributes = {"RawMessageDelivery": "true"} if raw else {}
        self.sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=arn["Attributes"]["QueueArn"],
            Attributes=attributes,
        )
        return url

    def bodies(self, url: str) -> list[str]:
        got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        return [m["Body"] for m in got.get("Messages", [])]

    def start_labels(self, key: str = "clip.mp4", **extra: Any) -> str:
        return self.rek.start_label_detection(
            Video={"S3Object": {"Bucket": BUCKET, "Name": key}},
            NotificationChannel={"SNSTopicArn": self.topic_arn, "RoleArn": ROLE},
            **extra,
        )["JobId"]


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    install()


@pytest.fixture
def aws(aws_env: None) -> Iterator[Aws]:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        # not a video: results for it are planted per object, never computed
        s3.put_object(Bucket=BUCKET, Key="clip.mp4", Body=b"planted results only")
        sns = boto3.client("sns", region_name=REGION)
        fake = fake_rekognition(ACCOUNT, REGION)
        fake.plant(("labels", "clip.mp4"), labels(5))
        yield Aws(
            rek=boto3.client("rekognition", region_name=REGION),
            rek_once=boto3.client("rekognition", region_name=REGION, config=NO_RETRY),
            s3=s3,
            sns=sns,
            sqs=boto3.client("sqs", region_name=REGION),
            topic_arn=sns.create_topic(Name="rekognition-done")["TopicArn"],
            fake=fake,
        )
        fake.close()


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


# --- idempotency and validation -------------------------------------------------------


def test_same_token_same_job_other_parameters_refused(aws: Aws) -> None:
    first = aws.start_labels(ClientRequestToken="video-1-labels", MinConfidence=60)
    assert aws.start_labels(ClientRequestToken="video-1-labels", MinConfidence=60) == first
    with pytest.raises(ClientError) as exc:
        aws.start_labels(ClientRequestToken="video-1-labels", MinConfidence=70)
    assert error_code(exc) == "IdempotentParameterMismatchException"
    with pytest.raises(ClientError) as exc:  # same token on another operation
        aws.rek.start_content_moderation(
            Video={"S3Object": {"Bucket": BUCKET, "Name": "clip.mp4"}},
            ClientRequestToken="video-1-labels",
        )
    assert error_code(exc) == "IdempotentParameterMismatchException"
    assert aws.start_labels() != aws.start_labels() != first  # no token: a new job each time
    assert len(aws.fake.jobs) == 3


def test_start_refuses_what_the_service_refuses(aws: Aws) -> None:
    video = {"S3Object": {"Bucket": BUCKET, "Name": "clip.mp4"}}
    cases: list[tuple[str, dict[str, Any]]] = [
        ("InvalidS3ObjectException", {"Video": {"S3Object": {"Bucket": BUCKET, "Name": "gone"}}}),
        ("InvalidS3ObjectException", {"Video": {"S3Object": {"Bucket": "nobucket", "Name": "x"}}}),
        ("InvalidParameterException", {"Video": video, "MinConfidence": 100.5}),
        ("InvalidParameterException", {"Video": video, "JobTag": "has space"}),
        ("InvalidParameterException", {"Video": video, "ClientRequestToken": "x" * 65}),
        (
            "InvalidParameterException",
            {"Video": video, "NotificationChannel": {"SNSTopicArn": "topic", "RoleArn": ROLE}},
        ),
    ]
    for code, request in cases:
        with pytest.raises(ClientError) as exc:
            aws.rek_once.start_label_detection(**request)
        assert error_code(exc) == code, request
    with pytest.raises(ClientError) as exc:
        aws.rek_once.start_segment_detection(
            Video=video,
            SegmentTypes=["SHOT"],
            Filters={"TechnicalCueFilter": {"BlackFrame": {"MaxPixelThreshold": 1.5}}},
        )
    assert error_code(exc) == "InvalidParameterException"
    # botocore refuses these client-side (required, below minimum); other clients do not
    for request in [
        {"Video": video},
        {"Video": video, "SegmentTypes": []},
        {
            "Video": video,
            "SegmentTypes": ["SHOT"],
            "Filters": {"ShotFilter": {"MinSegmentConfidence": 40}},
        },
    ]:
        with pytest.raises(JsonRESTError) as raw:
            aws.fake.handle("StartSegmentDetection", request)
        assert raw.value.error_type == "InvalidParameterException"
    assert aws.fake.jobs == []


def test_bucket_in_another_region_is_not_readable(aws: Aws) -> None:
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="far", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket="far", Key="clip.mp4", Body=b"x")
    with pytest.raises(ClientError) as exc:
        aws.rek_once.start_label_detection(
            Video={"S3Object": {"Bucket": "far", "Name": "clip.mp4"}}
        )
    assert error_code(exc) == "InvalidS3ObjectException"


# --- results and paging ---------------------------------------------------------------


def test_planted_pages_served_two_at_a_time(aws: Aws) -> None:
    job_id = aws.start_labels()
    pages, token = [], None
    while True:
        more = {"NextToken": token} if token else {}
        page = aws.rek.get_label_detection(JobId=job_id, MaxResults=2, **more)
        pages.append(page)
        token = page.get("NextToken")
        if token is None:
            break
    assert [len(p["Labels"]) for p in pages] == [2, 2, 1]
    assert all("NextToken" in p for p in pages[:-1]) and "NextToken" not in pages[-1]
    planted = labels(5)
    for page in pages:
        assert page["JobStatus"] == "SUCCEEDED" and page["JobId"] == job_id
        assert page["VideoMetadata"] == planted["VideoMetadata"]
        assert page["LabelModelVersion"] == "3.0"
        assert page["Video"] == {"S3Object": {"Bucket": BUCKET, "Name": "clip.mp4"}}
        assert page["GetRequestMetadata"] == {"SortBy": "TIMESTAMP", "AggregateBy": "TIMESTAMPS"}
    assert [label for p in pages for label in p["Labels"]] == planted["Labels"]


def test_segment_pages_repeat_the_video_metadata_list(aws: Aws) -> None:
    recorded = json.loads(
        (FIXTURES / "netflix_93f8" / "GetSegmentDetection.page1.json").read_text()
    )
    aws.fake.plant(("segments", "clip.mp4"), recorded)
    job_id = aws.rek.start_segment_detection(
        Video={"S3Object": {"Bucket": BUCKET, "Name": "clip.mp4"}}, SegmentTypes=["SHOT"]
    )["JobId"]
    first = aws.rek.get_segment_detection(JobId=job_id, MaxResults=100)
    last = aws.rek.get_segment_detection(JobId=job_id, MaxResults=100, NextToken=first["NextToken"])
    for page in (first, last):
        assert page["VideoMetadata"] == recorded["VideoMetadata"]  # a list, on every page
        assert page["SelectedSegmentTypes"] == recorded["SelectedSegmentTypes"]
    assert len(first["Segments"]) == 100 and len(last["Segments"]) == 16
    assert "NextToken" not in last
    assert first["Segments"] + last["Segments"] == recorded["Segments"]


def test_plant_by_job_id_replaces_results_and_stales_tokens(aws: Aws) -> None:
    job_id = aws.start_labels()
    first = aws.rek.get_label_detection(JobId=job_id, MaxResults=2)
    aws.fake.plant(job_id, [labels(3), {"Labels": labels(4)["Labels"][3:]}])  # two pages
    whole = aws.rek.get_label_detection(JobId=job_id)
    assert [x["Label"]["Name"] for x in whole["Labels"]] == [f"Label{i}" for i in range(4)]
    with pytest.raises(ClientError) as exc:
        aws.rek_once.get_label_detection(JobId=job_id, NextToken=first["NextToken"])
    assert error_code(exc) == "InvalidPaginationTokenException"


@pytest.mark.skipif(not MEDIA.is_dir(), reason="shared media not found")
def test_feature_without_local_engine_is_empty_with_probed_metadata(aws: Aws) -> None:
    aws.s3.upload_file(str(MEDIA / "synthetic" / "no_audio.mp4"), BUCKET, "in/no audio.mp4")
    job_id = aws.rek.start_face_detection(
        Video={"S3Object": {"Bucket": BUCKET, "Name": "in/no audio.mp4"}}
    )["JobId"]
    got = aws.rek.get_face_detection(JobId=job_id)
    assert got["JobStatus"] == "SUCCEEDED" and got["Faces"] == []
    assert got["VideoMetadata"] == {
        "Codec": "h264",
        "DurationMillis": 10000,
        "Format": "QuickTime / MOV",
        "FrameRate": 25.0,
        "FrameHeight": 360,
        "FrameWidth": 640,
        "ColorRange": "LIMITED",
    }


def test_unreadable_video_fails_the_job(aws: Aws) -> None:
    aws.s3.put_object(Bucket=BUCKET, Key="junk.mp4", Body=b"not a video at all")
    job_id = aws.start_labels("junk.mp4")  # nothing planted for it: the fake probes it
    got = aws.rek.get_label_detection(JobId=job_id)
    assert got["JobStatus"] == "FAILED"
    assert "not a media file" in got["StatusMessage"] and "Labels" not in got


# --- job states and the record --------------------------------------------------------


def test_in_progress_until_finished_by_hand_then_failed(aws: Aws) -> None:
    aws.fake.configure(auto_complete=False)
    queue = aws.queue()
    job_id = aws.start_labels(JobTag="video-7")
    got = aws.rek.get_label_detection(JobId=job_id)
    assert got["JobStatus"] == "IN_PROGRESS" and "Labels" not in got
    assert aws.bodies(queue) == []
    aws.fake.finish(job_id, "FAILED", "Unsupported codec/format.")
    got = aws.rek.get_label_detection(JobId=job_id)
    assert (got["JobStatus"], got["StatusMessage"]) == ("FAILED", "Unsupported codec/format.")
    assert "Labels" not in got and got["JobTag"] == "video-7"
    [body] = aws.bodies(queue)
    assert json.loads(json.loads(body)["Message"])["Status"] == "FAILED"
    with pytest.raises(ValueError, match="already finished"):
        aws.fake.finish(job_id)


def test_completes_after_a_delay(aws: Aws) -> None:
    aws.fake.configure(complete_after_s=0.2)
    queue = aws.queue()
    job_id = aws.start_labels()
    assert aws.rek.get_label_detection(JobId=job_id)["JobStatus"] == "IN_PROGRESS"
    aws.fake.wait_idle()
    assert aws.rek.get_label_detection(JobId=job_id)["JobStatus"] == "SUCCEEDED"
    assert len(aws.bodies(queue)) == 1


def test_record_counts_calls_and_the_most_jobs_in_flight(aws: Aws) -> None:
    aws.fake.configure(auto_complete=False, job_limit=3)
    ids = [aws.start_labels() for _ in range(3)]
    with pytest.raises(ClientError) as exc:
        aws.rek_once.start_label_detection(
            Video={"S3Object": {"Bucket": BUCKET, "Name": "clip.mp4"}}
        )
    assert error_code(exc) == "LimitExceededException"
    aws.fake.finish(ids[0])
    ids.append(aws.start_labels())
    for job_id in ids[1:]:
        aws.fake.finish(job_id)
    aws.rek.get_label_detection(JobId=ids[0])
    record = aws.fake.record()
    assert record["max_in_flight"] == 3 and record["in_flight"] == 0
    assert record["calls"] == {"StartLabelDetection": 5, "GetLabelDetection": 1}
    assert record["errors"] == {"StartLabelDetection": {"LimitExceededException": 1}}
    assert [j["JobId"] for j in record["jobs"]] == ids
    assert {j["Status"] for j in record["jobs"]} == {"SUCCEEDED"}
    assert record["jobs"][0]["Params"]["Video"]["S3Object"]["Name"] == "clip.mp4"
    json.dumps(record)  # the record crosses HTTP as JSON


def test_record_counts_the_items_each_succeeded_job_serves(aws: Aws) -> None:
    aws.fake.configure(auto_complete=False)
    aws.s3.put_object(Bucket=BUCKET, Key="other.mp4", Body=b"planted results only")
    aws.fake.plant(("labels", "other.mp4"), [labels(2), labels(3)])  # two recorded pages
    planted, failing = aws.start_labels(), aws.start_labels("other.mp4")
    assert [j["Items"] for j in aws.fake.record()["jobs"]] == [None, None]  # running
    aws.fake.finish(planted)
    aws.fake.finish(failing, "FAILED", "Unsupported codec/format.")
    jobs = {j["JobId"]: j for j in aws.fake.record()["jobs"]}
    assert jobs[planted]["Items"] == 5 and jobs[failing]["Items"] is None  # serves nothing


def test_expired_job_and_unknown_ids(aws: Aws) -> None:
    job_id = aws.start_labels(ClientRequestToken="video-2-labels")
    aws.fake.expire(job_id)
    for bad, code in [
        (job_id, "ResourceNotFoundException"),
        ("f" * 64, "ResourceNotFoundException"),
        ("not a job id!", "InvalidParameterException"),
    ]:
        with pytest.raises(ClientError) as exc:
            aws.rek_once.get_label_detection(JobId=bad)
        assert error_code(exc) == code
    # expired results can be restarted: the same token now starts a new job
    assert aws.start_labels(ClientRequestToken="video-2-labels") != job_id
    segment_job = aws.rek.start_segment_detection(
        Video={"S3Object": {"Bucket": BUCKET, "Name": "clip.mp4"}}, SegmentTypes=["SHOT"]
    )["JobId"]  # a FAILED job (not a video), but it exists: only for GetSegmentDetection
    with pytest.raises(ClientError) as exc:
        aws.rek_once.get_label_detection(JobId=segment_job)
    assert error_code(exc) == "ResourceNotFoundException"


def test_stale_next_token(aws: Aws) -> None:
    job_id = aws.start_labels()
    token = aws.rek.get_label_detection(JobId=job_id, MaxResults=2)["NextToken"]
    aws.fake.expire_tokens(job_id)
    with pytest.raises(ClientError) as exc:
        aws.rek_once.get_label_detection(JobId=job_id, MaxResults=2, NextToken=token)
    assert error_code(exc) == "InvalidPaginationTokenException"
    with pytest.raises(ClientError) as exc:
        aws.rek_once.get_label_detection(JobId=job_id, NextToken="never-issued")
    assert error_code(exc) == "InvalidPaginationTokenException"


# --- notifications --------------------------------------------------------------------


def test_notification_in_the_sns_envelope(aws: Aws) -> None:
    queue = aws.queue()
    before = int(time.time() * 1000)
    job_id = aws.start_labels("clip.mp4", JobTag="video-42")
    [body] = aws.bodies(queue)
    envelope = json.loads(body)
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == aws.topic_arn
    assert {"MessageId", "Timestamp", "Signature", "SigningCertURL", "UnsubscribeURL"} <= set(
        envelope
    )
    message = json.loads(envelope["Message"])  # a JSON string inside the JSON envelope
    assert list(message) == ["JobId", "Status", "API", "JobTag", "Timestamp", "Video"]
    assert message["JobId"] == job_id and message["Status"] == "SUCCEEDED"
    assert message["API"] == "StartLabelDetection" and message["JobTag"] == "video-42"
    assert isinstance(message["Timestamp"], int)
    assert before <= message["Timestamp"] <= int(time.time() * 1000)
    assert message["Video"] == {"S3ObjectName": "clip.mp4", "S3Bucket": BUCKET}


def test_notification_raw_delivery_is_the_message_itself(aws: Aws) -> None:
    queue = aws.queue(raw=True)
    job_id = aws.start_labels()  # no JobTag: the key is absent, as from the service
    [body] = aws.bodies(queue)
    message = json.loads(body)
    assert list(message) == ["JobId", "Status", "API", "Timestamp", "Video"]
    assert message["JobId"] == job_id


def test_dropped_and_duplicated_notifications(aws: Aws) -> None:
    queue = aws.queue(raw=True)
    aws.fake.notification_fault(drop=True)
    dropped = aws.start_labels()
    assert aws.bodies(queue) == []
    assert aws.rek.get_label_detection(JobId=dropped)["JobStatus"] == "SUCCEEDED"
    aws.fake.notification_fault(duplicate=2)
    twice = aws.start_labels()
    bodies = aws.bodies(queue)
    assert [json.loads(b)["JobId"] for b in bodies] == [twice] * 3
    normal = aws.start_labels()  # the faults were used up
    assert [json.loads(b)["JobId"] for b in aws.bodies(queue)] == [normal]
    aws.fake.renotify(dropped)  # a late notification for a job long done
    assert [json.loads(b)["JobId"] for b in aws.bodies(queue)] == [dropped]
    deliveries = [(n["JobId"], n["Delivery"]) for n in aws.fake.record()["notifications"]]
    assert deliveries[0] == (dropped, "dropped") and deliveries.count((twice, "published")) == 3


def test_delayed_notification_after_the_job_finished(aws: Aws) -> None:
    queue = aws.queue(raw=True)
    aws.fake.notification_fault(delay_s=0.3)
    job_id = aws.start_labels()
    assert aws.rek.get_label_detection(JobId=job_id)["JobStatus"] == "SUCCEEDED"
    assert aws.bodies(queue) == []
    aws.fake.wait_idle()
    assert [json.loads(b)["JobId"] for b in aws.bodies(queue)] == [job_id]


def test_early_notification_is_queued_before_start_returns(aws: Aws) -> None:
    aws.fake.configure(auto_complete=False)  # without the fault: nothing until finish()
    queue = aws.queue(raw=True)
    seen_before_return: list[int] = []

    def count_queued(**_: Any) -> None:  # runs after the fake answered, before parsing
        attributes = aws.sqs.get_queue_attributes(
            QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        seen_before_return.append(int(attributes["ApproximateNumberOfMessages"]))

    aws.rek.meta.events.register("before-parse.rekognition.StartLabelDetection", count_queued)
    waiting = aws.start_labels()
    aws.fake.notification_fault(early=True)
    early = aws.start_labels()
    assert seen_before_return == [0, 1]
    assert [json.loads(b)["JobId"] for b in aws.bodies(queue)] == [early]
    assert aws.rek.get_label_detection(JobId=early)["JobStatus"] == "SUCCEEDED"
    assert aws.rek.get_label_detection(JobId=waiting)["JobStatus"] == "IN_PROGRESS"


def test_notification_fault_for_one_running_job(aws: Aws) -> None:
    aws.fake.configure(auto_complete=False)
    queue = aws.queue(raw=True)
    faulty, plain = aws.start_labels(), aws.start_labels()
    aws.fake.notification_fault(faulty, duplicate=1)
    aws.fake.finish(plain)
    aws.fake.finish(faulty)
    assert [json.loads(b)["JobId"] for b in aws.bodies(queue)] == [plain, faulty, faulty]
    with pytest.raises(ValueError, match="already finished"):
        aws.fake.notification_fault(faulty, drop=True)


def test_fault_finishes_the_job_failed(aws: Aws) -> None:
    queue = aws.queue(raw=True)
    aws.fake.notification_fault(fail="Video is corrupted")
    job_id = aws.start_labels()
    got = aws.rek.get_label_detection(JobId=job_id)
    assert (got["JobStatus"], got["StatusMessage"]) == ("FAILED", "Video is corrupted")
    assert [json.loads(b)["Status"] for b in aws.bodies(queue)] == ["FAILED"]


# --- error faults ---------------------------------------------------------------------


def test_fail_next_raises_the_modelled_error_n_times(aws: Aws) -> None:
    job_id = aws.start_labels()
    aws.fake.fail_next("GetLabelDetection", "ThrottlingException", count=2)
    for _ in range(2):
        with pytest.raises(ClientError) as exc:
            aws.rek_once.get_label_detection(JobId=job_id)
        assert error_code(exc) == "ThrottlingException"
    assert aws.rek_once.get_label_detection(JobId=job_id)["JobStatus"] == "SUCCEEDED"
    aws.fake.fail_next("start_label_detection", "InternalServerError", message="boom")
    with pytest.raises(ClientError) as exc:
        aws.rek_once.start_label_detection(
            Video={"S3Object": {"Bucket": BUCKET, "Name": "clip.mp4"}}
        )
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert exc.value.response["Error"]["Message"] == "boom"
    with pytest.raises(ValueError, match="does not raise LimitExceededException"):
        aws.fake.fail_next("GetLabelDetection", "LimitExceededException")
    aws.fake.fail_next("GetLabelDetection", "AccessDeniedException", count=5)
    aws.fake.clear_faults()
    aws.rek_once.get_label_detection(JobId=job_id)
    # boto3's own retries absorb a single throttle: the service saw two calls
    aws.fake.fail_next("GetLabelDetection", "ProvisionedThroughputExceededException")
    aws.rek.get_label_detection(JobId=job_id)
    assert aws.fake.record()["calls"]["GetLabelDetection"] == 4 + 2


def test_throttle_ratio_is_random_but_repeatable(aws: Aws) -> None:
    job_id = aws.start_labels()

    def outcomes(seed: int) -> list[bool]:
        aws.fake.throttle_ratio(0.5, seed=seed, operations=["GetLabelDetection"])
        result = []
        for _ in range(40):
            try:
                aws.rek_once.get_label_detection(JobId=job_id)
                result.append(True)
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "ThrottlingException"
                result.append(False)
        return result

    first = outcomes(seed=7)
    assert 8 <= first.count(False) <= 32
    assert outcomes(seed=7) == first
    aws.start_labels()  # other operations are untouched
    aws.fake.throttle_ratio(0)
    for _ in range(20):
        aws.rek_once.get_label_detection(JobId=job_id)


# --- installation and isolation -------------------------------------------------------


def test_import_changes_nothing_and_install_is_idempotent() -> None:
    code = (
        "from moto.rekognition.responses import RekognitionResponse as R\n"
        "import worker.testing.rekognition as r, worker.testing.aws_server\n"
        "print(hasattr(R, 'start_label_detection'), r.installed())\n"
        "r.install(); r.install()\n"
        "print(hasattr(R, 'get_segment_detection'), r.installed())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True", "True"]


def test_each_mock_starts_with_a_clean_fake(aws_env: None) -> None:
    for _ in range(2):
        with mock_aws():
            fake = fake_rekognition(ACCOUNT, REGION)
            assert fake.jobs == [] and fake.record()["calls"] == {}
            boto3.client("s3").create_bucket(Bucket=BUCKET)
            boto3.client("s3").put_object(Bucket=BUCKET, Key="clip.mp4", Body=b"x")
            fake.plant(("labels", "clip.mp4"), labels(1))
            boto3.client("rekognition").start_label_detection(
                Video={"S3Object": {"Bucket": BUCKET, "Name": "clip.mp4"}}
            )
            assert len(fake.jobs) == 1
