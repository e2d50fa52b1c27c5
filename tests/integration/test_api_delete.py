"""DELETE /videos/{id} through HTTP, on SQLite and PostgreSQL: a write (the API key), the
upload and every row gone, 404 for an unknown id in the CLI's words, 409 while jobs are
in flight unless force=true, keep_source=true keeping the upload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.conftest import MEDIA
from tests.integration.test_api_read import problem
from tests.integration.test_api_write import uploaded_files, videos, wait_for, with_settings
from worker.api import create_app
from worker.context import AppContext
from worker.engines.port import Feature
from worker.service import submit

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
]
SHORT = MEDIA / "synthetic" / "no_audio.mp4"
KEY = "delete-key"


@pytest.fixture
def keyed(ctx: AppContext) -> Iterator[tuple[TestClient, AppContext]]:
    if not SHORT.is_file():
        pytest.skip(f"test media not found at {MEDIA}")
    with_key = with_settings(ctx, api_key=SecretStr(KEY))
    with TestClient(create_app(with_key), headers={"X-API-Key": KEY}) as client:
        yield client, with_key


def indexed(client: TestClient, path: Path) -> str:
    with path.open("rb") as fh:
        res = client.post("/videos", files={"file": (path.name, fh)}, data={"clips": "shots"})
    assert res.status_code == 202, res.text
    video_id: str = res.json()["video_id"]
    wait_for(client, video_id, "INDEXED")
    return video_id


def test_delete_an_uploaded_video(keyed: tuple[TestClient, AppContext]) -> None:
    client, ctx = keyed
    vid = indexed(client, SHORT)
    [upload] = uploaded_files(ctx)
    assert (ctx.settings.clips_dir / vid).is_dir()

    problem(client.delete(f"/videos/{vid}", headers={"X-API-Key": ""}), 401, "X-API-Key")
    problem(client.delete(f"/videos/{vid}", headers={"X-API-Key": "wrong"}), 403, "X-API-Key")
    assert videos(ctx) == 1 and upload.is_file()

    res = client.delete(f"/videos/{vid}")
    assert res.status_code == 200, res.text
    body: dict[str, Any] = res.json()
    assert body["video_id"] == vid and body["rows"]["videos"] == 1 and body["rows"]["clips"] == 4
    assert str(upload) in body["files"] and body["s3_objects"] == []
    assert uploaded_files(ctx) == [] and not (ctx.settings.clips_dir / vid).exists()
    assert not (ctx.settings.thumbs_dir / vid).exists() and videos(ctx) == 0
    problem(client.get(f"/videos/{vid}"), 404)
    # a second delete: the id is unknown now, said as `vidx delete` says it
    gone = problem(client.delete(f"/videos/{vid}"), 404)
    assert gone["detail"] == f"no video with id {vid!r}"


def test_jobs_in_flight_are_a_conflict_unless_forced(
    keyed: tuple[TestClient, AppContext],
) -> None:
    client, ctx = keyed
    # registered, its job still PENDING (queued, not started)
    vid = submit(
        ctx, SHORT, [Feature.SEGMENTS], "local", [], "copy", enqueue=lambda *_: None
    ).video_id
    problem(client.delete(f"/videos/{vid}"), 409, "jobs in flight", "force=true")
    assert videos(ctx) == 1
    res = client.delete(f"/videos/{vid}", params={"force": "true"})
    assert res.status_code == 200, res.text
    assert videos(ctx) == 0


def test_keep_source_keeps_the_upload(keyed: tuple[TestClient, AppContext]) -> None:
    client, ctx = keyed
    vid = indexed(client, SHORT)
    [upload] = uploaded_files(ctx)
    res = client.delete(f"/videos/{vid}", params={"keep_source": "true"})
    assert res.status_code == 200, res.text
    assert res.json()["kept"] == [f"{upload} (--keep-source)"]
    assert uploaded_files(ctx) == [upload] and videos(ctx) == 0
