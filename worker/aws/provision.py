"""`vidx aws setup`: the bucket, topic, queue, subscription and role Rekognition needs.

Idempotent: each resource is looked up first and created or corrected only when it is
missing or differs, so a second run changes nothing and returns the same values. What
a run did change is listed in `ProvisionedSettings.changes`.

IAM is eventually consistent: for some seconds after it is created, Rekognition may
refuse the new role (AccessDenied on Start*), so run setup ahead of the first job.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError

from worker.errors import VidxError

if TYPE_CHECKING:
    from mypy_boto3_iam.client import IAMClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_sqs.client import SQSClient

QUEUE_POLICY_SID = "vidx-sns-send"
ROLE_POLICY_NAME = "vidx-sns-publish"


class ProvisionError(VidxError):
    """A setup step failed; the message names the step and AWS's reason."""


@dataclass(frozen=True)
class ProvisionedSettings:
    region: str
    bucket: str
    topic_arn: str
    queue_url: str
    queue_arn: str
    subscription_arn: str
    role_arn: str
    changes: tuple[str, ...] = field(default=(), compare=False)

    def as_env_lines(self) -> list[str]:
        """`KEY=value` lines a shell can source (values quoted), for .env or `eval`."""
        values = {
            "VIDX_S3_BUCKET": self.bucket,
            "VIDX_SNS_TOPIC_ARN": self.topic_arn,
            "VIDX_SQS_QUEUE_URL": self.queue_url,
            "VIDX_REKOGNITION_ROLE_ARN": self.role_arn,
        }
        return [f"{key}={shlex.quote(value)}" for key, value in values.items()]


def provision(
    s3_client: S3Client,
    sns_client: SNSClient,
    sqs_client: SQSClient,
    iam_client: IAMClient,
    *,
    bucket: str,
    region: str,
    topic_name: str = "AmazonRekognition-vidx",
    queue_name: str = "vidx-rekognition",
    role_name: str = "vidx-rekognition-sns",
) -> ProvisionedSettings:
    # Rekognition's managed service-role policy only publishes to AmazonRekognition*
    # topics; keeping the prefix means either that policy or ours works.
    if not topic_name.startswith("AmazonRekognition"):
        raise ValueError("the topic name must start with 'AmazonRekognition'")
    changes: list[str] = []
    _ensure_bucket(s3_client, bucket, region, changes)
    topic_arn = _ensure_topic(sns_client, topic_name, changes)
    queue_url, queue_arn = _ensure_queue(sqs_client, queue_name, topic_arn, changes)
    subscription_arn = _ensure_subscription(sns_client, topic_arn, queue_arn, changes)
    role_arn = _ensure_role(iam_client, role_name, topic_arn, changes)
    return ProvisionedSettings(
        region, bucket, topic_arn, queue_url, queue_arn, subscription_arn, role_arn, tuple(changes)
    )


@contextmanager
def _step(what: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "?"), error.get("Message", "")
        raise ProvisionError(f"{what}: {code}: {message}") from None
    except BotoCoreError as exc:
        raise ProvisionError(f"{what}: {exc}") from None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _ensure_bucket(s3: S3Client, bucket: str, region: str, changes: list[str]) -> None:
    with _step(f"S3 bucket {bucket}"):
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError as exc:
            if _code(exc) == "403":
                raise ProvisionError(
                    f"S3 bucket {bucket}: exists but is not accessible (another account's?)"
                ) from None
            if _code(exc) not in {"404", "NoSuchBucket"}:
                raise
            try:
                if region == "us-east-1":  # the one region that refuses a LocationConstraint
                    s3.create_bucket(Bucket=bucket)
                else:
                    # The stubs list regions as a Literal; ours is a runtime string.
                    location: Any = region
                    s3.create_bucket(
                        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": location}
                    )
                changes.append(f"created S3 bucket {bucket} in {region}")
            except ClientError as create_exc:
                if _code(create_exc) != "BucketAlreadyOwnedByYou":  # lost a race to ourselves
                    raise
        location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
        # S3 reports us-east-1 as no constraint, and old eu-west-1 buckets as "EU".
        actual = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)
        if actual != region:
            raise ProvisionError(
                f"S3 bucket {bucket} is in {actual}; Rekognition reads videos only from "
                f"its own region ({region})"
            )


def _ensure_topic(sns: SNSClient, name: str, changes: list[str]) -> str:
    # Signature version 2 (SHA256) is what AWS recommends; the poller verifies either.
    wanted = {"SignatureVersion": "2"}
    with _step(f"SNS topic {name}"):
        existing = None
        for page in sns.get_paginator("list_topics").paginate():
            for topic in page.get("Topics", []):
                if topic["TopicArn"].rsplit(":", 1)[-1] == name:
                    existing = topic["TopicArn"]
        if existing is None:
            arn = sns.create_topic(Name=name, Attributes=wanted)["TopicArn"]
            changes.append(f"created SNS topic {arn}")
            return arn
        attrs = sns.get_topic_attributes(TopicArn=existing)["Attributes"]
        for key, value in wanted.items():
            # Only correct what is reported: an attribute left out of the answer (moto,
            # older topics) is not evidence of drift, and re-setting it every run would
            # make a second run look like a change.
            if key in attrs and attrs[key] != value:
                sns.set_topic_attributes(TopicArn=existing, AttributeName=key, AttributeValue=value)
                changes.append(f"set {key}={value} on SNS topic {existing}")
        return existing


def _ensure_queue(sqs: SQSClient, name: str, topic_arn: str, changes: list[str]) -> tuple[str, str]:
    with _step(f"SQS queue {name}"):
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError as exc:
            if _code(exc) not in {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}:
                raise
            # Long polling by default, so even a bare ReceiveMessage does not busy-poll.
            url = sqs.create_queue(
                QueueName=name, Attributes={"ReceiveMessageWaitTimeSeconds": "20"}
            )["QueueUrl"]
            changes.append(f"created SQS queue {url}")
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "Policy"])
        arn = attrs["Attributes"]["QueueArn"]
        current = json.loads(attrs["Attributes"].get("Policy") or "{}")
        wanted = queue_policy(current, arn, topic_arn)
        if current != wanted:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(wanted)})
            changes.append(f"set the SQS queue policy letting {topic_arn} send")
        return url, arn


def queue_policy(current: dict[str, Any], queue_arn: str, topic_arn: str) -> dict[str, Any]:
    """The queue's policy with our statement added or replaced; others' statements kept."""
    statement = {
        "Sid": QUEUE_POLICY_SID,
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        # Only our topic: without it any SNS topic, in any account, could fill the queue.
        "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
    }
    others = [s for s in current.get("Statement", []) if s.get("Sid") != QUEUE_POLICY_SID]
    return {
        "Version": current.get("Version", "2012-10-17"),
        **({"Id": current["Id"]} if "Id" in current else {}),
        "Statement": [*others, statement],
    }


def _ensure_subscription(sns: SNSClient, topic_arn: str, queue_arn: str, changes: list[str]) -> str:
    with _step(f"SNS subscription of {queue_arn} to {topic_arn}"):
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
            for sub in page.get("Subscriptions", []):
                if sub.get("Protocol") == "sqs" and sub.get("Endpoint") == queue_arn:
                    arn = sub["SubscriptionArn"]
                    attrs = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
                    # The poller expects the signed envelope, not the bare message.
                    if attrs.get("RawMessageDelivery", "false") != "false":
                        sns.set_subscription_attributes(
                            SubscriptionArn=arn,
                            AttributeName="RawMessageDelivery",
                            AttributeValue="false",
                        )
                        changes.append(f"turned raw delivery off on {arn}")
                    return arn
        arn = sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "false"},
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        changes.append(f"subscribed {queue_arn} to {topic_arn}")
        return arn


def _ensure_role(iam: IAMClient, name: str, topic_arn: str, changes: list[str]) -> str:
    account = topic_arn.split(":")[4]  # arn:<partition>:sns:<region>:<account>:<name>
    # aws:SourceAccount keeps other accounts from getting Rekognition to use this role
    # (the confused-deputy guard Rekognition's documentation recommends).
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "rekognition.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }
    publish = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": topic_arn}],
    }
    with _step(f"IAM role {name}"):
        try:
            role = iam.get_role(RoleName=name)["Role"]
            if _document(role.get("AssumeRolePolicyDocument")) != trust:
                iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
                changes.append(f"updated the trust policy of IAM role {name}")
        except ClientError as exc:
            if _code(exc) != "NoSuchEntity":
                raise
            role = iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(trust),
                Description="Lets Amazon Rekognition Video publish job completions for vidx",
            )["Role"]
            changes.append(f"created IAM role {role['Arn']}")
        try:
            current = _document(
                iam.get_role_policy(RoleName=name, PolicyName=ROLE_POLICY_NAME)["PolicyDocument"]
            )
        except ClientError as exc:
            if _code(exc) != "NoSuchEntity":
                raise
            current = None
        if current != publish:
            iam.put_role_policy(
                RoleName=name, PolicyName=ROLE_POLICY_NAME, PolicyDocument=json.dumps(publish)
            )
            changes.append(f"set policy {ROLE_POLICY_NAME} (sns:Publish on {topic_arn})")
    return role["Arn"]


def _document(doc: object) -> object:
    """IAM returns policy documents decoded (boto3) or URL-encoded JSON (raw API)."""
    if isinstance(doc, str):
        return json.loads(unquote(doc))
    return doc
