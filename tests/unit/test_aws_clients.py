"""AwsClients (region, endpoint, retry budget) and the aws engine in the registry.

The retry tests talk to a real local HTTP server that answers every call with one
AWS error, and count how many calls botocore made before the error reached us.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from worker.aws.clients import DEFAULT_TOTAL_MAX_ATTEMPTS, AwsClients
from worker.config import Settings
from worker.engines.port import Feature
from worker.engines.registry import analysis_engine
from worker.engines.rekognition import NotificationChannel, RekognitionEngine
from worker.errors import (
    EngineUnavailableError,
    InvalidInputError,
    LimitExceededError,
    ThrottledError,
    VidxError,
)

SERVICES = ("rekognition", "s3", "sns", "sqs", "iam", "sts")


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No shared config, no real credentials, no proxies: only what a test sets."""
    for var in (
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_REKOGNITION",
        "AWS_PROFILE",
        "AWS_RETRY_MODE",
        "AWS_MAX_ATTEMPTS",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_nothing_is_built_until_a_client_is_asked_for() -> None:
    clients = AwsClients()  # no region anywhere: still fine, nothing was built
    with pytest.raises(VidxError, match="no AWS region for rekognition: set AWS_REGION"):
        _ = clients.rekognition


def test_clients_are_built_once_each_from_one_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    clients = AwsClients()
    built = {name: getattr(clients, name) for name in SERVICES}
    assert {n: c.meta.service_model.service_name for n, c in built.items()} == {
        n: n for n in SERVICES
    }
    assert all(getattr(clients, name) is built[name] for name in SERVICES)
    assert built["rekognition"].meta.region_name == "eu-west-1"


def test_the_client_attributes_are_read_only() -> None:
    clients = AwsClients(region="eu-west-1")
    for name in SERVICES:
        with pytest.raises(AttributeError, match=f"AwsClients.{name} is read-only"):
            setattr(clients, name, object())
    assert clients._clients == {}  # neither the attempt nor the class lookup built one
    assert all(getattr(AwsClients, name).service == name for name in SERVICES)


def test_aws_region_beats_aws_default_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    assert AwsClients().rekognition.meta.region_name == "us-west-2"
    assert AwsClients(region="ap-south-1").sqs.meta.region_name == "ap-south-1"


def test_botocore_reads_aws_endpoint_url_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    clients = AwsClients()
    assert clients.rekognition.meta.endpoint_url == "http://127.0.0.1:4566"
    assert clients.sns.meta.endpoint_url == "http://127.0.0.1:4566"
    explicit = AwsClients(endpoint_url="http://127.0.0.1:5000")
    assert explicit.s3.meta.endpoint_url == "http://127.0.0.1:5000"


def test_standard_retry_mode_with_a_bounded_total(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "10")  # the explicit budget wins, on purpose
    retries = AwsClients().rekognition.meta.config.retries
    assert retries == {"mode": "standard", "total_max_attempts": DEFAULT_TOTAL_MAX_ATTEMPTS}


class _AlwaysFails(BaseHTTPRequestHandler):
    """Answers every JSON-protocol call with one error, counting the calls."""

    code = "InternalServerError"
    status = 500
    calls = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).calls += 1
        body = json.dumps({"__type": self.code, "message": "try again"}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass


@pytest.fixture
def failing_server() -> Iterator[tuple[str, type[_AlwaysFails]]]:
    handler = type("Handler", (_AlwaysFails,), {"calls": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("code", "status", "cls", "calls"),
    [
        # transient and throttling errors: botocore retries them within the call...
        ("InternalServerError", 500, EngineUnavailableError, DEFAULT_TOTAL_MAX_ATTEMPTS),
        ("ThrottlingException", 400, ThrottledError, DEFAULT_TOTAL_MAX_ATTEMPTS),
        # ...including LimitExceededException, which botocore counts as throttling
        ("LimitExceededException", 400, LimitExceededError, DEFAULT_TOTAL_MAX_ATTEMPTS),
        # a request that can never succeed is not retried
        ("InvalidParameterException", 400, InvalidInputError, 1),
    ],
)
def test_sdk_retries_then_hands_the_error_to_the_pipeline(
    monkeypatch: pytest.MonkeyPatch,
    failing_server: tuple[str, type[_AlwaysFails]],
    code: str,
    status: int,
    cls: type[Exception],
    calls: int,
) -> None:
    url, handler = failing_server
    handler.code, handler.status = code, status
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    engine = RekognitionEngine(AwsClients(endpoint_url=url).rekognition)
    with pytest.raises(cls) as caught:
        engine.state(Feature.SEGMENTS, "job-1")
    assert type(caught.value) is cls
    assert handler.calls == calls
    retried = f" (after {calls - 1} SDK retries)" if calls > 1 else ""
    assert str(caught.value) == f"GetSegmentDetection: {code}: try again{retried}"


# --- registry -----------------------------------------------------------------------------

TOPIC = "arn:aws:sns:eu-west-1:123456789012:vidx-jobs"
ROLE = "arn:aws:iam::123456789012:role/vidx-rekognition"


def test_registry_builds_the_rekognition_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    settings = Settings(
        data_dir=tmp_path,
        sns_topic_arn=TOPIC,
        rekognition_role_arn=ROLE,
        labels_aggregate_by="SEGMENTS",
    )
    engine = analysis_engine("aws", settings)
    assert isinstance(engine, RekognitionEngine)
    assert engine.name == "aws"
    assert engine.notification == NotificationChannel(TOPIC, ROLE)
    assert engine.labels_aggregate_by == "SEGMENTS"
    assert engine.client.meta.service_model.service_name == "rekognition"
    assert engine.client.meta.region_name == "eu-central-1"
    assert engine.client.meta.config.retries["mode"] == "standard"


def test_registry_without_notifications(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    engine = analysis_engine("aws", Settings(data_dir=tmp_path))
    assert isinstance(engine, RekognitionEngine)
    assert engine.notification is None


@pytest.mark.parametrize(
    "half", [{"sns_topic_arn": TOPIC}, {"rekognition_role_arn": ROLE}], ids=["topic", "role"]
)
def test_registry_refuses_half_a_notification_channel(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, half: dict[str, str]
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    with pytest.raises(
        VidxError, match="set both VIDX_SNS_TOPIC_ARN and VIDX_REKOGNITION_ROLE_ARN"
    ):
        analysis_engine("aws", Settings(data_dir=tmp_path, **half))


def test_registry_uses_the_shared_clients_when_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    shared = AwsClients()
    engine = analysis_engine("aws", Settings(data_dir=tmp_path), aws=shared)
    assert isinstance(engine, RekognitionEngine)
    assert engine.client is shared.rekognition
