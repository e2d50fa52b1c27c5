"""Smart clips: frame-exact like cut_accurate, at close to stream-copy speed.

A clip [S, E) (frames, by cut_accurate's rule) of a source with keyframes is joined
from up to three pieces:

    head    [S, k1)   re-encoded: S to the first keyframe k1 at or after S
    middle  [k1, k2)  stream-copied: whole GOPs, k2 the last keyframe at or before E
    tail    [k2, E)   re-encoded: the partial GOP at the end

When no whole GOP lies inside, the clip is one re-encoded piece. The pieces are joined
with the concat demuxer (video only, each piece given its exact duration) and the
clip's audio is re-encoded from the source in the same pass, trimmed at the first
frame's and the end's exact timestamps as cut_accurate does: AAC frames (21 ms) do not
fall on video frames, so copied audio could not start with the clip, and encoding a
clip's audio costs little next to its video.

Joining needs the re-encoded H.264 to use the source's SPS/PPS byte for byte (see
h264_match.py). Where that cannot be had, the clip is cut by cut_accurate instead and
the result says so: mode "accurate", note "smart: fell back to accurate: <reason>".
Reasons found before any work: not H.264, variable frame rate (the pieces' durations
and x264's timing info assume a fixed rate), not x264-encoded, interlaced, open GOP.
After encoding the first piece: parameter sets that still differ.

Copied GOPs start on keyframes whose following packets are never shown before them
(checked from the packet index), so they decode on their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from worker.errors import MediaToolError
from worker.media.cut import (
    AUDIO_KBPS_PER_CHANNEL,
    PREROLL_S,
    TIMEOUT_BASE_S,
    TIMEOUT_PER_CLIP_S,
    CutResult,
    cut_accurate,
    destination,
    expected_clip,
    ffmpeg_target,
    temp_path,
    verify_clip,
)
from worker.media.h264_match import (
    SPEED_PRESET,
    ParameterSets,
    mp4_parameter_sets,
    source_parameter_sets,
    unmatched_reason,
    x264_params,
)
from worker.media.info import MediaInfo
from worker.media.keyframes import VideoIndex, video_index
from worker.media.runner import run_ffmpeg
from worker.timecode import Millis

_HALF_MS = Fraction(1, 2000)  # trim bounds sit this far before a frame's start


@dataclass(frozen=True)
class _Piece:
    first: int  # frame index
    end: int  # frame index after the last
    copy: bool


class _CannotMatchError(Exception):
    """The source's encoding cannot be reproduced; the text is the reason."""


def cut_smart(src: Path, info: MediaInfo, start_ms: int, end_ms: int, out: Path) -> CutResult:
    """Cut [start_ms, end_ms) of `src` into `out`, re-encoding only around the cuts."""
    src = Path(src)
    if not 0 <= start_ms < end_ms <= info.duration_ms:
        raise ValueError(f"bad range [{start_ms}, {end_ms}) for {info.duration_ms} ms of video")
    final = destination(Path(out))
    try:
        source = _matchable_source(src, info)
        return _cut(src, info, source, start_ms, end_ms, final)
    except _CannotMatchError as exc:
        result = cut_accurate(src, info, start_ms, end_ms, final)
        return CutResult(
            result.path,
            result.start_ms,
            result.end_ms,
            result.duration_ms,
            result.frame_count,
            mode="accurate",
            note=f"smart: fell back to accurate: {exc}",
        )


def _matchable_source(src: Path, info: MediaInfo) -> ParameterSets:
    if info.video_codec != "h264":
        raise _CannotMatchError(f"video is {info.video_codec}, not H.264")
    if not info.cfr:
        raise _CannotMatchError("variable frame rate")
    if info.pix_fmt != "yuv420p":
        raise _CannotMatchError(f"pixel format {info.pix_fmt}, not yuv420p")
    source = source_parameter_sets(src)
    if reason := unmatched_reason(source):
        raise _CannotMatchError(reason)
    return source


def _cut(
    src: Path, info: MediaInfo, source: ParameterSets, start_ms: int, end_ms: int, final: Path
) -> CutResult:
    index = video_index(src)
    first, end = index.first_frame_from(start_ms), index.first_frame_from(end_ms)
    expected = expected_clip(src, info, start_ms, end_ms)
    if end <= first or expected.frames == 0:
        raise ValueError(f"[{start_ms}, {end_ms}) holds no frame of {src}")
    if end - first != expected.frames:  # two views of the same rule must agree
        raise MediaToolError(f"{src}: frame index disagrees with the probe at {start_ms} ms")
    pieces = _plan(index, first, end)
    temp = temp_path(final)
    made: list[Path] = []
    timeout = TIMEOUT_BASE_S + TIMEOUT_PER_CLIP_S * (end_ms - start_ms) / 1000
    try:
        for number, piece in enumerate(pieces):
            path = temp.with_suffix(f".{number}.mp4")
            made.append(path)
            if piece.copy:
                _copy_piece(src, index, piece, path, timeout)
            else:
                _encode_piece(src, index, source, piece, path, timeout)
                if differs := source.same_headers(mp4_parameter_sets(path)):
                    raise _CannotMatchError(f"the re-encoded {differs} differs from the source's")
        listing = temp.with_suffix(".ffconcat")
        made.append(listing)
        listing.write_text(_concat_list(index, pieces, made))
        run_ffmpeg(
            _join_command(src, info, index, first, end, listing, temp), src, timeout, "cutting"
        )
        written = verify_clip(temp, src, expected, info)
        temp.replace(final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    finally:
        for path in made:
            path.unlink(missing_ok=True)
    return CutResult(
        path=final,
        start_ms=Millis(start_ms),
        end_ms=Millis(end_ms),
        duration_ms=written.duration_ms,
        frame_count=written.frame_count,
        mode="smart",
    )


def _plan(index: VideoIndex, first: int, end: int) -> list[_Piece]:
    k1 = index.keyframe_at_or_after(first)
    if k1 is None or k1 >= end or index.leading_frames(k1):
        return [_Piece(first, end, copy=False)]
    # copy from k1 as far towards `end` as whole packets allow: to a GOP boundary, or
    # within the last GOP to just after an anchor frame and its B-frames, where the
    # re-encoded tail (starting with an IDR picture) can follow
    stop = index.clean_end(k1, end)
    pieces = [_Piece(k1, stop, copy=True)]
    if first < k1:
        pieces.insert(0, _Piece(first, k1, copy=False))
    if stop < end:
        pieces.append(_Piece(stop, end, copy=False))
    return pieces


def _copy_piece(src: Path, index: VideoIndex, piece: _Piece, out: Path, timeout: float) -> None:
    count = piece.end - piece.first  # clean_end: these many packets are these frames
    command = [
        "ffmpeg", "-nostdin", "-v", "error",
        # -ss as an absolute timestamp, rounded up so the seek (to the keyframe at or
        # before it) cannot land one GOP early
        "-seek_timestamp", "1", "-ss", _ceil_us(index.seconds(piece.first)),
        "-i", ffmpeg_target(src),
        # stream copy counts packets in decode order
        "-map", "0:V:0", "-c", "copy", "-frames:v", str(count),
        "-f", "mp4", ffmpeg_target(out),
    ]  # fmt: skip
    run_ffmpeg(command, src, timeout, "cutting")


def _encode_piece(
    src: Path, index: VideoIndex, source: ParameterSets, piece: _Piece, out: Path, timeout: float
) -> None:
    params = x264_params(source)
    if params is None:  # _matchable_source checked this
        raise _CannotMatchError("x264 settings not reproducible")
    decode_from = index.keyframe_at_or_before(piece.first)
    seek = index.seconds(decode_from if decode_from is not None else 0)
    start, end = index.seconds(piece.first), index.end_seconds(piece.end)
    command = [
        "ffmpeg", "-nostdin", "-v", "error", "-copyts",
        "-seek_timestamp", "1", "-ss", _ceil_us(seek), "-noaccurate_seek",
        # the copied GOPs keep the coded orientation; so must these frames
        "-noautorotate",
        "-i", ffmpeg_target(src), "-map", "0:V:0",
        "-vf", f"trim=start={_s(start - _HALF_MS)}:end={_s(end - _HALF_MS)},setpts=PTS-STARTPTS",
        "-fps_mode", "passthrough",
        "-c:v", "libx264", "-preset", SPEED_PRESET, "-x264-params", params,
        "-pix_fmt", "yuv420p",
        # the copied GOPs' time base (1/n for MP4 and MOV), so timestamps join exactly
        "-video_track_timescale", str(index.time_base.denominator),
        "-f", "mp4", ffmpeg_target(out),
    ]  # fmt: skip
    run_ffmpeg(command, src, timeout, "cutting")


def _concat_list(index: VideoIndex, pieces: list[_Piece], paths: list[Path]) -> str:
    lines = ["ffconcat version 1.0"]
    for piece, path in zip(pieces, paths, strict=False):
        length = index.end_seconds(piece.end) - index.seconds(piece.first)
        # names are ours (hidden, hex), relative to the list in the same folder; the
        # duration is exact so each piece starts where the previous one ends
        lines += [f"file '{path.name}'", f"duration {_s(length)}"]
    return "\n".join(lines) + "\n"


def _join_command(
    src: Path, info: MediaInfo, index: VideoIndex, first: int, end: int, listing: Path, out: Path
) -> list[str]:
    command = [
        "ffmpeg", "-nostdin", "-v", "error", "-copyts",
        "-f", "concat", "-safe", "0", "-i", ffmpeg_target(listing),
    ]  # fmt: skip
    outputs = ["-map", "0:v:0", "-c:v", "copy", "-bsf:v", _decode_times(index)]
    if info.has_audio:
        start, stop = index.seconds(first), index.end_seconds(end)
        # demuxer -ss is relative to the file's start; -copyts keeps source timestamps
        # so atrim cuts at the same instants as the video (see cut.py)
        seek = max(Fraction(0), start - Fraction(info.start_pts_ms, 1000) - PREROLL_S)
        audio = (
            f"atrim=start={_s(start)}:end={_s(stop)},asetpts=PTS-{_s(start)}/TB,"
            f"aresample=async=1:first_pts=0,apad=whole_dur={_s(stop - start)}"
        )
        channels = info.audio_channels or 2
        command += ["-ss", _s(seek), "-noaccurate_seek", "-i", ffmpeg_target(src)]
        outputs += ["-map", "1:a:0", "-af", audio]
        outputs += ["-c:a", "aac", "-b:a", f"{AUDIO_KBPS_PER_CHANNEL * channels}k"]
    return [*command, *outputs, "-movflags", "+faststart", "-f", "mp4", ffmpeg_target(out)]


def _decode_times(index: VideoIndex) -> str:
    """A setts filter giving the joined stream the source's decode timestamps: one per
    frame, `delay` frames behind the first picture. Each piece comes with its own, and
    x264 writes none behind for a piece of one or two frames (it used no B-frames), so
    the next piece's first decode timestamp would go backwards."""
    first = index.packets[0]
    step = index.frame_pts[1] - index.frame_pts[0] if index.frame_count > 1 else 1
    delay = (index.frame_pts[0] - first.dts) // step if first.dts is not None else 0
    return f"setts=pts=PTS:dts=STARTPTS+(N-{delay})*{step}"


def _ceil_us(seconds: Fraction) -> str:
    micros = math.ceil(seconds * 1_000_000)
    sign = "-" if micros < 0 else ""
    return f"{sign}{abs(micros) // 1_000_000}.{abs(micros) % 1_000_000:06d}"


def _s(seconds: Fraction) -> str:
    return f"{float(seconds):.6f}"
