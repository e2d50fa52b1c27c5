"""The SQS poller against moto: real SNS -> SQS delivery, signatures, failures, dead letters."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import boto3
import pytest
import requests
from moto import mock_aws
from mypy_boto3_sns.client import SNSClient
from mypy_boto3_sqs.client import SQSClient

from worker.aws.poller import Poller, QueueError
from worker.aws.sns import CachedCertFetcher, RekognitionNotification

JOB = "f40f6c76f87f5c9aeea9a50b3d53688a4174711f9b1f20392c044e21f71c5e4d"


def rekognition_message(job_id: str = JOB, status: str = "SUCCEEDED") -> str:
    return json.dumps(
        {
            "JobId": job_id,
            "Status": status,
            "API": "StartLabelDetection",
            "JobTag": "video-1",
            "Timestamp": 1515733532180,
            "Video": {"S3ObjectName": "vidx/abc/clip one.mp4", "S3Bucket": "media"},
        }
    )


@dataclass
class World:
    sns: SNSClient
    sqs: SQSClient
    topic_arn: str
    queue_url: str
    queue_arn: str
    subscription_arn: str

    def publish(self, message: str, topic_arn: str | None = None) -> None:
        self.sns.publish(TopicArn=topic_arn or self.topic_arn, Message=message)

    def counts(self) -> tuple[int, int]:
        """(visible, in flight) messages on the queue."""
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attrs["ApproximateNumberOfMessages"]),
            int(attrs["ApproximateNumberOfMessagesNotVisible"]),
        )


@pytest.fixture
def world(aws_env: None) -> Iterator[World]:
    with mock_aws():
        sns = boto3.client("sns", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        topic = sns.create_topic(Name="AmazonRekognition-vidx")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="vidx-rekognition")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sub = sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True
        )["SubscriptionArn"]
        yield World(sns, sqs, topic, queue_url, queue_arn, sub)


@dataclass
class Sink:
    """A hand-off that records, and fails the first `fail` calls."""

    fail: int = 0
    got: list[RekognitionNotification] = field(default_factory=list)

    def __call__(self, notification: RekognitionNotification) -> None:
        if self.fail > 0:
            self.fail -= 1
            raise RuntimeError("broker down")
        self.got.append(notification)


@dataclass
class DeadLetters:
    fail: bool = False
    got: list[tuple[str, str, str | None]] = field(default_factory=list)

    def __call__(self, body: str, reason: str, message_id: str | None) -> None:
        if self.fail:
            raise RuntimeError("database down")
        self.got.append((body, reason, message_id))


def moto_cert_fetcher() -> CachedCertFetcher:
    # moto serves the PEM it signed with at the SigningCertURL, through `requests`.
    return CachedCertFetcher(lambda url: requests.get(url, timeout=5).content)


def make_poller(
    world: World,
    handler: Sink,
    dead_letter: DeadLetters | None = None,
    *,
    verify: bool = False,
    retry_backoff_s: int | None = 30,
) -> Poller:
    return Poller(
        world.sqs,
        world.queue_url,
        handler,
        expected_topic_arn=world.topic_arn,
        verify=verify,
        cert_fetcher=moto_cert_fetcher() if verify else None,
        dead_letter=dead_letter,
        wait_s=0,
        retry_backoff_s=retry_backoff_s,
    )


def test_wrapped_envelope_from_sns_is_handed_off_then_deleted(world: World) -> None:
    world.publish(rekognition_message())
    sink = Sink()
    stats = make_poller(world, sink, verify=True).poll_once()
    assert (stats.received, stats.handled, stats.dead_lettered) == (1, 1, 0)
    [n] = sink.got
    assert (n.job_id, n.status, n.api, n.job_tag) == (
        JOB,
        "SUCCEEDED",
        "StartLabelDetection",
        "video-1",
    )
    assert (n.s3_bucket, n.s3_key) == ("media", "vidx/abc/clip one.mp4")
    assert n.topic_arn == world.topic_arn and n.message_id
    assert world.counts() == (0, 0)


def test_raw_delivery_is_handed_off_without_an_envelope(world: World) -> None:
    world.sns.set_subscription_attributes(
        SubscriptionArn=world.subscription_arn,
        AttributeName="RawMessageDelivery",
        AttributeValue="true",
    )
    world.publish(rekognition_message())
    sink = Sink()
    assert make_poller(world, sink).poll_once().handled == 1
    assert sink.got[0].job_id == JOB and sink.got[0].topic_arn is None
    assert world.counts() == (0, 0)


def test_raw_delivery_cannot_pass_a_signature_check(world: World) -> None:
    world.sns.set_subscription_attributes(
        SubscriptionArn=world.subscription_arn,
        AttributeName="RawMessageDelivery",
        AttributeValue="true",
    )
    world.publish(rekognition_message())
    sink, dead = Sink(), DeadLetters()
    assert make_poller(world, sink, dead, verify=True).poll_once().dead_lettered == 1
    assert sink.got == [] and "no SNS signature" in dead.got[0][1]


def test_handler_failure_keeps_the_message_and_it_comes_back(world: World) -> None:
    world.publish(rekognition_message())
    sink = Sink(fail=1)
    poller = make_poller(world, sink, retry_backoff_s=0)  # visible again at once
    first = poller.poll_once()
    assert (first.received, first.failed, first.handled) == (1, 1, 0)
    assert world.counts() == (1, 0)
    second = poller.poll_once()
    assert (second.received, second.handled) == (1, 1)
    assert [n.job_id for n in sink.got] == [JOB]
    assert world.counts() == (0, 0)


def test_handler_failure_backs_off_by_hiding_the_message(world: World) -> None:
    world.publish(rekognition_message())
    poller = make_poller(world, Sink(fail=1), retry_backoff_s=30)
    assert poller.poll_once().failed == 1
    assert poller.poll_once().received == 0  # hidden for 30 s, not lost
    assert world.counts() == (0, 1)


def test_garbage_goes_to_dead_letter_then_is_deleted(world: World) -> None:
    sent = world.sqs.send_message(QueueUrl=world.queue_url, MessageBody="garbage, not json")
    sink, dead = Sink(), DeadLetters()
    stats = make_poller(world, sink, dead).poll_once()
    assert (stats.received, stats.dead_lettered, stats.handled) == (1, 1, 0)
    [(body, reason, message_id)] = dead.got
    assert body == "garbage, not json" and "not JSON" in reason
    assert message_id == sent["MessageId"]
    assert sink.got == [] and world.counts() == (0, 0)


def test_dead_letter_failure_keeps_the_message(world: World) -> None:
    world.sqs.send_message(QueueUrl=world.queue_url, MessageBody="{}")
    stats = make_poller(world, Sink(), DeadLetters(fail=True)).poll_once()
    assert (stats.failed, stats.dead_lettered) == (1, 0)
    assert world.counts() == (0, 1)


def test_without_dead_letter_garbage_is_left_for_the_redrive_policy(world: World) -> None:
    world.sqs.send_message(QueueUrl=world.queue_url, MessageBody="[]")
    stats = make_poller(world, Sink(), None).poll_once()
    assert (stats.rejected, stats.dead_lettered) == (1, 0)
    assert world.counts() == (0, 1)


def test_message_from_another_topic_is_dead_lettered(world: World) -> None:
    other = world.sns.create_topic(Name="AmazonRekognition-other")["TopicArn"]
    world.sns.subscribe(TopicArn=other, Protocol="sqs", Endpoint=world.queue_arn)
    world.publish(rekognition_message(), topic_arn=other)
    sink, dead = Sink(), DeadLetters()
    assert make_poller(world, sink, dead).poll_once().dead_lettered == 1
    assert sink.got == [] and other in dead.got[0][1]
    assert world.counts() == (0, 0)


def test_tampered_envelope_fails_the_signature_check(world: World) -> None:
    world.publish(rekognition_message())
    real = world.sqs.receive_message(QueueUrl=world.queue_url)["Messages"][0]
    world.sqs.delete_message(QueueUrl=world.queue_url, ReceiptHandle=real["ReceiptHandle"])
    envelope = json.loads(real["Body"])
    envelope["Message"] = rekognition_message(status="FAILED")
    world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=json.dumps(envelope))
    sink, dead = Sink(), DeadLetters()
    assert make_poller(world, sink, dead, verify=True).poll_once().dead_lettered == 1
    assert sink.got == [] and "signature does not match" in dead.got[0][1]


def test_duplicates_are_handed_off_each_time(world: World) -> None:
    world.publish(rekognition_message())
    world.publish(rekognition_message())
    sink = Sink()
    assert make_poller(world, sink).poll_once().handled == 2
    assert [n.job_id for n in sink.got] == [JOB, JOB]
    assert sink.got[0].message_id != sink.got[1].message_id
    assert world.counts() == (0, 0)


def test_run_stops_when_the_event_is_set(world: World) -> None:
    stop = threading.Event()
    for i in range(3):
        world.publish(rekognition_message(job_id=f"job-{i}"))

    class StopAfterThree(Sink):
        def __call__(self, notification: RekognitionNotification) -> None:
            super().__call__(notification)
            if len(self.got) == 3:
                stop.set()

    sink = StopAfterThree()
    totals = make_poller(world, sink).run(stop)
    assert totals.handled == 3 and sorted(n.job_id for n in sink.got) == [
        "job-0",
        "job-1",
        "job-2",
    ]


def test_run_gives_up_on_a_queue_that_does_not_exist(world: World) -> None:
    poller = Poller(
        world.sqs,
        world.queue_url + "-missing",
        Sink(),
        expected_topic_arn=None,
        verify=False,
        cert_fetcher=None,
        dead_letter=None,
        wait_s=0,
    )
    with pytest.raises(QueueError, match="does not exist") as info:
        poller.run(threading.Event())
    assert not info.value.transient


def test_limits_are_checked(world: World) -> None:
    def poller(*, verify: bool = False, wait_s: int = 0, max_messages: int = 10) -> Poller:
        return Poller(
            world.sqs,
            world.queue_url,
            Sink(),
            expected_topic_arn=None,
            verify=verify,
            cert_fetcher=None,
            dead_letter=None,
            wait_s=wait_s,
            max_messages=max_messages,
        )

    with pytest.raises(ValueError, match="wait_s"):
        poller(wait_s=21)
    with pytest.raises(ValueError, match="max_messages"):
        poller(max_messages=11)
    with pytest.raises(ValueError, match="cert_fetcher"):
        poller(verify=True)
