"""The Rekognition engine against botocore's Stubber: exact requests, paging, errors.

The Stubber validates every request against botocore's service model before it
compares it with the expected parameters, so a member the API lacks fails here too.
"""

from __future__ import annotations

import contextlib
import copy
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from tests.conftest import FIXTURES
from worker.engines.port import EngineJobStatus, Feature, JobRequest, VideoSource
from worker.engines.rekognition import (
    GET_OPERATIONS,
    START_OPERATIONS,
    NotificationChannel,
    RekognitionEngine,
)
from worker.engines.rekognition_errors import REKOGNITION_ERRORS
from worker.engines.rekognition_requests import job_tag
from worker.errors import (
    AccessDeniedError,
    EngineError,
    EngineUnavailableError,
    IdempotencyMismatchError,
    InvalidInputError,
    LimitExceededError,
    ResultsExpiredError,
    ThrottledError,
)
from worker.pipeline.jobs import DEFAULT_PARAMS
from worker.results import parse_page

TOKEN = "tok-0123456789abcdef"
JOB = "job-1"
CHANNEL = NotificationChannel(
    "arn:aws:sns:eu-west-1:123456789012:vidx-jobs",
    "arn:aws:iam::123456789012:role/vidx-rekognition",
)
S3_VIDEO = {"S3Object": {"Bucket": "media-bucket", "Name": "in/clip one.mp4"}}
METHOD = {  # Feature -> (Start* method, Get* method)
    Feature.SEGMENTS: ("start_segment_detection", "get_segment_detection"),
    Feature.LABELS: ("start_label_detection", "get_label_detection"),
    Feature.MODERATION: ("start_content_moderation", "get_content_moderation"),
    Feature.FACES: ("start_face_detection", "get_face_detection"),
    Feature.TEXT: ("start_text_detection", "get_text_detection"),
}
ITEMS = {
    Feature.SEGMENTS: "Segments",
    Feature.LABELS: "Labels",
    Feature.MODERATION: "ModerationLabels",
    Feature.FACES: "Faces",
    Feature.TEXT: "TextDetections",
}


def _client(**config: Any) -> Any:
    return boto3.client(
        "rekognition",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(**config) if config else None,
    )


@pytest.fixture
def client() -> Any:
    return _client()


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()  # every expected call was made


def _request(feature: Feature, video_id: str = "vid-42", **params: Any) -> JobRequest:
    merged = {**DEFAULT_PARAMS[feature], **params}
    source = VideoSource(video_id, "ab" * 32, s3_bucket="media-bucket", s3_key="in/clip one.mp4")
    return JobRequest(feature, source, client_token=TOKEN, params=merged)


def _base(**extra: Any) -> dict[str, Any]:
    return {"Video": S3_VIDEO, "ClientRequestToken": TOKEN, "JobTag": "vid-42", **extra}


# --- Start* requests -------------------------------------------------------------------


def test_start_segments_sends_types_and_both_filters_with_channel(
    client: Any, stub: Stubber
) -> None:
    stub.add_response(
        "start_segment_detection",
        {"JobId": "seg-1"},
        _base(
            NotificationChannel={
                "SNSTopicArn": CHANNEL.sns_topic_arn,
                "RoleArn": CHANNEL.role_arn,
            },
            SegmentTypes=["TECHNICAL_CUE", "SHOT"],
            Filters={
                "TechnicalCueFilter": {
                    "MinSegmentConfidence": 50.0,
                    "BlackFrame": {"MaxPixelThreshold": 0.2, "MinCoveragePercentage": 99.0},
                },
                "ShotFilter": {"MinSegmentConfidence": 50.0},
            },
        ),
    )
    engine = RekognitionEngine(client, CHANNEL)
    assert engine.start(_request(Feature.SEGMENTS)) == "seg-1"


@pytest.mark.parametrize(
    ("types", "filters"),
    [
        (["SHOT"], {"ShotFilter": {"MinSegmentConfidence": 80.0}}),
        (
            ["TECHNICAL_CUE"],
            {
                "TechnicalCueFilter": {
                    "MinSegmentConfidence": 60.0,
                    "BlackFrame": {"MaxPixelThreshold": 0.1, "MinCoveragePercentage": 90.0},
                }
            },
        ),
    ],
)
def test_start_segments_filters_only_for_requested_types(
    client: Any, stub: Stubber, types: list[str], filters: dict[str, Any]
) -> None:
    stub.add_response(
        "start_segment_detection",
        {"JobId": "seg-2"},
        _base(SegmentTypes=types, Filters=filters),
    )
    request = _request(
        Feature.SEGMENTS,
        segment_types=types,
        min_shot_confidence=80,
        min_cue_confidence=60,
        black_max_pixel_threshold=0.1,
        black_min_coverage=90,
    )
    assert RekognitionEngine(client).start(request) == "seg-2"


def test_start_segments_without_filter_params_sends_no_filters(client: Any, stub: Stubber) -> None:
    stub.add_response("start_segment_detection", {"JobId": "seg-3"}, _base(SegmentTypes=["SHOT"]))
    source = _request(Feature.SEGMENTS).video
    request = JobRequest(Feature.SEGMENTS, source, TOKEN, {"segment_types": ["SHOT"]})
    assert RekognitionEngine(client).start(request) == "seg-3"


def test_start_labels_without_channel(client: Any, stub: Stubber) -> None:
    stub.add_response(
        "start_label_detection",
        {"JobId": "lab-1"},
        _base(Features=["GENERAL_LABELS"], MinConfidence=75.0),
    )
    engine = RekognitionEngine(client, notification=None)
    assert engine.start(_request(Feature.LABELS, min_confidence=75)) == "lab-1"


def test_start_labels_with_channel_and_label_filters(client: Any, stub: Stubber) -> None:
    stub.add_response(
        "start_label_detection",
        {"JobId": "lab-2"},
        _base(
            Features=["GENERAL_LABELS"],
            MinConfidence=50.0,
            NotificationChannel={"SNSTopicArn": CHANNEL.sns_topic_arn, "RoleArn": CHANNEL.role_arn},
            Settings={
                "GeneralLabels": {
                    "LabelInclusionFilters": ["Dog", "Car"],
                    "LabelCategoryExclusionFilters": ["Text and Documents"],
                }
            },
        ),
    )
    request = _request(
        Feature.LABELS,
        label_inclusion_filters=["Dog", "Car"],
        label_category_exclusion_filters=["Text and Documents"],
    )
    assert RekognitionEngine(client, CHANNEL).start(request) == "lab-2"


def test_start_moderation(client: Any, stub: Stubber) -> None:
    stub.add_response("start_content_moderation", {"JobId": "mod-1"}, _base(MinConfidence=60.0))
    assert RekognitionEngine(client).start(_request(Feature.MODERATION, min_confidence=60)) == (
        "mod-1"
    )


def test_start_faces_with_channel(client: Any, stub: Stubber) -> None:
    stub.add_response(
        "start_face_detection",
        {"JobId": "face-1"},
        _base(
            FaceAttributes="ALL",
            NotificationChannel={"SNSTopicArn": CHANNEL.sns_topic_arn, "RoleArn": CHANNEL.role_arn},
        ),
    )
    request = _request(Feature.FACES, face_attributes="ALL")
    assert RekognitionEngine(client, CHANNEL).start(request) == "face-1"


def test_start_text_sends_the_default_word_confidence(client: Any, stub: Stubber) -> None:
    stub.add_response(
        "start_text_detection",
        {"JobId": "text-1"},
        _base(Filters={"WordFilter": {"MinConfidence": 80.0}}),
    )
    assert RekognitionEngine(client).start(_request(Feature.TEXT)) == "text-1"


def test_start_text_with_word_filter_regions_and_channel(client: Any, stub: Stubber) -> None:
    region = {"left": 0.0, "top": 0.7, "width": 1.0, "height": 0.3}  # lower thirds
    stub.add_response(
        "start_text_detection",
        {"JobId": "text-2"},
        _base(
            Filters={
                "WordFilter": {
                    "MinConfidence": 60.0,
                    "MinBoundingBoxHeight": 0.02,
                    "MinBoundingBoxWidth": 0.01,
                },
                "RegionsOfInterest": [
                    {"BoundingBox": {"Left": 0.0, "Top": 0.7, "Width": 1.0, "Height": 0.3}}
                ],
            },
            NotificationChannel={"SNSTopicArn": CHANNEL.sns_topic_arn, "RoleArn": CHANNEL.role_arn},
        ),
    )
    request = _request(
        Feature.TEXT, min_confidence=60, min_box_height=0.02, min_box_width="0.01", regions=[region]
    )
    assert RekognitionEngine(client, CHANNEL).start(request) == "text-2"


def test_job_tag_is_sanitised_to_the_api_pattern(client: Any, stub: Stubber) -> None:
    stub.add_response(
        "start_face_detection",
        {"JobId": "face-2"},
        {**_base(FaceAttributes="DEFAULT"), "JobTag": "my_video_1_/a:b+c=d.e-f__"},
    )
    request = _request(Feature.FACES, video_id="my video#1 /a:b+c=d.e-f\u00fc\u00e9")
    assert RekognitionEngine(client).start(request) == "face-2"
    assert job_tag("x" * 2000) == "x" * 1024
    assert job_tag("") is None


def test_start_without_s3_object_calls_nothing(client: Any, stub: Stubber) -> None:
    request = JobRequest(Feature.LABELS, VideoSource("vid-9", "ab" * 32), TOKEN, {})
    with pytest.raises(EngineError, match=r"vid-9.*no S3 bucket/key"):
        RekognitionEngine(client).start(request)


@pytest.mark.parametrize(
    ("feature", "params", "problem"),
    [
        (Feature.SEGMENTS, {"segment_types": []}, "segment_types"),
        (Feature.SEGMENTS, {"segment_types": ["SHOTS"]}, "segment_types"),
        (Feature.FACES, {"face_attributes": "SOME"}, "face_attributes"),
        (Feature.LABELS, {"min_confidence": "high"}, "min_confidence"),
        (Feature.TEXT, {"min_confidence": 120}, "min_confidence"),
        (Feature.TEXT, {"min_box_height": "tall"}, "min_box_height"),
        (
            Feature.TEXT,
            {"regions": [{"left": 0.5, "top": 0, "width": 0.6, "height": 1}]},
            "regions",
        ),
        (Feature.TEXT, {"regions": [{"left": 0, "top": 0}]}, "regions"),
        (
            Feature.TEXT,
            {"regions": [{"left": 0, "top": 0, "width": 1, "height": 1}] * 11},
            "regions",
        ),
        (Feature.TEXT, {"region": []}, "unknown text parameter"),
    ],
)
def test_start_refuses_bad_params_before_calling(
    client: Any, stub: Stubber, feature: Feature, params: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidInputError, match=problem):
        RekognitionEngine(client).start(_request(feature, **params))


# --- Get* requests, paging, state ---------------------------------------------------------


def _page(feature: Feature, items: list[Any], token: str | None = None, **extra: Any) -> dict:
    page: dict[str, Any] = {"JobStatus": "SUCCEEDED", ITEMS[feature]: items, **extra}
    if token:
        page["NextToken"] = token
    return page


def _label(name: str, ts: int) -> dict[str, Any]:
    return {"Timestamp": ts, "Label": {"Name": name, "Confidence": 90.0}}


def test_labels_pages_follow_next_token_in_order_without_response_metadata(
    client: Any, stub: Stubber
) -> None:
    base = {"JobId": JOB, "MaxResults": 2, "SortBy": "TIMESTAMP", "AggregateBy": "SEGMENTS"}
    labels = [_label(f"L{i}", i * 100) for i in range(5)]
    stub.add_response("get_label_detection", _page(Feature.LABELS, labels[0:2], "t1"), base)
    stub.add_response(
        "get_label_detection",
        _page(Feature.LABELS, labels[2:4], "t2"),
        {**base, "NextToken": "t1"},
    )
    stub.add_response(
        "get_label_detection", _page(Feature.LABELS, labels[4:]), {**base, "NextToken": "t2"}
    )
    engine = RekognitionEngine(client, labels_aggregate_by="SEGMENTS")
    pages = list(engine.pages(Feature.LABELS, JOB, max_results=2))
    assert len(pages) == 3
    assert [item for p in pages for item in p["Labels"]] == labels
    assert [p.get("NextToken") for p in pages] == ["t1", "t2", None]
    assert all("ResponseMetadata" not in p for p in pages)


@pytest.mark.parametrize(
    ("feature", "extra"),
    [
        (Feature.LABELS, {"SortBy": "TIMESTAMP", "AggregateBy": "TIMESTAMPS"}),
        (Feature.MODERATION, {"SortBy": "TIMESTAMP"}),
        (Feature.FACES, {}),  # GetFaceDetection has neither SortBy nor AggregateBy
        (Feature.SEGMENTS, {}),
    ],
)
def test_get_sends_sort_and_aggregate_only_where_the_api_has_them(
    client: Any, stub: Stubber, feature: Feature, extra: dict[str, str]
) -> None:
    expected = {"JobId": JOB, "MaxResults": 1000, **extra}
    stub.add_response(METHOD[feature][1], _page(feature, []), expected)
    stub.add_response(METHOD[feature][1], _page(feature, []), {**expected, "MaxResults": 1000})
    engine = RekognitionEngine(client)
    assert len(list(engine.pages(feature, JOB))) == 1
    assert len(list(engine.pages(feature, JOB, max_results=5000))) == 1  # capped at 1000


def test_get_members_match_the_botocore_model() -> None:
    """What the engine sends per Get* op is exactly what the model allows (no guessing)."""
    model = botocore.session.get_session().get_service_model("rekognition")
    for feature, op in GET_OPERATIONS.items():
        members = set(model.operation_model(op).input_shape.members)
        has_sort = feature in (Feature.LABELS, Feature.MODERATION)
        assert ("SortBy" in members) is has_sort, op
        assert ("AggregateBy" in members) is has_sort, op
    start = model.operation_model("StartLabelDetection").input_shape.members
    assert start["Features"].member.enum == ["GENERAL_LABELS"]


@pytest.mark.parametrize(
    ("response", "status", "message"),
    [
        ({"JobStatus": "SUCCEEDED"}, EngineJobStatus.SUCCEEDED, None),
        ({"JobStatus": "IN_PROGRESS"}, EngineJobStatus.IN_PROGRESS, None),
        (
            {"JobStatus": "FAILED", "StatusMessage": "Unsupported codec: prores"},
            EngineJobStatus.FAILED,
            "Unsupported codec: prores",
        ),
    ],
)
@pytest.mark.parametrize("feature", list(Feature))
def test_state_asks_for_one_result(
    client: Any,
    stub: Stubber,
    feature: Feature,
    response: dict[str, str],
    status: EngineJobStatus,
    message: str | None,
) -> None:
    sort = {"SortBy": "TIMESTAMP"} if feature in (Feature.LABELS, Feature.MODERATION) else {}
    aggregate = {"AggregateBy": "TIMESTAMPS"} if feature is Feature.LABELS else {}
    stub.add_response(
        METHOD[feature][1], response, {"JobId": JOB, "MaxResults": 1, **sort, **aggregate}
    )
    state = RekognitionEngine(client).state(feature, JOB)
    assert state.status is status
    assert state.message == message


def test_failed_job_pages_reach_the_parser_with_their_message(client: Any, stub: Stubber) -> None:
    failed = {"JobStatus": "FAILED", "StatusMessage": "Video file is corrupt"}
    stub.add_response("get_face_detection", failed, {"JobId": JOB, "MaxResults": 1000})
    (page,) = RekognitionEngine(client).pages(Feature.FACES, JOB)
    parsed = parse_page(Feature.FACES, page)
    assert (parsed.job_status, parsed.status_message) == ("FAILED", "Video file is corrupt")


def test_pages_of_a_running_job_are_refused(client: Any, stub: Stubber) -> None:
    stub.add_response(
        "get_segment_detection", {"JobStatus": "IN_PROGRESS"}, {"JobId": JOB, "MaxResults": 1000}
    )
    with pytest.raises(EngineError, match="IN_PROGRESS"):
        list(RekognitionEngine(client).pages(Feature.SEGMENTS, JOB))


def test_every_feature_is_supported_and_the_name_is_aws(client: Any) -> None:
    engine = RekognitionEngine(client)
    assert engine.name == "aws"
    assert all(engine.supports(f) for f in Feature)
    with pytest.raises(ValueError, match="labels_aggregate_by"):
        RekognitionEngine(client, labels_aggregate_by="FRAMES")


# --- errors -------------------------------------------------------------------------------

ERROR_CLASSES = [
    ("ThrottlingException", 400, ThrottledError),
    ("ProvisionedThroughputExceededException", 400, ThrottledError),
    ("LimitExceededException", 400, LimitExceededError),
    ("InvalidParameterException", 400, InvalidInputError),
    ("InvalidS3ObjectException", 400, InvalidInputError),
    ("VideoTooLargeException", 400, InvalidInputError),
    ("ResourceNotFoundException", 400, ResultsExpiredError),
    ("InvalidPaginationTokenException", 400, ResultsExpiredError),
    ("AccessDeniedException", 400, AccessDeniedError),
    ("IdempotentParameterMismatchException", 400, IdempotencyMismatchError),
    ("InternalServerError", 500, EngineUnavailableError),
    ("SomethingNewException", 400, EngineError),  # unknown code: the base class
    ("ServiceUnavailable", 503, EngineUnavailableError),  # unmodelled 5xx: transient
]


@pytest.mark.parametrize(("code", "status", "cls"), ERROR_CLASSES)
@pytest.mark.parametrize("feature", list(Feature))
def test_start_errors_become_engine_errors(
    client: Any, stub: Stubber, feature: Feature, code: str, status: int, cls: type
) -> None:
    stub.add_client_error(METHOD[feature][0], code, f"details of {code}", http_status_code=status)
    with pytest.raises(EngineError) as caught:
        RekognitionEngine(client).start(_request(feature))
    assert type(caught.value) is cls
    assert f"{START_OPERATIONS[feature]}: {code}: details of {code}" == str(caught.value)


@pytest.mark.parametrize(("code", "status", "cls"), ERROR_CLASSES)
@pytest.mark.parametrize("feature", list(Feature))
def test_get_errors_become_engine_errors(
    client: Any, stub: Stubber, feature: Feature, code: str, status: int, cls: type
) -> None:
    stub.add_response(METHOD[feature][1], _page(feature, [], "t1"))
    stub.add_client_error(METHOD[feature][1], code, "gone", http_status_code=status)
    pages = RekognitionEngine(client).pages(feature, JOB)
    assert next(pages)["JobStatus"] == "SUCCEEDED"  # the error hits the second page
    with pytest.raises(EngineError) as caught:
        next(pages)
    assert type(caught.value) is cls
    assert f"{GET_OPERATIONS[feature]}: {code}: gone" == str(caught.value)


def test_every_modelled_error_code_is_mapped() -> None:
    model = botocore.session.get_session().get_service_model("rekognition")
    modelled = {
        err.name
        for op in [*START_OPERATIONS.values(), *GET_OPERATIONS.values()]
        for err in model.operation_model(op).error_shapes
    }
    assert modelled == set(REKOGNITION_ERRORS.codes)


def test_client_side_validation_is_invalid_input() -> None:
    # nothing listens there: only botocore's own parameter check can answer
    client = boto3.client(
        "rekognition",
        region_name="eu-west-1",
        endpoint_url=_unused_port_url(),
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with pytest.raises(InvalidInputError, match=r"GetFaceDetection: invalid request.*MaxResults"):
        list(RekognitionEngine(client).pages(Feature.FACES, JOB, max_results=0))


def _serve(handle: Any) -> tuple[str, threading.Thread]:
    """A one-connection TCP server on localhost running `handle(conn)`."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def run() -> None:
        with server:
            conn, _ = server.accept()
            with conn:
                handle(conn)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{port}", thread


def _unused_port_url() -> str:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def _read_then(action: str) -> Any:
    def handle(conn: socket.socket) -> None:
        conn.recv(65536)
        if action == "hang":  # read all, never answer: the client's read timeout fires
            conn.settimeout(5)
            with contextlib.suppress(OSError):
                while conn.recv(65536):  # until the client gives up and closes
                    pass

    return handle


@pytest.mark.parametrize("failure", ["refused", "closed", "timeout"])
def test_connection_failures_are_engine_unavailable(
    failure: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)
    if failure == "refused":
        url, expected = _unused_port_url(), "EndpointConnectionError"
    elif failure == "closed":
        url, _ = _serve(_read_then("close"))
        expected = "ConnectionClosedError"
    else:
        url, _ = _serve(_read_then("hang"))
        expected = "ReadTimeoutError"
    client = boto3.client(
        "rekognition",
        region_name="eu-west-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=0.5, connect_timeout=2),
    )
    with pytest.raises(EngineUnavailableError, match=f"GetLabelDetection: {expected}"):
        RekognitionEngine(client).state(Feature.LABELS, JOB)


# --- recorded pages through the engine into the one parser -----------------------------

RECORDED = [
    ("netflix_93f8/GetSegmentDetection.page1.json", Feature.SEGMENTS),
    ("netflix_93f8/GetContentModeration.page1.json", Feature.MODERATION),
    ("hawkey999_face/GetFaceDetection.page1.json", Feature.FACES),
    ("labelpy_kfir/GetLabelDetection.page1.json", Feature.LABELS),
]


@pytest.mark.parametrize(("rel", "feature"), RECORDED)
def test_recorded_pages_flow_into_the_parser_unchanged(
    client: Any, stub: Stubber, rel: str, feature: Feature
) -> None:
    path = FIXTURES / rel
    if not path.exists():
        pytest.skip(f"recorded fixture missing: {path}")
    recorded = json.loads(path.read_text())
    wire = {k: v for k, v in recorded.items() if k != "ResponseMetadata"}
    sort = {"SortBy": "TIMESTAMP"} if feature in (Feature.LABELS, Feature.MODERATION) else {}
    aggregate = {"AggregateBy": "TIMESTAMPS"} if feature is Feature.LABELS else {}
    expected = {"JobId": JOB, "MaxResults": 1000, **sort, **aggregate}
    stub.add_response(METHOD[feature][1], copy.deepcopy(recorded), expected)
    last = None
    if "NextToken" in wire:  # a recorded first page: end the job with an empty page
        last = {k: v for k, v in wire.items() if k != "NextToken"} | {ITEMS[feature]: []}
        stub.add_response(METHOD[feature][1], last, {**expected, "NextToken": wire["NextToken"]})

    pages = list(RekognitionEngine(client).pages(feature, JOB))

    assert pages[0] == wire  # the page as recorded, less boto3's ResponseMetadata
    assert pages[1:] == ([last] if last else [])
    direct = parse_page(feature, wire)
    through = parse_page(feature, pages[0])
    assert through == direct
    assert len(through.items) == len(recorded[ITEMS[feature]]) > 0
