"""`vidx aws setup` provisioning against moto: idempotent, correct policies, working path."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from mypy_boto3_iam.client import IAMClient
from mypy_boto3_s3.client import S3Client
from mypy_boto3_sns.client import SNSClient
from mypy_boto3_sqs.client import SQSClient

from worker.aws.provision import ProvisionedSettings, ProvisionError, provision
from worker.aws.sns import parse_message

BUCKET = "vidx-media-test"


@dataclass
class Clients:
    region: str
    s3: S3Client
    sns: SNSClient
    sqs: SQSClient
    iam: IAMClient

    def provision(self, **kwargs: str) -> ProvisionedSettings:
        return provision(
            self.s3, self.sns, self.sqs, self.iam, bucket=BUCKET, region=self.region, **kwargs
        )


def _clients(region: str) -> Clients:
    return Clients(
        region,
        boto3.client("s3", region_name=region),
        boto3.client("sns", region_name=region),
        boto3.client("sqs", region_name=region),
        boto3.client("iam", region_name=region),
    )


@pytest.fixture
def aws(aws_env: None) -> Iterator[Clients]:
    with mock_aws():
        yield _clients("us-east-1")


def test_second_run_changes_nothing_and_returns_the_same(aws: Clients) -> None:
    first = aws.provision()
    # bucket, topic, queue, queue policy, subscription, role, role policy
    assert len(first.changes) == 7
    second = aws.provision()
    assert second == first and second.changes == ()
    assert first.topic_arn.endswith(":AmazonRekognition-vidx")
    assert first.queue_url.endswith("/vidx-rekognition")
    assert first.role_arn.endswith(":role/vidx-rekognition-sns")


def test_everything_exists_exactly_once(aws: Clients) -> None:
    aws.provision()
    result = aws.provision()
    assert [b["Name"] for b in aws.s3.list_buckets()["Buckets"]] == [BUCKET]
    assert [t["TopicArn"] for t in aws.sns.list_topics()["Topics"]] == [result.topic_arn]
    assert aws.sqs.list_queues()["QueueUrls"] == [result.queue_url]
    subs = aws.sns.list_subscriptions_by_topic(TopicArn=result.topic_arn)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("sqs", result.queue_arn)]
    attrs = aws.sns.get_subscription_attributes(SubscriptionArn=result.subscription_arn)
    assert attrs["Attributes"]["RawMessageDelivery"] == "false"
    roles = [r["RoleName"] for r in aws.iam.list_roles()["Roles"]]
    assert roles.count("vidx-rekognition-sns") == 1
    assert aws.iam.list_role_policies(RoleName="vidx-rekognition-sns")["PolicyNames"] == [
        "vidx-sns-publish"
    ]


def test_queue_policy_lets_only_the_topic_send(aws: Clients) -> None:
    result = aws.provision()
    raw = aws.sqs.get_queue_attributes(QueueUrl=result.queue_url, AttributeNames=["Policy"])
    [statement] = json.loads(raw["Attributes"]["Policy"])["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == result.queue_arn
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": result.topic_arn}}


def test_role_trusts_rekognition_and_may_publish_to_the_topic(aws: Clients) -> None:
    result = aws.provision()
    role = aws.iam.get_role(RoleName="vidx-rekognition-sns")["Role"]
    trust: Any = role["AssumeRolePolicyDocument"]  # the stubs' TypedDict has no Principal
    assert isinstance(trust, dict)
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"Service": "rekognition.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    account = result.topic_arn.split(":")[4]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}
    doc = aws.iam.get_role_policy(RoleName="vidx-rekognition-sns", PolicyName="vidx-sns-publish")
    policy = doc["PolicyDocument"]
    assert isinstance(policy, dict)
    assert policy["Statement"] == [
        {"Effect": "Allow", "Action": "sns:Publish", "Resource": result.topic_arn}
    ]


def test_a_message_published_to_the_topic_arrives_in_the_queue(aws: Clients) -> None:
    result = aws.provision()
    aws.provision()  # a second run must not add a second subscription (no duplicate)
    rekognition = {
        "JobId": "job-1",
        "Status": "SUCCEEDED",
        "API": "StartSegmentDetection",
        "JobTag": "video-1",
        "Timestamp": 1,
        "Video": {"S3ObjectName": "vidx/x/a.mp4", "S3Bucket": BUCKET},
    }
    aws.sns.publish(TopicArn=result.topic_arn, Message=json.dumps(rekognition))
    messages = aws.sqs.receive_message(QueueUrl=result.queue_url, MaxNumberOfMessages=10)
    [message] = messages["Messages"]
    parsed = parse_message(message["Body"], expected_topic_arn=result.topic_arn)
    assert parsed.envelope is not None  # wrapped: raw delivery is off
    assert parsed.notification.job_id == "job-1"


def test_drift_is_repaired_and_foreign_policy_statements_are_kept(aws: Clients) -> None:
    result = aws.provision()
    foreign = {
        "Sid": "ops-read",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "sqs:ReceiveMessage",
        "Resource": result.queue_arn,
    }
    aws.sqs.set_queue_attributes(
        QueueUrl=result.queue_url,
        Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [foreign]})},
    )
    aws.sns.set_subscription_attributes(
        SubscriptionArn=result.subscription_arn,
        AttributeName="RawMessageDelivery",
        AttributeValue="true",
    )
    aws.iam.delete_role_policy(RoleName="vidx-rekognition-sns", PolicyName="vidx-sns-publish")
    repaired = aws.provision()
    assert repaired == result and len(repaired.changes) == 3
    raw = aws.sqs.get_queue_attributes(QueueUrl=result.queue_url, AttributeNames=["Policy"])
    sids = [s["Sid"] for s in json.loads(raw["Attributes"]["Policy"])["Statement"]]
    assert sids == ["ops-read", "vidx-sns-send"]
    attrs = aws.sns.get_subscription_attributes(SubscriptionArn=result.subscription_arn)
    assert attrs["Attributes"]["RawMessageDelivery"] == "false"
    assert aws.provision().changes == ()


def test_bucket_outside_us_east_1_gets_a_location_constraint(aws_env: None) -> None:
    with mock_aws():
        eu = _clients("eu-west-1")
        result = eu.provision()
        assert eu.s3.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == "eu-west-1"
        assert ":eu-west-1:" in result.topic_arn and eu.provision().changes == ()


def test_existing_bucket_in_another_region_is_refused(aws_env: None) -> None:
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        with pytest.raises(ProvisionError, match=r"is in us-east-1.*eu-west-1"):
            _clients("eu-west-1").provision()


def test_topic_name_must_keep_the_rekognition_prefix(aws: Clients) -> None:
    with pytest.raises(ValueError, match="AmazonRekognition"):
        aws.provision(topic_name="vidx-results")


def test_env_lines_survive_a_real_shell() -> None:
    settings = ProvisionedSettings(
        region="us-east-1",
        bucket="b",
        topic_arn="arn:aws:sns:us-east-1:123456789012:AmazonRekognition-vidx",
        queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/q?x=1&y='$(reboot)'",
        queue_arn="arn:aws:sqs:us-east-1:123456789012:q",
        subscription_arn="arn:aws:sns:us-east-1:123456789012:AmazonRekognition-vidx:1",
        role_arn="arn:aws:iam::123456789012:role/vidx rekognition",
    )
    lines = settings.as_env_lines()
    assert [line.split("=", 1)[0] for line in lines] == [
        "VIDX_S3_BUCKET",
        "VIDX_SNS_TOPIC_ARN",
        "VIDX_SQS_QUEUE_URL",
        "VIDX_REKOGNITION_ROLE_ARN",
    ]
    script = (
        "\n".join(lines) + '\nprintf "%s\\n" "$VIDX_SQS_QUEUE_URL" "$VIDX_REKOGNITION_ROLE_ARN"'
    )
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [settings.queue_url, settings.role_arn]
    assert shlex.split(lines[0]) == ["VIDX_S3_BUCKET=b"]
