"""Amazon Rekognition Video engine: Start*/Get* over an injected boto3 client.

The client is passed in (built by `worker.aws.clients.AwsClients`), never created
here, so tests drive this adapter through botocore's Stubber and the moto fake.
Get* pages are handed on as the service returned them (less boto3's ResponseMetadata):
they already are the shape `worker.results` parses. Every botocore exception is
translated at the call into the engine error taxonomy (see rekognition_errors).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from worker.engines.port import EngineJobReport, EngineJobStatus, Feature
from worker.engines.rekognition_errors import REKOGNITION_ERRORS
from worker.engines.rekognition_requests import (
    NotificationChannel,
    face_request,
    label_request,
    moderation_request,
    paged,
    segment_request,
    text_request,
)
from worker.errors import EngineError, JobNotFinishedError

if TYPE_CHECKING:  # names only annotations use
    from mypy_boto3_rekognition import RekognitionClient
    from mypy_boto3_rekognition.literals import LabelDetectionAggregateByType
    from mypy_boto3_rekognition.type_defs import (
        GetContentModerationRequestTypeDef,
        GetFaceDetectionRequestTypeDef,
        GetLabelDetectionRequestTypeDef,
        GetSegmentDetectionRequestTypeDef,
        GetTextDetectionRequestTypeDef,
    )

    from worker.engines.port import JobRequest, Progress, ResultPage

__all__ = ["GET_OPERATIONS", "START_OPERATIONS", "NotificationChannel", "RekognitionEngine"]

START_OPERATIONS = {
    Feature.SEGMENTS: "StartSegmentDetection",
    Feature.LABELS: "StartLabelDetection",
    Feature.MODERATION: "StartContentModeration",
    Feature.FACES: "StartFaceDetection",
    Feature.TEXT: "StartTextDetection",
}
GET_OPERATIONS = {
    Feature.SEGMENTS: "GetSegmentDetection",
    Feature.LABELS: "GetLabelDetection",
    Feature.MODERATION: "GetContentModeration",
    Feature.FACES: "GetFaceDetection",
    Feature.TEXT: "GetTextDetection",
}
_AGGREGATE_BY: dict[str, LabelDetectionAggregateByType] = {
    "TIMESTAMPS": "TIMESTAMPS",
    "SEGMENTS": "SEGMENTS",
}
MAX_RESULTS_LIMIT = 1000  # (doc) larger values return at most 1000 anyway


class RekognitionEngine:
    name = "aws"
    reads_s3 = True  # Rekognition reads stored videos from S3 only

    def __init__(
        self,
        client: RekognitionClient,
        notification: NotificationChannel | None = None,
        labels_aggregate_by: str = "TIMESTAMPS",
    ) -> None:
        if labels_aggregate_by not in _AGGREGATE_BY:
            raise ValueError(f"labels_aggregate_by={labels_aggregate_by!r}: TIMESTAMPS|SEGMENTS")
        self.client = client
        self.notification = notification
        self.labels_aggregate_by = _AGGREGATE_BY[labels_aggregate_by]

    def supports(self, feature: Feature) -> bool:
        return feature in START_OPERATIONS

    def start(self, request: JobRequest, progress: Progress | None = None) -> str:
        """Start the job; a retry with the same client token gets the same JobId back.

        `progress` is not called: the analysis runs in AWS, and completion arrives by
        SNS (or the reconciler), not while this call waits.
        """
        c, channel = self.client, self.notification
        with REKOGNITION_ERRORS.guard(START_OPERATIONS[request.feature]):
            match request.feature:
                case Feature.SEGMENTS:
                    job_id = c.start_segment_detection(**segment_request(request, channel))["JobId"]
                case Feature.LABELS:
                    job_id = c.start_label_detection(**label_request(request, channel))["JobId"]
                case Feature.MODERATION:
                    job_id = c.start_content_moderation(**moderation_request(request, channel))[
                        "JobId"
                    ]
                case Feature.FACES:
                    job_id = c.start_face_detection(**face_request(request, channel))["JobId"]
                case Feature.TEXT:
                    job_id = c.start_text_detection(**text_request(request, channel))["JobId"]
        return job_id

    def state(self, feature: Feature, job_id: str) -> EngineJobReport:
        page = self._get(feature, job_id, max_results=1, token=None)
        status = str(page.get("JobStatus"))
        try:
            return EngineJobReport(EngineJobStatus(status), page.get("StatusMessage") or None)
        except ValueError as exc:
            raise EngineError(f"{GET_OPERATIONS[feature]}: unknown JobStatus {status!r}") from exc

    def pages(self, feature: Feature, job_id: str, max_results: int = 1000) -> Iterator[ResultPage]:
        """Every page of a finished job, following NextToken until a page has none.

        Looped by hand: botocore ships no paginator for the Get* video operations.
        """
        token: str | None = None
        while True:
            page = self._get(feature, job_id, max_results, token)
            if page.get("JobStatus") == EngineJobStatus.IN_PROGRESS:
                # an IN_PROGRESS page has no results yet: handing it on would store an
                # empty timeline as if the job had found nothing
                raise JobNotFinishedError(
                    f"{GET_OPERATIONS[feature]}: job {job_id} is still IN_PROGRESS"
                )
            yield page
            token = page.get("NextToken")
            if not token:
                return

    def _get(
        self, feature: Feature, job_id: str, max_results: int, token: str | None
    ) -> dict[str, Any]:
        """One Get* call; SortBy/AggregateBy only on the operations that have them."""
        with REKOGNITION_ERRORS.guard(GET_OPERATIONS[feature]):
            response = self._call_get(feature, job_id, min(max_results, MAX_RESULTS_LIMIT), token)
        # ResponseMetadata is boto3's (request id, HTTP headers, retries), not the page's
        return {k: v for k, v in response.items() if k != "ResponseMetadata"}

    def _call_get(
        self, feature: Feature, job_id: str, max_results: int, token: str | None
    ) -> Mapping[str, Any]:
        c = self.client
        match feature:
            case Feature.LABELS:
                labels: GetLabelDetectionRequestTypeDef = {
                    "JobId": job_id,
                    "SortBy": "TIMESTAMP",
                    "AggregateBy": self.labels_aggregate_by,
                }
                return c.get_label_detection(**paged(labels, max_results, token))
            case Feature.MODERATION:
                # AggregateBy stays the service default (TIMESTAMPS): the setting is
                # about labels, and moderation timelines are merged by us either way
                moderation: GetContentModerationRequestTypeDef = {
                    "JobId": job_id,
                    "SortBy": "TIMESTAMP",
                }
                return c.get_content_moderation(**paged(moderation, max_results, token))
            case Feature.FACES:
                faces: GetFaceDetectionRequestTypeDef = {"JobId": job_id}
                return c.get_face_detection(**paged(faces, max_results, token))
            case Feature.TEXT:
                text: GetTextDetectionRequestTypeDef = {"JobId": job_id}
                return c.get_text_detection(**paged(text, max_results, token))
            case Feature.SEGMENTS:
                segments: GetSegmentDetectionRequestTypeDef = {"JobId": job_id}
                return c.get_segment_detection(**paged(segments, max_results, token))
