"""The pieces of a smart cut, and the ffmpeg arguments that make and join them.

A clip [S, E) (frames, by cut_accurate's rule) is joined from up to three pieces:

    head    [S, k1)  re-encoded: S up to k1, the first keyframe at or after S
    middle  [k1, P)  stream-copied from k1: whole GOPs, then within the last GOP up to
                     just after an anchor frame and its B-frames (a "clean" point, see
                     VideoIndex.clean_end), the furthest P <= E
    tail    [P, E)   re-encoded: at most a B-frame group

When no keyframe lies in [S, E) the clip is one re-encoded piece. Each piece is
written from its own seeked input, without -copyts, so timestamps arrive less the seek
time; the seek is an absolute timestamp (-seek_timestamp 1), rounded up to the
microsecond so it lands on the keyframe and never one GOP early. The join reads the
pieces with the concat demuxer (each with its exact duration), rewrites the decode
timestamps (decode_times) and adds the audio.

Audio: stream-copied from the source when it can be (an MP4 audio codec, and the
source's audio covers the clip): seeked AUDIO_PREROLL_S early and shifted back by as
much (-itsoffset), so the packets before the clip's first frame get negative times and
the MP4 muxer's edit list starts playback exactly there, while the decoder has warmed
up on them. Otherwise (PCM, audio ending early) it is re-encoded to AAC alongside the
video pieces, trimmed and padded as cut_accurate does. Re-encoding every clip's audio
was measured to cost ~80 ms a clip, a third of a copied clip's time.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from worker.errors import MediaToolError
from worker.media import runner
from worker.media.cut import PREROLL_S
from worker.media.cut_codec import AUDIO_KBPS_PER_CHANNEL
from worker.media.h264_match import SPEED_PRESET
from worker.media.info import MediaInfo
from worker.media.keyframes import VideoIndex
from worker.media.runner import media_input

HALF_MS = Fraction(1, 2000)  # trim bounds sit this far before a frame's start
# Copied audio starts this early: the AAC frame holding the first frame's instant needs
# the one before it to decode (overlap-add); two AAC frames at 44.1/48 kHz. Kept short
# because a player that ignores the edit list plays this much early.
AUDIO_PREROLL_S = Fraction(1, 20)


@dataclass(frozen=True)
class Piece:
    first: int  # frame index
    end: int  # frame index after the last
    copy: bool


def plan_pieces(index: VideoIndex, first: int, end: int) -> list[Piece]:
    k1 = index.keyframe_at_or_after(first)
    if k1 is None or k1 >= end or index.leading_frames(k1):
        return [Piece(first, end, copy=False)]
    stop = index.clean_end(k1, end)
    pieces = [Piece(k1, stop, copy=True)]
    if first < k1:
        pieces.insert(0, Piece(first, k1, copy=False))
    if stop < end:
        pieces.append(Piece(stop, end, copy=False))
    return pieces


def piece_args(
    src: Path, index: VideoIndex, x264_params: str, piece: Piece, stream: str
) -> tuple[list[str], list[str]]:
    """(input options, output options but the file) making one piece."""
    if piece.copy:
        inputs = ["-seek_timestamp", "1", "-ss", ceil_us(index.seconds(piece.first))]
        # stream copy counts packets in decode order; clean_end made these the frames
        output = ["-map", stream, "-c", "copy", "-frames:v", str(piece.end - piece.first)]
        return media_input(src, *inputs), output
    decode_from = index.keyframe_at_or_before(piece.first)
    seek = ceil_us(index.seconds(decode_from if decode_from is not None else 0))
    inputs = media_input(
        src,
        *("-seek_timestamp", "1", "-ss", seek, "-noaccurate_seek"),
        "-noautorotate",  # the copied GOPs keep the coded orientation; so must these
    )
    start = index.seconds(piece.first) - Fraction(seek) - HALF_MS
    end = index.end_seconds(piece.end) - Fraction(seek) - HALF_MS
    output = [
        "-map", stream,
        "-filter:v", f"trim=start={s(start)}:end={s(end)},setpts=PTS-STARTPTS",
        "-fps_mode", "passthrough",
        "-c:v", "libx264", "-preset", SPEED_PRESET, "-x264-params", x264_params,
        "-pix_fmt", "yuv420p",
        # the copied GOPs' time base (1/n for MP4 and MOV), so timestamps join exactly
        "-video_track_timescale", str(index.time_base.denominator),
    ]  # fmt: skip
    return inputs, output


def audio_encode_args(
    src: Path, info: MediaInfo, index: VideoIndex, first: int, end: int, stream: int
) -> tuple[list[str], list[str]]:
    """(input, output options) re-encoding the clip's audio as cut_accurate does:
    decoded from PREROLL_S before, trimmed at the first frame's and the end's times,
    padded with silence where the source's audio stops early."""
    start, stop = index.seconds(first), index.end_seconds(end)
    seek = ceil_us(max(index.seconds(0), start - PREROLL_S))
    begin = start - Fraction(seek)
    chain = (
        f"atrim=start={s(begin)}:end={s(begin + stop - start)},asetpts=PTS-{s(begin)}/TB,"
        f"aresample=async=1:first_pts=0,apad=whole_dur={s(stop - start)}"
    )
    kbps = AUDIO_KBPS_PER_CHANNEL * (info.audio_channels or 2)
    inputs = media_input(src, "-seek_timestamp", "1", "-ss", seek, "-noaccurate_seek")
    return inputs, ["-map", f"{stream}:a:0", "-filter:a", chain, "-c:a", "aac", "-b:a", f"{kbps}k"]


def audio_copy_input(src: Path, index: VideoIndex, first: int, end: int) -> list[str]:
    """Input options reading the source's audio for [first, end), timed from `first`."""
    start, stop = index.seconds(first), index.end_seconds(end)
    seek = Fraction(ceil_us(max(Fraction(0), start - AUDIO_PREROLL_S)))
    return media_input(
        src,
        # timestamps arrive less the seek time; shifting them by the pre-roll more puts
        # the clip's first frame at zero and the pre-roll before it
        *("-itsoffset", s(seek - start), "-seek_timestamp", "1", "-ss", s(seek)),
        *("-t", s(stop - start)),  # by decode time on the shifted timeline: ends with the clip
    )


def piece_cost(index: VideoIndex, piece: Piece) -> float:
    """Frames decoded, plus ~3 for each frame encoded (720p x264 here: decoding ran at
    ~700 frames/s, encoding the ends at ~265)."""
    if piece.copy:
        return 0.05 * (piece.end - piece.first)
    decode_from = index.keyframe_at_or_before(piece.first) or 0
    return (piece.end - decode_from) + 3 * (piece.end - piece.first)


def concat_list(index: VideoIndex, pieces: list[Piece], paths: list[Path]) -> str:
    lines = ["ffconcat version 1.0"]
    for piece, path in zip(pieces, paths, strict=True):
        length = index.end_seconds(piece.end) - index.seconds(piece.first)
        # names are ours (hidden, hex), next to the list; the exact duration makes each
        # piece start where the previous one ends
        lines += [f"file '{path.name}'", f"duration {s(length)}"]
    return "\n".join(lines) + "\n"


def decode_times(index: VideoIndex) -> str:
    """A setts filter giving the joined stream the source's decode timestamps: one per
    frame, `delay` frames behind the first picture. Each piece comes with its own, and
    x264 writes none behind for a piece of one or two frames (it used no B-frames), so
    the next piece's first decode timestamp would go backwards (measured: the muxer
    then rewrites them and the track's edit list comes out two frames short)."""
    first = index.packets[0]
    step = index.frame_pts[1] - index.frame_pts[0] if index.frame_count > 1 else 1
    delay = (index.frame_pts[0] - first.dts) // step if first.dts is not None else 0
    return f"setts=pts=PTS:dts=STARTPTS+(N-{delay})*{step}"


def ceil_us(seconds: Fraction) -> str:
    micros = math.ceil(seconds * 1_000_000)
    sign = "-" if micros < 0 else ""
    return f"{sign}{abs(micros) // 1_000_000}.{abs(micros) % 1_000_000:06d}"


def s(seconds: Fraction) -> str:
    return f"{float(seconds):.6f}"


def source_audio_span(src: Path) -> tuple[Fraction, Fraction] | None:
    """Where the source's audio starts and ends (cached per path, size, mtime)."""
    resolved = Path(src).resolve()
    stat = resolved.stat()
    return _cached_audio_span(resolved, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _cached_audio_span(path: Path, size: int, mtime_ns: int) -> tuple[Fraction, Fraction] | None:
    """(start, end) of the first audio stream on the source's timeline, in seconds."""
    del size, mtime_ns  # cache key only
    options = [
        "-v", "error", "-select_streams", "a:0",
        "-show_entries", "stream=start_time,duration", "-of", "csv=p=0",
    ]  # fmt: skip
    try:
        out = runner.capture(runner.ffprobe_command(path, options), path, 60, "reading audio")
    except MediaToolError:
        return None
    fields = out.decode("ascii", "replace").strip().split(",")
    try:
        start, duration = Fraction(fields[0]), Fraction(fields[1])
    except (IndexError, ValueError):
        return None  # unknown: the audio is re-encoded (and padded) instead
    return start, start + duration
