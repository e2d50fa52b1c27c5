"""Clips keep the source's quality class (--codec auto), or take the codec asked for:
the written files probed (codec, profile, pixel format, audio codec, container), the
frames checked against the source, on the shared ProRes and H.264 programmes."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.cut_support import MEDIA, MIN_PSNR_DB, load_source, streams_of
from worker.media.cutting import cut_spans
from worker.media.frames import decode_frame_at, psnr
from worker.media.probe import probe

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not MEDIA.is_dir(), reason=f"test media not found at {MEDIA}"),
]

PRORES = "synthetic/programme_prores.mov"  # ProRes 422 Proxy 10-bit 4:2:2, PCM s16le
H264 = "synthetic/programme_720p25.mp4"  # x264 High 8-bit 4:2:0, AAC
MP4 = ("mp4", "h264", "High", "yuv420p", "aac")
PRORES_PROXY = ("qt", "prores", "Proxy", "yuv422p10le", "pcm_s16le")
PRORES_HQ = ("qt", "prores", "HQ", "yuv422p10le", "pcm_s16le")
SMART_PRORES = "smart: fell back to accurate: video is prores, not H.264"
# ProRes HQ's own loss on the 720p programme's mandelbrot zoom (shot 5): RGB PSNR of one
# frame against the source, encoded from it as lossless 10-bit 4:2:2 (FFV1) 51.1 dB,
# ProRes HQ 39.5 dB, ProRes 4444 XQ 44.8 dB; a wrong frame scores ~17 dB
PRORES_FROM_H264_MIN_PSNR_DB = 38.0
SMART_TO_PRORES = (
    "smart: fell back to accurate: ProRes clips are encoded whole (smart copies H.264 only)"
)

# (source, shot, mode, --codec): what the file is, the mode that made it and its note
CASES: list[tuple[str, int, str, str | None, tuple[str, ...], str, str | None]] = [
    (PRORES, 1, "accurate", "auto", PRORES_PROXY, "accurate", None),
    (PRORES, 1, "accurate", "prores", PRORES_PROXY, "accurate", None),
    (PRORES, 1, "accurate", "h264", MP4, "accurate", None),
    (PRORES, 2, "smart", "auto", PRORES_PROXY, "accurate", SMART_PRORES),
    (PRORES, 2, "smart", "h264", MP4, "accurate", SMART_PRORES),
    (PRORES, 2, "copy", "auto", PRORES_PROXY, "copy", None),  # intra-only: exact
    (H264, 5, "smart", "auto", MP4, "smart", None),
    (H264, 5, "accurate", "auto", MP4, "accurate", None),
    (H264, 5, "accurate", "prores", PRORES_HQ, "accurate", None),
    (H264, 5, "smart", "prores", PRORES_HQ, "accurate", SMART_TO_PRORES),
]


def brand(path: Path) -> str:
    """The file's ftyp major brand: 'qt' for QuickTime (MOV), an MP4 brand otherwise."""
    head = path.read_bytes()[:12]
    assert head[4:8] == b"ftyp"
    major = head[8:12].decode("latin-1").strip()
    return "qt" if major == "qt" else "mp4"


def described(path: Path) -> tuple[str, ...]:
    streams = streams_of(path)
    video, audio = streams["video"], streams.get("audio", {})
    return (
        brand(path),
        video["codec_name"],
        video.get("profile"),
        video["pix_fmt"],
        audio.get("codec_name"),
    )


@pytest.mark.parametrize(
    ("name", "index", "mode", "codec", "written", "made_by", "note"),
    CASES,
    ids=[f"{Path(c[0]).stem}-{c[2]}-{c[3]}" for c in CASES],
)
def test_clip_codec_container_and_frames(
    tmp_path: Path,
    name: str,
    index: int,
    mode: str,
    codec: str,
    written: tuple[str, ...],
    made_by: str,
    note: str | None,
) -> None:
    src, info, truth = load_source(name)
    shot = truth["shots"][index]
    resolved = "prores" if written[1] == "prores" else "h264"
    out = tmp_path / f"clip{'.mov' if resolved == 'prores' else '.mp4'}"
    asked = None if codec == "auto" else codec
    [result] = cut_spans(src, info, [(shot["start_ms"], shot["end_ms"], out)], mode, codec=asked)
    assert (result.path, result.mode, result.codec, result.note) == (out, made_by, resolved, note)
    assert described(out) == written
    frames = shot["end_frame_inclusive"] - shot["start_frame"] + 1
    clip = probe(out)
    assert clip.frame_count == result.frame_count == frames
    if mode == "copy":
        assert (result.drift_frames, result.drift_ms) == (0, 0)
    # first and last frames are the shot's
    to_prores = resolved == "prores" and info.video_codec != "prores"
    bar = PRORES_FROM_H264_MIN_PSNR_DB if to_prores else MIN_PSNR_DB
    last_ms = round(Fraction((frames - 1) * 1000) / info.fps)
    for src_ms, out_ms in [(shot["start_ms"], 0), (shot["start_ms"] + last_ms, last_ms)]:
        ours, theirs = decode_frame_at(out, out_ms, clip), decode_frame_at(src, src_ms, info)
        if mode == "copy":  # the very same coded frames
            assert np.array_equal(ours, theirs)
        else:
            assert psnr(ours, theirs) >= bar
    streams = streams_of(out)
    gap_ms = abs(Fraction(streams["audio"]["duration"]) - Fraction(streams["video"]["duration"]))
    assert gap_ms * 1000 <= 1000 / info.fps  # sound as long as the picture, within a frame
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left


def test_prores_clip_keeps_pcm_samples(tmp_path: Path) -> None:
    """PCM kept as PCM: the accurate ProRes clip's sound is the source's, sample for sample
    (no lossy step between them)."""
    src, info, truth = load_source(PRORES)
    shot = truth["shots"][1]
    out = tmp_path / "clip.mov"
    cut_spans(src, info, [(shot["start_ms"], shot["end_ms"], out)], "accurate")
    ours = _pcm(out, 0, shot["end_ms"] - shot["start_ms"])
    theirs = _pcm(src, shot["start_ms"], shot["end_ms"])
    assert len(ours) == len(theirs) > 0
    assert np.array_equal(ours, theirs)


def _pcm(path: Path, start_ms: int, end_ms: int) -> Any:
    import subprocess

    command = [
        "ffmpeg", "-nostdin", "-v", "error", "-i", str(path),
        "-af", f"atrim=start_sample={start_ms * 48}:end_sample={end_ms * 48}",
        "-f", "s16le", "-c:a", "pcm_s16le", "pipe:",
    ]  # fmt: skip
    raw = subprocess.run(command, capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<i2")


def test_copy_cannot_change_codec(tmp_path: Path) -> None:
    src, info, truth = load_source(PRORES)
    shot = truth["shots"][1]
    with pytest.raises(ValueError, match="copy mode keeps prores; it cannot write h264"):
        cut_spans(
            src,
            info,
            [(shot["start_ms"], shot["end_ms"], tmp_path / "x.mp4")],
            "copy",
            codec="h264",
        )
    assert list(tmp_path.iterdir()) == []
