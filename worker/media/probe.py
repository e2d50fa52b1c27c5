"""ffprobe adapter: validate a file as a video we can index and describe it as MediaInfo.

Every refusal is an InputError naming the file and one short problem; ffmpeg.Error and
other vendor failures never leave this module.

Truncation: a file cut short with its index (moov) in front still probes cleanly and
promises every frame. Decoding it all to find out would cost a full decode, so we ask
the demuxer (no decoding) for the packets of the last few seconds the index promises:
a whole file returns packets up to the promised end, a truncated one returns none or
stops early, and no packet may reference bytes beyond the end of the file. The cost
is one seek and a few seconds of demuxing, independent of the file's length.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg

from worker.errors import InputError, MediaToolError
from worker.media.info import MediaInfo
from worker.timecode import frame_to_ms, parse_rate, seconds_to_ms

MAX_SIDE = 8192  # pixels; the largest width or height we decode
MAX_PIXELS = 8192 * 4320  # DCI 8K; one decoded frame stays under ~55 MB (yuv420p)
TAIL_SECONDS = 3  # how much of the end is demuxed to prove the data is there
COUNT_PACKETS_MAX_BYTES = 1 << 30  # above this, estimate frame count instead of demuxing
_ISO_BMFF_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid"}
_IMAGE_FORMATS = {"image2", "image2pipe"}  # plus every "*_pipe" image demuxer

_TOO_LARGE = re.compile(r"Picture size (\d+)x(\d+) exceeds")

JSON = dict[str, Any]


@dataclass(frozen=True)
class _Packet:
    stream_index: int
    pts: int | None
    duration: int
    end_byte: int | None  # pos + size: first byte after the packet


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
    packets = _read_tail(path, claimed_end, start)
    # (pts, duration) of the demuxed video packets, in presentation order
    frames = sorted(
        (p.pts, p.duration)
        for p in packets
        if p.stream_index == video["index"] and p.pts is not None
    )
    _check_complete(path, size, packets, frames, time_base, claimed_end, video)

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


def _target(path: Path) -> str:
    # "file:" + absolute path: a name starting with "-" or containing ":" is not an option
    # or a protocol to ffprobe
    return "file:" + str(path.resolve())


def _ffprobe(path: Path, **options: Any) -> JSON:
    try:
        result: JSON = ffmpeg.probe(_target(path), **options)
    except ffmpeg.Error as exc:
        raise InputError(path, _failure_problem(path, exc.stderr or b"")) from None
    except FileNotFoundError:
        raise MediaToolError("ffprobe is not installed (or not on PATH)") from None
    except json.JSONDecodeError:
        raise MediaToolError(f"{path}: ffprobe printed output that is not JSON") from None
    return result


def _failure_problem(path: Path, stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    last = lines[-1] if lines else "ffprobe failed"
    last = last.replace(_target(path) + ": ", "")
    huge = _TOO_LARGE.search(text)
    if huge:
        return _too_large(int(huge[1]), int(huge[2]))
    if "moov atom not found" in text and _looks_like_iso_bmff(path):
        # an MP4/MOV that starts properly but whose index never arrived: cut short
        return "truncated: moov atom not found"
    if "Permission denied" in text:
        return "permission denied"
    return f"not a media file (ffprobe: {last})"


def _looks_like_iso_bmff(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(8)
    return len(head) == 8 and head[4:8] in _ISO_BMFF_BOXES


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


def _read_tail(path: Path, claimed_end: Fraction | None, start: Fraction) -> list[_Packet]:
    """Packets (all streams, demuxed, not decoded) from TAIL_SECONDS before the end."""
    options: dict[str, Any] = {
        "v": "error",
        "show_entries": "packet=stream_index,pts,duration,pos,size",
    }
    if claimed_end is not None:
        seek = max(start, claimed_end - TAIL_SECONDS)
        options["read_intervals"] = f"{float(seek):.6f}%"
    data = _ffprobe(path, **options)
    return [_packet(p) for p in data.get("packets", [])]


def _packet(raw: JSON) -> _Packet:
    pos, size = raw.get("pos"), raw.get("size")
    end_byte = int(pos) + int(size) if pos is not None and size is not None else None
    pts = raw.get("pts")
    return _Packet(
        stream_index=int(raw["stream_index"]),
        pts=int(pts) if pts is not None else None,
        duration=int(raw.get("duration") or 0),
        end_byte=end_byte,
    )


def _check_complete(
    path: Path,
    size: int,
    packets: list[_Packet],
    frames: list[tuple[int, int]],
    time_base: Fraction,
    claimed_end: Fraction | None,
    video: JSON,
) -> None:
    promised = f"{float(claimed_end):.2f} s" if claimed_end is not None else "more"
    if not frames:
        raise InputError(
            path, f"truncated: the header promises {promised} of video, the end is missing"
        )
    if any(p.end_byte is not None and p.end_byte > size for p in packets):
        raise InputError(path, "truncated: packets reference bytes past the end of the file")
    if claimed_end is None or video.get("duration") is None:
        return  # no exact promise to hold the data to (e.g. Matroska without stream duration)
    data_end = sum(frames[-1]) * time_base
    if data_end < claimed_end - Fraction(1, 2):
        raise InputError(
            path,
            f"truncated: the header promises {promised} of video, "
            f"the data ends at {float(data_end):.2f} s",
        )


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
