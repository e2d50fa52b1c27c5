"""Request checks the real service makes server-side, with its error codes.

botocore already checks types, required members and minimum lengths client-side, but
not patterns, maximum lengths or numeric ranges; a request sent by another client (or
through the moto server by hand) reaches here unchecked, so everything is checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from worker.testing.rekognition_api import JOB_ID, VideoOp, invalid

_TOKEN = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
_JOB_TAG = re.compile(r"^[a-zA-Z0-9_.\-:+=/]{1,1024}$")
_BUCKET = re.compile(r"^[0-9A-Za-z.\-_]{3,255}$")
_TOPIC_ARN = re.compile(r"^arn:aws:sns:.*:\w{12}:.+$")
_ROLE_ARN = re.compile(r"^arn:aws:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
_SEGMENT_TYPES = {"TECHNICAL_CUE", "SHOT"}

Body = Mapping[str, Any]


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise invalid(f"{name} must be a structure")
    return value


def _string(body: Body, name: str, pattern: re.Pattern[str], *, required: bool = False) -> None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(f"{name} is required")
        return
    if not isinstance(value, str) or not pattern.match(value):
        raise invalid(f"{name} {value!r} does not match {pattern.pattern}")


def _number(body: Body, name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise invalid(f"{name} must be a number between {low:g} and {high:g}, got {value!r}")


def _string_list(body: Body, name: str, allowed: set[str] | None, low: int, high: int) -> None:
    value = body.get(name)
    if value is None:
        return
    if not isinstance(value, list) or not low <= len(value) <= high:
        raise invalid(f"{name} must be a list of {low} to {high} members")
    for item in value:
        if not isinstance(item, str) or (allowed is not None and item not in allowed):
            raise invalid(f"{name} member {item!r} is not one of {sorted(allowed or [])}")


def video_object(body: Body) -> Mapping[str, Any]:
    """Video.S3Object, checked; the caller checks that the object exists."""
    if "Video" not in body:
        raise invalid("Video is required")
    s3 = _mapping(_mapping(body["Video"], "Video").get("S3Object"), "Video.S3Object")
    _string(s3, "Bucket", _BUCKET, required=True)
    name = s3.get("Name")
    if not isinstance(name, str) or not 1 <= len(name) <= 1024:
        raise invalid("Video.S3Object.Name must be 1 to 1024 characters")
    version = s3.get("Version")
    if version is not None and (not isinstance(version, str) or not 1 <= len(version) <= 1024):
        raise invalid("Video.S3Object.Version must be 1 to 1024 characters")
    return s3


def start_request(op: VideoOp, body: Body) -> None:
    """Every member of a Start* request except the S3 object's existence."""
    video_object(body)
    _string(body, "ClientRequestToken", _TOKEN)
    _string(body, "JobTag", _JOB_TAG)
    if "NotificationChannel" in body:
        channel = _mapping(body["NotificationChannel"], "NotificationChannel")
        _string(channel, "SNSTopicArn", _TOPIC_ARN, required=True)
        _string(channel, "RoleArn", _ROLE_ARN, required=True)
    if op.start in ("StartLabelDetection", "StartContentModeration"):
        _number(body, "MinConfidence", 0, 100)
    if op.start == "StartLabelDetection":
        _string_list(body, "Features", {"GENERAL_LABELS"}, 0, 1)
        settings = _mapping(body.get("Settings", {}), "Settings")
        general = _mapping(settings.get("GeneralLabels", {}), "Settings.GeneralLabels")
        for name in general:
            _string_list(general, name, None, 0, 100)
            if any(len(item) > 50 for item in general[name]):
                raise invalid(f"Settings.GeneralLabels.{name}: a filter is longer than 50")
    if op.start == "StartFaceDetection":
        value = body.get("FaceAttributes")
        if value is not None and value not in ("DEFAULT", "ALL"):
            raise invalid(f"FaceAttributes must be DEFAULT or ALL, got {value!r}")
    if op.start == "StartSegmentDetection":
        _segment_request(body)


def _segment_request(body: Body) -> None:
    if body.get("SegmentTypes") is None:
        raise invalid("SegmentTypes is required")
    _string_list(body, "SegmentTypes", _SEGMENT_TYPES, 1, 2)
    filters = _mapping(body.get("Filters", {}), "Filters")
    cue = _mapping(filters.get("TechnicalCueFilter", {}), "Filters.TechnicalCueFilter")
    _number(cue, "MinSegmentConfidence", 50, 100)
    black = _mapping(cue.get("BlackFrame", {}), "Filters.TechnicalCueFilter.BlackFrame")
    _number(black, "MaxPixelThreshold", 0, 1)
    _number(black, "MinCoveragePercentage", 0, 100)
    shot = _mapping(filters.get("ShotFilter", {}), "Filters.ShotFilter")
    _number(shot, "MinSegmentConfidence", 50, 100)


def get_request(op: VideoOp, body: Body) -> tuple[str, int, str | None]:
    """(JobId, MaxResults, NextToken) of a checked Get* request."""
    job_id = body.get("JobId")
    if not isinstance(job_id, str) or not JOB_ID.match(job_id):
        raise invalid(f"JobId {job_id!r} is not a valid job id")
    max_results = body.get("MaxResults", 1000)
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise invalid(f"MaxResults must be an integer >= 1, got {max_results!r}")
    token = body.get("NextToken")
    if token is not None and (not isinstance(token, str) or len(token) > 255):
        raise invalid("NextToken must be a string of at most 255 characters")
    if op.get in ("GetLabelDetection", "GetContentModeration"):
        for name, allowed in (("SortBy", ("NAME", "TIMESTAMP")), ("AggregateBy", _AGGREGATE)):
            if body.get(name) is not None and body[name] not in allowed:
                raise invalid(f"{name} must be one of {allowed}, got {body[name]!r}")
    # the documented ceiling: a larger MaxResults is served as 1000, not refused
    return job_id, min(max_results, 1000), token


_AGGREGATE = ("TIMESTAMPS", "SEGMENTS")
