"""Shot thumbnails and the sprite sheet on real files: one JPEG per shot at its middle
frame (upright, picked by timestamp), a sprite whose index matches the shots."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from tests.conftest import MEDIA, make_context
from worker.context import AppContext, use_context
from worker.engines.port import Feature
from worker.errors import MediaToolError
from worker.media.frames import Frame, decode_frame_at, psnr
from worker.media.probe import probe
from worker.media.thumbnails import ShotSpan, jpeg_size, make_thumbnails
from worker.pipeline import thumbs
from worker.query import thumbnail_path, thumbnails, timeline
from worker.read_json import status_json, thumbnails_json, timeline_json
from worker.service import submit
from worker.timecode import frame_to_ms, round_half_up

pytestmark = pytest.mark.integration

SYNTHETIC = MEDIA / "synthetic"


@dataclass
class Made:
    ctx: AppContext
    src: Path
    video_id: str
    truth: dict[str, Any]
    doc: dict[str, Any]  # the timeline
    listed: dict[str, Any]  # worker.query.thumbnails


@pytest.fixture(scope="module", params=["programme_720p25.mp4", "vfr_phone.mp4"])
def made(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Made]:
    """The file indexed (local engine, segments) and its thumbnails made once."""
    from worker.celery_app import reconfigure

    src = SYNTHETIC / request.param
    if not src.is_file():
        pytest.skip(f"test media not found at {MEDIA}")
    data = tmp_path_factory.mktemp("thumbs")
    ctx = make_context(data / "data", f"sqlite:///{data / 'vidx.db'}")
    ctx.db.upgrade()
    reconfigure(None)
    with use_context(ctx):
        video_id = submit(ctx, src, [Feature.SEGMENTS], "local", [], "accurate").video_id
        thumbs.make_for_video(ctx, video_id)
        with ctx.db.session() as s:
            doc, listed = (
                timeline_json(timeline(s, video_id)),
                thumbnails_json(thumbnails(s, video_id)),
            )
        truth = json.loads(src.with_name(src.stem + ".truth.json").read_text())
        yield Made(ctx, src, video_id, truth, doc, listed)
    ctx.db.engine.dispose()


def decode_jpeg(path: Path) -> Frame:
    size = jpeg_size(path)
    assert size is not None, f"{path} is not a JPEG"
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "rawvideo",
         "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3)


def shrink(frame: Frame, shape: tuple[int, ...]) -> Frame:
    """Average whole blocks of pixels (what an area scaler does at an integer factor)."""
    h, w = shape[:2]
    fy, fx = frame.shape[0] // h, frame.shape[1] // w
    assert (fy * h, fx * w) == frame.shape[:2], "test media scale by whole factors"
    blocks = frame.reshape(h, fy, w, fx, 3).astype(np.float64).mean(axis=(1, 3))
    return np.rint(blocks).astype(np.uint8)


def middle_frame_ms(truth: dict[str, Any], shot: dict[str, Any]) -> int:
    """Start of the frame showing at the middle of the shot, from the truth."""
    middle = (shot["start_ms"] + shot["end_ms"]) // 2
    if truth["cfr"]:
        fps = Fraction(truth["fps"]["rational"])
        starts = [frame_to_ms(f, fps) for f in range(truth["frame_count"])]
    else:
        starts = [round_half_up(Fraction(ms)) for ms in truth["frame_pts_ms"]]
    return max(ms for ms in starts if ms <= middle)


def test_one_upright_jpeg_per_shot_of_the_right_size(made: Made) -> None:
    shots = made.doc["shots"]
    assert [s["index"] for s in shots] == [s["index"] for s in made.truth["shots"]]
    listed = made.listed["shots"]
    assert [t["index"] for t in listed] == [s["index"] for s in shots]
    # 640 px wide at most, aspect kept; the rotated phone clip comes out portrait
    expected = (640, 360) if made.truth.get("rotation") is None else (360, 640)
    folder = (made.ctx.settings.thumbs_dir / made.video_id).resolve()
    for t in listed:
        path = Path(t["path"])
        assert path.parent == folder and path.name == f"shot_{t['index']:04d}.jpg"
        assert (t["width"], t["height"]) == expected
        assert decode_jpeg(path).shape == (expected[1], expected[0], 3)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [Path(t["path"]).name for t in listed] + ["sprite.jpg", "sprite.json"]
    )  # nothing else left behind (no temporary folder)


def test_thumbnail_is_the_middle_frame(made: Made) -> None:
    info = probe(made.src)
    for shot, t in zip(made.truth["shots"], made.listed["shots"], strict=True):
        assert t["at_ms"] == middle_frame_ms(made.truth, shot), shot["index"]
        picture = decode_jpeg(Path(t["path"]))
        source = shrink(decode_frame_at(made.src, t["at_ms"], info), picture.shape)
        exact = psnr(source, picture)
        assert exact >= 30, (shot["index"], exact)
        if shot["index"] in (4, 5, 6) and made.truth["cfr"]:  # moving pictures: the next
            later = shrink(decode_frame_at(made.src, t["at_ms"] + 40, info), picture.shape)
            assert psnr(later, picture) < exact - 10  # frame is clearly another picture


def test_sprite_index_tiles_match_the_shots(made: Made) -> None:
    sprite = made.listed["sprite"]
    index = json.loads(Path(sprite["index"]).read_text())
    assert index["schema"] == "vidx.sprite/1"
    assert Path(sprite["path"]).name == index["sprite"] == "sprite.jpg"
    sheet = decode_jpeg(Path(sprite["path"]))
    assert (
        sheet.shape[:2] == (index["height"], index["width"]) == (sprite["height"], sprite["width"])
    )
    tiles = index["tiles"]
    assert [(t["index"], t["start_ms"], t["end_ms"]) for t in tiles] == [
        (s["index"], s["start_ms"], s["end_ms"]) for s in made.doc["shots"]
    ]
    assert {t["w"] for t in tiles} == {160}
    assert len({(t["x"], t["y"]) for t in tiles}) == len(tiles)  # one cell each
    pictures = [coarse(decode_jpeg(Path(t["path"]))) for t in made.listed["shots"]]
    for tile, thumb in zip(tiles, made.listed["shots"], strict=True):
        assert tile["at_ms"] == thumb["at_ms"]
        assert tile["x"] + tile["w"] <= index["width"] and tile["y"] + tile["h"] <= index["height"]
        cell = coarse(sheet[tile["y"] : tile["y"] + tile["h"], tile["x"] : tile["x"] + tile["w"]])
        # the cell pictures its own shot: closest to that shot's thumbnail, and close
        distances = [float(np.abs(cell - p).mean()) for p in pictures]
        own = [t["index"] for t in made.listed["shots"]].index(tile["index"])
        assert distances[own] == min(distances) and distances[own] < 4, (tile, distances)


def coarse(frame: Frame, n: int = 8) -> npt.NDArray[np.float64]:
    """Mean colour of an n x n grid of blocks (any size: blocks may differ by a pixel)."""
    rows = np.array_split(frame.astype(np.float64), n, axis=0)
    return np.array([[b.mean(axis=(0, 1)) for b in np.array_split(r, n, axis=1)] for r in rows])


def test_files_are_served_by_path_and_a_failed_run_keeps_the_old_set(made: Made) -> None:
    with made.ctx.db.session() as s:
        sprite = thumbnail_path(s, made.video_id, "sprite")
        first = thumbnail_path(s, made.video_id, "shot", 0)
    before = {p.name: p.read_bytes() for p in sprite.parent.iterdir()}
    not_video = sprite.parent.parent / "not_a_video.mp4"
    not_video.write_text("plain text")
    with pytest.raises(MediaToolError, match="not_a_video"):
        make_thumbnails(not_video, probe(made.src), [ShotSpan(0, 0, 1000)], sprite.parent)
    assert {p.name: p.read_bytes() for p in sprite.parent.iterdir()} == before
    assert first.is_file()


def test_every_frame_a_shot(tmp_path: Path) -> None:
    """Hundreds of shots: one select term each (a flat sum of them breaks ffmpeg 5.1)."""
    src = SYNTHETIC / "no_audio.mp4"  # 250 frames at 25 fps
    info = probe(src)
    shots = [ShotSpan(i, i * 40, i * 40 + 40) for i in range(info.frame_count)]
    made = make_thumbnails(src, info, shots, tmp_path / "t", max_width=64, tile_width=32)
    assert [t.at_ms for t in made.shots] == [s.start_ms for s in shots]
    assert len(list((tmp_path / "t").glob("shot_*.jpg"))) == 250
    # 250 tiles of 32x18: a square sheet (12 x 21 tiles, 384 x 378 px), not a tall strip
    assert (made.sprite_width, made.sprite_height) == (12 * 32, 21 * 18)
    assert jpeg_size(made.sprite) == (384, 378)


def test_a_failure_is_reported_and_fails_nothing_else(
    sqlite_ctx: AppContext, tmp_path: Path
) -> None:
    from worker.query import video_status
    from worker.tasks import make_thumbnails as task

    video = tmp_path / "gone.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi",
         "-i", "testsrc2=size=160x90:rate=25:duration=1", "-pix_fmt", "yuv420p", str(video)],
        check=True,
    )  # fmt: skip
    video_id = submit(sqlite_ctx, video, [Feature.SEGMENTS], "local", [], "accurate").video_id
    kept = video.rename(tmp_path / "kept.mp4")  # moved away after indexing
    task(video_id)  # recorded, not raised: it never fails the clips step
    with sqlite_ctx.db.session() as s:
        status = status_json(video_status(s, video_id))
    assert status["status"] == "INDEXED"
    assert status["thumbnails"]["status"] == "FAILED"
    assert "gone.mp4" in status["thumbnails"]["message"]

    kept.rename(video)  # back again: the next run makes them and clears the failure
    task(video_id)
    with sqlite_ctx.db.session() as s:
        assert "thumbnails" not in status_json(video_status(s, video_id))
        assert len(thumbnails_json(thumbnails(s, video_id))["shots"]) == 1
