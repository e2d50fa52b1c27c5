"""Rekognition completion notifications: parsed once at the edge, signatures checked.

Rekognition publishes one SNS message per job. What reaches us depends on the transport:

- SQS subscription, raw delivery off (what `vidx aws setup` creates): the SQS body is the
  SNS envelope ``{"Type": "Notification", "MessageId", "TopicArn", "Message", "Timestamp",
  "SignatureVersion", "Signature", "SigningCertURL", ...}`` with ``Message`` the
  Rekognition JSON as a *string*, parsed a second time.
- Lambda subscription: the same envelope under ``Records[i].Sns``, spelled
  ``SigningCertUrl`` and with ``"Subject": null``.
- SQS subscription with raw delivery on: the body is the Rekognition JSON itself (and
  carries no signature).

Everything else is a `NotificationError` naming the reason, so the poller can dead-letter
it instead of guessing.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from urllib.request import urlopen

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from worker.engines.port import Feature
from worker.errors import VidxError

# Start* operation named in the notification's API field -> the feature it serves.
_API_FEATURES = {
    "StartSegmentDetection": Feature.SEGMENTS,
    "StartLabelDetection": Feature.LABELS,
    "StartContentModeration": Feature.MODERATION,
    "StartFaceDetection": Feature.FACES,
    "StartTextDetection": Feature.TEXT,
}


class NotificationError(VidxError):
    """A queue message that is not a usable Rekognition notification."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class SignatureError(NotificationError):
    """The SNS signature (or its certificate) does not check out."""


@dataclass(frozen=True)
class RekognitionNotification:
    job_id: str
    status: str  # SUCCEEDED, or anything else (ERROR, FAILED): ask Get* why
    api: str  # the Start* operation, e.g. StartLabelDetection
    job_tag: str | None  # absent when the job was started without a JobTag
    timestamp_ms: int
    s3_bucket: str | None  # present in every recording; optional so a missing Video
    s3_key: str | None  # block never costs the job (it is found by JobId)
    topic_arn: str | None  # None for raw delivery (no envelope)
    message_id: str | None  # the SNS MessageId; None for raw delivery

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"

    @property
    def feature(self) -> Feature | None:
        """The vidx feature behind the Start* call, or None for ones vidx never starts."""
        return _API_FEATURES.get(self.api)


@dataclass(frozen=True)
class SnsEnvelope:
    """The SNS fields a Notification carries; enough to rebuild the string it was signed over."""

    type: str
    message_id: str
    topic_arn: str
    message: str
    timestamp: str
    subject: str | None
    signature_version: str
    signature: str
    signing_cert_url: str

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SnsEnvelope:
        kind = data.get("Type")
        if kind != "Notification":
            raise NotificationError(f"SNS message of Type {kind!r}, expected 'Notification'")
        subject = data.get("Subject")
        return cls(
            type="Notification",
            message_id=_str_field(data, "MessageId", "SNS envelope"),
            topic_arn=_str_field(data, "TopicArn", "SNS envelope"),
            message=_str_field(data, "Message", "SNS envelope"),
            timestamp=_str_field(data, "Timestamp", "SNS envelope"),
            subject=subject if isinstance(subject, str) else None,
            signature_version=str(data.get("SignatureVersion", "")),
            signature=str(data.get("Signature", "")),
            # SQS bodies (and HTTP deliveries) spell it URL; Lambda events spell it Url.
            signing_cert_url=str(data.get("SigningCertURL") or data.get("SigningCertUrl") or ""),
        )


@dataclass(frozen=True)
class ParsedMessage:
    notification: RekognitionNotification
    envelope: SnsEnvelope | None  # None when the message came by raw delivery


def parse_message(
    body: str | bytes | Mapping[str, Any], *, expected_topic_arn: str | None = None
) -> ParsedMessage:
    """Parse an SQS body (wrapped envelope or raw delivery) or a Lambda `Sns` record.

    With `expected_topic_arn`, a wrapped message from any other topic is refused. A raw
    message carries no topic, so it cannot be checked here (the queue policy is what
    restricts who may send to the queue).
    """
    data = body if isinstance(body, Mapping) else _load_json(body, "message body")
    if "Type" in data:
        envelope = SnsEnvelope.from_mapping(data)
        if expected_topic_arn is not None and envelope.topic_arn != expected_topic_arn:
            raise NotificationError(
                f"notification from topic {envelope.topic_arn}, expected {expected_topic_arn}"
            )
        inner = _load_json(envelope.message, "SNS Message")
        return ParsedMessage(
            _notification(inner, envelope.topic_arn, envelope.message_id), envelope
        )
    if "JobId" in data:
        return ParsedMessage(_notification(data, None, None), None)
    raise NotificationError("neither an SNS envelope (Type) nor a Rekognition notification (JobId)")


def parse_notification(
    body: str | bytes | Mapping[str, Any], *, expected_topic_arn: str | None = None
) -> RekognitionNotification:
    return parse_message(body, expected_topic_arn=expected_topic_arn).notification


def parse_lambda_event(
    event: Mapping[str, Any], *, expected_topic_arn: str | None = None
) -> list[ParsedMessage]:
    """Every SNS record of a Lambda event (``{"Records": [{"Sns": {...}}]}``)."""
    records = event.get("Records")
    if not isinstance(records, list) or not records:
        raise NotificationError("Lambda event without Records")
    parsed = []
    for record in records:
        sns = record.get("Sns") if isinstance(record, Mapping) else None
        if not isinstance(sns, Mapping):
            raise NotificationError("Lambda event record without an Sns object")
        parsed.append(parse_message(sns, expected_topic_arn=expected_topic_arn))
    return parsed


def _notification(
    data: Mapping[str, Any], topic_arn: str | None, message_id: str | None
) -> RekognitionNotification:
    where = "Rekognition notification"
    job_id = _str_field(data, "JobId", where)
    timestamp = data.get("Timestamp")
    # bool is an int subclass; a JSON true is no timestamp.
    if isinstance(timestamp, bool) or not isinstance(timestamp, int | float):
        raise NotificationError(f"{where} has no numeric Timestamp")
    job_tag = data.get("JobTag")
    video = data.get("Video")
    video = video if isinstance(video, Mapping) else {}
    bucket, key = video.get("S3Bucket"), video.get("S3ObjectName")
    return RekognitionNotification(
        job_id=job_id,
        status=_str_field(data, "Status", where),
        api=_str_field(data, "API", where),
        job_tag=job_tag if isinstance(job_tag, str) and job_tag else None,
        timestamp_ms=int(timestamp),
        s3_bucket=bucket if isinstance(bucket, str) else None,
        s3_key=key if isinstance(key, str) else None,
        topic_arn=topic_arn,
        message_id=message_id,
    )


def _load_json(text: str | bytes, what: str) -> Mapping[str, Any]:
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotificationError(f"{what} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise NotificationError(f"{what} is JSON but not an object")
    return data


def _str_field(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise NotificationError(f"{where} has no {key}")
    return value


# --- signature -------------------------------------------------------------------------
#
# Written on `cryptography` rather than a PyPI "SNS message validator": those packages are
# unmaintained, and the check is small: rebuild the string SNS signed, fetch the signing
# certificate from an SNS host over HTTPS, verify RSA PKCS#1 v1.5 with SHA1 (v1) or SHA256
# (v2). The certificate chain is not walked: TLS to an `sns.<region>.amazonaws.com` host
# already authenticates where the certificate came from, which is what AWS's own SDK
# validators rely on as well.

CertFetcher = Callable[[str], bytes]  # certificate URL -> PEM bytes

# Strict region shape on purpose: a loose `sns\.[^.]+\.amazonaws\.com` also matches hosts
# others can create, e.g. an S3 bucket named "sns" at sns.s3.amazonaws.com.
_CERT_HOST = re.compile(
    r"^sns\.[a-z]{2}(?:-(?:gov|iso[a-z]?))?-[a-z]+-\d{1,2}\.amazonaws\.com(?:\.cn)?$"
)
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}


def check_cert_url(url: str) -> None:
    """Refuse a certificate URL that is not https on an SNS host, before anything fetches it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise SignatureError(f"malformed SigningCertURL {url!r}: {exc}") from None
    if parts.scheme != "https":
        raise SignatureError(f"SigningCertURL {url!r} is not https")
    if parts.username is not None or port not in (None, 443):
        raise SignatureError(f"SigningCertURL {url!r} carries credentials or a port")
    if not _CERT_HOST.match(parts.hostname or ""):
        raise SignatureError(f"SigningCertURL host {parts.hostname!r} is not an SNS host")


def string_to_sign(envelope: SnsEnvelope) -> bytes:
    """The canonical Notification string: key, newline, value, newline, in this order."""
    fields = [("Message", envelope.message), ("MessageId", envelope.message_id)]
    if envelope.subject is not None:
        fields.append(("Subject", envelope.subject))
    fields += [
        ("Timestamp", envelope.timestamp),
        ("TopicArn", envelope.topic_arn),
        ("Type", envelope.type),
    ]
    return "".join(f"{key}\n{value}\n" for key, value in fields).encode("utf-8")


def verify_signature(
    envelope: SnsEnvelope, cert_fetcher: CertFetcher, *, now: datetime | None = None
) -> None:
    """Raise `SignatureError` unless SNS signed exactly this envelope."""
    algorithm = _HASHES.get(envelope.signature_version)
    if algorithm is None:
        raise SignatureError(f"unknown SignatureVersion {envelope.signature_version!r}")
    try:
        signature = base64.b64decode(envelope.signature, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("Signature is not base64") from None
    if not signature:
        raise SignatureError("envelope has no Signature")
    check_cert_url(envelope.signing_cert_url)
    try:
        cert = x509.load_pem_x509_certificate(cert_fetcher(envelope.signing_cert_url))
    except ValueError as exc:
        raise SignatureError(f"signing certificate is not a PEM certificate: {exc}") from None
    moment = now or datetime.now(UTC)
    if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
        raise SignatureError("signing certificate is outside its validity period")
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("signing certificate does not hold an RSA key")
    try:
        key.verify(signature, string_to_sign(envelope), padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise SignatureError(
            f"signature does not match SNS message {envelope.message_id}"
        ) from None


def fetch_https(url: str, timeout_s: float = 10.0) -> bytes:
    """Download a certificate; only ever called on a URL `check_cert_url` accepted."""
    check_cert_url(url)
    try:
        with urlopen(url, timeout=timeout_s) as response:  # https on an SNS host, checked above
            data: bytes = response.read(64 * 1024)
            return data
    except OSError as exc:
        raise SignatureError(f"cannot fetch signing certificate {url}: {exc}") from None


class CachedCertFetcher:
    """Wraps a fetcher so each certificate URL is downloaded once per process.

    SNS rotates signing certificates rarely and names each by a new URL, so a URL's
    content never changes; failures are not cached, so a network blip is retried.
    """

    def __init__(self, fetch: CertFetcher = fetch_https, max_entries: int = 64) -> None:
        self._fetch = fetch
        self._max = max_entries
        self._cache: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def __call__(self, url: str) -> bytes:
        with self._lock:
            cached = self._cache.get(url)
        if cached is not None:
            return cached
        check_cert_url(url)
        pem = self._fetch(url)
        with self._lock:
            if len(self._cache) >= self._max:
                self._cache.pop(next(iter(self._cache)))
            self._cache[url] = pem
        return pem
