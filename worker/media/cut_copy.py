"""Stream-copied clips: no re-encoding, so they start on a keyframe.

The clip of [start_ms, end_ms) starts at the keyframe K at or before the range's first
frame S, and reports how much earlier that is (drift: S - K in frames, and in ms
between the two frames' starts). It takes, in decode order from K, the fewest packets
that show every frame up to the range's end without a gap; with B-frames that can add
a frame or two after the end (an anchor frame is stored before the B-frames shown
before it), which the result's note states. ProRes (intra-only: every frame a keyframe,
so no drift) is copied into MOV, with its PCM audio.

How ffmpeg is driven, and why:
- `-seek_timestamp 1 -ss T` with T = K's own timestamp rounded up to the microsecond:
  an input seek lands on the keyframe at or before T, so exactly on K, with no
  dependency on the container's start time. Stream copy keeps the packets from there
  on (ffmpeg's -copypriorss default), so K is the first frame, at timestamp 0.
- The video is limited by decode timestamp to exactly the packets wanted, the audio
  (the same file opened a second time, seeked alike) to the video's length; see
  _video_limit. Audio is copied from where the demuxer's seek put it (an audio frame
  at or just before K); the MP4 muxer's edit list starts playback at 0, so video and
  audio stay in sync.
- The MP4 muxer's own handling of the negative decode timestamps B-frames need (an
  edit list) is kept: `-avoid_negative_ts make_zero` would shift by the first decode
  timestamp and start the video two frames late (measured: 89 ms on the 720p file).
- Stream copy carries the display matrix over, so rotation is kept.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from worker.errors import MediaToolError
from worker.media.cut import (
    TIMEOUT_BASE_S,
    CutResult,
    RunClip,
    destination,
    discarded_on_failure,
    ffmpeg_target,
    temp_path,
)
from worker.media.cut_codec import MOV_PCM, pcm_codec
from worker.media.info import MediaInfo
from worker.media.keyframes import VideoIndex, video_index
from worker.media.mp4_boxes import Mp4Track, mp4_tracks
from worker.media.runner import media_input, run_ffmpeg

# What an MP4 file can carry (ffmpeg's mp4 muxer, as decoders expect them)
MP4_VIDEO = {"h264", "hevc", "av1", "vp9", "mpeg4", "mpeg2video"}
MP4_AUDIO = {"aac", "mp3", "ac3", "eac3", "alac", "flac", "opus"}
# copied into MOV instead (cut_codec.suffix/container): intra-only, so every frame is a
# keyframe and a copy starts exactly on the cut; PCM audio is copied along
MOV_VIDEO = {"prores"}
CLIPS_PER_RUN = 16  # two inputs a clip: well under the usual 1024 open files


@dataclass(frozen=True)
class _Plan(RunClip):
    first: int  # frame index of the range's first frame
    keyframe: int  # where the clip starts
    packets: int  # video packets copied, in decode order from the keyframe
    length: Fraction  # seconds the copied frames show
    to_the_end: bool  # the clip ends with the video's last frame
    last_interval: Fraction  # seconds between the last two frames' starts


def cut_copy(src: Path, info: MediaInfo, start_ms: int, end_ms: int, out: Path) -> CutResult:
    """Stream-copy [start_ms, end_ms) of `src`, from the keyframe at or before it."""
    return cut_copy_many(src, info, [(start_ms, end_ms, out)])[0]


def cut_copy_many(
    src: Path, info: MediaInfo, cuts: Sequence[tuple[int, int, Path]]
) -> list[CutResult]:
    """cut_copy for several ranges of one video, CLIPS_PER_RUN to an ffmpeg run.

    A copy takes ~70 ms, nearly all of it starting ffmpeg and opening the input; one
    run writing many clips pays that once. Each clip is still written to a temporary
    name, checked and renamed on its own; if the run fails, none of its clips is kept.
    """
    src = Path(src)
    if info.video_codec not in MP4_VIDEO | MOV_VIDEO:
        raise MediaToolError(
            f"{src}: copy mode cannot put {info.video_codec} video into MP4 without "
            "re-encoding; use --mode accurate or smart"
        )
    index = video_index(src)
    plans = [_plan(src, info, index, start, end, Path(out)) for start, end, out in cuts]
    results: list[CutResult] = []
    for at in range(0, len(plans), CLIPS_PER_RUN):
        results += _run(src, info, index, plans[at : at + CLIPS_PER_RUN])
    return results


def _plan(
    src: Path, info: MediaInfo, index: VideoIndex, start_ms: int, end_ms: int, out: Path
) -> _Plan:
    if not 0 <= start_ms < end_ms <= info.duration_ms:
        raise ValueError(f"bad range [{start_ms}, {end_ms}) for {info.duration_ms} ms of video")
    final = destination(out)
    first, end = index.first_frame_from(start_ms), index.first_frame_from(end_ms)
    if end <= first:
        raise ValueError(f"[{start_ms}, {end_ms}) holds no frame of {src}")
    keyframe = index.keyframe_at_or_before(first)
    if keyframe is None:
        raise MediaToolError(f"{src}: no keyframe at or before {start_ms} ms to copy from")
    packets = index.packets_to_show(keyframe, end)
    shown_end = min(keyframe + packets, index.frame_count)
    length = index.end_seconds(shown_end) - index.seconds(keyframe)
    last = index.frame_count - 1
    interval = (index.seconds(last) - index.seconds(last - 1)) if last > 0 else Fraction(0)
    return _Plan(
        start_ms,
        end_ms,
        final,
        temp_path(final),
        first,
        keyframe,
        packets,
        length,
        to_the_end=shown_end == index.frame_count,
        last_interval=interval,
    )


def _run(src: Path, info: MediaInfo, index: VideoIndex, plans: list[_Plan]) -> list[CutResult]:
    command = ["ffmpeg", "-nostdin", "-v", "error"]
    outputs: list[str] = []
    for plan in plans:
        inputs, maps = _clip_args(src, info, index, plan, command.count("-i"))
        command += inputs
        outputs += maps
    results = []
    with discarded_on_failure([plan.temp for plan in plans]):
        length = sum(float(plan.length) for plan in plans)
        run_ffmpeg([*command, *outputs], src, TIMEOUT_BASE_S + length, "cutting")
        # every clip checked before any is renamed: a run is kept whole or not at all
        written = [_verify(plan, src, info) for plan in plans]
        for plan, video in zip(plans, written, strict=True):
            plan.temp.replace(plan.final)
            results.append(_result(plan, index, video, info.video_codec))
    return results


def _result(plan: _Plan, index: VideoIndex, written: Mp4Track, codec: str) -> CutResult:
    extra = plan.keyframe + plan.packets - index.first_frame_from(plan.end_ms)
    return dataclasses.replace(
        plan.measured(written, "copy"),
        codec=codec,
        drift_ms=index.ms(plan.first) - index.ms(plan.keyframe),
        drift_frames=plan.first - plan.keyframe,
        note=f"copy: ends {extra} frame(s) after the range (B-frame order)" if extra else None,
    )


def _clip_args(
    src: Path, info: MediaInfo, index: VideoIndex, plan: _Plan, first_input: int
) -> tuple[list[str], list[str]]:
    """(input options, output options) of one clip in a run."""
    seek = math.ceil(index.seconds(plan.keyframe) * 1_000_000)  # µs, rounded up: lands on K
    at = ["-seek_timestamp", "1", "-ss", f"{seek / 1_000_000:.6f}"]
    limit = _video_limit(index, plan.keyframe, plan.packets, Fraction(seek, 1_000_000))
    inputs = media_input(src, *at, *limit)
    maps = ["-map", f"{first_input}:V:0", "-c:v", "copy"]
    mov = info.video_codec in MOV_VIDEO
    if info.has_audio:
        # the same file opened again for its audio, seeked the same way so the two
        # keep their timing, and limited to the video's length
        inputs += media_input(src, *at, "-t", f"{float(plan.length):.6f}")
        maps += ["-map", f"{first_input + 1}:a:0"]
        if info.audio_codec in MP4_AUDIO or (mov and info.audio_codec in MOV_PCM):
            maps += ["-c:a", "copy"]
        elif mov:  # a PCM that MOV does not hold as is
            maps += ["-c:a", pcm_codec(info)]
        else:  # e.g. PCM from a MOV: MP4 cannot hold it; AAC is cheap to encode
            maps += ["-c:a", "aac", "-b:a", f"{64 * (info.audio_channels or 2)}k"]
    muxer = "mov" if mov else "mp4"
    maps += ["-movflags", "+faststart", "-f", muxer, ffmpeg_target(plan.temp)]
    return inputs, maps


def _video_limit(index: VideoIndex, keyframe: int, packets: int, seek: Fraction) -> list[str]:
    """Input `-t` that lets exactly `packets` video packets through.

    Not `-frames:v`: ffmpeg closes every stream of an output when one reaches its frame
    limit, which cut the audio ~110 ms short. An input's -t stops a copied stream at
    the first packet whose decode timestamp reaches it, so a limit between the last
    wanted packet's and the next one's decode timestamps takes exactly these packets.
    """
    start = index.decode_position(keyframe)
    if start + packets >= len(index.packets):
        return []  # to the end of the stream
    last, following = index.packets[start + packets - 1].dts, index.packets[start + packets].dts
    if last is None or following is None:
        raise MediaToolError(f"{index.frame_count}-frame video without decode timestamps")
    middle = Fraction(last + following, 2) * index.time_base - seek
    return ["-t", f"{float(middle):.6f}"]


def _verify(plan: _Plan, src: Path, info: MediaInfo) -> Mp4Track:
    """What the muxer wrote, from the file's index: the copied packets, the length, the
    streams (no decoding: nothing was encoded)."""
    tracks = {t.handler: t for t in mp4_tracks(plan.temp)}
    video = tracks.get("vide")
    if video is None or video.samples != plan.packets:
        got = video.samples if video else 0
        raise MediaToolError(f"{src}: the clip has {got} video frames, copied {plan.packets}")
    # the last frame of a video lasts what its muxer said (often a token value), which
    # the copy keeps: a clip to the end may be up to that frame's interval shorter
    slack = plan.last_interval if plan.to_the_end else Fraction(0)
    if (
        not plan.length - slack - Fraction(1, 1000)
        <= video.duration
        <= plan.length + Fraction(1, 1000)
    ):
        lasts, copied = float(video.duration), float(plan.length)
        raise MediaToolError(f"{src}: the clip lasts {lasts:.3f} s, copied {copied:.3f} s")
    audio = tracks.get("soun")
    if info.has_audio != (audio is not None and audio.samples > 0):
        raise MediaToolError(f"{src}: the clip lost or gained an audio stream")
    return video
