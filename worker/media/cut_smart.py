"""Smart clips: frame-exact like cut_accurate, at close to stream-copy speed.

Only the partial GOPs at a clip's ends are re-encoded; whole GOPs are stream-copied
(smart_parts.py has the pieces and the ffmpeg arguments). Joining needs the
re-encoded H.264 to use the source's SPS/PPS byte for byte (h264_match.py). Where that
cannot be had, the clip is cut by cut_accurate and the result says so: mode
"accurate", note "smart: fell back to accurate: <reason>". Reasons found before any
work: not H.264, variable frame rate (piece durations and x264's timing info assume a
fixed rate), not yuv420p, not x264-encoded, interlaced, open GOP; after encoding the
first pieces: parameter sets that still differ.

The pieces are written by two ffmpeg processes side by side (one keeps only ~1.3 of 2
cores busy), then joined by a third. Starting processes is much of a short clip's
time, so `cut_smart_many` does this once for CLIPS_PER_RUN clips.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from worker.errors import MediaToolError
from worker.media.cut import (
    TIMEOUT_BASE_S,
    TIMEOUT_PER_CLIP_S,
    CutResult,
    ExpectedClip,
    RunClip,
    cut_accurate,
    destination,
    discarded_on_failure,
    expected_clip,
    ffmpeg_target,
    temp_path,
)
from worker.media.cut_copy import MP4_AUDIO
from worker.media.h264_match import (
    ParameterSets,
    mp4_parameter_sets,
    source_parameter_sets,
    unmatched_reason,
    x264_params,
)
from worker.media.info import MediaInfo
from worker.media.keyframes import VideoIndex, video_index
from worker.media.mp4_boxes import Mp4Track, mp4_tracks
from worker.media.runner import JOIN_FORMATS, media_input, run_ffmpeg, run_ffmpeg_together
from worker.media.smart_parts import (
    Piece,
    audio_copy_input,
    audio_encode_args,
    concat_list,
    decode_times,
    piece_args,
    piece_cost,
    plan_pieces,
    source_audio_span,
)

CLIPS_PER_RUN = 6  # up to 3 inputs and 2 x264 encoders a clip


class _CannotMatchError(Exception):
    """The source's encoding cannot be reproduced; the text is the reason."""


@dataclass(frozen=True)
class _Job(RunClip):
    """One clip: its range, its plan and its files."""

    first: int
    end: int
    expected: ExpectedClip
    pieces: list[Piece]
    copy_audio: bool

    def piece_path(self, number: int) -> Path:
        return self.temp.with_suffix(f".{number}.mp4")

    @property
    def audio(self) -> Path:  # the re-encoded audio, when it is not copied
        return self.temp.with_suffix(".audio.m4a")

    @property
    def listing(self) -> Path:
        return self.temp.with_suffix(".ffconcat")

    def scratch(self) -> list[Path]:
        pieces = [self.piece_path(n) for n in range(len(self.pieces))]
        return [*pieces, self.audio, self.listing]


def cut_smart(src: Path, info: MediaInfo, start_ms: int, end_ms: int, out: Path) -> CutResult:
    """Cut [start_ms, end_ms) of `src` into `out`, re-encoding only around the cuts."""
    return cut_smart_many(src, info, [(start_ms, end_ms, out)])[0]


def cut_smart_many(
    src: Path, info: MediaInfo, cuts: Sequence[tuple[int, int, Path]]
) -> list[CutResult]:
    """cut_smart for several ranges of one video, CLIPS_PER_RUN clips to a pair of
    ffmpeg runs. A failed run keeps none of its clips."""
    src = Path(src)
    for start_ms, end_ms, _ in cuts:
        if not 0 <= start_ms < end_ms <= info.duration_ms:
            raise ValueError(f"bad range [{start_ms}, {end_ms}) for {info.duration_ms} ms")
    try:
        params = _matched_encoding(src, info)
        index = video_index(src)
        jobs = [_job(src, info, index, *cut) for cut in cuts]
        results: list[CutResult] = []
        for at in range(0, len(jobs), CLIPS_PER_RUN):
            results += _run(src, info, index, params, jobs[at : at + CLIPS_PER_RUN])
        return results
    except _CannotMatchError as exc:
        note = f"smart: fell back to accurate: {exc}"
        done = []
        for start_ms, end_ms, out in cuts:
            result = cut_accurate(src, info, start_ms, end_ms, out)
            done.append(dataclasses.replace(result, mode="accurate", note=note))
        return done


def _matched_encoding(src: Path, info: MediaInfo) -> tuple[ParameterSets, str]:
    if info.video_codec != "h264":
        raise _CannotMatchError(f"video is {info.video_codec}, not H.264")
    if not info.cfr:
        raise _CannotMatchError("variable frame rate")
    if info.pix_fmt != "yuv420p":
        raise _CannotMatchError(f"pixel format {info.pix_fmt}, not yuv420p")
    source = source_parameter_sets(src)
    params = x264_params(source)
    if params is None:
        raise _CannotMatchError(unmatched_reason(source) or "x264 settings not reproducible")
    return source, params


def _job(
    src: Path, info: MediaInfo, index: VideoIndex, start_ms: int, end_ms: int, out: Path
) -> _Job:
    final = destination(Path(out))
    first, end = index.first_frame_from(start_ms), index.first_frame_from(end_ms)
    expected = expected_clip(src, info, start_ms, end_ms)
    if end <= first or expected.frames == 0:
        raise ValueError(f"[{start_ms}, {end_ms}) holds no frame of {src}")
    if end - first != expected.frames:
        # the packet timestamps and the probe's rate disagree about which frames the
        # range holds: a "constant" rate whose timestamps stray off its grid
        raise _CannotMatchError("frame timestamps off the constant frame rate's grid")
    # audio is copied where the source's covers the clip (an edit list starts it at the
    # first frame); else re-encoded, and padded where the source's audio stops early
    audio = source_audio_span(src) if info.has_audio and info.audio_codec in MP4_AUDIO else None
    copy_audio = (
        audio is not None
        and audio[0] <= index.seconds(first)
        and index.end_seconds(end) <= audio[1]
    )
    pieces = plan_pieces(index, first, end)
    return _Job(start_ms, end_ms, final, temp_path(final), first, end, expected, pieces, copy_audio)


def _run(
    src: Path,
    info: MediaInfo,
    index: VideoIndex,
    matched: tuple[ParameterSets, str],
    jobs: list[_Job],
) -> list[CutResult]:
    source, params = matched
    seconds = sum(job.end_ms - job.start_ms for job in jobs) / 1000
    timeout = TIMEOUT_BASE_S + TIMEOUT_PER_CLIP_S * seconds
    try:
        with discarded_on_failure([job.temp for job in jobs]):
            commands = _pieces_commands(src, info, index, params, jobs)
            run_ffmpeg_together(commands, src, timeout, "cutting")
            for job in jobs:
                _check_pieces(job, source)
                paths = [job.piece_path(n) for n in range(len(job.pieces))]
                job.listing.write_text(concat_list(index, job.pieces, paths))
            run_ffmpeg(_join_command(src, info, index, jobs), src, timeout, "cutting")
            videos = [_verify(job, src, info) for job in jobs]  # all checked before any is kept
            for job in jobs:
                job.temp.replace(job.final)
    finally:
        for job in jobs:
            for path in job.scratch():
                path.unlink(missing_ok=True)
    return [job.measured(video, "smart") for job, video in zip(jobs, videos, strict=True)]


def _check_pieces(job: _Job, source: ParameterSets) -> None:
    """The re-encoded pieces must carry the source's parameter sets to join its copies."""
    for number, piece in enumerate(job.pieces):
        sets = None if piece.copy else mp4_parameter_sets(job.piece_path(number))
        if sets is not None and (differs := source.same_headers(sets)):
            raise _CannotMatchError(f"the re-encoded {differs} differs from the source's")


@dataclass(frozen=True)
class _Unit:
    """One output of the pieces run: how to write it given its input's number."""

    make: Callable[[int], tuple[list[str], list[str]]]
    target: Path
    cost: float  # rough work, in decoded frames


def _pieces_commands(
    src: Path, info: MediaInfo, index: VideoIndex, params: str, jobs: list[_Job]
) -> list[list[str]]:
    """The pieces of every job, as two ffmpeg commands of about equal work to run side
    by side (one process alone keeps ~1.3 of 2 cores busy here)."""
    units: list[_Unit] = []
    for job in jobs:
        for number, piece in enumerate(job.pieces):
            make = functools.partial(_piece_unit, src, index, params, piece)
            units.append(_Unit(make, job.piece_path(number), piece_cost(index, piece)))
        if info.has_audio and not job.copy_audio:
            make = functools.partial(audio_encode_args, src, info, index, job.first, job.end)
            seconds = float(index.end_seconds(job.end) - index.seconds(job.first))
            units.append(_Unit(make, job.audio, 8 * seconds))  # measured: ~8 frames' worth/s
    groups: list[list[_Unit]] = [[], []]
    for unit in sorted(units, key=lambda u: -u.cost):  # greedy: heaviest to the lighter
        min(groups, key=lambda g: sum(u.cost for u in g)).append(unit)
    commands = []
    for group in filter(None, groups):
        inputs: list[str] = []
        outputs: list[str] = []
        for unit in group:
            more, output = unit.make(inputs.count("-i"))
            inputs += more
            outputs += [*output, "-f", "mp4", ffmpeg_target(unit.target)]
        commands.append(["ffmpeg", "-nostdin", "-v", "error", *inputs, *outputs])
    return commands


def _piece_unit(
    src: Path, index: VideoIndex, params: str, piece: Piece, number: int
) -> tuple[list[str], list[str]]:
    return piece_args(src, index, params, piece, f"{number}:V:0")


def _join_command(src: Path, info: MediaInfo, index: VideoIndex, jobs: list[_Job]) -> list[str]:
    inputs: list[str] = []
    outputs: list[str] = []
    for job in jobs:
        video = inputs.count("-i")
        # our own list of our own pieces: the one input read as concat
        inputs += media_input(job.listing, "-f", "concat", "-safe", "0", formats=JOIN_FORMATS)
        outputs += ["-map", f"{video}:v:0", "-c:v", "copy", "-bsf:v", decode_times(index)]
        if job.copy_audio:
            outputs += ["-map", f"{inputs.count('-i')}:a:0", "-c:a", "copy"]
            inputs += audio_copy_input(src, index, job.first, job.end)
        elif info.has_audio:
            outputs += ["-map", f"{inputs.count('-i')}:a:0", "-c:a", "copy"]
            inputs += media_input(job.audio)
        outputs += ["-movflags", "+faststart", "-f", "mp4", ffmpeg_target(job.temp)]
    return ["ffmpeg", "-nostdin", "-v", "error", *inputs, *outputs]


def _verify(job: _Job, src: Path, info: MediaInfo) -> Mp4Track:
    """The clip's index (no ffprobe run): the frames, length and streams asked for."""
    tracks = {t.handler: t for t in mp4_tracks(job.temp)}
    video, expected = tracks.get("vide"), job.expected
    if video is None or video.samples != expected.frames:
        got = video.samples if video else 0
        raise MediaToolError(f"{src}: the cut has {got} frames, expected {expected.frames}")
    length_ms = video.duration * 1000
    if abs(length_ms - expected.duration_ms) > expected.longest_frame_ms + 1:
        raise MediaToolError(
            f"{src}: the cut lasts {float(length_ms):.0f} ms, expected {expected.duration_ms} ms"
        )
    if ("soun" in tracks) != info.has_audio:
        raise MediaToolError(f"{src}: the cut lost or gained an audio stream")
    return video
