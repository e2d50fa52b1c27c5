"""Which codec a clip is written in, and the ffmpeg output options that write it.

`--codec` asks for one of CODECS; `resolve` turns the request into what the clips will
be, given the source and the cutting mode:

- auto: the source's quality class is kept. A ProRes source gives ProRes clips (same
  profile, same pixel format, PCM audio kept as PCM, in .mov); anything else gives
  H.264 (an H.264 source is stream-copied where smart/copy can, re-encoded elsewhere).
- h264: H.264 High 8-bit 4:2:0 + AAC in .mp4, what every player and Rekognition decode.
- prores: ProRes in .mov: the source's profile and pixel format when it is ProRes, else
  ProRes 422 HQ 10-bit 4:2:2; PCM audio.
- copy mode keeps the source's stream, so its clips are in the source's codec; asking
  it for another codec is refused before anything is cut.

H.264 quality (cut_accurate): x264 CRF 11, preset veryfast. A CRF is a quality target,
not a bitrate: the clip spends what the picture needs. Measured against the source,
RGB PSNR of every frame of whole-file re-encodes (720p25 programme, VFR phone clip,
bikes, testvideo, Big Buck Bunny; all x264 CRF 26-28 or similar web encodes):
  CRF 11  worst frame 41.0 dB, 1.6-4x the source's bitrate
  CRF 13  worst frame 39.4 dB (the 720p programme's noise shot), ~20% fewer bytes
  CRF 15  worst frame 37.8 dB, ~35% fewer bytes
so CRF 11 is the highest that keeps every frame of these H.264 sources within 40 dB of
the source (the clip tests' bar): an encode of an already-compressed file has to
reproduce its noise and artefacts to stay close to it. A ProRes source's clips keep
the ProRes quality class instead (auto), so no CRF has to stand in for a mezzanine.
The bytes a default run writes come down with smart mode, which copies the middle of
each clip untouched, not with a weaker CRF.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from worker.errors import VidxError
from worker.media.info import MediaInfo

CODECS: Final = ("auto", "h264", "prores")

X264_PRESET = "veryfast"
X264_CRF = 11
AUDIO_KBPS_PER_CHANNEL = 64

# ffprobe's names of ProRes profiles -> prores_ks's -profile values
_PRORES_PROFILES = {
    "Proxy": "proxy",
    "LT": "lt",
    "Standard": "standard",
    "HQ": "hq",
    "4444": "4444",
    "4444 XQ": "4444xq",
}
_PRORES_PIX_FMTS = {"yuv422p10le", "yuv444p10le", "yuva444p10le"}  # what prores_ks writes
MOV_PCM = {
    f"pcm_{kind}{end}" for kind in ("s16", "s24", "s32", "f32", "f64") for end in ("le", "be")
} | {"pcm_s8", "pcm_u8"}
PRORES_DEFAULT_PROFILE = "hq"
PRORES_DEFAULT_PIX_FMT = "yuv422p10le"


def check_codec(codec: str) -> None:
    if codec not in CODECS:
        raise VidxError(f"unknown clip codec {codec!r} (choose from: {', '.join(CODECS)})")


def resolve(requested: str, source_codec: str | None, mode: str) -> str:
    """The codec the clips will be in: 'h264', 'prores', or (copy mode) the source's.

    Refuses a codec copy mode cannot give (VidxError, one line)."""
    check_codec(requested)
    source = source_codec or "unknown"
    if mode == "copy":
        if requested not in ("auto", source):
            raise VidxError(
                f"copy mode keeps the source's {source} video; "
                f"--codec {requested} needs --mode accurate or smart"
            )
        return source
    if requested == "auto":
        return "prores" if source == "prores" else "h264"
    return requested


def suffix(codec: str) -> str:
    """The clip file's extension: MOV for ProRes (MP4 does not hold it), else MP4."""
    return ".mov" if codec == "prores" else ".mp4"


def container(codec: str) -> str:
    """ffmpeg's muxer for a clip in `codec`."""
    return "mov" if codec == "prores" else "mp4"


@dataclass(frozen=True)
class Encoding:
    """How a re-encoded clip is written: codec, muxer and ffmpeg output options."""

    codec: str  # h264 | prores
    container: str  # mp4 | mov
    video: dict[str, str | int]
    audio: dict[str, str | int]  # empty when the source has no audio
    # swscale flags of the pixel format conversion, when the default (bicubic) is not it
    scale_flags: str | None = None


def encoding(codec: str, info: MediaInfo) -> Encoding:
    """The encoding of a re-encoded clip of `info`'s source in `codec` (h264 | prores)."""
    if codec == "h264":
        video: dict[str, str | int] = {
            "c:v": "libx264",
            "preset": X264_PRESET,
            "crf": X264_CRF,
            "pix_fmt": "yuv420p",  # 4:2:0 8-bit: what every player and Rekognition decode
        }
        channels = info.audio_channels or 2
        audio: dict[str, str | int] = {"c:a": "aac", "b:a": f"{AUDIO_KBPS_PER_CHANNEL * channels}k"}
    elif codec == "prores":
        video = {
            "c:v": "prores_ks",
            "profile:v": prores_profile(info),
            "pix_fmt": prores_pix_fmt(info),
            "vendor": "apl0",  # Apple's tag: some players and editors check it
        }
        audio = {"c:a": pcm_codec(info)}
        # 4:2:0 (or 4:2:2) to ProRes's 4:2:2/4:4:4: repeat the chroma rows rather than
        # interpolate them, so the clip holds the source's own chroma samples and shows as
        # the source does (measured on a 720p shot, RGB PSNR of the first frame against
        # the source: bicubic 36.5 dB, bilinear 35.2, neighbor 46.4)
        if info.pix_fmt != video["pix_fmt"]:
            return Encoding(codec, "mov", video, audio if info.has_audio else {}, "neighbor")
    else:
        raise ValueError(f"no encoder for clip codec {codec!r}")
    return Encoding(codec, container(codec), video, audio if info.has_audio else {})


def prores_profile(info: MediaInfo) -> str:
    """The source's ProRes profile, or HQ for a source that is not ProRes."""
    if info.video_codec == "prores" and info.video_profile in _PRORES_PROFILES:
        return _PRORES_PROFILES[info.video_profile]
    return PRORES_DEFAULT_PROFILE


def prores_pix_fmt(info: MediaInfo) -> str:
    """The source's pixel format when prores_ks writes it (a ProRes source's always is),
    else 10-bit 4:2:2, or 4:4:4 for the 4444 profiles."""
    if info.pix_fmt in _PRORES_PIX_FMTS:
        return str(info.pix_fmt)
    return "yuv444p10le" if prores_profile(info).startswith("4444") else PRORES_DEFAULT_PIX_FMT


def pcm_codec(info: MediaInfo) -> str:
    """PCM audio for a MOV clip: the source's own PCM format when MOV holds it, 24-bit
    for other PCM (e.g. Blu-ray's), 16-bit decoded from a lossy codec (all it has)."""
    codec = info.audio_codec or ""
    if codec in MOV_PCM:
        return codec
    return "pcm_s24le" if codec.startswith("pcm_") else "pcm_s16le"
