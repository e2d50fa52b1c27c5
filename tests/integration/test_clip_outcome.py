"""What a clip records, through the pipeline as a user runs it (`vidx run` with the
default clip mode, `vidx clips`, the timeline, the HTTP API): the mode that made it (a
smart cut that fell back is `accurate`) with the reason, the codec, and which earlier
clips a request reuses (keyed on the mode asked for and the codec)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_context
from tests.cut_support import streams_of
from tests.integration.test_api_write import wait_for
from tests.integration.test_run import ok, vidx
from worker.api import create_app
from worker.context import AppContext
from worker.media.probe import probe

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
]

VFR_NOTE = "smart: fell back to accurate: variable frame rate"
PRORES_NOTE = "smart: fell back to accurate: video is prores, not H.264"


@dataclass
class Indexed:
    data: Path
    vfr: str  # video ids
    prores: str


@pytest.fixture(scope="module")
def indexed(media: Path, tmp_path_factory: pytest.TempPathFactory) -> Indexed:
    """vfr_phone.mp4 and programme_prores.mov run with every default (clip mode smart)."""
    data = tmp_path_factory.mktemp("outcome")
    ids = [
        ok(vidx(["run", str(media / "synthetic" / name), "--clips", "shots", "--json"], data))[
            "video_id"
        ]
        for name in ("vfr_phone.mp4", "programme_prores.mov")
    ]
    return Indexed(data, *ids)


@pytest.fixture(scope="module")
def api(indexed: Indexed) -> Iterator[TestClient]:
    ctx = make_context(indexed.data, f"sqlite:///{indexed.data / 'vidx.db'}")
    with TestClient(create_app(ctx)) as client:
        yield client


def rows(data: Path, video_id: str) -> list[dict[str, Any]]:
    """The clips table as stored."""
    with sqlite3.connect(data / "vidx.db") as conn:
        conn.row_factory = sqlite3.Row
        found = conn.execute(
            "SELECT id, kind, seq, mode, requested_mode, codec, note, path FROM clips"
            " WHERE video_id = ? ORDER BY codec, seq",
            (video_id,),
        )
        return [dict(r) for r in found]


def on_disk(paths: list[str]) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of each file: unchanged when a run reuses it."""
    return {p: (Path(p).stat().st_ino, Path(p).stat().st_mtime_ns) for p in paths}


def test_a_fallback_is_recorded_as_accurate_with_its_reason(
    indexed: Indexed, api: TestClient
) -> None:
    data, video_id = indexed.data, indexed.vfr
    stored = rows(data, video_id)
    assert len(stored) == 4
    assert {(r["mode"], r["requested_mode"], r["codec"], r["note"]) for r in stored} == {
        ("accurate", "smart", "h264", VFR_NOTE)
    }
    assert ok(vidx(["status", video_id, "--json"], data))["status"] == "INDEXED"

    doc = ok(vidx(["timeline", video_id, "--format", "json"], data))
    assert [(c["mode"], c["codec"], c["note"]) for c in doc["clips"]] == [
        ("accurate", "h264", VFR_NOTE)
    ] * 4

    listed = api.get(f"/videos/{video_id}/clips").json()["items"]
    assert [(c["mode"], c["requested_mode"], c["codec"], c["note"]) for c in listed] == [
        ("accurate", "smart", "h264", VFR_NOTE)
    ] * 4
    # the video's current request: plain urls, and they serve the clip
    assert listed[1]["url"] == f"/videos/{video_id}/clips/shot/1"
    got = api.get(listed[1]["url"])
    assert got.headers["content-type"] == "video/mp4"
    assert got.content == Path(stored[1]["path"]).read_bytes()
    assert api.get(f"/videos/{video_id}/timeline").json()["clips"] == doc["clips"]


def test_a_second_smart_request_reuses_the_fallen_back_clips(indexed: Indexed) -> None:
    data, video_id = indexed.data, indexed.vfr
    before = rows(data, video_id)
    files = on_disk([r["path"] for r in before])
    again = ok(vidx(["clips", video_id, "--at", "shots", "--mode", "smart", "--json"], data))
    assert [(c["mode"], c["codec"], c["note"]) for c in again["clips"]] == [
        ("accurate", "h264", VFR_NOTE)
    ] * 4
    assert rows(data, video_id) == before  # same rows (ids), not cut again
    assert on_disk([r["path"] for r in before]) == files

    table = vidx(["clips", video_id, "--at", "shots"], data)
    assert table.returncode == 0, table.stderr
    # piped: a tab-separated row per clip, the mode that made it, its codec and note last
    lines = [ln.split("\t") for ln in table.stdout.splitlines()]
    assert [(ln[0], ln[2]) for ln in lines] == [("shot", r["path"]) for r in before]
    assert {tuple(ln[4:]) for ln in lines} == {("accurate", "h264", VFR_NOTE)}

    # clips of other modes share the file names: a copy run replaces the files, and the
    # smart request's rows no longer describe them, so the next smart run cuts again
    copied = ok(vidx(["clips", video_id, "--at", "shots", "--mode", "copy", "--json"], data))
    assert [c["path"] for c in copied["clips"]] == [r["path"] for r in before]
    frames = [probe(Path(r["path"])).frame_count for r in before]
    assert frames[1] > 60  # shot 1 (frames 75-134) copied from keyframe 0
    ok(vidx(["clips", video_id, "--at", "shots", "--mode", "smart", "--json"], data))
    assert [probe(Path(r["path"])).frame_count for r in before] == [75, 60, 50, 67]


def test_prores_clips_stay_prores_and_each_codec_has_its_own(
    indexed: Indexed, api: TestClient
) -> None:
    data, video_id = indexed.data, indexed.prores
    made = rows(data, video_id)
    assert {(r["mode"], r["requested_mode"], r["codec"], r["note"]) for r in made} == {
        ("accurate", "smart", "prores", PRORES_NOTE)
    }
    prores_files = on_disk([r["path"] for r in made])
    for r in made:
        assert r["path"].endswith(".mov")
        video, audio = streams_of(Path(r["path"])).values()
        assert (video["codec_name"], video["profile"], video["pix_fmt"]) == (
            "prores",
            "Proxy",
            "yuv422p10le",
        )
        assert audio["codec_name"] == "pcm_s16le"

    # an h264 request is not answered by the ProRes clips: cut anew, as MP4
    h264 = ok(vidx(["clips", video_id, "--at", "shots", "--codec", "h264", "--json"], data))
    assert {(c["mode"], c["codec"], c["note"]) for c in h264["clips"]} == {
        ("accurate", "h264", PRORES_NOTE)
    }
    for clip in h264["clips"]:
        assert clip["path"].endswith(".mp4")
        assert streams_of(Path(clip["path"]))["video"]["codec_name"] == "h264"
    # and a ProRes request again reuses the ProRes clips, untouched
    again = ok(vidx(["clips", video_id, "--at", "shots", "--codec", "prores", "--json"], data))
    assert [c["path"] for c in again["clips"]] == [r["path"] for r in made]
    assert on_disk([r["path"] for r in made]) == prores_files
    assert [r["codec"] for r in rows(data, video_id)] == ["h264"] * 4 + ["prores"] * 4
    assert ok(vidx(["status", video_id, "--json"], data))["status"] == "INDEXED"

    listed = api.get(f"/videos/{video_id}/clips").json()["items"]
    by_codec = {c["codec"]: c for c in listed if c["index"] == 2}
    base = f"/videos/{video_id}/clips/shot/2"
    assert (by_codec["prores"]["url"], by_codec["h264"]["url"]) == (base, f"{base}?codec=h264")
    mov, mp4 = api.get(base), api.get(f"{base}?codec=h264")
    assert (mov.headers["content-type"], mp4.headers["content-type"]) == (
        "video/quicktime",
        "video/mp4",
    )
    assert mov.content[4:12] == b"ftypqt  " and mp4.content[4:8] == b"ftyp"
    assert api.get(f"{base}?codec=vp9").status_code == 404


def test_bad_codec_requests_are_one_line_and_change_nothing(
    indexed: Indexed, media: Path, tmp_path: Path
) -> None:
    data, video_id = indexed.data, indexed.prores
    before = rows(data, video_id)
    files = sorted(p.name for p in (data / "clips" / video_id).iterdir())
    for args, message in [
        (
            ["--codec", "vp9"],
            "vidx: error: unknown clip codec 'vp9' (choose from: auto, h264, prores)",
        ),
        (
            ["--mode", "copy", "--codec", "h264"],
            "vidx: error: programme_prores.mov: copy mode keeps the source's prores video; "
            "--codec h264 needs --mode accurate or smart",
        ),
    ]:
        res = vidx(["clips", video_id, "--at", "shots", *args], data)
        assert res.returncode != 0 and res.stderr.splitlines() == [message]
    assert rows(data, video_id) == before
    assert sorted(p.name for p in (data / "clips" / video_id).iterdir()) == files

    # vidx run refuses it before anything is analysed or stored
    src = media / "real" / "counter.mp4"
    res = vidx(["run", str(src), "--mode", "copy", "--codec", "prores"], tmp_path)
    assert res.returncode != 0
    assert res.stderr.splitlines() == [
        f"vidx: error: {src}: copy mode keeps the source's h264 video; "
        "--codec prores needs --mode accurate or smart"
    ]
    bad = vidx(["run", str(src), "--codec", "av1"], tmp_path)
    assert bad.returncode != 0 and "unknown clip codec 'av1'" in bad.stderr
    assert not (tmp_path / "vidx.db").exists() and not (tmp_path / "clips").exists()


def test_the_api_takes_the_codec_and_refuses_what_cannot_be(
    sqlite_ctx: AppContext, media: Path
) -> None:
    src = media / "synthetic" / "programme_prores.mov"

    def post(**form: str) -> Any:
        with src.open("rb") as fh:
            return client.post("/videos", files={"file": (src.name, fh)}, data=form)

    with TestClient(create_app(sqlite_ctx)) as client:
        bad = post(clips="shots", codec="vp9")
        assert bad.status_code == 422 and "codec" in bad.text
        refused = post(clips="shots", mode="copy", codec="h264")
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"].endswith(
            "programme_prores.mov: copy mode keeps the source's prores video; "
            "--codec h264 needs --mode accurate or smart"
        )
        assert not list((sqlite_ctx.settings.data_dir / "uploads").rglob("*.mov"))

        done = post(clips="shots", codec="h264")
        assert done.status_code == 202, done.text
        video_id = done.json()["video_id"]
        assert wait_for(client, video_id, "INDEXED", timeout_s=120)["status"] == "INDEXED"
        items = client.get(f"/videos/{video_id}/clips").json()["items"]
        assert {(c["mode"], c["requested_mode"], c["codec"], c["note"]) for c in items} == {
            ("accurate", "smart", "h264", PRORES_NOTE)
        }
        assert items[0]["url"] == f"/videos/{video_id}/clips/shot/0"
        assert client.get(items[0]["url"]).headers["content-type"] == "video/mp4"
