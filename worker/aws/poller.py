"""SQS poller: Rekognition completion notifications in, hand-offs out.

At-least-once, on purpose: a message is deleted only after its hand-off (`handler`, e.g.
enqueueing the collect task) or its dead-letter record returned. A crash between the
two means the message comes back and is handed off again, which the handler absorbs
(duplicate notifications change nothing). The poller never deduplicates.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from worker.aws.sns import (
    CertFetcher,
    NotificationError,
    RekognitionNotification,
    parse_message,
    verify_signature,
)
from worker.errors import VidxError

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

log = logging.getLogger(__name__)

Handler = Callable[[RekognitionNotification], None]
# (raw body, reason, SQS MessageId): the caller stores it, e.g. in the dead-letter table.
DeadLetter = Callable[[str, str, str | None], None]

# SQS refuses visibility timeouts above 12 hours.
_MAX_VISIBILITY_S = 12 * 3600
# Errors that no amount of retrying fixes: stop `run` instead of looping on them.
_FATAL_CODES = {
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "AccessDenied",
    "AccessDeniedException",
    "InvalidAddress",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidSecurity",
}


class QueueError(VidxError):
    """ReceiveMessage failed; `transient` says whether polling again may help."""

    def __init__(self, message: str, *, transient: bool) -> None:
        self.transient = transient
        super().__init__(message)


@dataclass
class PollStats:
    received: int = 0
    handled: int = 0  # handed off and deleted
    failed: int = 0  # the handler (or dead_letter) raised: left on the queue to come back
    dead_lettered: int = 0  # unusable, recorded by dead_letter and deleted
    rejected: int = 0  # unusable, no dead_letter: left for the queue's redrive policy
    delete_failed: int = 0  # handed off but not deleted: it will be handed off again

    def add(self, other: PollStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def __str__(self) -> str:
        return " ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


class Poller:
    def __init__(
        self,
        sqs_client: SQSClient,
        queue_url: str,
        handler: Handler,
        *,
        expected_topic_arn: str | None,
        verify: bool,
        cert_fetcher: CertFetcher | None,
        dead_letter: DeadLetter | None,
        wait_s: int = 20,
        max_messages: int = 10,
        retry_backoff_s: int | None = 30,
    ) -> None:
        """`retry_backoff_s`: after a handler failure, hide the message for this many
        seconds, doubled per earlier receive (None: leave the queue's visibility timeout).
        """
        if not 0 <= wait_s <= 20:
            raise ValueError("wait_s must be 0..20 (SQS long-poll limit)")
        if not 1 <= max_messages <= 10:
            raise ValueError("max_messages must be 1..10 (SQS batch limit)")
        if verify and cert_fetcher is None:
            raise ValueError("verify=True needs a cert_fetcher (e.g. sns.CachedCertFetcher())")
        self._sqs = sqs_client
        self._queue_url = queue_url
        self._handler = handler
        self._topic = expected_topic_arn
        self._verify = verify
        self._cert_fetcher = cert_fetcher
        self._dead_letter = dead_letter
        self._wait_s = wait_s
        self._max_messages = max_messages
        self._retry_backoff_s = retry_backoff_s

    def poll_once(self) -> PollStats:
        """One long-poll ReceiveMessage and the messages it returned."""
        try:
            response = self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=self._max_messages,
                WaitTimeSeconds=self._wait_s,
                MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            )
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            raise QueueError(
                f"cannot receive from {self._queue_url}: {exc}", transient=code not in _FATAL_CODES
            ) from None
        except BotoCoreError as exc:  # connection errors, timeouts: try again later
            raise QueueError(
                f"cannot receive from {self._queue_url}: {exc}", transient=True
            ) from None
        stats = PollStats()
        for message in response.get("Messages", []):
            stats.received += 1
            self._process(message, stats)
        if stats.received:
            log.info("sqs poll: %s", stats)
        return stats

    def run(
        self,
        stop_event: threading.Event,
        *,
        max_backoff_s: float = 60.0,
        on_cycle: Callable[[], None] | None = None,
    ) -> PollStats:
        """Poll until `stop_event` is set (e.g. by a SIGTERM handler); returns the totals.

        A stop takes effect after the current long poll, never in the middle of a
        hand-off. Transient receive errors back off (interruptibly); fatal ones raise.
        `on_cycle` runs after every successful poll (e.g. a liveness heartbeat).
        """
        totals = PollStats()
        backoff = 1.0
        while not stop_event.is_set():
            try:
                totals.add(self.poll_once())
                backoff = 1.0
                if on_cycle is not None:
                    on_cycle()
            except QueueError as exc:
                if not exc.transient:
                    raise
                log.warning("%s; retrying in %.0f s", exc, backoff)
                stop_event.wait(backoff)
                backoff = min(backoff * 2, max_backoff_s)
        log.info("sqs poller stopped: %s", totals)
        return totals

    def _process(self, message: MessageTypeDef, stats: PollStats) -> None:
        body = message.get("Body", "")
        message_id = message.get("MessageId")
        receipt = message.get("ReceiptHandle", "")
        try:
            parsed = parse_message(body, expected_topic_arn=self._topic)
            if self._verify:
                if parsed.envelope is None:
                    raise NotificationError("raw delivery carries no SNS signature to verify")
                assert self._cert_fetcher is not None  # checked in __init__
                verify_signature(parsed.envelope, self._cert_fetcher)
        except NotificationError as exc:
            self._reject(body, exc.reason, message_id, receipt, stats)
            return
        try:
            self._handler(parsed.notification)
        except Exception:
            log.exception(
                "hand-off failed for job %s (SQS message %s); it stays on the queue",
                parsed.notification.job_id,
                message_id,
            )
            stats.failed += 1
            self._back_off(message, receipt)
            return
        if self._delete(receipt, message_id):
            stats.handled += 1
        else:
            stats.delete_failed += 1

    def _reject(
        self, body: str, reason: str, message_id: str | None, receipt: str, stats: PollStats
    ) -> None:
        if self._dead_letter is None:
            log.warning("unusable SQS message %s left for redrive: %s", message_id, reason)
            stats.rejected += 1
            return
        try:
            self._dead_letter(body, reason, message_id)
        except Exception:
            log.exception("dead-lettering SQS message %s failed; it stays on the queue", message_id)
            stats.failed += 1
            return
        log.warning("SQS message %s dead-lettered: %s", message_id, reason)
        if self._delete(receipt, message_id):
            stats.dead_lettered += 1
        else:
            stats.delete_failed += 1

    def _delete(self, receipt: str, message_id: str | None) -> bool:
        try:
            self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=receipt)
        except (ClientError, BotoCoreError) as exc:
            # Typically the receipt handle expired (the hand-off outlasted the visibility
            # timeout): the message comes back and is handed off again, harmlessly.
            log.warning("cannot delete SQS message %s: %s", message_id, exc)
            return False
        return True

    def _back_off(self, message: MessageTypeDef, receipt: str) -> None:
        if self._retry_backoff_s is None:
            return
        attrs = message.get("Attributes", {})
        try:
            receives = max(1, int(attrs.get("ApproximateReceiveCount", "1")))
        except ValueError:
            receives = 1
        delay = min(self._retry_backoff_s * 2 ** min(receives - 1, 16), _MAX_VISIBILITY_S)
        try:
            self._sqs.change_message_visibility(
                QueueUrl=self._queue_url, ReceiptHandle=receipt, VisibilityTimeout=delay
            )
        except (ClientError, BotoCoreError) as exc:  # the queue's own timeout still applies
            log.warning("cannot delay SQS message %s: %s", message.get("MessageId"), exc)
