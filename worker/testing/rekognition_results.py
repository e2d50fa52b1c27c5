"""Where a fake job's results come from, and how they are paged.

A finished job holds one complete response (every item, no status fields); Get* cuts
pages out of it. The response is planted by a test, or computed by the local engine
(segments, labels, moderation, faces, text: every feature), so every job on a real video
answers in the service's shapes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from moto.s3.exceptions import MissingBucket, MissingKey
from moto.s3.models import FakeKey, s3_backends
from moto.utilities.utils import get_partition

from worker.engines.port import Feature
from worker.media.info import MediaInfo
from worker.testing.rekognition_api import VideoOp, service_error

# Rekognition's own limit for stored videos
MAX_VIDEO_BYTES = 10 * 1024**3
# the members of a Get* response that describe the job, not its results
JOB_KEYS = ("JobStatus", "StatusMessage", "NextToken", "JobId", "Video", "JobTag")
_NOT_FOUND = (
    "Unable to get object metadata from S3. Check object key, region and/or access permissions."
)


def s3_key(account_id: str, region: str, s3: Mapping[str, Any]) -> FakeKey:
    """The object moto's S3 holds for Video.S3Object, or InvalidS3ObjectException."""
    backend = s3_backends[account_id][get_partition(region)]
    try:
        bucket = backend.get_bucket(s3["Bucket"])
        key = backend.get_object(s3["Bucket"], s3["Name"], version_id=s3.get("Version"))
    except (MissingBucket, MissingKey):
        key = None
    # the service reads only buckets in its own region
    if key is None or bucket.region_name != region:
        raise service_error("InvalidS3ObjectException", _NOT_FOUND)
    if key.size > MAX_VIDEO_BYTES:
        raise service_error("VideoTooLargeException", "Video size exceeds the 10 GB limit")
    return key


def planted_response(
    op: VideoOp, planted: Mapping[str, Any] | Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """One complete response from a full response or from recorded pages of one job."""
    pages = [planted] if isinstance(planted, Mapping) else list(planted)
    if not pages or not all(isinstance(p, Mapping) for p in pages):
        raise ValueError("plant a Get* response or a non-empty list of its pages")
    whole = {k: v for k, v in pages[0].items() if k not in JOB_KEYS and k != "ResponseMetadata"}
    items = [item for page in pages for item in page.get(op.items_key, [])]
    whole[op.items_key] = items
    return whole


def computed_response(
    op: VideoOp, params: Mapping[str, Any], account_id: str, region: str
) -> dict[str, Any]:
    """Run the local engine on the job's S3 object (raises VidxError when it cannot)."""
    from worker.media.probe import probe  # heavy imports only when a job computes

    key = s3_key(account_id, region, params["Video"]["S3Object"])
    suffix = PurePosixPath(key.name).suffix[:16]
    with tempfile.TemporaryDirectory(prefix="vidx-fake-") as tmp:
        path = Path(tmp) / f"video{suffix}"
        path.write_bytes(key.value)
        compute = {
            Feature.SEGMENTS: _segments,
            Feature.LABELS: _labels,
            Feature.MODERATION: _moderation,
            Feature.FACES: _faces,
            Feature.TEXT: _text,
        }[op.feature]
        return compute(path, probe(path), params)


def _moderation(path: Path, info: MediaInfo, params: Mapping[str, Any]) -> dict[str, Any]:
    from worker.engines.local.moderation import detect_moderation

    confidence = float(params.get("MinConfidence", 50.0))
    response = detect_moderation(path, info, min_confidence=confidence)
    return {k: v for k, v in response.items() if k not in JOB_KEYS}


def _labels(path: Path, info: MediaInfo, params: Mapping[str, Any]) -> dict[str, Any]:
    from worker.engines.local.labels import detect_labels

    general = params.get("Settings", {}).get("GeneralLabels", {})
    response = detect_labels(
        path,
        info,
        min_confidence=float(params.get("MinConfidence", 50.0)),
        label_inclusion_filters=general.get("LabelInclusionFilters"),
        label_exclusion_filters=general.get("LabelExclusionFilters"),
        label_category_inclusion_filters=general.get("LabelCategoryInclusionFilters"),
        label_category_exclusion_filters=general.get("LabelCategoryExclusionFilters"),
    )
    return {k: v for k, v in response.items() if k not in JOB_KEYS}


def _faces(path: Path, info: MediaInfo, params: Mapping[str, Any]) -> dict[str, Any]:
    from worker.engines.local.faces import MODEL_VERSION_KEY, detect_faces

    response = detect_faces(path, info, face_attributes=params.get("FaceAttributes", "DEFAULT"))
    # GetFaceDetection names no model: the local engine's version is a vidx extension
    return {k: v for k, v in response.items() if k not in JOB_KEYS and k != MODEL_VERSION_KEY}


def _text(path: Path, info: MediaInfo, params: Mapping[str, Any]) -> dict[str, Any]:
    from worker.engines.local.text import detect_text

    filters = params.get("Filters", {})
    word = filters.get("WordFilter", {})
    ours = {
        "min_confidence": word.get("MinConfidence"),
        "min_box_height": word.get("MinBoundingBoxHeight"),
        "min_box_width": word.get("MinBoundingBoxWidth"),
        "regions": filters.get("RegionsOfInterest"),
    }
    response = detect_text(path, info, **{k: v for k, v in ours.items() if v is not None})
    return {k: v for k, v in response.items() if k not in JOB_KEYS}


def _segments(path: Path, info: MediaInfo, params: Mapping[str, Any]) -> dict[str, Any]:
    from worker.engines.local.segments import detect_segments

    filters = params.get("Filters", {})
    cue = filters.get("TechnicalCueFilter", {})
    black = cue.get("BlackFrame", {})
    response = detect_segments(
        path,
        info,
        segment_types=params["SegmentTypes"],
        # the API allows 1.0; the local detector's scale stops just below it
        black_max_pixel_threshold=min(float(black.get("MaxPixelThreshold", 0.2)), 0.99),
        black_min_coverage=float(black.get("MinCoveragePercentage", 99.0)),
        min_shot_confidence=float(filters.get("ShotFilter", {}).get("MinSegmentConfidence", 50)),
        min_cue_confidence=float(cue.get("MinSegmentConfidence", 50)),
    )
    return {k: v for k, v in response.items() if k not in JOB_KEYS}


def cut_page(
    whole: Mapping[str, Any], items_key: str, offset: int, max_results: int
) -> tuple[dict[str, Any], int | None]:
    """(page, offset of the next page or None): items sliced, everything else repeated."""
    items = whole.get(items_key, [])
    end = offset + max_results
    page = {**whole, items_key: items[offset:end]}
    return page, (end if end < len(items) else None)
