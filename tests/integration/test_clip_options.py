"""Minimum clip length and --keep-opening-credits through worker.pipeline.clips, on
programme_720p25.mp4 (analysed by the local engine), checked against its truth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from models import Clip, Video
from tests.conftest import MEDIA, make_context
from worker.context import AppContext, use_context
from worker.engines.port import Feature
from worker.errors import VidxError
from worker.media.frames import decode_frame_at, psnr
from worker.media.probe import probe
from worker.pipeline import clip_request, clips
from worker.query import video_status
from worker.read_json import status_json
from worker.service import submit

pytestmark = pytest.mark.integration

SRC = MEDIA / "synthetic" / "programme_720p25.mp4"
# shots that end up in one clip at a 3.5 s minimum (see tests/unit/test_clip_merge.py):
# bars, black, slate, credits and the 520 ms black gap are cues of their own
MERGED_3500 = [[0], [1], [2], [3], [4, 5], [6, 7], [8], [9], [10], [11, 12], [13], [14]]


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    if not SRC.is_file():
        pytest.skip(f"test media not found at {MEDIA}")
    data: dict[str, Any] = json.loads(SRC.with_name("programme_720p25.truth.json").read_text())
    return data


@pytest.fixture(scope="module")
def indexed(
    truth: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AppContext, str]]:
    """Segments analysed once; submitted with a 3.5 s minimum and the credits kept."""
    from worker.celery_app import reconfigure

    data = tmp_path_factory.mktemp("options")
    ctx = make_context(data / "data", f"sqlite:///{data / 'vidx.db'}")
    ctx.db.upgrade()
    reconfigure(None)
    with use_context(ctx):
        sub = submit(
            ctx,
            SRC,
            [Feature.SEGMENTS],
            "local",
            [],
            "accurate",
            min_length_ms=3500,
            keep_opening_credits=True,
        )
        yield ctx, sub.video_id
    ctx.db.engine.dispose()


def spans(plans: list[clips.ClipPlan], kind: str) -> list[tuple[int, int, int]]:
    return [(p.seq, p.start_ms, p.end_ms) for p in plans if p.kind == kind]


def test_stored_options_plan_merged_shots_and_the_credits(
    indexed: tuple[AppContext, str], truth: dict[str, Any]
) -> None:
    ctx, video_id = indexed
    with ctx.db.session() as s:
        video = s.get_one(Video, video_id)
        assert (video.clip_min_length_ms, video.clip_keep_opening_credits) == (3500, True)
    # what every cut_clip_batch task plans, from the stored request alone
    plans = clips.plan_clips(ctx, video_id, ["content", "shots"])
    shots = truth["shots"]
    assert spans(plans, "shot") == [
        (shots[g[0]]["index"], shots[g[0]]["start_ms"], shots[g[-1]]["end_ms"]) for g in MERGED_3500
    ]
    credits = next(c for c in truth["technical_cues"] if c["type"] == "OpeningCredits")
    assert spans(plans, "content") == [(0, credits["start_ms"], truth["content_range_ms"][1])]
    names = [p.filename for p in plans if p.kind == "shot"]
    assert names[4] == "programme_720p25_shot_0004_00-00-10.000.mp4"  # named after shot 4


def test_off_by_default_plans_one_clip_per_shot_and_the_trimmed_content(
    indexed: tuple[AppContext, str], truth: dict[str, Any]
) -> None:
    ctx, video_id = indexed
    clip_request.set_clip_options(ctx, video_id, 0, False)
    try:
        plans = clips.plan_clips(ctx, video_id, ["content", "shots"])
    finally:
        clip_request.set_clip_options(ctx, video_id, 3500, True)
    assert spans(plans, "shot") == [
        (s["index"], s["start_ms"], s["end_ms"]) for s in truth["shots"]
    ]
    assert spans(plans, "content") == [(0, *truth["content_range_ms"])]
    with pytest.raises(VidxError, match="minimum clip length"):
        clip_request.set_clip_options(ctx, video_id, -1)


def test_merged_clip_spans_both_shots(
    indexed: tuple[AppContext, str], truth: dict[str, Any]
) -> None:
    """Shots 6 (6 s) + 7 (2.4 s): one clip from shot 6's first frame to shot 7's last."""
    ctx, video_id = indexed
    [plan] = [p for p in clips.plan_clips(ctx, video_id, ["shots"]) if p.seq == 6]
    [clip] = clips.cut_plans(ctx, video_id, [plan])
    first, last = truth["shots"][6], truth["shots"][7]
    info = probe(Path(clip.path))
    frames = last["end_frame_inclusive"] - first["start_frame"] + 1
    assert info.frame_count == clip.frame_count == frames == 210
    assert abs(info.duration_ms - (last["end_ms"] - first["start_ms"])) <= 40
    assert psnr(decode_frame_at(Path(clip.path), 0), decode_frame_at(SRC, first["start_ms"])) >= 40
    end = info.duration_ms - 1
    assert (
        psnr(decode_frame_at(Path(clip.path), end), decode_frame_at(SRC, last["end_ms"] - 1)) >= 40
    )


def test_status_counts_merged_clips_and_stale_clips_are_pruned(
    indexed: tuple[AppContext, str],
) -> None:
    """Clip rows stand in for cut files here: what is checked is the bookkeeping."""
    ctx, video_id = indexed
    plans = clips.plan_clips(ctx, video_id, ["shots"])
    folder = ctx.settings.clips_dir / video_id
    folder.mkdir(parents=True, exist_ok=True)
    stale = folder / "from_an_older_request.mp4"
    stale.write_bytes(b"x")
    with ctx.db.session() as s:
        s.get_one(Video, video_id).requested_clips = ["shots"]
        s.execute(Clip.__table__.delete())
        # shot 5 alone: what a request without the minimum made
        s.add(_row(video_id, 5, 15000, 18200, stale))
        s.add_all(
            _row(video_id, p.seq, p.start_ms, p.end_ms, folder / p.filename) for p in plans[:-1]
        )
    with ctx.db.session() as s:
        assert (
            status_json(video_status(s, video_id))["status"] == "PROCESSING"
        )  # the last clip is missing
        s.add(_row(video_id, plans[-1].seq, plans[-1].start_ms, plans[-1].end_ms, folder / "z"))
    with ctx.db.session() as s:
        assert (
            status_json(video_status(s, video_id))["status"] == "INDEXED"
        )  # 12 clips for 15 shots

    dropped = clip_request.prune_stale(ctx, video_id, plans, "accurate")
    assert dropped == [str(stale)] and not stale.exists()
    with ctx.db.session() as s:
        seqs = s.scalars(select(Clip.seq).where(Clip.video_id == video_id).order_by(Clip.seq))
        assert list(seqs) == [p.seq for p in plans]
        s.get_one(Video, video_id).requested_clips = []


def _row(video_id: str, seq: int, start: int, end: int, path: Path) -> Clip:
    return Clip(
        video_id=video_id,
        kind="shot",
        seq=seq,
        mode="accurate",
        requested_mode="accurate",
        codec="h264",
        start_ms=start,
        end_ms=end,
        duration_ms=end - start,
        frame_count=None,
        drift_ms=None,
        path=str(path),
        size_bytes=1,
    )
