"""S3 upload-once, URI parsing and error translation, against moto."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.stub import Stubber
from moto import mock_aws
from mypy_boto3_s3.client import S3Client

from worker.aws.s3 import (
    clip_key,
    delete_object,
    ensure_uploaded,
    head,
    object_key,
    parse_s3_uri,
    put_file,
    safe_filename,
)
from worker.errors import (
    AccessDeniedError,
    EngineUnavailableError,
    InputError,
    ThrottledError,
    VidxError,
)

BUCKET = "vidx-media"
MiB = 1024 * 1024


@pytest.fixture
def s3(aws_env: None) -> Iterator[S3Client]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def video(tmp_path: Path, name: str = "clip one (final).mp4", size: int = 4096) -> tuple[Path, str]:
    path = tmp_path / name
    data = bytes(i % 251 for i in range(size))
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def body(s3: S3Client, key: str) -> bytes:
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


# --- keys and URIs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("clip one (final).mp4", "clip_one_final_.mp4"),
        ("Café über.MOV", "Caf_ber.MOV"),
        ("..", "video"),
        (".hidden.mp4", "hidden.mp4"),
        ("a/b\\c?d#e.mkv", "a_b_c_d_e.mkv"),
        ("x" * 300 + ".mp4", "x" * 196 + ".mp4"),
    ],
)
def test_filenames_are_sanitised(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_object_key_is_prefix_hash_filename() -> None:
    sha = "a" * 64
    assert object_key("vidx", sha, "my clip.mp4") == f"vidx/{sha}/my_clip.mp4"
    assert object_key("/media/in/", sha, "c.mp4") == f"media/in/{sha}/c.mp4"
    assert object_key("", sha, "c.mp4") == f"{sha}/c.mp4"
    with pytest.raises(ValueError, match="SHA-256"):
        object_key("vidx", "ABC", "c.mp4")


def test_clip_key_is_under_the_video_prefix() -> None:
    sha = "b" * 64
    assert clip_key("vidx", sha, "v_shot_0007_00-00-12.480.mp4") == (
        f"vidx/{sha}/clips/v_shot_0007_00-00-12.480.mp4"
    )
    assert clip_key("", sha, "../x y.mp4") == f"{sha}/clips/x_y.mp4"


def test_parse_s3_uri_keeps_the_key_verbatim() -> None:
    assert parse_s3_uri("s3://media/in/a clip #1?.mp4") == ("media", "in/a clip #1?.mp4")


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("https://media/in/a.mp4", "not an S3 URI"),
        ("media/in/a.mp4", "not an S3 URI"),
        ("s3://", "no bucket"),
        ("s3:///key.mp4", "no bucket"),
        ("s3://media", "names no object"),
        ("s3://media/", "names no object"),
        ("s3://media/folder/", "names no object"),
        ("s3://Media_Bucket/a.mp4", "not a valid S3 bucket name"),
        ("s3://ab/a.mp4", "not a valid S3 bucket name"),
    ],
)
def test_malformed_uris_are_input_errors(uri: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem) as info:
        parse_s3_uri(uri)
    assert info.value.source == uri


# --- ensure_uploaded -------------------------------------------------------------------


def test_upload_puts_the_file_under_its_hash_and_reports_progress(
    s3: S3Client, tmp_path: Path
) -> None:
    path, sha = video(tmp_path)
    fractions: list[float] = []
    loc = ensure_uploaded(s3, path, sha, BUCKET, "vidx", progress=fractions.append)
    assert loc.key == f"vidx/{sha}/clip_one_final_.mp4"
    assert (loc.bucket, loc.size) == (BUCKET, 4096)
    assert loc.uri == f"s3://{BUCKET}/{loc.key}"
    assert body(s3, loc.key) == path.read_bytes()
    assert s3.head_object(Bucket=BUCKET, Key=loc.key)["Metadata"] == {"sha256": sha}
    assert fractions[-1] == 1.0 and fractions == sorted(fractions)


def test_existing_object_with_the_same_size_is_not_uploaded_again(
    s3: S3Client, tmp_path: Path
) -> None:
    path, sha = video(tmp_path)
    first = ensure_uploaded(s3, path, sha, BUCKET, "vidx")
    # Same key, same size, different bytes: if ensure_uploaded uploaded, they would change.
    marker = b"M" * first.size
    s3.put_object(Bucket=BUCKET, Key=first.key, Body=marker)
    fractions: list[float] = []
    again = ensure_uploaded(s3, path, sha, BUCKET, "vidx", progress=fractions.append)
    assert again == first and body(s3, first.key) == marker
    assert fractions == [1.0]


def test_the_location_says_whether_this_call_uploaded(s3: S3Client, tmp_path: Path) -> None:
    """Staging removes an upload it made for a video deleted meanwhile, never one it found."""
    path, sha = video(tmp_path)
    first = ensure_uploaded(s3, path, sha, BUCKET, "vidx")
    again = ensure_uploaded(s3, path, sha, BUCKET, "vidx")
    assert (first.uploaded, again.uploaded) == (True, False) and first == again
    delete_object(s3, BUCKET, first.key)
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
    delete_object(s3, BUCKET, first.key)  # already gone: fine


def test_object_with_another_size_is_replaced(s3: S3Client, tmp_path: Path) -> None:
    path, sha = video(tmp_path)
    key = object_key("vidx", sha, path.name)
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"partial")
    ensure_uploaded(s3, path, sha, BUCKET, "vidx")
    assert body(s3, key) == path.read_bytes()


def test_large_file_goes_multipart_with_progress_from_every_part(
    s3: S3Client, tmp_path: Path
) -> None:
    path, sha = video(tmp_path, "big.mp4", size=11 * MiB)
    small = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    fractions: list[float] = []
    loc = ensure_uploaded(s3, path, sha, BUCKET, "vidx", progress=fractions.append, config=small)
    etag = s3.head_object(Bucket=BUCKET, Key=loc.key)["ETag"]
    assert etag.strip('"').endswith("-3")  # S3's multipart ETag: 3 parts
    assert body(s3, loc.key) == path.read_bytes()
    assert len(fractions) > 3 and fractions[-1] == 1.0


def test_missing_local_file_is_an_input_error(s3: S3Client, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        ensure_uploaded(s3, tmp_path / "gone.mp4", "a" * 64, BUCKET, "vidx")


def test_missing_bucket_is_an_input_error_naming_it(s3: S3Client, tmp_path: Path) -> None:
    path, sha = video(tmp_path)
    with pytest.raises(InputError, match="bucket does not exist") as info:
        ensure_uploaded(s3, path, sha, "no-such-bucket", "vidx")
    assert info.value.source.startswith("s3://no-such-bucket/vidx/")


# --- head and error translation --------------------------------------------------------


def test_head_returns_the_size(s3: S3Client) -> None:
    s3.put_object(Bucket=BUCKET, Key="in/a b.mp4", Body=b"12345")
    assert head(s3, BUCKET, "in/a b.mp4") == 5


def test_head_of_a_missing_object_names_the_uri(s3: S3Client) -> None:
    with pytest.raises(InputError, match="no such object") as info:
        head(s3, BUCKET, "in/missing.mp4")
    assert info.value.source == f"s3://{BUCKET}/in/missing.mp4"


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("403", 403, AccessDeniedError),
        ("AccessDenied", 403, AccessDeniedError),
        ("SlowDown", 503, ThrottledError),
        ("InternalError", 500, EngineUnavailableError),
    ],
)
def test_service_errors_become_vidx_errors_with_the_uri(
    s3: S3Client, code: str, status: int, error: type[VidxError]
) -> None:
    # Stubber answers at botocore's edge, as S3 would; moto does not enforce policies.
    with Stubber(s3) as stub:
        stub.add_client_error("head_object", service_error_code=code, http_status_code=status)
        with pytest.raises(error, match=f"s3://{BUCKET}/in/a.mp4"):
            head(s3, BUCKET, "in/a.mp4")


def test_denied_during_upload_is_access_denied(s3: S3Client, tmp_path: Path) -> None:
    path, sha = video(tmp_path)
    with Stubber(s3) as stub:
        stub.add_client_error("head_object", service_error_code="403", http_status_code=403)
        with pytest.raises(AccessDeniedError, match="access denied"):
            ensure_uploaded(s3, path, sha, BUCKET, "vidx")


# --- put_file (clips) ------------------------------------------------------------------


def test_put_file_uploads_once_per_content(s3: S3Client, tmp_path: Path) -> None:
    path, sha = video(tmp_path, "a_shot_0001.mp4")
    key = clip_key("vidx", sha, path.name)
    loc = put_file(s3, path, BUCKET, key, sha)
    assert (loc.key, loc.size) == (key, 4096) and body(s3, key) == path.read_bytes()
    assert s3.head_object(Bucket=BUCKET, Key=key)["Metadata"] == {"sha256": sha}
    # the same bytes again: not uploaded (a marker planted with the same hash survives)
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"marker", Metadata={"sha256": sha})
    put_file(s3, path, BUCKET, key, sha)
    assert body(s3, key) == b"marker"


def test_put_file_replaces_other_content_of_the_same_size(s3: S3Client, tmp_path: Path) -> None:
    path, sha = video(tmp_path, "a_shot_0001.mp4")
    key = clip_key("vidx", sha, path.name)
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x" * 4096, Metadata={"sha256": "c" * 64})
    put_file(s3, path, BUCKET, key, sha)
    assert body(s3, key) == path.read_bytes()


def test_put_file_errors_name_the_uri(s3: S3Client, tmp_path: Path) -> None:
    path, sha = video(tmp_path)
    with pytest.raises(InputError, match="bucket does not exist") as info:
        put_file(s3, path, "no-such-bucket", "k/c.mp4", sha)
    assert info.value.source == "s3://no-such-bucket/k/c.mp4"
    with Stubber(s3) as stub:
        stub.add_client_error("head_object", service_error_code="SlowDown", http_status_code=503)
        with pytest.raises(ThrottledError, match=f"s3://{BUCKET}/k/c.mp4"):
            put_file(s3, path, BUCKET, "k/c.mp4", sha)
