"""Recorded Get* pages, checked before `vidx import` writes anything (no database here).

A set of pages is accepted only when it provably is one complete Get* response of the
feature asked for: each page's keys are those of that operation's response, the job
succeeded, every page but the last has a NextToken and the last has none, no page is
given twice, the pages are in their response's order where it shows (timestamps, shot
indexes), and all pages repeat the same job facts (JobId, VideoMetadata, ...).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from worker.engines.port import ITEMS_KEY, Feature
from worker.engines.rekognition import GET_OPERATIONS
from worker.errors import InputError
from worker.media.decode_errors import PAGE_KEY
from worker.results import ParsedPage, ResultParseError, VideoMeta, parse_page

# Members of the Get* responses of Rekognition Video (botocore's rekognition 2016-06-27
# output shapes; tests/unit/test_recorded.py compares this table with the model).
_COMMON = frozenset(
    {"JobStatus", "StatusMessage", "VideoMetadata", "NextToken", "JobId", "Video", "JobTag"}
)
RESPONSES: dict[str, frozenset[str]] = {
    "GetLabelDetection": _COMMON | {"Labels", "LabelModelVersion", "GetRequestMetadata"},
    "GetContentModeration": _COMMON
    | {"ModerationLabels", "ModerationModelVersion", "GetRequestMetadata"},
    "GetFaceDetection": _COMMON | {"Faces"},
    "GetSegmentDetection": _COMMON | {"AudioMetadata", "Segments", "SelectedSegmentTypes"},
    "GetFaceSearch": _COMMON | {"Persons"},
    "GetPersonTracking": _COMMON | {"Persons"},
    "GetCelebrityRecognition": _COMMON | {"Celebrities"},
    "GetTextDetection": _COMMON | {"TextDetections", "TextModelVersion"},
}
# the keys a page of each operation must have (an empty page still has its empty list)
_REQUIRED = {
    "GetLabelDetection": ("Labels",),
    "GetContentModeration": ("ModerationLabels",),
    "GetFaceDetection": ("Faces",),
    "GetSegmentDetection": ("Segments", "SelectedSegmentTypes"),
    "GetFaceSearch": ("Persons",),
    "GetPersonTracking": ("Persons",),
    "GetCelebrityRecognition": ("Celebrities",),
    "GetTextDetection": ("TextDetections",),
}
# not part of the wire shape: boto3 adds ResponseMetadata; the local engine its decode errors
_TOLERATED = frozenset({"ResponseMetadata", PAGE_KEY})
# repeated on every page of one job's response: pages that differ here are of other jobs
_JOB_FACTS = (
    "JobId",
    "JobTag",
    "Video",
    "VideoMetadata",
    "AudioMetadata",
    "SelectedSegmentTypes",
    "GetRequestMetadata",
    "LabelModelVersion",
    "ModerationModelVersion",
)


@dataclass(frozen=True)
class Recorded:
    """One page file, read and parsed."""

    path: Path
    page: Mapping[str, Any]
    parsed: ParsedPage


@dataclass(frozen=True)
class Source:
    """What the pages say about the analysed video (each part only when present)."""

    s3_bucket: str | None
    s3_key: str | None
    job_tag: str | None
    job_id: str | None

    @property
    def uri(self) -> str | None:
        return f"s3://{self.s3_bucket}/{self.s3_key}" if self.s3_bucket and self.s3_key else None

    @property
    def file_name(self) -> str | None:
        return (PurePosixPath(self.s3_key).name or self.s3_key) if self.s3_key else None


def operations_of(page: Mapping[str, Any]) -> list[str]:
    """The Get* operations whose response has every key that one's must have."""
    return [op for op, keys in _REQUIRED.items() if all(k in page for k in keys)]


def _check_kind(path: Path, page: Mapping[str, Any], feature: Feature) -> None:
    want = GET_OPERATIONS[feature]
    found = operations_of(page)
    if want not in found:
        if found:
            raise InputError(
                path, f"is a {' or '.join(found)} page, not {want} (--feature {feature.value})"
            )
        missing = [k for k in _REQUIRED[want] if k not in page]
        raise InputError(
            path, f"is not a {want} page (--feature {feature.value}): no {', '.join(missing)}"
        )
    alien = sorted(set(page) - RESPONSES[want] - _TOLERATED)
    if alien:
        raise InputError(path, f"has {', '.join(alien)}, which a {want} response has not")


def read(path: Path, feature: Feature) -> Recorded:
    """One page file: JSON, of the feature's Get* response, of a SUCCEEDED job, parsed."""
    try:
        page = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a JSON page") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"not JSON: {exc}") from None
    if not isinstance(page, dict):
        raise InputError(path, f"not a Get* response: a JSON {type(page).__name__}")
    _check_kind(path, page, feature)
    if "JobStatus" not in page:
        raise InputError(path, f"not a whole {GET_OPERATIONS[feature]} response: no JobStatus")
    status = page["JobStatus"]
    if status != "SUCCEEDED":
        why = f" ({page['StatusMessage']})" if page.get("StatusMessage") else ""
        raise InputError(path, f"the recorded job is {status}{why}, not SUCCEEDED")
    try:
        parsed = parse_page(feature, page)
    except ResultParseError as exc:
        raise InputError(path, str(exc)) from None
    return Recorded(path, page, parsed)


def check_set(feature: Feature, pages: Sequence[Recorded]) -> None:
    """The pages are one job's whole response, each once, in order."""
    first = pages[0]
    for k, rec in enumerate(pages):
        for key in _JOB_FACTS:
            if rec.page.get(key) != first.page.get(key):
                raise InputError(
                    rec.path, f"its {key} differs from {first.path.name}'s: another job's page"
                )
        for earlier in pages[:k]:
            if rec.page == earlier.page:
                raise InputError(rec.path, f"the same page as {earlier.path.name}: given twice")
            token = rec.parsed.next_token
            if token is not None and token == earlier.parsed.next_token:
                raise InputError(
                    rec.path, f"the same NextToken as {earlier.path.name}: a page given twice"
                )
        last = k == len(pages) - 1
        if last and rec.parsed.next_token is not None:
            raise InputError(
                rec.path,
                "has a NextToken: the pages after it are missing (give every page, in order)",
            )
        if not last and rec.parsed.next_token is None:
            raise InputError(
                rec.path,
                f"has no NextToken, so it is the last page, but {len(pages) - 1 - k} more follow "
                "(give the pages in order)",
            )
    _check_order(feature, pages)


def _order_key(
    feature: Feature, page: Mapping[str, Any], item: Mapping[str, Any]
) -> tuple[int, ...]:
    """Where an item sorts in its response, as Rekognition documents the order."""
    if feature is Feature.SEGMENTS:  # by requested type, then time; shots' Index grows
        types = [t.get("Type") for t in page.get("SelectedSegmentTypes", [])]
        rank = types.index(item["Type"]) if item["Type"] in types else len(types)
        index = (item.get("ShotSegment") or {}).get("Index")
        return (rank, int(item["StartTimestampMillis"]), -1 if index is None else int(index))
    return (int(item["Timestamp"]),)  # by time (items sharing a time may straddle pages)


def _sorted_by_time(feature: Feature, page: Mapping[str, Any]) -> bool:
    if feature in (Feature.LABELS, Feature.MODERATION):  # SortBy NAME: by name, then confidence
        meta = page.get("GetRequestMetadata") or {}
        return bool(meta.get("SortBy", "TIMESTAMP") == "TIMESTAMP")
    return True


def _before(first: tuple[int, ...], last: tuple[int, ...]) -> bool:
    """`first` (a page's first item) cannot follow `last` (the previous page's last)."""
    if first < last:
        return True
    same_shots = len(first) == 3 and first[0] == last[0] and first[2] >= 0 and last[2] >= 0
    return same_shots and first[2] <= last[2]


def _check_order(feature: Feature, pages: Sequence[Recorded]) -> None:
    """Each page starts where the previous one ended (seen at the page boundaries)."""
    key = ITEMS_KEY[feature]
    previous: tuple[Recorded, tuple[int, ...]] | None = None
    for rec in pages:
        items = rec.page.get(key) or []
        if not items or not _sorted_by_time(feature, rec.page):
            continue
        first = _order_key(feature, rec.page, items[0])
        if previous is not None and _before(first, previous[1]):
            raise InputError(
                rec.path,
                f"out of order: its first item sorts before the last of {previous[0].path.name}",
            )
        previous = (rec, _order_key(feature, rec.page, items[-1]))


def source_of(pages: Sequence[Recorded]) -> Source:
    page = pages[0].page  # check_set: every page has the same job facts
    video = page.get("Video")
    obj = video.get("S3Object") if isinstance(video, Mapping) else None
    obj = obj if isinstance(obj, Mapping) else {}
    return Source(
        s3_bucket=_text(obj.get("Bucket")),
        s3_key=_text(obj.get("Name")),
        job_tag=_text(page.get("JobTag")),
        job_id=_text(page.get("JobId")),
    )


def meta_of(pages: Sequence[Recorded]) -> VideoMeta | None:
    return pages[0].parsed.video


def check_fits(
    path: Path, meta: VideoMeta, video_id: str, facts: tuple[int, int, int, int]
) -> None:
    """The pages' VideoMetadata is this video's: duration within a frame, same frame size.

    `facts`: the video's duration (ms), coded width and height, rotation. Either
    orientation is accepted for a video a player turns by 90 degrees.
    """
    duration, width, height, rotation = facts
    frame_ms = 1000 / meta.fps if meta.fps > 0 else 0
    sizes = {(width, height), (height, width)} if rotation % 180 == 90 else {(width, height)}
    size_ok = (meta.width, meta.height) in sizes or not (meta.width and meta.height)
    if abs(duration - meta.duration_ms) > frame_ms or not size_ok:
        raise InputError(
            path,
            f"the pages are of a {meta.duration_ms} ms {meta.width}x{meta.height} video, "
            f"but video {video_id} is {duration} ms {width}x{height}",
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
