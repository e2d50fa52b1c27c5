"""S3: put a video where Rekognition can read it, and look at objects users point us to.

Every botocore/boto3 error is translated here into `worker.errors` types, naming the
s3:// URI, so nothing above this module ever sees a ClientError.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from worker.engines.port import Progress
from worker.errors import (
    AccessDeniedError,
    EngineError,
    EngineUnavailableError,
    InputError,
    ThrottledError,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

MiB = 1024 * 1024
# Multipart above 64 MiB in 64 MiB parts: a 2 GiB video is 32 parts (S3 allows 10,000),
# few enough requests, and a failed part costs one retry of 64 MiB, not the whole file.
DEFAULT_TRANSFER = TransferConfig(
    multipart_threshold=64 * MiB, multipart_chunksize=64 * MiB, max_concurrency=4
)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# S3 bucket naming rules (general purpose buckets), checked before any request.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
_DENIED = {
    "403",
    "AccessDenied",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
}
_THROTTLED = {"SlowDown", "503", "Throttling", "ThrottlingException", "RequestLimitExceeded"}


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str
    size: int
    # put by this call (ensure_uploaded), not found there already; not part of the location
    uploaded: bool = field(default=False, compare=False)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def safe_filename(name: str) -> str:
    """Characters S3 and every shell and URL treat literally; never empty, never hidden."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "video"
    return cleaned[-200:]  # keep the extension when shortening


def object_key(prefix: str, sha256: str, filename: str) -> str:
    """`<prefix>/<sha256>/<filename>`: content-addressed, so one video is stored once."""
    if not _SHA256.match(sha256):
        raise ValueError(f"not a lowercase hex SHA-256: {sha256!r}")
    parts = [p for p in prefix.strip("/").split("/") if p]
    return "/".join([*parts, sha256, safe_filename(filename)])


def clip_key(prefix: str, sha256: str, filename: str) -> str:
    """`<prefix>/<sha256>/clips/<filename>`: a video's clips next to the video itself."""
    video_key = object_key(prefix, sha256, "clips")
    return f"{video_key}/{safe_filename(filename)}"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key). The key is taken verbatim: S3 keys may hold
    spaces, '?' and '#', which a URL parser would cut off."""
    if not uri.startswith("s3://"):
        raise InputError(uri, "not an S3 URI (expected s3://bucket/key)")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise InputError(uri, "S3 URI has no bucket (expected s3://bucket/key)")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise InputError(uri, f"{bucket!r} is not a valid S3 bucket name")
    if not key or key.endswith("/"):
        raise InputError(uri, "S3 URI names no object (expected s3://bucket/key)")
    return bucket, key


def head(s3_client: S3Client, bucket: str, key: str) -> int:
    """Size in bytes of an existing object; InputError if it is missing."""
    try:
        response = s3_client.head_object(Bucket=bucket, Key=key)
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, f"s3://{bucket}/{key}") from None
    return int(response["ContentLength"])


# The one answer for an s3:// input that is not there for us: a bucket off the allow-list,
# a missing bucket or object, an object the credentials may not read. Telling these apart
# would let anyone who may submit learn which buckets and objects exist.
INPUT_UNAVAILABLE = "no such object in the buckets vidx reads videos from"


def input_object(
    s3_client: S3Client, uri: str, allowed_buckets: Collection[str]
) -> tuple[str, str, int]:
    """(bucket, key, size) of the object an s3:// input names, if its bucket is allowed
    (VIDX_S3_INPUT_BUCKETS) and the object is there; otherwise InputError, the same one
    whichever the reason. No request is made for a bucket not allowed."""
    bucket, key = parse_s3_uri(uri)
    if not allowed_buckets:
        raise InputError(uri, "S3 input is off (set VIDX_S3_INPUT_BUCKETS or VIDX_S3_BUCKET)")
    if bucket not in allowed_buckets:
        raise InputError(uri, INPUT_UNAVAILABLE)
    try:
        size = head(s3_client, bucket, key)
    except (InputError, AccessDeniedError):
        raise InputError(uri, INPUT_UNAVAILABLE) from None
    return bucket, key, size


def ensure_uploaded(
    s3_client: S3Client,
    path: Path,
    sha256: str,
    bucket: str,
    prefix: str,
    *,
    progress: Progress | None = None,
    config: TransferConfig = DEFAULT_TRANSFER,
) -> S3Location:
    """Upload `path` under its content hash unless that object (same key, same size) is
    already there: re-submitting a video, or a retried task, uploads nothing."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    key = object_key(prefix, sha256, path.name)
    uri = f"s3://{bucket}/{key}"
    existing = _size_if_exists(s3_client, bucket, key, uri)
    if existing == size:
        if progress:
            progress(1.0)
        return S3Location(bucket, key, size)
    try:
        s3_client.upload_file(
            str(path),
            bucket,
            key,
            ExtraArgs={"Metadata": {"sha256": sha256}},
            Callback=_ProgressAdapter(progress, size) if progress else None,
            Config=config,
        )
    except (ClientError, BotoCoreError, Boto3Error) as exc:
        raise translate(exc, uri) from None
    if progress:
        progress(1.0)
    return S3Location(bucket, key, size, uploaded=True)


def put_file(
    s3_client: S3Client,
    path: Path,
    bucket: str,
    key: str,
    sha256: str,
    *,
    config: TransferConfig = DEFAULT_TRANSFER,
) -> S3Location:
    """Upload `path` to `key` unless the object there already holds these bytes.

    Compared by the sha256 kept in the object's metadata, not by size: a re-cut clip
    can have the old one's size and other frames.
    """
    uri = f"s3://{bucket}/{key}"
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        current = s3_client.head_object(Bucket=bucket, Key=key)["Metadata"].get("sha256")
    except ClientError as exc:
        if _code(exc) not in {"404", "NoSuchKey", "NotFound"}:
            raise translate(exc, uri) from None
        current = None
    except BotoCoreError as exc:
        raise translate(exc, uri) from None
    if current != sha256:
        try:
            s3_client.upload_file(
                str(path), bucket, key, ExtraArgs={"Metadata": {"sha256": sha256}}, Config=config
            )
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise translate(exc, uri) from None
    return S3Location(bucket, key, size)


def _size_if_exists(s3_client: S3Client, bucket: str, key: str, uri: str) -> int | None:
    try:
        return int(s3_client.head_object(Bucket=bucket, Key=key)["ContentLength"])
    except ClientError as exc:
        code = _code(exc)
        if code in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise translate(exc, uri) from None
    except BotoCoreError as exc:
        raise translate(exc, uri) from None


class _ProgressAdapter:
    """boto3 reports bytes per chunk, from several threads; we report a fraction."""

    def __init__(self, progress: Progress, total: int) -> None:
        self._progress = progress
        self._total = max(total, 1)
        self._done = 0
        self._lock = threading.Lock()

    def __call__(self, bytes_transferred: int) -> None:
        with self._lock:
            self._done += bytes_transferred
            fraction = min(self._done / self._total, 1.0)
        self._progress(fraction)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def translate(exc: Exception, uri: str) -> Exception:
    """A boto error about `uri` as the matching vidx error (to raise from None)."""
    if isinstance(exc, Boto3Error) and isinstance(exc.__context__, ClientError):
        exc = exc.__context__  # S3UploadFailedError wraps the ClientError that caused it
    if isinstance(exc, ClientError):
        code = _code(exc)
        message = exc.response.get("Error", {}).get("Message") or code
        if code == "NoSuchBucket":
            return InputError(uri, "bucket does not exist")
        if code in _NOT_FOUND:
            return InputError(uri, "no such object")
        if code in _DENIED:
            # S3 answers 403, not 404, for a missing key when ListBucket is not granted.
            return AccessDeniedError(
                f"{uri}: access denied ({code}); check the credentials' S3 permissions"
                " (a missing object also reads as 403 without s3:ListBucket)"
            )
        if code in _THROTTLED:
            return ThrottledError(f"{uri}: S3 is throttling ({code}): {message}")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if status >= 500 or code in {"InternalError", "ServiceUnavailable"}:
            return EngineUnavailableError(f"{uri}: S3 unavailable ({code}): {message}")
        return EngineError(f"{uri}: S3 error {code}: {message}")
    if isinstance(exc, BotoCoreError):
        return EngineUnavailableError(f"{uri}: cannot reach S3: {exc}")
    return EngineError(f"{uri}: S3 transfer failed: {exc}")


def delete_object(s3_client: S3Client, bucket: str, key: str) -> None:
    """Delete one object (a missing one is fine: S3 answers a delete of it alike)."""
    try:
        s3_client.delete_object(Bucket=bucket, Key=key)
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, f"s3://{bucket}/{key}") from None


def video_folder(prefix: str, sha256: str) -> str:
    """`<prefix>/<sha256>/`: where a video's upload and its clips are (object_key's folder)."""
    return object_key(prefix, sha256, "x")[: -len("x")]


def delete_prefix(s3_client: S3Client, bucket: str, prefix: str) -> list[str]:
    """Delete every object whose key starts with `prefix`; the s3:// URIs deleted.

    Listed a page (1000 keys) at a time and deleted in one DeleteObjects call per page;
    a key S3 refuses to delete raises, naming it (a later call deletes what is left).
    """
    uri = f"s3://{bucket}/{prefix}"
    deleted: list[str] = []
    try:
        for page in s3_client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix
        ):
            keys = [obj["Key"] for obj in page.get("Contents", [])]
            if not keys:
                continue
            answer = s3_client.delete_objects(
                Bucket=bucket,
                Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True},
            )
            errors = answer.get("Errors", [])
            if errors:
                first = errors[0]
                raise EngineError(
                    f"s3://{bucket}/{first.get('Key')}: not deleted "
                    f"({first.get('Code')}: {first.get('Message')})"
                )
            deleted += [f"s3://{bucket}/{k}" for k in keys]
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, uri) from None
    return deleted
