"""ffprobe adapter: validate a file as a video we can index and describe it as MediaInfo.

Every refusal is an InputError naming the file and one short problem; ffmpeg.Error and
other vendor failures never leave this module.

Truncated files are found without decoding (see completeness.py): one seek and a few
seconds of demuxing at the end, independent of the file's length.
"""

from __future__ import annotations

import itertools
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from worker.errors import InputError, MediaToolError
from worker.media import runner
from worker.media.completeness import Packet, box_overrun, looks_like_iso_bmff, tail_problem
from worker.media.info import MediaInfo
from worker.media.source_timecode import start_timecode
from worker.timecode import frame_to_ms, parse_rate, seconds_to_ms

MAX_SIDE = 8192  # pixels; the largest width or height we decode
MAX_PIXELS = 8192 * 4320  # DCI 8K; one decoded frame stays under ~55 MB (yuv420p)
TAIL_SECONDS = 3  # how much of the end is demuxed to prove the data is there
COUNT_PACKETS_MAX_BYTES = 1 << 30  # above this, estimate frame count instead of demuxing
_IMAGE_FORMATS = {"image2", "image2pipe"}  # plus every "*_pipe" image demuxer
# demuxers that open what a file names (runner.py's whitelist keeps them out); a file
# they would read is refused as such, whatever it names and whether that exists
_REFERENCE_FORMATS = {"hls", "dash", "concat", "sdp", "rtp", "rtsp", "imf"}
_READS = "MP4/MOV, Matroska/WebM, AVI, MPEG-TS/PS, MXF, FLV, Ogg, ASF/WMV, DV"

_TOO_LARGE = re.compile(r"Picture size (\d+)x(\d+) exceeds")

JSON = dict[str, Any]


def probe(path: Path) -> MediaInfo:
    """Describe a video file, or raise InputError saying why it cannot be indexed."""
    path = Path(path)
    size = _check_file(path)
    # max_pixels makes libavcodec refuse to allocate a giant frame while ffprobe decodes
    # the first one for stream parameters; the refusal is reported as "too large"
    data = _ffprobe(path, v="error", max_pixels=MAX_PIXELS)
    fmt: JSON = data.get("format", {})
    streams: list[JSON] = data.get("streams", [])
    video = _first_stream(streams, "video")
    if video is None:
        raise InputError(path, "not a video: no video stream")
    if _is_still(fmt, video):
        raise InputError(path, "still image, not a video")
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    _check_dimensions(path, width, height)
    codec = video.get("codec_name")
    if not codec or codec == "none":
        raise InputError(path, "unsupported video codec (ffprobe cannot name it)")

    time_base = _rate(video.get("time_base")) or Fraction(1, 1000)
    start = _seconds(video.get("start_time")) or _seconds(fmt.get("start_time")) or Fraction(0)
    claimed_end = _claimed_end(fmt, video, start)
    iso_bmff = looks_like_iso_bmff(path)
    if iso_bmff and (problem := box_overrun(path, size)):
        raise InputError(path, problem)
    packets = _read_tail(path, claimed_end, start)
    # (pts, duration) of the demuxed video packets, in presentation order
    frames = sorted(
        (p.pts, p.duration)
        for p in packets
        if p.stream_index == video["index"] and p.pts is not None
    )
    exact = iso_bmff and "duration" in video  # the end comes from the sample index
    if problem := tail_problem(size, packets, frames, time_base, claimed_end, exact):
        raise InputError(path, problem)

    deltas = [b[0] - a[0] for a, b in itertools.pairwise(frames)]
    fps, cfr = _frame_rate(video, [d * time_base for d in deltas], time_base)
    last_pts, last_duration = frames[-1]
    # a muxer often gives the final sample a token duration (vfr_phone.mp4: 1/120 s);
    # the interval before it is the better guess of how long the last frame shows
    end = (last_pts + max(last_duration, deltas[-1] if deltas else 0)) * time_base
    frame_count = _frame_count(path, size, video, fps, end - start)
    if frame_count <= 1:
        raise InputError(path, "still image, not a video")
    duration_ms = frame_to_ms(frame_count, fps) if cfr else seconds_to_ms(end - start)

    audio = _first_stream(streams, "audio")
    return MediaInfo(
        path=path,
        size_bytes=size,
        container=str(fmt.get("format_name", "")),
        duration_ms=duration_ms,
        fps=fps,
        cfr=cfr,
        frame_count=frame_count,
        width=width,
        height=height,
        rotation=_rotation(video),
        video_codec=str(codec),
        pix_fmt=video.get("pix_fmt"),
        audio_codec=audio.get("codec_name") if audio else None,
        audio_channels=int(audio["channels"]) if audio and audio.get("channels") else None,
        audio_sample_rate=int(audio["sample_rate"]) if audio and audio.get("sample_rate") else None,
        start_pts_ms=seconds_to_ms(start),
        start_timecode=start_timecode(fmt, streams, video, fps),
    )


def _check_file(path: Path) -> int:
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a directory, not a video file")
    if not path.is_file():
        raise InputError(path, "not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise InputError(path, "empty file")
    return size


def _ffprobe(path: Path, **options: Any) -> JSON:
    try:
        return runner.ffprobe_json(path, **options)
    except runner.ToolFailedError as exc:
        raise InputError(path, _failure_problem(path, exc.stderr)) from None


def _failure_problem(path: Path, text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    last = lines[-1] if lines else "ffprobe failed"
    last = last.replace(runner.target(path) + ": ", "")
    if refused := runner.refused_format(text):
        return refusal(refused)
    huge = _TOO_LARGE.search(text)
    if huge:
        return _too_large(int(huge[1]), int(huge[2]))
    if "moov atom not found" in text and looks_like_iso_bmff(path):
        # an MP4/MOV that starts properly but whose index never arrived: cut short
        return "truncated: moov atom not found"
    if "Permission denied" in text:
        return "permission denied"
    return f"not a media file (ffprobe: {last})"


def refusal(demuxer: str) -> str:
    """Why a file ffmpeg would read with `demuxer` (not on the whitelist) is refused."""
    name = demuxer.split(",")[0]
    if name in _REFERENCE_FORMATS:
        return f"is a playlist/reference file ({name}): vidx indexes media files only"
    if name in _IMAGE_FORMATS or name.endswith("_pipe"):
        return "still image, not a video"
    return f"not a media file vidx reads ({name} format; it reads {_READS})"


def _first_stream(streams: list[JSON], kind: str) -> JSON | None:
    for stream in streams:
        if stream.get("codec_type") != kind:
            continue
        # cover art in audio files is a one-picture "video" stream
        if stream.get("disposition", {}).get("attached_pic") == 1:
            continue
        return stream
    return None


def _is_still(fmt: JSON, video: JSON) -> bool:
    name = str(fmt.get("format_name", ""))
    if name in _IMAGE_FORMATS or name.endswith("_pipe"):
        return True
    nb = video.get("nb_frames")
    return bool(video.get("disposition", {}).get("still_image") == 1 or (nb and int(nb) <= 1))


def _check_dimensions(path: Path, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise InputError(path, "no picture size in the video stream")
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise InputError(path, _too_large(width, height))


def _too_large(width: int, height: int) -> str:
    return (
        f"picture too large: {width}x{height} "
        f"(limit {MAX_SIDE} pixels a side, {MAX_PIXELS / 1e6:.1f} Mpixel)"
    )


def _rate(text: Any) -> Fraction | None:
    try:
        return parse_rate(str(text))
    except (ValueError, ZeroDivisionError):
        return None


def _seconds(text: Any) -> Fraction | None:
    if text is None or text == "N/A":
        return None
    try:
        return Fraction(str(text))
    except ValueError:
        return None


def _claimed_end(fmt: JSON, video: JSON, start: Fraction) -> Fraction | None:
    """Where the headers say the video ends (stream timeline, seconds)."""
    duration = _seconds(video.get("duration"))
    if duration is not None:
        return start + duration
    fmt_duration = _seconds(fmt.get("duration"))
    if fmt_duration is None:
        return None
    return (_seconds(fmt.get("start_time")) or Fraction(0)) + fmt_duration


def _read_tail(path: Path, claimed_end: Fraction | None, start: Fraction) -> list[Packet]:
    """Packets (all streams, demuxed, not decoded) from TAIL_SECONDS before the end."""
    options: dict[str, Any] = {
        "v": "error",
        "fflags": "+discardcorrupt",  # drop a packet cut short instead of passing it on
        "show_entries": "packet=stream_index,pts,duration,pos,size",
    }
    if claimed_end is not None:
        seek = max(start, claimed_end - TAIL_SECONDS)
        options["read_intervals"] = f"{float(seek):.6f}%"
    data = _ffprobe(path, **options)
    return [Packet.from_ffprobe(p) for p in data.get("packets", [])]


def _frame_rate(video: JSON, deltas: list[Fraction], time_base: Fraction) -> tuple[Fraction, bool]:
    """(fps, cfr). CFR when r_frame_rate (the rate all timestamps fit, as libavformat
    guesses it) agrees with avg_frame_rate (frames / duration) within 0.1%, and the
    demuxed tail timestamps step by exactly one frame (within a time-base tick).
    fps is then r_frame_rate, exact (30000/1001); for VFR it is the average rate."""
    real, avg = _rate(video.get("r_frame_rate")), _rate(video.get("avg_frame_rate"))
    if avg is None:
        avg = real
    if avg is None:
        raise MediaToolError("ffprobe reported no frame rate")  # unreachable for real video
    if real is None or abs(real - avg) / avg > Fraction(1, 1000):
        return avg, False
    frame = 1 / real
    tolerance = time_base + Fraction(1, 10000)
    regular = all(abs(d - frame) <= tolerance for d in deltas)
    return (real, True) if regular else (avg, False)


def _frame_count(path: Path, size: int, video: JSON, fps: Fraction, duration: Fraction) -> int:
    nb = video.get("nb_frames")
    if nb is not None and int(nb) > 0:
        return int(nb)
    if size <= COUNT_PACKETS_MAX_BYTES:
        # demux-only count: one packet per frame for the codecs we accept
        data = _ffprobe(
            path,
            v="error",
            select_streams=f"{video['index']}",
            count_packets=None,
            show_entries="stream=nb_read_packets",
        )
        counted = data.get("streams", [{}])[0].get("nb_read_packets")
        if counted is not None and int(counted) > 0:
            return int(counted)
    return int(duration * fps + Fraction(1, 2))


def _rotation(video: JSON) -> int:
    """Clockwise degrees a player rotates the picture (0, 90, 180, 270)."""
    clockwise = 0.0
    tag = video.get("tags", {}).get("rotate")
    if tag is not None:
        clockwise = float(tag)  # the old "rotate" tag is already clockwise
    for side in video.get("side_data_list", []):
        if "rotation" in side:
            # ffprobe shows the display matrix's counter-clockwise angle: -90 = 90 clockwise
            clockwise = -float(side["rotation"])
    return round(clockwise / 90) * 90 % 360


__all__ = ["MAX_PIXELS", "MAX_SIDE", "probe"]
