"""Frame-accurate clips: re-encode [start_ms, end_ms) of a source: H.264/AAC in MP4, or
ProRes/PCM in MOV (cut_codec.py says which, and with what settings).

Which frames a range holds: a frame belongs to [start_ms, end_ms) when its start, in
whole ms from the first frame (rounded half up, the media truth's convention), lies in
the range. ffmpeg keeps the source's timestamps (-copyts) so the trim filter selects by
each frame's own pts, half a millisecond before each bound; that is the same rule for
constant and variable frame rates, and never counts frames. Audio is trimmed at the
same instants and padded with silence where the source's audio ends early, so both
streams have the clip's length.

The clip is written under a hidden temporary name next to `out`, checked with ffprobe
and only then renamed into place; a failure or interruption deletes it.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg

from worker.errors import InputError, MediaToolError
from worker.media import runner
from worker.media.cut_codec import encoding
from worker.media.info import MediaInfo
from worker.media.mp4_boxes import Mp4Track
from worker.media.probe import probe
from worker.media.runner import run_ffmpeg
from worker.timecode import Millis, frame_to_ms, ms_to_frame, round_half_up, seconds_to_ms

# x264 preset, measured on shots of the test media (first and last frame vs. the source,
# RGB PSNR; CPU seconds for a 7 s 1080p29.97 shot on this 2-core machine):
#   faster/16  weakest shot 40.2 dB (noisy VFR phone picture): too close to 40 dB
#   faster/13  42.0 dB, 9.4 s CPU      veryfast/12  41.4 dB, 6.0 s
#   veryfast/11  42.2 dB, 5.9 s        superfast/11  46.7 dB, 4.0 s but 2-3x the bytes
# veryfast/11 keeps faster/13's margin over 40 dB for a third less CPU, files ~25% larger
# (the CRF: cut_codec.py).
PREROLL_S = 1  # decode from this far before the cut so the AAC decoder has warmed up
TIMEOUT_BASE_S = 300  # plus TIMEOUT_PER_CLIP_S per second of clip
TIMEOUT_PER_CLIP_S = 20


@dataclass(frozen=True)
class CutResult:
    path: Path
    start_ms: Millis
    end_ms: Millis
    duration_ms: Millis  # measured on the written file
    frame_count: int  # measured on the written file
    mode: str = "accurate"
    codec: str = "h264"  # the clip's video codec (copy: the source's)
    # copy mode: how much earlier than an exact cut the clip starts (it starts on the
    # keyframe at or before the cut); 0 when the cut is on a keyframe, None otherwise
    drift_ms: int | None = None
    drift_frames: int | None = None
    note: str | None = None  # e.g. why smart fell back to accurate


@dataclass(frozen=True)
class RunClip:
    """One clip of a run that writes several (copy, smart): its range, its file, and the
    hidden name (temp_path) it is written under until the whole run is verified."""

    start_ms: int
    end_ms: int
    final: Path
    temp: Path

    def measured(self, written: Mp4Track, mode: str) -> CutResult:
        """The clip's result, its length and frames as the written file's index has them."""
        return CutResult(
            path=self.final,
            start_ms=Millis(self.start_ms),
            end_ms=Millis(self.end_ms),
            duration_ms=seconds_to_ms(written.duration),
            frame_count=written.samples,
            mode=mode,
        )


@dataclass(frozen=True)
class ExpectedClip:
    frames: int
    duration_ms: int  # from the first frame's start to the range's end
    longest_frame_ms: Fraction  # the tolerance for a measured duration


def cut_accurate(
    src: Path,
    info: MediaInfo,
    start_ms: int,
    end_ms: int,
    out: Path,
    *,
    may_lose: int = 0,
    codec: str = "h264",
) -> CutResult:
    """Re-encode [start_ms, end_ms) of `src` (ms from its first frame) into `out`, in
    `codec` (h264: MP4, prores: MOV; cut_codec.encoding).

    `may_lose`: frames of the range the source may fail to decode (decode errors found
    there, decode_errors.py); the clip may be short by at most that many, and says so."""
    if not 0 <= start_ms < end_ms <= info.duration_ms:
        raise ValueError(f"bad range [{start_ms}, {end_ms}) for {info.duration_ms} ms of video")
    final = destination(Path(out))
    expected = expected_clip(Path(src), info, start_ms, end_ms)
    if expected.frames == 0:
        raise ValueError(f"[{start_ms}, {end_ms}) holds no frame of {src}")
    temp = temp_path(final)
    with discarded_on_failure([temp]):
        clip_s = (end_ms - start_ms) / 1000
        command = _command(Path(src), info, start_ms, end_ms, temp, codec)
        run_ffmpeg(command, Path(src), TIMEOUT_BASE_S + TIMEOUT_PER_CLIP_S * clip_s, "cutting")
        written = verify_clip(temp, Path(src), expected, info, may_lose=may_lose)
        temp.replace(final)
    lost = expected.frames - written.frame_count
    return CutResult(
        path=final,
        start_ms=Millis(start_ms),
        end_ms=Millis(end_ms),
        duration_ms=written.duration_ms,
        frame_count=written.frame_count,
        codec=codec,
        note=f"{lost} frame(s) of the source did not decode" if lost else None,
    )


def temp_path(final: Path) -> Path:
    """A hidden name next to `final` to write to before the verified rename."""
    return final.parent / f".vidx-cut-{secrets.token_hex(8)}.part"


@contextmanager
def discarded_on_failure(temps: Sequence[Path]) -> Iterator[None]:
    """Clips written under temporary names (temp_path) in the block, each renamed into
    place once all are verified: a failure or interruption deletes every temporary file
    (a run is kept whole or not at all)."""
    try:
        yield
    except BaseException:
        for temp in temps:
            temp.unlink(missing_ok=True)
        raise


def destination(out: Path) -> Path:
    """`out` as (resolved folder) / name: the only place this module writes."""
    if out.name in ("", ".", ".."):
        raise ValueError(f"not a file name: {out}")
    folder = out.parent.resolve()
    if not folder.is_dir():
        raise MediaToolError(f"{out}: the folder {folder} does not exist")
    final = folder / out.name
    if final.is_dir():
        raise MediaToolError(f"{out}: is a directory")
    return final


def _command(
    src: Path, info: MediaInfo, start_ms: int, end_ms: int, temp: Path, codec: str
) -> list[str]:
    first = Fraction(info.start_pts_ms + start_ms, 1000)  # source timeline, seconds
    end = Fraction(info.start_pts_ms + end_ms, 1000)
    half_ms = Fraction(1, 2000)
    # ffmpeg seeks relative to the container's start, which is never after the first
    # video frame's, so this lands at or before `first - PREROLL_S`; with -noaccurate_seek
    # ffmpeg then leaves all trimming to our filters
    seek = max(Fraction(0), Fraction(start_ms, 1000) - PREROLL_S)
    source = ffmpeg.input(
        ffmpeg_target(src), ss=_s(seek), noaccurate_seek=None, **runner.input_options()
    )
    video = (
        source["V:0"].trim(start=_s(first - half_ms), end=_s(end - half_ms)).setpts("PTS-STARTPTS")
    )
    how = encoding(codec, info)
    if how.scale_flags:
        video = video.filter("scale", flags=how.scale_flags).filter("format", how.video["pix_fmt"])
    streams: list[Any] = [video]
    options: dict[str, Any] = {
        "format": how.container,
        "movflags": "+faststart",
        **how.video,
        # keep each frame's own timestamp: VFR stays VFR, CFR stays regular
        "fps_mode": "passthrough",
    }
    if not info.cfr:
        # ffmpeg would otherwise encode on a 1/r_frame_rate grid, a guess that can merge
        # a phone's jittery timestamps; 1/90000 is MPEG's clock and finer than any of them
        options["enc_time_base"] = "1:90000"
    if info.has_audio:
        audio = (
            source["a:0"]
            .filter("atrim", start=_s(first), end=_s(end))
            # the video's zero is the clip start; audio starting late gets silence in front
            .filter("asetpts", f"PTS-{float(first):.6f}/TB")
            .filter("aresample", **{"async": 1, "first_pts": 0})
            .filter("apad", whole_dur=_s(end - first))
        )
        streams.append(audio)
        options |= how.audio
    output = ffmpeg.output(*streams, ffmpeg_target(temp), **options)
    args: list[str] = output.global_args("-nostdin", "-v", "error", "-copyts").compile()
    return args


def verify_clip(
    temp: Path, src: Path, expected: ExpectedClip, info: MediaInfo, *, may_lose: int = 0
) -> MediaInfo:
    """The written clip, if it holds the expected frames (short by at most `may_lose`
    frames of the source that do not decode) and lasts as long; else MediaToolError."""
    try:
        written = probe(temp)
    except InputError as exc:
        raise MediaToolError(f"{src}: the cut is not a valid video: {exc.problem}") from None
    short = expected.frames - written.frame_count
    if not 0 <= short <= may_lose:
        raise MediaToolError(
            f"{src}: the cut has {written.frame_count} frames, expected {expected.frames}"
        )
    # a lost frame at either end shortens the clip by up to a frame
    slack = expected.longest_frame_ms * (1 + short) + 1
    if abs(written.duration_ms - expected.duration_ms) > slack:
        raise MediaToolError(
            f"{src}: the cut lasts {written.duration_ms} ms, expected {expected.duration_ms} ms"
        )
    if written.has_audio != info.has_audio:
        raise MediaToolError(f"{src}: the cut lost or gained an audio stream")
    return written


def expected_clip(src: Path, info: MediaInfo, start_ms: int, end_ms: int) -> ExpectedClip:
    """What the clip must hold: the frames whose start (whole ms from the first frame)
    lies in [start_ms, end_ms)."""
    if info.cfr:
        first = _first_frame_from(start_ms, info.fps)
        count = _first_frame_from(end_ms, info.fps) - first
        return ExpectedClip(count, end_ms - frame_to_ms(first, info.fps), 1000 / info.fps)
    starts = sorted(ms for ms in _frame_starts_ms(src, info, start_ms, end_ms) if ms < end_ms)
    if not starts:
        return ExpectedClip(0, 0, Fraction(0))
    bounds = [*starts, end_ms]
    longest = max(b - a for a, b in itertools.pairwise(bounds))
    return ExpectedClip(len(starts), end_ms - starts[0], Fraction(longest))


def _frame_starts_ms(src: Path, info: MediaInfo, start_ms: int, end_ms: int) -> set[int]:
    """Starts (whole ms from the first frame) of the frames at or after start_ms, near
    the range, from the demuxed timestamps (no decoding)."""
    first = Fraction(info.start_pts_ms + start_ms, 1000)
    window = f"{float(first) - 1:.6f}%{(info.start_pts_ms + end_ms) / 1000 + 1:.6f}"
    data = runner.ffprobe_json(
        src,
        doing="reading timestamps",
        v="error",
        select_streams="V:0",
        read_intervals=window,
        show_entries="packet=pts",
    )
    time_base = Fraction(data["streams"][0]["time_base"])
    starts = {
        round_half_up(int(p["pts"]) * time_base * 1000) - info.start_pts_ms
        for p in data.get("packets", [])
        if "pts" in p
    }
    return {ms for ms in starts if ms >= start_ms}


def _first_frame_from(ms: int, fps: Fraction) -> int:
    """The first frame starting at or after `ms`."""
    frame = ms_to_frame(ms, fps)
    return frame if frame_to_ms(frame, fps) >= ms else frame + 1


def ffmpeg_target(path: Path) -> str:
    """An output (or, through runner.media_input, an input) as ffmpeg names it."""
    return runner.target(path)


def _s(seconds: Fraction) -> str:
    return f"{float(seconds):.6f}"
