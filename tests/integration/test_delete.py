"""`vidx delete` as a use case (worker/deletion.py), on SQLite and PostgreSQL: every row and
file of the video goes, nothing of another video or of the user's does; a delete stopped
part-way is finished by a second one; jobs in flight refuse it unless forced, and steps
under way when it happens (a start, a clip batch, thumbnails) leave nothing behind."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from models import (
    AnalysisJob,
    Clip,
    DeadLetter,
    Detection,
    JobState,
    Thumbnail,
    TimelineRange,
    Video,
)
from tests.conftest import MEDIA, RECORDED, make_context
from tests.import_support import metadata_of, whole
from worker.context import AppContext, use_context
from worker.engines.local.engine import LocalEngine
from worker.engines.port import Feature, JobRequest
from worker.errors import ConflictError, IncompleteError, NotFoundError
from worker.pipeline.gone import VideoDeletedError, is_deleting
from worker.pipeline.importer import import_pages
from worker.pipeline.notify import keep_dead_letter
from worker.pipeline.stage import transcode_path
from worker.progress import reporting
from worker.service import delete_video, submit

pytestmark = pytest.mark.integration

SHORT = MEDIA / "synthetic" / "no_audio.mp4"  # 10 s, four shots
OTHER = MEDIA / "real" / "bikes.mp4"  # 10 s, six shots
TABLES: dict[str, Any] = {
    "videos": Video.id,
    "analysis_jobs": AnalysisJob.video_id,
    "detections": Detection.video_id,
    "timeline_ranges": TimelineRange.video_id,
    "clips": Clip.video_id,
    "thumbs": Thumbnail.video_id,
}


@pytest.fixture
def context(tmp_path: Path, db_url: str) -> Iterator[AppContext]:
    from worker.celery_app import reconfigure

    if not SHORT.is_file() or not OTHER.is_file():
        pytest.skip(f"test media not found at {MEDIA}")
    ctx = make_context(tmp_path / "data", db_url)
    ctx.settings.retry_backoff_s = 0.01  # a clip batch's retry waits, but briefly
    ctx.db.upgrade()
    reconfigure(None)
    with use_context(ctx):
        yield ctx
    ctx.db.engine.dispose()


def index(ctx: AppContext, path: Path) -> str:
    """Indexed as a worker does it (eager tasks): segments, shot clips, thumbnails."""
    return submit(ctx, path, [Feature.SEGMENTS], "local", ["shots"], "copy").video_id


def as_upload(ctx: AppContext, path: Path, name: str) -> Path:
    """The file where POST /videos keeps an upload: uploads/<sha256 prefix>/<name>."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    target = ctx.settings.data_dir / "uploads" / digest[:16] / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)
    return target


def rows_of(ctx: AppContext, video_id: str) -> dict[str, int]:
    with ctx.db.session() as s:
        counts = {
            name: int(s.scalar(select(func.count()).where(column == video_id)) or 0)
            for name, column in TABLES.items()
        }
        counts["dead_letters"] = int(
            s.scalar(select(func.count()).where(DeadLetter.body.contains(video_id))) or 0
        )
    return counts


def tree(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file and folder under `folder`: kind and size (a folder's is 0)."""
    return {
        str(p.relative_to(folder)): ("dir", 0) if p.is_dir() else ("file", p.stat().st_size)
        for p in sorted(folder.rglob("*"))
    }


def files_only(entries: dict[str, tuple[str, int]]) -> dict[str, tuple[str, int]]:
    return {k: v for k, v in entries.items() if v[0] == "file"}


def test_every_row_and_file_of_the_video_goes_and_nothing_else(
    context: AppContext, tmp_path: Path
) -> None:
    ctx = context
    data = ctx.settings.data_dir
    # B: the user's own file outside the data dir, indexed first
    user_file = tmp_path / "user" / "bikes.mp4"
    user_file.parent.mkdir()
    shutil.copyfile(OTHER, user_file)
    other = index(ctx, user_file)
    keep_dead_letter(ctx, json.dumps({"JobTag": other}), "unusable", "m-other")
    before_a = tree(data)
    rows_b = rows_of(ctx, other)
    assert rows_b["clips"] and rows_b["thumbs"] and rows_b["dead_letters"] == 1

    # A: an upload (as the API keeps it), clips, thumbnails, recorded moderation results
    # imported onto it, a transcode for Rekognition and dead letters naming it and its job
    upload = as_upload(ctx, SHORT, "film.mp4")
    vid = index(ctx, upload)
    with ctx.db.session() as s:
        video = s.get_one(Video, vid)
        pages = whole(RECORDED[1][0], tmp_path / "pages", metadata_of(video))
    import_pages(ctx, Feature.MODERATION, [pages], vid)
    with ctx.db.session() as s:
        sha = video.sha256 or ""
        engine_ids = [j.engine_job_id for j in video_jobs(s, vid)]
    transcode = transcode_path(ctx, sha)
    transcode.parent.mkdir(parents=True)
    shutil.copyfile(SHORT, transcode)
    keep_dead_letter(ctx, json.dumps({"JobTag": vid}), "unusable", "m1")
    keep_dead_letter(ctx, f"JobId {engine_ids[-1]} not found", "unusable", "m2")
    rows_a = rows_of(ctx, vid)
    assert all(rows_a.values()), rows_a  # something in every table
    made_by_a = set(tree(data)) - set(before_a)
    assert {f"uploads/{sha[:16]}/film.mp4", f"clips/{vid}", f"thumbs/{vid}/sprite.jpg"} <= (
        made_by_a
    )
    assert any(p.startswith("results/local/") for p in made_by_a)  # the engine's result

    done = delete_video(ctx, vid)

    assert rows_of(ctx, vid) == dict.fromkeys(rows_a, 0)
    with ctx.db.session() as s:  # the dead letter naming A's job, not A, went too
        assert not s.scalar(select(func.count()).where(DeadLetter.message_id.in_(["m1", "m2"])))
    assert rows_of(ctx, other) == rows_b
    after = tree(data)
    # every file is B's, exactly as before A came; the only folders A leaves are the
    # shared top-level ones it was the first to need
    assert files_only(after) == files_only(before_a)
    assert set(after) - set(before_a) <= {"uploads", "transcoded"}
    assert user_file.is_file() and user_file.stat().st_size == OTHER.stat().st_size
    assert done.rows["videos"] == 1 and done.rows["dead_letters"] == 2
    assert done.rows["detections"] == rows_a["detections"]
    assert str(upload) in done.files and not done.s3_objects

    with pytest.raises(NotFoundError, match=f"no video with id '{vid}'"):
        delete_video(ctx, vid)  # the second delete: the id is unknown now


def video_jobs(s: Any, video_id: str) -> list[AnalysisJob]:
    return list(s.scalars(select(AnalysisJob).where(AnalysisJob.video_id == video_id)))


def test_the_users_file_and_a_kept_upload_stay(context: AppContext, tmp_path: Path) -> None:
    ctx = context
    user_file = tmp_path / "mine.mp4"
    shutil.copyfile(SHORT, user_file)
    vid = index(ctx, user_file)
    done = delete_video(ctx, vid, remote=True)  # never on AWS: no S3 request is made
    assert user_file.is_file() and rows_of(ctx, vid)["videos"] == 0
    assert done.notes == ["nothing of this video in S3 (it was not analysed on AWS)"]
    assert done.kept == [
        f"{user_file.resolve()} (the source file: vidx never deletes a user's file)"
    ]

    upload = as_upload(ctx, OTHER, "bikes.mp4")
    vid = index(ctx, upload)
    done = delete_video(ctx, vid, keep_source=True)
    assert upload.is_file() and rows_of(ctx, vid)["videos"] == 0
    assert done.kept == [f"{upload.resolve()} (--keep-source)"]
    # the kept upload is all that is left of it: the same file can be submitted again
    assert index(ctx, upload) == vid


def pending(ctx: AppContext, path: Path) -> tuple[str, int]:
    """A video registered with its job PENDING (queued, not started)."""
    sub = submit(ctx, path, [Feature.SEGMENTS], "local", [], "copy", enqueue=lambda *_: None)
    return sub.video_id, sub.job_ids[0]


def test_jobs_in_flight_refuse_the_delete_unless_forced(context: AppContext) -> None:
    ctx = context
    vid, job_id = pending(ctx, SHORT)
    with pytest.raises(ConflictError, match=r"jobs in flight \(segments PENDING\).*--force"):
        delete_video(ctx, vid)
    with ctx.db.session() as s:  # refused: nothing changed, not even the mark
        assert not is_deleting(s.get_one(Video, vid))
        assert s.get_one(AnalysisJob, job_id).state == JobState.PENDING
    delete_video(ctx, vid, force=True)
    assert set(rows_of(ctx, vid).values()) == {0}

    from worker.tasks import collect_job, start_job

    # the queued start (and a stray collect) of the deleted job run later: nothing happens
    start_job.delay(job_id)
    collect_job.delay(job_id)
    assert set(rows_of(ctx, vid).values()) == {0}
    assert not list(ctx.settings.data_dir.rglob("*.json"))  # no engine result was made


class DeletingEngine(LocalEngine):
    """The local engine, with a forced delete of the video while it analyses."""

    def start(self, request: JobRequest, progress: Any = None) -> str:
        delete_video(get_ctx(), request.video.video_id, force=True)
        return super().start(request, progress)


def get_ctx() -> AppContext:
    from worker.context import get_context

    return get_context()


def test_forced_delete_while_the_job_starts(context: AppContext) -> None:
    from worker.tasks import start_job

    ctx = context
    vid, job_id = pending(ctx, SHORT)
    with ctx.db.session() as s:
        token = s.get_one(AnalysisJob, job_id).client_token
    engine = DeletingEngine(ctx.settings.results_dir / "local")
    ctx._engines["local"] = engine
    start_job.delay(job_id)  # claims, starts: the delete runs inside, the analysis ends after
    assert set(rows_of(ctx, vid).values()) == {0}
    # the result the analysis wrote after the delete is removed by the start itself
    assert not engine.result_path(token).exists()
    assert files_only(tree(ctx.settings.data_dir)) == {}


class DeleteAtStep:
    """A progress reporter that deletes the video when a step begins (a delete arriving
    while a task works on it)."""

    def __init__(self, ctx: AppContext, video_id: str, step: str, **options: bool) -> None:
        self.ctx, self.video_id, self.at, self.deleted = ctx, video_id, step, False
        self.options = options  # delete_video's (force, remote, keep_source)

    def step(self, name: str, total: float | None = None) -> None:
        if name == self.at and not self.deleted:
            self.deleted = True
            delete_video(self.ctx, self.video_id, **self.options)

    def count(self, name: str, total: int) -> None:
        self.step(name)

    def advance(self, fraction: float) -> None:
        pass

    def add(self, n: int) -> None:
        pass

    def analysed(self, video_id: str) -> None:
        pass

    def done(self) -> None:
        pass


def segmented(ctx: AppContext, path: Path) -> str:
    """Indexed without clips: the clip tasks are what the test runs."""
    return submit(ctx, path, [Feature.SEGMENTS], "local", [], "copy").video_id


def test_clip_batch_under_way_leaves_nothing(context: AppContext) -> None:
    from worker.pipeline.clips import plan_clips
    from worker.tasks import cut_clip_batch

    ctx = context
    vid = segmented(ctx, SHORT)
    items = [[p.kind, p.seq] for p in plan_clips(ctx, vid, ["shots"])]
    rep = DeleteAtStep(ctx, vid, "clips")
    with reporting(rep):  # deleted after the batch made its folder, before ffmpeg wrote
        cut_clip_batch.delay(vid, items, "copy")
    assert rep.deleted and set(rows_of(ctx, vid).values()) == {0}
    assert files_only(tree(ctx.settings.data_dir)) == {}
    assert not (ctx.settings.clips_dir / vid).exists()


def test_clips_cut_while_the_video_was_deleted_are_not_kept(context: AppContext) -> None:
    """The cut finishes after the delete (into a folder the delete does not own): the
    clips are not registered and the files go."""
    from worker.pipeline.clip_request import ClipRequest
    from worker.pipeline.clips import make_clips

    ctx = context
    vid = segmented(ctx, SHORT)
    out = ctx.settings.data_dir / "exports"
    with reporting(DeleteAtStep(ctx, vid, "clips")), pytest.raises(VideoDeletedError):
        make_clips(ctx, vid, ClipRequest(("shots",), "copy"), out)
    assert set(rows_of(ctx, vid).values()) == {0}
    assert not [p for p in out.rglob("*") if p.is_file()]


def test_thumbnails_under_way_leave_nothing(context: AppContext) -> None:
    from worker.tasks import make_thumbnails

    ctx = context
    vid = segmented(ctx, SHORT)
    rep = DeleteAtStep(ctx, vid, "thumbnails")
    with reporting(rep):  # deleted before the pictures were written and registered
        make_thumbnails.delay(vid)
    assert rep.deleted and set(rows_of(ctx, vid).values()) == {0}
    assert files_only(tree(ctx.settings.data_dir)) == {}


def test_a_delete_stopped_part_way_is_finished_by_the_next(
    context: AppContext, tmp_path: Path
) -> None:
    """A folder that cannot be removed (the thumbnails folder replaced by a symlink, which
    the delete never follows) stops it before the rows; it names the folder, the video
    stays marked, nothing outside the data dir is touched, and the next delete finishes."""
    from worker.tasks import cut_clips_task

    ctx = context
    vid = index(ctx, SHORT)
    thumbs = ctx.settings.thumbs_dir / vid
    elsewhere = tmp_path / "elsewhere"
    shutil.move(thumbs, elsewhere)
    thumbs.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(IncompleteError, match=f"thumbs/{vid}: .*delete it again"):
        delete_video(ctx, vid)
    with ctx.db.session() as s:
        assert is_deleting(s.get_one(Video, vid))
    assert not (ctx.settings.clips_dir / vid).exists()  # what could go went
    assert list(elsewhere.iterdir())  # the symlink's target is not the data dir's
    # meanwhile: the pipeline makes nothing for it, and submitting it again is refused
    rows = rows_of(ctx, vid)
    cut_clips_task.delay(vid)
    assert rows_of(ctx, vid) == rows and not (ctx.settings.clips_dir / vid).exists()
    with pytest.raises(ConflictError, match="being deleted"):
        index(ctx, SHORT)

    thumbs.unlink()  # the problem fixed: the next delete (no --force) finishes
    done = delete_video(ctx, vid)
    assert done.rows["videos"] == 1 and set(rows_of(ctx, vid).values()) == {0}
    assert files_only(tree(ctx.settings.data_dir)) == {}


def test_unknown_id_on_a_fresh_context(tmp_path: Path) -> None:
    ctx = make_context(tmp_path / "data", f"sqlite:///{tmp_path / 'vidx.db'}")
    with use_context(ctx), pytest.raises(NotFoundError, match="no video with id 'nope'"):
        delete_video(ctx, "nope")
