"""Which codec clips come out in (--codec auto|h264|prores against the source and mode),
and the encoder settings each gets."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import pytest

from worker.errors import VidxError
from worker.media.cut_codec import check_codec, container, encoding, resolve, suffix
from worker.media.info import MediaInfo
from worker.timecode import Millis

PRORES = MediaInfo(
    path=Path("programme_prores.mov"),
    size_bytes=1,
    container="mov,mp4,m4a,3gp,3g2,mj2",
    duration_ms=Millis(10000),
    fps=Fraction(25),
    cfr=True,
    frame_count=250,
    width=640,
    height=360,
    rotation=0,
    video_codec="prores",
    pix_fmt="yuv422p10le",
    audio_codec="pcm_s16le",
    audio_channels=2,
    audio_sample_rate=48000,
    start_pts_ms=Millis(0),
    video_profile="Proxy",
)
H264 = dataclasses.replace(
    PRORES, video_codec="h264", pix_fmt="yuv420p", audio_codec="aac", video_profile="High"
)


@pytest.mark.parametrize(
    ("requested", "source", "mode", "expected"),
    [
        ("auto", "h264", "smart", "h264"),
        ("auto", "h264", "accurate", "h264"),
        ("auto", "prores", "smart", "prores"),  # the quality class is kept
        ("auto", "prores", "accurate", "prores"),
        ("auto", "vp9", "accurate", "h264"),  # anything else: H.264
        ("auto", "hevc", "smart", "h264"),
        ("h264", "prores", "smart", "h264"),
        ("prores", "h264", "accurate", "prores"),
        ("prores", "vp9", "smart", "prores"),
        ("auto", "vp9", "copy", "vp9"),  # copy keeps the source's stream
        ("auto", "prores", "copy", "prores"),
        ("h264", "h264", "copy", "h264"),
        ("prores", "prores", "copy", "prores"),
    ],
)
def test_resolve(requested: str, source: str, mode: str, expected: str) -> None:
    assert resolve(requested, source, mode) == expected


@pytest.mark.parametrize(("requested", "source"), [("h264", "prores"), ("prores", "h264")])
def test_copy_refuses_another_codec(requested: str, source: str) -> None:
    with pytest.raises(VidxError) as caught:
        resolve(requested, source, "copy")
    assert str(caught.value) == (
        f"copy mode keeps the source's {source} video; "
        f"--codec {requested} needs --mode accurate or smart"
    )


@pytest.mark.parametrize("bad", ["vp9", "H264", "", "prores_ks"])
def test_unknown_codec_is_one_clear_line(bad: str) -> None:
    with pytest.raises(VidxError) as caught:
        check_codec(bad)
    assert str(caught.value) == f"unknown clip codec {bad!r} (choose from: auto, h264, prores)"
    with pytest.raises(VidxError, match="unknown clip codec"):
        resolve(bad, "h264", "smart")


def test_files_and_muxers() -> None:
    assert (suffix("prores"), container("prores")) == (".mov", "mov")
    assert (suffix("h264"), container("h264")) == (".mp4", "mp4")
    assert (suffix("vp9"), container("vp9")) == (".mp4", "mp4")  # copy of a WebM's VP9


def test_h264_encoding_is_crf_not_a_bitrate() -> None:
    enc = encoding("h264", PRORES)
    assert (enc.codec, enc.container) == ("h264", "mp4")
    assert enc.video == {"c:v": "libx264", "preset": "veryfast", "crf": 11, "pix_fmt": "yuv420p"}
    assert not any(key.startswith(("b:v", "maxrate")) for key in enc.video)
    assert enc.audio == {"c:a": "aac", "b:a": "128k"}
    six = dataclasses.replace(H264, audio_channels=6)
    assert encoding("h264", six).audio["b:a"] == "384k"


@pytest.mark.parametrize(
    ("profile", "pix_fmt", "expected"),
    [
        ("Proxy", "yuv422p10le", ("proxy", "yuv422p10le")),
        ("LT", "yuv422p10le", ("lt", "yuv422p10le")),
        ("Standard", "yuv422p10le", ("standard", "yuv422p10le")),
        ("HQ", "yuv422p10le", ("hq", "yuv422p10le")),
        ("4444", "yuv444p10le", ("4444", "yuv444p10le")),
        ("4444 XQ", "yuva444p10le", ("4444xq", "yuva444p10le")),
    ],
)
def test_prores_keeps_the_source_profile_and_pixels(
    profile: str, pix_fmt: str, expected: tuple[str, str]
) -> None:
    source = dataclasses.replace(PRORES, video_profile=profile, pix_fmt=pix_fmt)
    enc = encoding("prores", source)
    assert (enc.codec, enc.container) == ("prores", "mov")
    assert (enc.video["c:v"], enc.video["profile:v"], enc.video["pix_fmt"]) == (
        "prores_ks",
        *expected,
    )
    assert enc.audio == {"c:a": "pcm_s16le"}  # PCM stays PCM


def test_prores_from_another_codec_is_hq_422_10bit_with_pcm() -> None:
    enc = encoding("prores", H264)
    assert (enc.video["profile:v"], enc.video["pix_fmt"]) == ("hq", "yuv422p10le")
    assert enc.audio == {"c:a": "pcm_s16le"}  # decoded AAC as 16-bit PCM


@pytest.mark.parametrize(
    ("audio", "pcm"),
    [("pcm_s24le", "pcm_s24le"), ("pcm_s16be", "pcm_s16be"), ("pcm_bluray", "pcm_s24le")],
)
def test_prores_audio_keeps_pcm_formats_mov_holds(audio: str, pcm: str) -> None:
    assert encoding("prores", dataclasses.replace(PRORES, audio_codec=audio)).audio == {"c:a": pcm}


def test_no_audio_no_audio_options() -> None:
    silent = dataclasses.replace(H264, audio_codec=None, audio_channels=None)
    assert encoding("h264", silent).audio == {}
    assert encoding("prores", silent).audio == {}
