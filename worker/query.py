"""Read side shared by the CLI and the HTTP API: status, timeline, thumbnails, queries.

Returns the typed values of worker.read_model (worker/read_json.py turns them into JSON
at the edges). Reads the database and derives, never imports a pipeline step: clip
planning comes from worker.clip_plan, which the pipeline uses too."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from models import AnalysisJob, Clip, Detection, JobState, Thumbnail, TimelineRange, Video
from models.video import EXTRA_CLIPS_ERROR, EXTRA_THUMBS_ERROR
from worker import read_model as rm
from worker.clip_plan import Cue, Span, content_range, merge_short_shots
from worker.errors import NotFoundError, VideoNotFoundError, VidxError
from worker.media.cut_codec import resolve as resolve_codec
from worker.media.decode_errors import CHECK_KEY, DecodeReport, span_note
from worker.media.sprite_files import INDEX_NAME
from worker.results import DECODE_ERROR

# search across videos lives in worker/search.py; the CLI and the API take it from here
from worker.search import QUERY_KINDS as QUERY_KINDS
from worker.search import InvalidCursorError as InvalidCursorError
from worker.search import InvalidQueryError as InvalidQueryError
from worker.search import QueryFilter as QueryFilter
from worker.search import QueryPage as QueryPage
from worker.search import QueryRow as QueryRow
from worker.search import VideoHits as VideoHits
from worker.search import VideoHitsPage as VideoHitsPage
from worker.search import decode_cursor, encode_cursor
from worker.search import moderation_by_video as moderation_by_video
from worker.search import query_statement as query_statement
from worker.search import run_query as run_query
from worker.search import search as search


def _video(session: Session, video_id: str) -> Video:
    video = session.get(Video, video_id)
    if video is None:
        raise VideoNotFoundError(video_id)
    return video


def cues_of(session: Session, video_id: str) -> list[Cue]:
    """Technical cues as (type, start_ms, end_ms), in time order."""
    cues = session.execute(
        select(TimelineRange.name, TimelineRange.start_ms, TimelineRange.end_ms)
        .where(TimelineRange.video_id == video_id, TimelineRange.kind == "cue")
        .order_by(TimelineRange.start_ms)
    ).all()
    return [(n, s, e) for n, s, e in cues]


def content_range_of(session: Session, video_id: str) -> tuple[int, int] | None:
    return content_range(cues_of(session, video_id))


def shot_clip_spans(session: Session, video: Video) -> list[Span]:
    """The shot clips the video's request plans: one per shot, short ones merged."""
    shots = [Span(r.seq, r.start_ms, r.end_ms) for r in _ranges(session, video.id, "shot")]
    merged = merge_short_shots(shots, video.clip_min_length_ms, cues_of(session, video.id))
    return [Span(m.seq, m.start_ms, m.end_ms) for m in merged]


def video_status(session: Session, video_id: str) -> rm.VideoStatus:
    video = _video(session, video_id)
    jobs = session.scalars(
        select(AnalysisJob).where(AnalysisJob.video_id == video_id).order_by(AnalysisJob.id)
    ).all()
    features = {j.feature: rm.StepState(j.state, j.message) for j in jobs}
    clips_ok = all(_clips_complete(session, video, k) for k in video.requested_clips)
    clips_error = video.extra.get(EXTRA_CLIPS_ERROR)
    if any(j.state == JobState.FAILED for j in jobs) or clips_error:
        status = "FAILED"
    elif (
        all(f in features for f in video.requested_features)
        and all(j.state == JobState.SUCCEEDED for j in jobs)
        and clips_ok
    ):
        status = "INDEXED"
    else:
        status = "PROCESSING"
    thumbs_error = video.extra.get(EXTRA_THUMBS_ERROR)  # reported, but the video stands
    return rm.VideoStatus(
        video.id,
        status,
        features,
        clips=rm.StepState("FAILED", clips_error) if clips_error else None,
        thumbnails=rm.StepState("FAILED", thumbs_error) if thumbs_error else None,
    )


def _clips_complete(session: Session, video: Video, kind: str) -> bool:
    """Every requested clip exists: one per shot (short shots merged), or the content clip,
    made for the video's request (mode asked for, whatever mode made it; codec)."""
    try:
        codec = resolve_codec(video.clip_codec, video.video_codec, video.clip_mode)
    except VidxError:  # a request that cannot be cut (refused when it was made)
        return False
    made = set(
        session.scalars(
            select(Clip.seq).where(
                Clip.video_id == video.id,
                Clip.kind == ("shot" if kind == "shots" else "content"),
                Clip.requested_mode == video.clip_mode,
                Clip.codec == codec,
            )
        )
    )
    if kind == "content":
        return bool(made)
    # by index, not by times: a merged clip is numbered after its first shot
    planned = {span.seq for span in shot_clip_spans(session, video)}
    return bool(planned) and planned <= made


VIDEO_STATUSES = ("PROCESSING", "INDEXED", "FAILED")
# rows a page with a status filter reads at most: status is derived from the jobs, so it
# filters as rows are read, and a rare status must not make one page read every video
_MAX_SCAN = 1000


def list_videos(session: Session, limit: int = 100) -> list[rm.VideoSummary]:
    return video_page(session, limit).items


def video_page(
    session: Session,
    limit: int = 100,
    *,
    status: str | None = None,
    filename: str | None = None,
    after: str | None = None,
) -> rm.VideoPage:
    """Videos newest first, a page at a time (keyset cursor on created_at, id).

    `filename` matches part of the name, any case. With `status` a page may hold fewer
    than `limit` videos and still have a next cursor (it read `_MAX_SCAN` rows).
    """
    if status is not None and status not in VIDEO_STATUSES:
        raise InvalidQueryError(f"unknown status {status!r} (choose from: {VIDEO_STATUSES})")
    if limit < 1:
        raise InvalidQueryError(f"limit must be at least 1, not {limit}")
    fingerprint = hashlib.sha256(repr(("videos", status, filename)).encode()).hexdigest()[:10]
    stmt = select(Video.id, Video.created_at).order_by(Video.created_at.desc(), Video.id.desc())
    if filename:
        stmt = stmt.where(Video.filename.icontains(filename, autoescape=True))
    key: tuple[datetime, str] | None = None
    if after is not None:
        at, vid = decode_cursor(after, fingerprint, (str, str))
        try:
            key = (datetime.fromisoformat(at), vid)
        except ValueError:
            raise InvalidCursorError(f"invalid cursor {after[:40]!r}") from None
    items: list[rm.VideoSummary] = []
    size, scanned = limit + 1, 0
    while True:
        page = stmt
        if key is not None:
            at_key, id_key = key
            tie = and_(Video.created_at == at_key, Video.id < id_key)
            page = stmt.where(or_(Video.created_at < at_key, tie))
        batch = session.execute(page.limit(size)).all()
        for vid, created in batch:
            if len(items) == limit or scanned == _MAX_SCAN:  # more rows follow
                assert key is not None
                return rm.VideoPage(items, encode_cursor(fingerprint, [key[0].isoformat(), key[1]]))
            key, scanned = (created, vid), scanned + 1
            st = video_status(session, vid)
            if status is None or st.status == status:
                video = session.get_one(Video, vid)
                items.append(
                    rm.VideoSummary(st, video.filename, video.duration_ms, video.created_at)
                )
        if len(batch) < size:
            return rm.VideoPage(items, None)


def _ranges(session: Session, video_id: str, kind: str) -> Sequence[TimelineRange]:
    return session.scalars(
        select(TimelineRange)
        .where(TimelineRange.video_id == video_id, TimelineRange.kind == kind)
        .order_by(TimelineRange.start_ms, TimelineRange.seq)
    ).all()


def notes_of(session: Session, video: Video) -> list[rm.Note]:
    """What the timeline should be read with: spans of decode errors (a damaged file
    that was accepted, decode_errors.py), in time order."""
    rows = session.execute(
        select(Detection.start_ms, Detection.end_ms, Detection.data)
        .where(Detection.video_id == video.id, Detection.kind == DECODE_ERROR)
        .order_by(Detection.start_ms, Detection.id)
    ).all()
    spans = {(int(s), int(e if e is not None else s), int(d.get("errors", 0))) for s, e, d in rows}
    if checked := video.extra.get(CHECK_KEY):  # the check decode before an upload
        spans |= {(s.start_ms, s.end_ms, s.errors) for s in DecodeReport.from_page(checked).spans}
    return [
        rm.Note("DecodeErrors", start, end, errors, span_note(start, end, errors))
        for start, end, errors in sorted(spans)
    ]


def timeline(session: Session, video_id: str) -> rm.Timeline:
    """The `vidx.timeline/1` document (DESIGN.md, Contracts)."""
    video = _video(session, video_id)
    jobs = session.scalars(select(AnalysisJob).where(AnalysisJob.video_id == video_id)).all()
    clips = session.scalars(
        select(Clip).where(Clip.video_id == video_id).order_by(Clip.kind.desc(), Clip.seq)
    ).all()
    return rm.Timeline(
        video=rm.VideoFacts(
            id=video.id,
            source=video.source,
            duration_ms=video.duration_ms,
            fps=video.fps_text,
            frame_count=video.frame_count,
            width=video.width,
            height=video.height,
            start_timecode=video.start_timecode,
            audio_channels=video.audio_channels,
        ),
        features={j.feature: rm.FeatureRun(j.state, j.engine, j.model_version) for j in jobs},
        shots=tuple(
            rm.ShotRange(r.seq, r.start_ms, r.end_ms, r.start_frame, r.end_frame, r.max_confidence)
            for r in _ranges(session, video_id, "shot")
        ),
        technical_cues=tuple(
            rm.CueRange(r.name, r.start_ms, r.end_ms, r.max_confidence)
            for r in _ranges(session, video_id, "cue")
        ),
        labels=tuple(
            rm.LabelRange(r.name, tuple(r.data.get("parents", ())), *_span(r))
            for r in _ranges(session, video_id, "label")
        ),
        moderation=tuple(
            rm.ModerationRange(r.name, r.parent or "", *_span(r))
            for r in _ranges(session, video_id, "moderation")
        ),
        faces=tuple(
            rm.FaceRange(*_span(r), attributes=dict(r.data.get("attributes", {})))
            for r in _ranges(session, video_id, "face")
        ),
        text=tuple(rm.TextRange(r.name, *_span(r)) for r in _ranges(session, video_id, "text")),
        content_range_ms=content_range_of(session, video_id),
        notes=tuple(notes_of(session, video)),
        clips=tuple(
            rm.TimelineClip(c.kind, c.seq, c.start_ms, c.end_ms, c.path, c.mode, c.codec, c.note)
            for c in clips
        ),
    )


def thumbnails(session: Session, video_id: str) -> rm.Thumbnails:
    """The video's shot thumbnails and sprite sheet (for the viewer); empty when none."""
    _video(session, video_id)
    rows = session.scalars(
        select(Thumbnail).where(Thumbnail.video_id == video_id).order_by(Thumbnail.seq)
    ).all()
    sprite = next((r for r in rows if r.kind == "sprite"), None)
    return rm.Thumbnails(
        video_id,
        None
        if sprite is None
        else rm.SpriteSheet(
            sprite.path,
            str(Path(sprite.path).with_name(INDEX_NAME)),
            sprite.width,
            sprite.height,
        ),
        tuple(
            rm.ShotThumbnail(r.seq, r.path, r.width, r.height, r.at_ms)
            for r in rows
            if r.kind == "shot"
        ),
    )


def thumbnail_path(session: Session, video_id: str, kind: str, seq: int = 0) -> Path:
    """The file of one thumbnail (`shot` by index, or the `sprite`), for serving."""
    path = session.scalar(
        select(Thumbnail.path).where(
            Thumbnail.video_id == video_id, Thumbnail.kind == kind, Thumbnail.seq == seq
        )
    )
    if path is None:
        raise NotFoundError(f"video {video_id} has no {kind} thumbnail {seq}")
    return Path(path)


def _span(r: TimelineRange) -> tuple[int, int, float | None, int]:
    """(start_ms, end_ms, max_confidence, detections): the fields every run of detections has."""
    return r.start_ms, r.end_ms, r.max_confidence, r.detections
