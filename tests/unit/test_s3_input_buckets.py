"""s3:// inputs: only buckets on VIDX_S3_INPUT_BUCKETS, and one answer for "not allowed",
"no such bucket/object" and "access denied", so the answer tells nothing about what exists."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from mypy_boto3_s3.client import S3Client

from worker.aws.s3 import INPUT_UNAVAILABLE, input_object
from worker.config import Settings
from worker.errors import InputError

ALLOWED = "vidx-media"
OTHER = "someone-elses"


@pytest.fixture
def s3(aws_env: None) -> Iterator[S3Client]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        for bucket in (ALLOWED, OTHER):
            client.create_bucket(Bucket=bucket)
            client.put_object(Bucket=bucket, Key="in/clip.mp4", Body=b"x" * 1234)
        yield client


def refusal(s3: S3Client, uri: str, allowed: set[str]) -> str:
    with pytest.raises(InputError) as caught:
        input_object(s3, uri, allowed)
    assert caught.value.source == uri
    return caught.value.problem


def test_an_object_in_an_allowed_bucket(s3: S3Client) -> None:
    uri = f"s3://{ALLOWED}/in/clip.mp4"
    assert input_object(s3, uri, {ALLOWED}) == (ALLOWED, "in/clip.mp4", 1234)


def test_one_answer_whatever_the_reason(s3: S3Client) -> None:
    answers = {
        # exists, readable with the server's credentials, but not allowed
        "not allowed": refusal(s3, f"s3://{OTHER}/in/clip.mp4", {ALLOWED}),
        "no such object": refusal(s3, f"s3://{ALLOWED}/in/none.mp4", {ALLOWED}),
        "no such bucket": refusal(s3, "s3://not-created/in/clip.mp4", {ALLOWED, "not-created"}),
    }
    stub = Stubber(s3)  # S3's 403 for a key it will not show
    stub.add_client_error("head_object", "403", "Forbidden", 403)
    with stub:
        answers["access denied"] = refusal(s3, f"s3://{ALLOWED}/in/secret.mp4", {ALLOWED})
    assert set(answers.values()) == {INPUT_UNAVAILABLE}, answers


def test_a_bucket_not_allowed_is_never_asked(s3: S3Client) -> None:
    with Stubber(s3):  # any request would fail: no response is queued
        assert refusal(s3, f"s3://{OTHER}/in/clip.mp4", {ALLOWED}) == INPUT_UNAVAILABLE


def test_several_buckets(s3: S3Client) -> None:
    both = Settings(s3_bucket=ALLOWED, s3_input_buckets=f" {OTHER} ,{ALLOWED},,").input_buckets
    assert both == {ALLOWED, OTHER}
    for bucket in (ALLOWED, OTHER):
        assert input_object(s3, f"s3://{bucket}/in/clip.mp4", both)[2] == 1234
    assert refusal(s3, f"s3://{ALLOWED}/in/clip.mp4", {OTHER}) == INPUT_UNAVAILABLE


def test_no_bucket_allowed_turns_s3_input_off(s3: S3Client) -> None:
    assert "S3 input is off" in refusal(s3, f"s3://{ALLOWED}/in/clip.mp4", set())


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"VIDX_S3_BUCKET": "main"}, {"main"}),  # default: the bucket vidx uploads to
        ({}, set()),
        ({"VIDX_S3_BUCKET": "main", "VIDX_S3_INPUT_BUCKETS": "in-a,in-b"}, {"in-a", "in-b"}),
        ({"VIDX_S3_BUCKET": "main", "VIDX_S3_INPUT_BUCKETS": ""}, set()),  # explicitly none
        ({"VIDX_S3_INPUT_BUCKETS": "main, in-b"}, {"main", "in-b"}),
    ],
)
def test_setting_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: set[str]
) -> None:
    for name in ("VIDX_S3_BUCKET", "VIDX_S3_INPUT_BUCKETS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings().input_buckets == expected
