"""The clip tasks (in-process, as `vidx run` runs them): a batch whose ffmpeg dies is
retried and cuts only what is missing; a batch that keeps failing marks the video FAILED
and leaves only verified clips behind. The ffmpeg processes are really killed."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from models import Clip, Video
from tests.conftest import MEDIA, make_context
from tests.cut_support import child_ffmpeg_writing_to
from worker.context import AppContext, use_context
from worker.engines.port import Feature
from worker.errors import MediaToolError
from worker.media.probe import probe
from worker.query import video_status
from worker.read_json import status_json
from worker.service import submit

pytestmark = pytest.mark.integration

SRC = MEDIA / "synthetic" / "no_audio.mp4"  # 10 s, four shots: quick to cut


@pytest.fixture
def context(tmp_path: Path, db_url: str) -> Iterator[AppContext]:
    from worker.celery_app import reconfigure

    if not SRC.is_file():
        pytest.skip(f"test media not found at {MEDIA}")
    ctx = make_context(tmp_path / "data", db_url)
    ctx.settings.retry_backoff_s = 0.05  # the retry waits, but briefly
    ctx.db.upgrade()
    reconfigure(None)
    with use_context(ctx):
        yield ctx
    ctx.db.engine.dispose()


class Killer(threading.Thread):
    """Kills the first `times` ffmpeg processes of this process that write clips."""

    def __init__(self, folder: Path, times: int) -> None:
        super().__init__(daemon=True)
        self.folder, self.times, self.killed = folder, times, 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set() and self.killed < self.times:
            pid = child_ffmpeg_writing_to(self.folder)
            if pid is not None:
                time.sleep(0.2)  # let it write part of a clip first
                try:
                    os.kill(pid, signal.SIGKILL)
                    self.killed += 1
                except ProcessLookupError:
                    continue  # it finished first: wait for the next one
                while child_ffmpeg_writing_to(self.folder) == pid:
                    time.sleep(0.01)
            time.sleep(0.005)


def _index_with_clips(ctx: AppContext, killer: Killer) -> str:
    killer.start()
    try:
        sub = submit(ctx, SRC, [Feature.SEGMENTS], "local", ["shots", "content"], "accurate")
    finally:
        killer.stop.set()
        killer.join()
    return sub.video_id


def _clip_rows(ctx: AppContext, video_id: str) -> list[Clip]:
    with ctx.db.session() as s:
        return list(s.scalars(select(Clip).where(Clip.video_id == video_id)).all())


def test_a_killed_cut_is_retried_and_the_video_gets_every_clip(
    context: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    folder = context.settings.clips_dir
    killer = Killer(folder, times=1)
    with caplog.at_level(logging.WARNING, logger="worker.tasks"):
        video_id = _index_with_clips(context, killer)
    assert killer.killed == 1
    assert any("retrying in-process" in r.getMessage() for r in caplog.records)
    with context.db.session() as s:
        status = status_json(video_status(s, video_id))
    assert status["status"] == "INDEXED", status
    rows = _clip_rows(context, video_id)
    assert len(rows) == 5  # four shots + the content clip
    on_disk = sorted(p.name for p in (folder / video_id).iterdir())
    assert on_disk == sorted(Path(c.path).name for c in rows)  # no temp or partial file
    for clip in rows:
        assert probe(Path(clip.path)).frame_count == clip.frame_count


def test_a_batch_that_keeps_failing_marks_the_video_failed_and_leaves_no_partial_clip(
    context: AppContext,
) -> None:
    context.settings.clip_retries = 1
    folder = context.settings.clips_dir
    killer = Killer(folder, times=2)  # the content clip's batch and its one retry
    # in-process the failure reaches the caller (`vidx run` prints it and exits 1)
    with pytest.raises(MediaToolError, match="killed by signal 9"):
        _index_with_clips(context, killer)
    assert killer.killed == 2
    with context.db.session() as s:
        [video_id] = s.scalars(select(Video.id)).all()
        status = status_json(video_status(s, video_id))
    assert status["status"] == "FAILED"
    assert status["features"]["segments"]["status"] == "SUCCEEDED"  # the analysis stands
    assert "killed by signal 9" in status["clips"]["message"]
    assert str(SRC.resolve()) in status["clips"]["message"]  # names the file
    rows = _clip_rows(context, video_id)
    on_disk = sorted(p.name for p in (folder / video_id).iterdir())
    assert on_disk == sorted(Path(c.path).name for c in rows)  # verified clips only
    assert ("content", 0) not in {(c.kind, c.seq) for c in rows}
