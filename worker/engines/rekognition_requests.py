"""Start* request bodies for Rekognition Video, built from a JobRequest and its params,
and the paging members every Get* body shares.

Pure functions (no client), typed with the mypy-boto3 request TypedDicts so a
misspelt member fails type checking. Members are sent only when the params set them:
Rekognition's own defaults match `worker.pipeline.jobs.DEFAULT_PARAMS`, and an unset
member keeps the service default instead of pinning a value of ours.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, TypeVar

from worker.engines.port import JobRequest
from worker.engines.text_params import text_filters
from worker.errors import EngineError, InvalidInputError

if TYPE_CHECKING:  # the stubs are a dev dependency; nothing here needs them at run time
    from mypy_boto3_rekognition.literals import FaceAttributesType, SegmentTypeType
    from mypy_boto3_rekognition.type_defs import (
        BlackFrameTypeDef,
        DetectionFilterTypeDef,
        GeneralLabelsSettingsTypeDef,
        NotificationChannelTypeDef,
        StartContentModerationRequestTypeDef,
        StartFaceDetectionRequestTypeDef,
        StartLabelDetectionRequestTypeDef,
        StartSegmentDetectionFiltersTypeDef,
        StartSegmentDetectionRequestTypeDef,
        StartTechnicalCueDetectionFilterTypeDef,
        StartTextDetectionFiltersTypeDef,
        StartTextDetectionRequestTypeDef,
        VideoTypeDef,
    )

# JobTag: 1-1024 characters of [a-zA-Z0-9_.\-:+=\/] (service model)
_JOB_TAG_FORBIDDEN = re.compile(r"[^a-zA-Z0-9_.\-:+=/]")
JOB_TAG_MAX = 1024

_SEGMENT_TYPES: dict[str, SegmentTypeType] = {"TECHNICAL_CUE": "TECHNICAL_CUE", "SHOT": "SHOT"}
_FACE_ATTRIBUTES: dict[str, FaceAttributesType] = {"DEFAULT": "DEFAULT", "ALL": "ALL"}


@dataclass(frozen=True)
class NotificationChannel:
    """Where Rekognition publishes job completion, and the role it publishes as."""

    sns_topic_arn: str
    role_arn: str

    def to_api(self) -> NotificationChannelTypeDef:
        return {"SNSTopicArn": self.sns_topic_arn, "RoleArn": self.role_arn}


def job_tag(video_id: str) -> str | None:
    """The video id as a valid JobTag: foreign characters become '_', cut to 1024."""
    return _JOB_TAG_FORBIDDEN.sub("_", video_id)[:JOB_TAG_MAX] or None


def video_of(request: JobRequest) -> VideoTypeDef:
    src = request.video
    if not src.s3_bucket or not src.s3_key:
        raise EngineError(
            f"video {src.video_id}: the aws engine reads videos from S3, "
            "but this one has no S3 bucket/key (was it uploaded?)"
        )
    return {"S3Object": {"Bucket": src.s3_bucket, "Name": src.s3_key}}


class _StartMembers(TypedDict):
    """The members all five Start* operations share: each Start*RequestTypeDef has them
    with these types, so a body of any of the five is one of these (structurally)."""

    Video: VideoTypeDef
    ClientRequestToken: NotRequired[str]
    NotificationChannel: NotRequired[NotificationChannelTypeDef]
    JobTag: NotRequired[str]


_Body = TypeVar("_Body", bound=_StartMembers)


def _with_shared(body: _Body, request: JobRequest, channel: NotificationChannel | None) -> _Body:
    """`body` with the token, and the JobTag and NotificationChannel when there are any."""
    body["ClientRequestToken"] = request.client_token
    if tag := job_tag(request.video.video_id):
        body["JobTag"] = tag
    if channel:
        body["NotificationChannel"] = channel.to_api()
    return body


class _PageMembers(TypedDict):
    """The members all five Get* operations share (see `_StartMembers`)."""

    JobId: str
    MaxResults: NotRequired[int]
    NextToken: NotRequired[str]


_GetBody = TypeVar("_GetBody", bound=_PageMembers)


def paged(body: _GetBody, max_results: int, token: str | None) -> _GetBody:
    """A Get* `body` asking for one page: MaxResults, and NextToken past the first page."""
    body["MaxResults"] = max_results
    if token:
        body["NextToken"] = token
    return body


def _opt_float(params: Mapping[str, Any], key: str) -> float | None:
    value = params.get(key)
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"parameter {key}={value!r} is not a number") from exc


def _names(params: Mapping[str, Any], key: str) -> list[str]:
    value = params.get(key) or []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def label_request(
    request: JobRequest, channel: NotificationChannel | None
) -> StartLabelDetectionRequestTypeDef:
    p = request.params
    # GENERAL_LABELS is the only member of the Features enum in botocore's model
    body: StartLabelDetectionRequestTypeDef = {
        "Video": video_of(request),
        "Features": ["GENERAL_LABELS"],
    }
    body = _with_shared(body, request, channel)
    if (confidence := _opt_float(p, "min_confidence")) is not None:
        body["MinConfidence"] = confidence
    general: GeneralLabelsSettingsTypeDef = {}
    if names := _names(p, "label_inclusion_filters"):
        general["LabelInclusionFilters"] = names
    if names := _names(p, "label_exclusion_filters"):
        general["LabelExclusionFilters"] = names
    if names := _names(p, "label_category_inclusion_filters"):
        general["LabelCategoryInclusionFilters"] = names
    if names := _names(p, "label_category_exclusion_filters"):
        general["LabelCategoryExclusionFilters"] = names
    if general:  # Settings only when the params ask for a filter
        body["Settings"] = {"GeneralLabels": general}
    return body


def moderation_request(
    request: JobRequest, channel: NotificationChannel | None
) -> StartContentModerationRequestTypeDef:
    body: StartContentModerationRequestTypeDef = {"Video": video_of(request)}
    body = _with_shared(body, request, channel)
    if (confidence := _opt_float(request.params, "min_confidence")) is not None:
        body["MinConfidence"] = confidence
    return body


def face_request(
    request: JobRequest, channel: NotificationChannel | None
) -> StartFaceDetectionRequestTypeDef:
    body: StartFaceDetectionRequestTypeDef = {"Video": video_of(request)}
    body = _with_shared(body, request, channel)
    if (attributes := request.params.get("face_attributes")) is not None:
        if attributes not in _FACE_ATTRIBUTES:
            raise InvalidInputError(f"face_attributes={attributes!r}: expected DEFAULT or ALL")
        body["FaceAttributes"] = _FACE_ATTRIBUTES[attributes]
    return body


def text_request(
    request: JobRequest, channel: NotificationChannel | None
) -> StartTextDetectionRequestTypeDef:
    body: StartTextDetectionRequestTypeDef = {"Video": video_of(request)}
    body = _with_shared(body, request, channel)
    f = text_filters(request.params)
    filters: StartTextDetectionFiltersTypeDef = {}
    word: DetectionFilterTypeDef = {}
    if f.min_confidence is not None:
        word["MinConfidence"] = f.min_confidence
    if f.min_box_height is not None:
        word["MinBoundingBoxHeight"] = f.min_box_height
    if f.min_box_width is not None:
        word["MinBoundingBoxWidth"] = f.min_box_width
    if word:
        filters["WordFilter"] = word
    if f.regions:
        filters["RegionsOfInterest"] = [
            {"BoundingBox": {"Left": r.left, "Top": r.top, "Width": r.width, "Height": r.height}}
            for r in f.regions
        ]
    if filters:
        body["Filters"] = filters
    return body


def segment_request(
    request: JobRequest, channel: NotificationChannel | None
) -> StartSegmentDetectionRequestTypeDef:
    p, video = request.params, video_of(request)  # an S3-less video fails before the params
    types = _segment_types(p.get("segment_types", list(_SEGMENT_TYPES)))
    body: StartSegmentDetectionRequestTypeDef = {"Video": video, "SegmentTypes": types}
    body = _with_shared(body, request, channel)
    if filters := _segment_filters(p, types):
        body["Filters"] = filters
    return body


def _segment_types(value: Any) -> list[SegmentTypeType]:
    names = [value] if isinstance(value, str) else list(value or [])
    unknown = [n for n in names if n not in _SEGMENT_TYPES]
    if not names or unknown:
        raise InvalidInputError(
            f"segment_types={value!r}: expected one or more of TECHNICAL_CUE, SHOT"
        )
    return [_SEGMENT_TYPES[n] for n in dict.fromkeys(names)]  # de-duplicated, order kept


def _segment_filters(
    p: Mapping[str, Any], types: list[SegmentTypeType]
) -> StartSegmentDetectionFiltersTypeDef:
    """Filters only for the requested types: a filter for an unrequested type is noise."""
    filters: StartSegmentDetectionFiltersTypeDef = {}
    if "TECHNICAL_CUE" in types:
        cue: StartTechnicalCueDetectionFilterTypeDef = {}
        if (confidence := _opt_float(p, "min_cue_confidence")) is not None:
            cue["MinSegmentConfidence"] = confidence
        black: BlackFrameTypeDef = {}
        if (threshold := _opt_float(p, "black_max_pixel_threshold")) is not None:
            black["MaxPixelThreshold"] = threshold
        if (coverage := _opt_float(p, "black_min_coverage")) is not None:
            black["MinCoveragePercentage"] = coverage
        if black:
            cue["BlackFrame"] = black
        if cue:
            filters["TechnicalCueFilter"] = cue
    if "SHOT" in types and (shot := _opt_float(p, "min_shot_confidence")) is not None:
        filters["ShotFilter"] = {"MinSegmentConfidence": shot}
    return filters
