"""Files through the HTTP API, on SQLite and PostgreSQL: the source video, clips and
thumbnails, whole and by HTTP Range (single, suffix, multiple, unsatisfiable, malformed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import FIXTURES, MEDIA, RECORDED, context_on
from tests.integration.test_api_read import problem
from worker.api import create_app
from worker.engines.port import Feature
from worker.pipeline.clip_request import ClipRequest
from worker.pipeline.clips import make_clips
from worker.pipeline.importer import import_pages
from worker.query import timeline
from worker.read_json import timeline_json
from worker.service import submit

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
]
SHORT = MEDIA / "synthetic" / "no_audio.mp4"  # 4 shots: 0-3000, 3000-5600, 5600-8000, 8000-


@dataclass
class Files:
    client: TestClient
    video_id: str
    clips: dict[tuple[str, int], Path]  # (kind, index) -> the file vidx cut
    imported: str  # a video with no media file


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def files(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_ok: bool
) -> Iterator[Files]:
    if not SHORT.is_file():
        pytest.skip(f"test media not found at {MEDIA}")
    tmp = tmp_path_factory.mktemp("files")
    with ExitStack() as stack:
        ctx = stack.enter_context(context_on(request.param, tmp, pg_ok, "apifiles"))
        video_id = submit(ctx, SHORT, [Feature.SEGMENTS], "local", [], "copy").video_id
        make_clips(ctx, video_id, ClipRequest(("shots", "content"), "copy"), thumbnails=True)
        with ctx.db.session() as s:
            made = {
                (c["kind"], c["index"]): Path(c["path"])
                for c in timeline_json(timeline(s, video_id))["clips"]
            }
        imported = import_pages(ctx, Feature.FACES, [FIXTURES / RECORDED[2][0]]).video_id
        client = stack.enter_context(TestClient(create_app(ctx)))
        yield Files(client, video_id, made, imported)


def test_clip_list(files: Files) -> None:
    items = files.client.get(f"/videos/{files.video_id}/clips").json()["items"]
    assert [(c["kind"], c["index"]) for c in items] == [
        *(("shot", i) for i in range(4)),
        ("content", 0),
    ]
    assert [(c["start_ms"], c["end_ms"]) for c in items[:4]] == [
        (0, 3000), (3000, 5600), (5600, 8000), (8000, 10000),
    ]  # fmt: skip
    assert all(c["mode"] == "copy" and isinstance(c["drift_ms"], int) for c in items)
    assert items[1]["url"] == f"/videos/{files.video_id}/clips/shot/1"
    assert set(files.clips) == {(c["kind"], c["index"]) for c in items}
    problem(files.client.get("/videos/nope/clips"), 404, "nope")


def test_clip_download_whole_and_head(files: Files) -> None:
    url = f"/videos/{files.video_id}/clips/shot/1"
    data = files.clips[("shot", 1)].read_bytes()
    res = files.client.get(url)
    assert res.status_code == 200 and res.content == data
    assert res.headers["content-type"] == "video/mp4" and res.headers["accept-ranges"] == "bytes"
    head = files.client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(data)
    content = files.client.get(f"/videos/{files.video_id}/clips/content/0")
    assert content.content == files.clips[("content", 0)].read_bytes()


def test_clip_ranges(files: Files) -> None:
    url = f"/videos/{files.video_id}/clips/shot/2"
    data = files.clips[("shot", 2)].read_bytes()
    size = len(data)

    def get(rng: str, **headers: str) -> Any:
        return files.client.get(url, headers={"Range": rng, **headers})

    first = get("bytes=0-99")
    assert first.status_code == 206 and first.content == data[:100]
    assert first.headers["content-range"] == f"bytes 0-99/{size}"
    assert get("bytes=-500").content == data[-500:]
    tail = get("bytes=1000-")
    assert (
        tail.content == data[1000:]
        and tail.headers["content-range"] == f"bytes 1000-{size - 1}/{size}"
    )
    two = get("bytes=0-9,100-109")
    assert two.status_code == 206
    assert two.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert data[:10] in two.content and data[100:110] in two.content
    assert f"Content-Range: bytes 100-109/{size}".encode() in two.content
    past = get(f"bytes={size}-")
    problem(past, 416, "past the end")
    assert past.headers["content-range"] == f"bytes */{size}"
    problem(get("bytes=9-1"), 400, "Range")
    # If-Range with another validator: the whole file, not a range of a changed one
    whole = get("bytes=0-9", **{"If-Range": '"not-this-etag"'})
    assert whole.status_code == 200 and whole.content == data
    etag = whole.headers["etag"]
    assert get("bytes=0-9", **{"If-Range": etag}).status_code == 206


def test_clip_lookups(files: Files) -> None:
    base = f"/videos/{files.video_id}/clips"
    assert files.client.get(f"{base}/shot/0", params={"mode": "copy"}).status_code == 200
    problem(files.client.get(f"{base}/shot/0", params={"mode": "accurate"}), 404, "accurate")
    problem(files.client.get(f"{base}/shot/9"), 404, "shot clip 9")
    problem(files.client.get(f"{base}/scene/0"), 422, "kind")
    problem(files.client.get(f"{base}/shot/-1"), 422, "index")


def test_clip_file_gone_from_disk(files: Files) -> None:
    path = files.clips[("shot", 3)]
    moved = path.with_name(path.name + ".away")
    path.rename(moved)
    try:
        problem(files.client.get(f"/videos/{files.video_id}/clips/shot/3"), 404, "disk")
    finally:
        moved.rename(path)


def test_media(files: Files) -> None:
    data = SHORT.read_bytes()
    res = files.client.get(f"/videos/{files.video_id}/media", headers={"Range": "bytes=100-199"})
    assert res.status_code == 206 and res.content == data[100:200]
    assert res.headers["content-type"] == "video/mp4"
    assert files.client.get(f"/videos/{files.video_id}/media").content == data
    problem(files.client.get(f"/videos/{files.imported}/media"), 404, "no local media file")


def test_thumbnails(files: Files) -> None:
    base = f"/videos/{files.video_id}/thumbnails"
    listed = files.client.get(base).json()
    shots = listed["shots"]
    assert [s["index"] for s in shots] == [0, 1, 2, 3]
    bounds = [(0, 3000), (3000, 5600), (5600, 8000), (8000, 10000)]
    for shot, (lo, hi) in zip(shots, bounds, strict=True):
        assert lo <= shot["at_ms"] < hi and shot["url"] == f"{base}/shots/{shot['index']}.jpg"
        jpeg = files.client.get(shot["url"])
        assert jpeg.headers["content-type"] == "image/jpeg" and jpeg.content[:2] == b"\xff\xd8"
    sprite = listed["sprite"]
    assert sprite["url"] == f"{base}/sprite.jpg" and sprite["index_url"] == f"{base}/sprite.json"
    assert files.client.get(sprite["url"]).content[:2] == b"\xff\xd8"
    index = files.client.get(sprite["index_url"])
    assert index.headers["content-type"] == "application/json"
    assert json.loads(index.content)["width"] == sprite["width"]
    part = files.client.get(shots[0]["url"], headers={"Range": "bytes=0-1"})
    assert part.status_code == 206 and part.content == b"\xff\xd8"


def test_thumbnails_of_a_video_without_them(files: Files) -> None:
    base = f"/videos/{files.imported}/thumbnails"
    assert files.client.get(base).json() == {"shots": [], "sprite": None}
    problem(files.client.get(f"{base}/shots/0.jpg"), 404, "thumbnail")
    problem(files.client.get(f"{base}/sprite.jpg"), 404, "sprite")
    problem(files.client.get(f"{base}/shots/x.jpg"), 422, "index")
