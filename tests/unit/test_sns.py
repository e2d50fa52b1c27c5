"""SNS/SQS notification parsing and the SNS signature check (real envelopes, own key)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from worker.aws.sns import (
    CachedCertFetcher,
    NotificationError,
    SignatureError,
    SnsEnvelope,
    check_cert_url,
    parse_lambda_event,
    parse_message,
    parse_notification,
    string_to_sign,
    verify_signature,
)
from worker.engines.port import Feature
from worker.errors import VidxError

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "rekognition"
SQS_BODY = FIXTURES / "sns_sqs_facedetection" / "SQSMessageBody.json"
LAMBDA_EVENT = FIXTURES / "hawkey999_face" / "SNSLambdaEvent.json"
TOPIC = "arn:aws:sns:us-east-1:275072183127:AmazonRekognition-Result"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123abcd.pem"


def _fixture(path: Path) -> str:
    if not path.is_file():
        pytest.skip(f"fixture {path} not found (../shared from the repo root)")
    return path.read_text()


# --- parsing ---------------------------------------------------------------------------


def test_sqs_body_from_real_subscription_parses_twice_into_a_notification() -> None:
    parsed = parse_message(_fixture(SQS_BODY), expected_topic_arn=TOPIC)
    n = parsed.notification
    assert n.job_id == "f40f6c76f87f5c9aeea9a50b3d53688a4174711f9b1f20392c044e21f71c5e4d"
    assert n.status == "SUCCEEDED" and n.succeeded
    assert n.api == "StartFaceDetection" and n.feature is Feature.FACES
    assert n.job_tag == "jobtag-1515751503"
    assert n.timestamp_ms == 1515733532180
    assert n.s3_bucket == "vsaas-rekog-test"
    assert n.s3_key == "DT inside back door_20180109_080816.mp4"  # spaces kept
    assert n.topic_arn == TOPIC
    assert n.message_id == "87805724-7a33-5725-8d12-05f63e6f0f53"
    assert parsed.envelope is not None
    assert parsed.envelope.signing_cert_url.startswith("https://sns.us-east-1.amazonaws.com/")
    assert parsed.envelope.subject is None  # no Subject key in SQS bodies without one


def test_lambda_event_uses_the_url_spelling_and_null_subject() -> None:
    [parsed] = parse_lambda_event(json.loads(_fixture(LAMBDA_EVENT)))
    assert parsed.notification.api == "StartFaceSearch"
    assert parsed.notification.feature is None  # vidx never starts face search
    assert parsed.notification.job_tag == "999bb0d7c16b06749f5b44e38456e1d2"
    assert parsed.envelope is not None
    assert parsed.envelope.signing_cert_url == (
        "https://sns.ap-northeast-1.amazonaws.com/"
        "SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem"
    )


def test_raw_delivery_is_the_rekognition_json_itself() -> None:
    inner = json.loads(json.loads(_fixture(SQS_BODY))["Message"])
    parsed = parse_message(json.dumps(inner).encode(), expected_topic_arn=TOPIC)
    assert parsed.envelope is None
    assert parsed.notification.topic_arn is None and parsed.notification.message_id is None
    assert parsed.notification.job_id == inner["JobId"]


def test_optional_fields_may_be_absent() -> None:
    n = parse_notification(
        {"JobId": "j1", "Status": "ERROR", "API": "StartLabelDetection", "Timestamp": 1}
    )
    assert (n.job_tag, n.s3_bucket, n.s3_key) == (None, None, None)
    assert not n.succeeded and n.feature is Feature.LABELS


def _envelope_dict(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_fixture(SQS_BODY))
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json {", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        ("[1, 2]", "not an object"),
        ("{}", "neither an SNS envelope"),
        ({"Type": "SubscriptionConfirmation"}, "Type"),
        ({"Message": "plain text"}, "SNS Message is not JSON"),
        ({"TopicArn": None}, "no TopicArn"),
        ({"Message": json.dumps({"Status": "SUCCEEDED"})}, "no JobId"),
        (json.dumps({"JobId": "j", "Status": "SUCCEEDED", "API": "X"}), "Timestamp"),
        (json.dumps({"JobId": "j", "Status": "S", "API": "X", "Timestamp": True}), "Timestamp"),
        (json.dumps({"JobId": "", "Status": "S", "API": "X", "Timestamp": 1}), "no JobId"),
    ],
)
def test_anything_else_is_a_notification_error_with_a_reason(
    body: str | bytes | dict[str, Any], reason: str
) -> None:
    # A dict is a change to the real envelope; str/bytes go in as they are.
    raw = json.dumps(_envelope_dict(**body)) if isinstance(body, dict) else body
    with pytest.raises(NotificationError, match=reason) as info:
        parse_message(raw)
    assert isinstance(info.value, VidxError)


def test_wrong_topic_is_refused() -> None:
    other = "arn:aws:sns:us-east-1:111111111111:AmazonRekognition-Other"
    with pytest.raises(NotificationError, match="expected " + other):
        parse_message(_fixture(SQS_BODY), expected_topic_arn=other)


def test_lambda_event_without_records_is_refused() -> None:
    with pytest.raises(NotificationError, match="Records"):
        parse_lambda_event({"Records": []})


# --- signature -------------------------------------------------------------------------


def _self_signed(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, *, days: int = 30, offset: int = -1
) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    start = datetime.now(UTC) + timedelta(days=offset)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Fetcher:
    """Serves one PEM and records every URL it was asked for."""

    def __init__(self, pem: bytes) -> None:
        self.pem = pem
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        return self.pem


def _signed(key: rsa.RSAPrivateKey, version: str = "2", **changes: Any) -> SnsEnvelope:
    """The real SQS envelope, re-signed with our key the way SNS signs it."""
    data = _envelope_dict(SigningCertURL=CERT_URL, SignatureVersion=version, **changes)
    unsigned = SnsEnvelope.from_mapping(data)
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = key.sign(string_to_sign(unsigned), padding.PKCS1v15(), algorithm)
    data["Signature"] = base64.b64encode(signature).decode()
    return SnsEnvelope.from_mapping(data)


def test_string_to_sign_is_the_documented_key_value_lines() -> None:
    env = SnsEnvelope.from_mapping(_envelope_dict())
    lines = string_to_sign(env).decode().split("\n")
    assert lines[0::2][:5] == ["Message", "MessageId", "Timestamp", "TopicArn", "Type"]
    assert lines[1] == env.message and lines[9] == "Notification" and lines[-1] == ""
    with_subject = SnsEnvelope.from_mapping(_envelope_dict(Subject="Done"))
    assert "\nSubject\nDone\nTimestamp\n" in string_to_sign(with_subject).decode()


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signed_envelope_verifies(key: rsa.RSAPrivateKey, version: str) -> None:
    fetcher = Fetcher(_self_signed(key))
    verify_signature(_signed(key, version), fetcher)
    assert fetcher.urls == [CERT_URL]


def test_subject_is_part_of_what_is_signed(key: rsa.RSAPrivateKey) -> None:
    env = _signed(key, Subject="Amazon Rekognition")
    verify_signature(env, Fetcher(_self_signed(key)))
    stripped = replace(env, subject=None)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(stripped, Fetcher(_self_signed(key)))


@pytest.mark.parametrize("field", ["message", "message_id", "timestamp", "topic_arn"])
def test_tampered_envelope_fails(key: rsa.RSAPrivateKey, field: str) -> None:
    env = _signed(key)
    value = getattr(env, field)
    tampered = value.replace("SUCCEEDED", "FAILED") if field == "message" else value + "0"
    forged = replace(env, **{field: tampered})
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(forged, Fetcher(_self_signed(key)))


def test_signature_by_another_key_fails(key: rsa.RSAPrivateKey) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(_signed(key), Fetcher(_self_signed(other)))


def test_version_1_signature_claimed_as_version_2_fails(key: rsa.RSAPrivateKey) -> None:
    env = _signed(key, "1")
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(replace(env, signature_version="2"), Fetcher(_self_signed(key)))


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123abcd.pem",
        "https://evil.example.com/SimpleNotificationService-0123abcd.pem",
        "https://sns.us-east-1.amazonaws.com.evil.example.com/cert.pem",
        "https://sns.us-east-1.amazonaws.com@evil.example.com/cert.pem",
        "https://sns.s3.amazonaws.com/cert.pem",  # an S3 bucket named "sns"
        "https://sns.us-east-1.amazonaws.com:8443/cert.pem",
        "https://sqs.us-east-1.amazonaws.com/cert.pem",
        "file:///etc/ssl/cert.pem",
        "",
    ],
)
def test_certificate_url_off_sns_is_refused_before_fetching(
    key: rsa.RSAPrivateKey, url: str
) -> None:
    env = replace(_signed(key), signing_cert_url=url)
    fetcher = Fetcher(_self_signed(key))
    with pytest.raises(SignatureError, match="SigningCertURL"):
        verify_signature(env, fetcher)
    assert fetcher.urls == []


@pytest.mark.parametrize(
    "host",
    ["sns.us-east-1.amazonaws.com", "sns.us-gov-west-1.amazonaws.com",
     "sns.cn-north-1.amazonaws.com.cn", "sns.ap-southeast-5.amazonaws.com"],
)  # fmt: skip
def test_sns_hosts_in_every_partition_are_accepted(host: str) -> None:
    check_cert_url(f"https://{host}/SimpleNotificationService-1.pem")


def test_unknown_version_and_bad_base64_are_refused(key: rsa.RSAPrivateKey) -> None:
    env = _signed(key)
    with pytest.raises(SignatureError, match="SignatureVersion"):
        verify_signature(replace(env, signature_version="3"), Fetcher(b""))
    with pytest.raises(SignatureError, match="base64"):
        verify_signature(replace(env, signature="***"), Fetcher(b""))
    with pytest.raises(SignatureError, match="no Signature"):
        verify_signature(replace(env, signature=""), Fetcher(b""))


def test_certificate_problems_are_refused(key: rsa.RSAPrivateKey) -> None:
    env = _signed(key)
    with pytest.raises(SignatureError, match="not a PEM"):
        verify_signature(env, Fetcher(b"<html>not a cert</html>"))
    with pytest.raises(SignatureError, match="validity"):
        verify_signature(env, Fetcher(_self_signed(key, days=10, offset=-20)))
    ec_key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(SignatureError, match="RSA"):
        verify_signature(env, Fetcher(_self_signed(ec_key)))


def test_real_envelope_does_not_verify_against_a_foreign_certificate(
    key: rsa.RSAPrivateKey,
) -> None:
    env = parse_message(_fixture(SQS_BODY)).envelope
    assert env is not None
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(env, Fetcher(_self_signed(key)))


def test_cached_fetcher_downloads_each_url_once_and_checks_it_first(
    key: rsa.RSAPrivateKey,
) -> None:
    inner = Fetcher(_self_signed(key))
    cached = CachedCertFetcher(inner, max_entries=2)
    for _ in range(3):
        verify_signature(_signed(key), cached)
    assert inner.urls == [CERT_URL]
    with pytest.raises(SignatureError):
        cached("https://evil.example.com/x.pem")
    assert inner.urls == [CERT_URL]
    for i in range(3):  # bounded: the oldest entry goes
        cached(f"https://sns.us-east-1.amazonaws.com/c{i}.pem")
    cached(CERT_URL)
    assert inner.urls.count(CERT_URL) == 2
