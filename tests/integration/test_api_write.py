"""POST /videos through HTTP: an upload answered with 202 at once and indexed in the
background, bad media refused with a problem and nothing left behind, the API key, bodies
the API refuses, an s3:// URI on the fake AWS, and a broker that gets the work queued."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from models import Video
from tests.conftest import MEDIA
from tests.fake_aws import aws_flow
from tests.integration.test_api_read import problem
from worker.api import create_app
from worker.context import AppContext

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
]
SHORT = MEDIA / "synthetic" / "no_audio.mp4"
BAD = MEDIA / "bad"


def with_settings(ctx: AppContext, **changes: Any) -> AppContext:
    """The same database and data dir, other settings (api key, upload limit)."""
    return AppContext(ctx.settings.model_copy(update=changes))


@pytest.fixture
def client(ctx: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx)) as c:
        yield c


def upload(client: TestClient, path: Path, name: str | None = None, **form: str) -> Any:
    with path.open("rb") as fh:
        return client.post("/videos", files={"file": (name or path.name, fh)}, data=form)


def wait_for(client: TestClient, video_id: str, want: str, timeout_s: float = 90) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        st = client.get(f"/videos/{video_id}").json()
        if st["status"] != "PROCESSING":
            assert st["status"] == want, st
            return st
        assert time.monotonic() < deadline, f"still {st} after {timeout_s} s"
        time.sleep(0.2)


def uploaded_files(ctx: AppContext) -> list[Path]:
    return sorted(p for p in (ctx.settings.data_dir / "uploads").rglob("*") if p.is_file())


def videos(ctx: AppContext) -> int:
    with ctx.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Video)) or 0)


def test_upload_answers_202_at_once_then_indexes(ctx: AppContext, client: TestClient) -> None:
    res = upload(client, SHORT, "My Clip (1).mp4", clips="shots", mode="copy")
    assert res.status_code == 202, res.text
    body = res.json()
    video_id = body["video_id"]
    # the analysis runs after the answer: right after it the video is still processing
    assert client.get(f"/videos/{video_id}").json()["status"] == "PROCESSING"
    assert res.headers["location"] == f"/videos/{video_id}"
    [job] = body["jobs"]
    assert job["feature"] == "segments" and isinstance(job["job_id"], int)
    st = wait_for(client, video_id, "INDEXED")
    assert (
        st["filename"] == "My_Clip_1_.mp4" and st["features"]["segments"]["status"] == "SUCCEEDED"
    )
    clips = client.get(f"/videos/{video_id}/clips").json()["items"]
    assert [(c["kind"], c["start_ms"]) for c in clips] == [
        ("shot", 0), ("shot", 3000), ("shot", 5600), ("shot", 8000),
    ]  # fmt: skip
    [kept] = uploaded_files(ctx)
    assert kept.read_bytes() == SHORT.read_bytes() and kept.name == "My_Clip_1_.mp4"
    assert kept.parent.parent.name == "uploads"  # in uploads/<sha256 prefix>/
    media = client.get(f"/videos/{video_id}/media", headers={"Range": "bytes=0-15"})
    assert media.status_code == 206 and media.content == SHORT.read_bytes()[:16]
    # the same file again, under any name, is the same video, and one file on disk
    for name in ("My Clip (1).mp4", "another name.mp4"):
        again = upload(client, SHORT, name)
        assert again.status_code == 202 and again.json()["video_id"] == video_id
        assert uploaded_files(ctx) == [kept] and videos(ctx) == 1


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("not_a_video.mp4", "not a media file"),
        ("truncated.mp4", "truncated"),
        ("audio_only.m4a", "no video stream"),
        ("empty.mp4", "empty"),
    ],
)
def test_bad_media_is_a_problem_and_leaves_nothing(
    sqlite_ctx: AppContext, name: str, words: str
) -> None:
    with TestClient(create_app(sqlite_ctx)) as client:
        res = upload(client, BAD / name, f"../../{name}")
        body = problem(res, 422, name, words)
        assert "/" not in body["detail"].split(":")[0]  # the client's name, not a server path
    assert uploaded_files(sqlite_ctx) == [] and videos(sqlite_ctx) == 0


def test_bad_media_on_each_database(ctx: AppContext, client: TestClient) -> None:
    problem(upload(client, BAD / "truncated.mp4"), 422, "truncated.mp4", "truncated")
    assert uploaded_files(ctx) == [] and videos(ctx) == 0


def test_writes_need_the_api_key_and_reads_do_not(ctx: AppContext) -> None:
    keyed = with_settings(ctx, api_key=SecretStr("s3cret-key"))
    with TestClient(create_app(keyed)) as client:
        missing = upload(client, SHORT)
        problem(missing, 401, "X-API-Key")
        assert "ApiKey" in missing.headers["www-authenticate"]
        client.headers["X-API-Key"] = "wrong"
        problem(upload(client, SHORT), 403, "X-API-Key")
        problem(client.post("/videos", json={"uri": "s3://b/k.mp4"}), 403)
        assert uploaded_files(ctx) == [] and videos(ctx) == 0
        del client.headers["X-API-Key"]
        assert client.get("/videos").status_code == 200  # reads are open
        client.headers["X-API-Key"] = "s3cret-key"
        ok = upload(client, SHORT)
        assert ok.status_code == 202, ok.text
        wait_for(client, ok.json()["video_id"], "INDEXED")


def test_bodies_refused(sqlite_ctx: AppContext) -> None:
    with TestClient(create_app(sqlite_ctx)) as client:
        post = client.post
        problem(post("/videos", json={"uri": "/etc/passwd"}), 422, "uri")
        problem(post("/videos", json={"uri": "s3://b/k.mp4"}), 422, "aws engine")
        clips = {"uri": "s3://b/k.mp4", "engine": "aws", "clips": ["shots"]}
        problem(post("/videos", json=clips), 422, "clips")
        problem(post("/videos", json={"uri": "s3://b/k.mp4", "colour": 1}), 422, "colour")
        bad_json = post("/videos", content=b"{", headers={"content-type": "application/json"})
        problem(bad_json, 422, "JSON")
        problem(post("/videos", json={"uri": "s3://b/" + "k" * 70_000}), 413)
        problem(post("/videos", content=b"x", headers={"content-type": "text/plain"}), 415)
        problem(upload(client, SHORT, mode="fast"), 422, "mode")
        problem(upload(client, SHORT, colour="red"), 422, "colour")
        problem(upload(client, SHORT, features="segments,smell"), 422, "features")
        problem(post("/videos", data={"clips": "shots"}, files={"x": ("a", b"b")}), 422, "file")
        two = [("file", ("a.mp4", b"a")), ("file", ("b.mp4", b"b"))]
        problem(post("/videos", files=two), 422, "one file")
    assert uploaded_files(sqlite_ctx) == [] and videos(sqlite_ctx) == 0


def test_upload_limit_and_broken_forms_leave_nothing(sqlite_ctx: AppContext) -> None:
    small = with_settings(sqlite_ctx, max_upload_bytes=100_000)
    with TestClient(create_app(small)) as client:
        # a Content-Length over the limit is refused before the body is read
        problem(upload(client, SHORT), 413, "100000")
        # a chunked body (no Content-Length) is cut off as it passes the limit
        with SHORT.open("rb") as fh:
            data = fh.read()
        boundary = "vidxboundary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n'
        )
        body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
        ctype = {"content-type": f"multipart/form-data; boundary={boundary}"}
        chunked = client.post(
            "/videos", content=iter([body[:60_000], body[60_000:]]), headers=ctype
        )
        problem(chunked, 413, "limit")
        # the closing boundary never comes: a partial file must not be taken for the video
        cut = head.encode() + data[:50_000]
        problem(client.post("/videos", content=cut, headers=ctype), 400, "incomplete")
        no_boundary = {"content-type": "multipart/form-data"}
        problem(client.post("/videos", content=cut, headers=no_boundary), 400, "boundary")
    incoming = sqlite_ctx.settings.data_dir / "uploads" / ".incoming"
    assert uploaded_files(sqlite_ctx) == [] and not any(incoming.iterdir())
    assert videos(sqlite_ctx) == 0


def test_s3_uri_with_the_aws_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """On the fake AWS: 202 with the job, started in the background, collected after the
    completion notification; a missing object is a 422 problem."""
    with aws_flow(monkeypatch, tmp_path / "data", f"sqlite:///{tmp_path / 'vidx.db'}") as flow:
        flow.fake.configure(auto_complete=False)
        bucket = flow.prov.bucket
        flow.ctx.aws.s3.put_object(Bucket=bucket, Key="in/clip.mp4", Body=SHORT.read_bytes())
        with TestClient(create_app(flow.ctx)) as client:
            missing = {"uri": f"s3://{bucket}/in/nothing.mp4", "features": ["labels"]}
            problem(client.post("/videos", json=missing), 422, "no such object")
            res = client.post(
                "/videos", json={"uri": f"s3://{bucket}/in/clip.mp4", "features": ["labels"]}
            )
            assert res.status_code == 202, res.text
            video_id = res.json()["video_id"]
            assert [j["feature"] for j in res.json()["jobs"]] == ["labels"]
            deadline = time.monotonic() + 30
            while flow.states(video_id) != ["IN_PROGRESS"]:  # started by the background thread
                assert time.monotonic() < deadline, flow.states(video_id)
                time.sleep(0.1)
            assert len(flow.finish_running()) == 1
            assert flow.poll().handled == 1
            st = wait_for(client, video_id, "INDEXED")
            assert st["filename"] == "clip.mp4"


def test_an_unreachable_broker_is_a_503_and_nothing_is_kept(sqlite_ctx: AppContext) -> None:
    """(The queued case, with a broker that answers, is in test_api_serve.py.)"""
    from worker.celery_app import app as celery_app
    from worker.celery_app import reconfigure

    # read the conf once first: Celery applies on_configure (eager, from the context's
    # settings) when the conf is first read, over changes made before that
    assert celery_app.conf.task_always_eager
    reconfigure("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        with TestClient(create_app(sqlite_ctx)) as client:
            problem(upload(client, SHORT), 503, "broker", "127.0.0.1:1")
    finally:
        reconfigure(None)
    assert videos(sqlite_ctx) == 0 and uploaded_files(sqlite_ctx) == []
