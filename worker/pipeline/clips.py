"""Cut clips at shots and around the programme (content range), register them once verified."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from sqlalchemy import select

from models import Clip, Video
from worker.clip_plan import content_clip_range, content_range
from worker.context import AppContext
from worker.errors import MediaToolError, VidxError
from worker.media.cut import CutResult
from worker.media.cut_codec import CODECS, resolve, suffix
from worker.media.cutting import MODES as CUT_MODES
from worker.media.cutting import cut_spans
from worker.media.probe import probe
from worker.pipeline import clip_request, clip_upload, failures, gone, thumbs
from worker.pipeline.clip_request import DEFAULT_CODEC, DEFAULT_MODE, ClipRequest
from worker.progress import reporter
from worker.query import cues_of, notes_of, shot_clip_spans
from worker.read_model import Note
from worker.store import upsert_clip
from worker.timecode import format_hms

log = logging.getLogger(__name__)

MODES = CUT_MODES
CLIP_CODECS = CODECS
# media re-encoded per task: accurate mode runs at roughly real time on 2 cores
MAX_BATCH_MEDIA_MS = 15 * 60 * 1000
# clips handed to the cutter at once, registered together (copy runs 16 to an ffmpeg run)
CLIPS_PER_CALL = 16


@dataclass(frozen=True)
class ClipPlan:
    kind: str  # shot | content
    seq: int
    start_ms: int
    end_ms: int
    filename: str  # .mp4; a ProRes clip's is .mov (file_name)

    def file_name(self, codec: str) -> str:
        return str(Path(self.filename).with_suffix(suffix(codec)))


def safe_stem(name: str) -> str:
    """A file-name stem that cannot leave the clips folder or confuse a shell."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem).strip("._-")
    return stem[:60] or "video"


def plan_clips(ctx: AppContext, video_id: str, kinds: list[str]) -> list[ClipPlan]:
    with ctx.db.session() as s:
        video = gone.video_to_work_on(s, video_id)
        stem = safe_stem(video.filename)
        plans: list[ClipPlan] = []
        if "content" in kinds:
            cues = cues_of(s, video_id)
            rng = content_clip_range(cues, content_range(cues), video.clip_keep_opening_credits)
            if rng is None:
                raise VidxError(
                    f"video {video_id}: no content range (run the segments feature first)"
                )
            plans.append(
                ClipPlan("content", 0, rng[0], rng[1], f"{stem}_content_{_hms(rng[0])}.mp4")
            )
        if "shots" in kinds:
            # one clip per shot; under the video's minimum length, merged with a neighbour
            shots = shot_clip_spans(s, video)
            if not shots:
                raise VidxError(f"video {video_id}: no shots (run the segments feature first)")
            plans += [
                ClipPlan(
                    "shot",
                    r.seq,
                    r.start_ms,
                    r.end_ms,
                    f"{stem}_shot_{r.seq:04d}_{_hms(r.start_ms)}.mp4",
                )
                for r in shots
            ]
    return plans


def _existing(
    ctx: AppContext, video_id: str, plan: ClipPlan, mode: str, codec: str, target: Path
) -> Clip | None:
    """The clip an earlier run made for this request (mode asked for, codec), if it is
    still the plan's and on disk: a smart request that fell back to accurate is reused."""
    with ctx.db.session() as s:
        clip = s.scalar(
            select(Clip).where(
                Clip.video_id == video_id,
                Clip.kind == plan.kind,
                Clip.seq == plan.seq,
                Clip.requested_mode == mode,
                Clip.codec == codec,
            )
        )
    if clip is None or (clip.start_ms, clip.end_ms) != (plan.start_ms, plan.end_ms):
        return None
    if Path(clip.path) != target or not target.is_file():
        return None
    # clips of other requests (modes) share its name: one cut since replaced the file
    return clip if target.stat().st_size == clip.size_bytes else None


def _hms(ms: int) -> str:
    return format_hms(ms).replace(":", "-")


def batches(
    plans: list[ClipPlan], parts: int = 1, max_media_ms: int = MAX_BATCH_MEDIA_MS
) -> list[list[ClipPlan]]:
    """Group clips into tasks: the content clip first and alone, the shots in about
    `parts` runs of neighbouring shots (so several workers cut one video at once), none
    holding more than `max_media_ms` of media.

    The media bound keeps each Celery task well under the broker's visibility timeout
    on long videos; neighbours stay together because copy and smart cut a batch in
    shared ffmpeg runs.
    """
    out = [[p] for p in plans if p.kind == "content"]
    shots = [p for p in plans if p.kind != "content"]
    total = sum(p.end_ms - p.start_ms for p in shots)
    per_part = min(max_media_ms, -(-total // max(parts, 1))) if total else max_media_ms
    current: list[ClipPlan] = []
    size = 0
    for plan in shots:
        length = plan.end_ms - plan.start_ms
        if current and size + length > per_part:
            out.append(current)
            current, size = [], 0
        current.append(plan)
        size += length
    if current:
        out.append(current)
    return out


def record_failure(ctx: AppContext, video_id: str, message: str) -> bool:
    """Keep the failure on the video for `status`; False when the video was deleted."""
    return failures.record(ctx, video_id, failures.CLIPS, message)


def clear_failure(ctx: AppContext, video_id: str) -> None:
    """Forget an earlier request's clip failure: called once when a request starts,
    never by a batch (which would hide a sibling batch's failure)."""
    with ctx.db.session() as s:
        failures.clear(s.get_one(Video, video_id), failures.CLIPS)


def prepare(ctx: AppContext, video_id: str, request: ClipRequest) -> list[ClipPlan]:
    """The clips a request asks for, before any is cut: a codec the mode cannot give is
    refused before anything is written; then the options are stored (None: as stored),
    clips an earlier request made that this plan drops are removed and the last failure
    is cleared. `vidx clips` and the clips task both start here."""
    clip_request.check_request(request.kinds, request.mode, request.codec)
    mode, codec = request.mode, request.codec
    resolved = clip_request.resolved_codec(ctx, video_id, mode, codec)
    clip_request.set_clip_options(
        ctx, video_id, request.min_length_ms, request.keep_opening_credits
    )
    plans = plan_clips(ctx, video_id, list(request.kinds))
    clip_request.prune_stale(ctx, video_id, plans, mode, resolved)
    clear_failure(ctx, video_id)
    return plans


def make_clips(
    ctx: AppContext,
    video_id: str,
    request: ClipRequest,
    out: Path | None = None,
    *,
    thumbnails: bool = False,
) -> list[Clip]:
    """Cut the clips asked for; the options given are stored on the video first (None:
    as stored), and clips an earlier request made that this plan drops are removed.
    A codec the mode cannot give (copy keeps the source's) is refused before that."""
    plans = prepare(ctx, video_id, request)
    made = cut_plans(ctx, video_id, plans, request.mode, out, request.codec)
    if thumbnails:
        thumbs.make_for_video(ctx, video_id)
    return made


def cut_plans(
    ctx: AppContext,
    video_id: str,
    plans: list[ClipPlan],
    mode: str = DEFAULT_MODE,
    out: Path | None = None,
    codec: str = DEFAULT_CODEC,
) -> list[Clip]:
    """Cut the planned clips (skipping ones already verified) and register each, in the
    codec `codec` (auto | h264 | prores) resolves to for this source and mode.

    Clips still to cut go to the cutter CLIPS_PER_CALL at a time: copy and smart share
    ffmpeg runs inside a call (the batch speeds of benchmarks/README.md, "Clips"), and
    each call's clips are registered before the next starts, so a failure later on
    keeps the verified ones and a retry only cuts what is missing."""
    with ctx.db.session() as s:
        source = Path(gone.live_video(s, video_id).source)
    info = probe(source)
    codec = resolve(codec, info.video_codec, mode)
    folder = (out or ctx.settings.clips_dir / video_id).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    upload_to = clip_upload.s3_target(ctx, video_id)
    made: dict[tuple[str, int], Clip] = {}
    todo: list[ClipPlan] = []
    for plan in plans:
        existing = _existing(ctx, video_id, plan, mode, codec, folder / plan.file_name(codec))
        if existing is None:
            todo.append(plan)
        else:  # a re-run keeps verified clips instead of cutting again
            made[(plan.kind, plan.seq)] = clip_upload.publish(ctx, upload_to, existing)
    with ctx.db.session() as s:
        damaged = notes_of(s, gone.live_video(s, video_id))
    rep = reporter()
    rep.count("clips", len(plans))  # goes on when a batch before this one opened it
    rep.add(len(made))
    for at in range(0, len(todo), CLIPS_PER_CALL):
        group = todo[at : at + CLIPS_PER_CALL]
        cuts = [(p.start_ms, p.end_ms, folder / p.file_name(codec)) for p in group]
        lose = [_may_lose(p, damaged, info.fps) for p in group]
        try:
            results = cut_spans(source, info, cuts, mode, lose, codec)
        except MediaToolError as exc:
            raise _with_damage(damaged, group, exc) from None
        try:
            for plan, result in zip(group, results, strict=True):
                clip = _register(ctx, video_id, plan, mode, codec, result)
                made[(plan.kind, plan.seq)] = clip_upload.publish(ctx, upload_to, clip)
        except gone.VideoDeletedError:  # deleted while they were cut: none of them stays
            for result in results:
                gone.discard_made(ctx, video_id, result.path)
            raise
        rep.add(len(group))
    return [made[(p.kind, p.seq)] for p in plans]


def _may_lose(plan: ClipPlan, damaged: list[Note], fps: Fraction) -> int:
    """How many frames of the plan's range lie in spans with decode errors: the most the
    source can fail to decode there (a damaged file that was accepted)."""
    frames = 0
    for note in damaged:
        overlap = min(plan.end_ms, note.end_ms) - max(plan.start_ms, note.start_ms)
        if overlap > 0:
            frames += math.ceil(overlap * fps / 1000)
    return frames


def _with_damage(damaged: list[Note], group: list[ClipPlan], exc: MediaToolError) -> MediaToolError:
    """A failed cut of a range where the source had decode errors (an accepted, slightly
    damaged file) says so: the damage there is the likely cause."""
    hit = [
        n.message
        for n in damaged
        if any(n.start_ms < p.end_ms and p.start_ms < n.end_ms for p in group)
    ]
    if not hit:
        return exc
    return MediaToolError(f"{exc} (the source does not decode cleanly there: {'; '.join(hit)})")


def _register(
    ctx: AppContext, video_id: str, plan: ClipPlan, mode: str, codec: str, result: CutResult
) -> Clip:
    """Record the clip as made: the mode that made it (a smart cut that fell back is
    accurate) and the note saying why, under the request's key (mode asked for, codec)."""
    if result.note:
        log.info("%s: %s", result.path.name, result.note)
    clip = Clip(
        video_id=video_id,
        kind=plan.kind,
        seq=plan.seq,
        mode=result.mode,
        requested_mode=mode,
        codec=codec,
        note=result.note,
        start_ms=plan.start_ms,
        end_ms=plan.end_ms,
        duration_ms=result.duration_ms,
        frame_count=result.frame_count,
        drift_ms=result.drift_ms,  # copy mode: how early the clip starts
        path=str(result.path),
        size_bytes=result.path.stat().st_size,
    )
    with ctx.db.session() as s:
        gone.live_video(s, video_id, lock=True)  # a delete begun meanwhile: no row
        upsert_clip(s, clip)
    return clip
