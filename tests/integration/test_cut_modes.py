"""copy and smart cuts (and the dispatcher) on the shared test media.

smart must pass what accurate passes: every frame of the clip is the source's frame at
the same place (compared small, so a dropped, doubled or shifted frame shows), first
and last frames at full size PSNR >= 40 dB, exact frame count, duration within a
frame, audio within a frame of the video, and a decode without a single error. copy
must report the drift it got: the clip's first frame is, bit for bit, the source frame
that far before the cut.
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import threading
import time
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import ffmpeg
import numpy as np
import pytest

from tests.cut_support import (
    MEDIA,
    MIN_PSNR_DB,
    ShotCut,
    child_ffmpeg_writing_to,
    load_source,
    streams_of,
)
from tests.integration.test_cut import audio_envelope, silence_edges
from worker.errors import MediaToolError
from worker.media.cut_copy import cut_copy, cut_copy_many
from worker.media.cut_smart import CLIPS_PER_RUN, cut_smart, cut_smart_many
from worker.media.cutting import MODES, cut_clip, cut_spans
from worker.media.frames import decode_frame_at, psnr
from worker.media.info import MediaInfo
from worker.media.probe import probe
from worker.timecode import round_half_up

SMALL = (64, 36)  # every frame compared at this size: cheap, and shifts still show

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not MEDIA.is_dir(), reason=f"test media not found at {MEDIA}"),
]

# Shots chosen for how they meet the keyframes (see the truth's verification.keyframes):
SMART_SHOTS = [
    ("synthetic/programme_720p25.mp4", 4),  # starts on keyframe 250, ends mid-GOP (375)
    ("synthetic/programme_720p25.mp4", 5),  # 375-454: re-encoded head, copied GOP, tail
    ("synthetic/programme_720p25.mp4", 8),  # 13 frames inside one GOP: one encoded piece
    ("synthetic/programme_720p25.mp4", 14),  # to the end of the file
    ("synthetic/programme_1080p2997.mov", 4),  # ends at 390, whose keyframe is 391
    ("synthetic/programme_1080p2997.mov", 5),  # starts at 390: a 1-frame head
    ("synthetic/programme_1080p2997.mov", 8),  # 840-854 inside a GOP
    ("real/counter.mp4", 0),  # 10 fps, one keyframe: copy then tail
    ("real/counter.mp4", 1),  # no keyframe inside: one encoded piece
    ("real/bikes.mp4", 2),  # cuts on keyframes: nothing re-encoded
    ("real/bikes.mp4", 5),  # last shot, 8 frames
]
COPY_SHOTS = [
    ("synthetic/programme_720p25.mp4", 5),  # keyframe 350 before the cut at 375
    ("synthetic/programme_720p25.mp4", 3),  # on a keyframe: drift 0
    ("synthetic/programme_1080p2997.mov", 5),  # cut at 390, keyframe 300 before it
    ("real/counter.mp4", 2),  # 20 frames after the only keyframe
    ("real/bikes.mp4", 1),
]


@cache
def cut(name: str, index: int, mode: str, folder: Path) -> ShotCut:
    src, info, truth = load_source(name)
    shot = truth["shots"][index]
    out = folder / f"{src.stem}-{index}-{mode}.mp4"
    result = cut_clip(src, info, shot["start_ms"], shot["end_ms"], out, mode)
    return ShotCut(src, info, truth, shot, result)


def small_frames(
    path: Path, info: MediaInfo, start_ms: int | None = None, end_ms: int | None = None
) -> Any:
    """Every frame (of [start_ms, end_ms) by the cut rule, or of the file), grey, small."""
    if start_ms is None or end_ms is None:
        stream = ffmpeg.input(str(path))["v:0"]
    else:
        first, end = (
            Fraction(info.start_pts_ms + ms, 1000) - Fraction(1, 2000) for ms in (start_ms, end_ms)
        )
        seek = max(Fraction(0), Fraction(start_ms, 1000) - 2)
        stream = ffmpeg.input(str(path), ss=f"{float(seek):.6f}", noaccurate_seek=None)["v:0"]
        stream = stream.trim(start=f"{float(first):.6f}", end=f"{float(end):.6f}")
    command = (
        stream.filter("scale", *SMALL)
        .output("pipe:", format="rawvideo", pix_fmt="gray", fps_mode="passthrough")
        .global_args("-nostdin", "-v", "error", "-copyts")
        .compile()
    )
    raw = subprocess.run(command, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, SMALL[1], SMALL[0])


def decode_errors(path: Path) -> str:
    done = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        check=False,
    )
    return done.stderr.decode("utf-8", "replace")


# ---------------------------------------------------------------- smart


@pytest.fixture(scope="module")
def smart_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("smart")


def assert_clean_from_zero_in_sync(path: Path, clip: ShotCut) -> None:
    """The clip decodes without errors, its video starts at 0, and its audio (when the
    source has any) ends within one frame of its video."""
    assert decode_errors(path) == ""
    streams = streams_of(path)
    assert Fraction(streams["video"]["start_time"]) == 0
    if clip.info.has_audio:
        gap_ms = (
            abs(Fraction(streams["audio"]["duration"]) - Fraction(streams["video"]["duration"]))
            * 1000
        )
        assert gap_ms <= clip.longest_frame_ms()
    else:
        assert "audio" not in streams


@pytest.mark.parametrize(
    ("name", "index"), SMART_SHOTS, ids=[f"{Path(n).stem}-{i}" for n, i in SMART_SHOTS]
)
def test_smart_clip_is_frame_exact_and_decodes_cleanly(
    name: str, index: int, smart_folder: Path
) -> None:
    clip = cut(name, index, "smart", smart_folder)
    result, shot = clip.result, clip.shot
    # these sources are x264 H.264 at a constant rate: smart must not fall back
    assert (result.mode, result.note) == ("smart", None)
    assert result.frame_count == clip.frames
    assert abs(result.duration_ms - (shot["end_ms"] - shot["start_ms"])) <= clip.longest_frame_ms()
    written = probe(result.path)
    assert written.frame_count == clip.frames

    # every frame in place: the clip's frames against the source's, small
    ours = small_frames(result.path, written)
    theirs = small_frames(clip.src, clip.info, shot["start_ms"], shot["end_ms"])
    assert len(ours) == len(theirs) == clip.frames
    worst = min(psnr(a[..., None], b[..., None]) for a, b in zip(ours, theirs, strict=True))
    assert worst >= MIN_PSNR_DB

    # first and last frames at full size
    first, last = shot["start_frame"], shot["end_frame_inclusive"]
    last_src = round_half_up(clip.src_ms(last))
    last_out = round_half_up(clip.src_ms(last) - clip.src_ms(first))
    for src_ms, out_ms in [(shot["start_ms"], 0), (last_src, last_out)]:
        frame = decode_frame_at(result.path, out_ms, written)
        assert psnr(decode_frame_at(clip.src, src_ms, clip.info), frame) >= MIN_PSNR_DB

    assert_clean_from_zero_in_sync(result.path, clip)


def test_smart_audio_is_cut_at_the_same_instants(tmp_path: Path) -> None:
    # programme_720p25: a tone fading out, digital silence over the black gap
    # [26600, 27120), then noise; the clip's audio is stream-copied (edit list start)
    src, info, _ = load_source("synthetic/programme_720p25.mp4")
    result = cut_smart(src, info, 26000, 28000, tmp_path / "gap.mp4")
    assert result.mode == "smart"
    source_edges = silence_edges(audio_envelope(src)[26000:28000])
    clip_edges = silence_edges(audio_envelope(result.path))
    assert abs(source_edges[1] - 1120) <= 5
    for source_ms, clip_ms in zip(source_edges, clip_edges, strict=True):
        assert abs(source_ms - clip_ms) <= 5  # in sync within 5 ms; a frame is 40


def test_smart_many_clips_in_two_runs(tmp_path: Path) -> None:
    src, info, truth = load_source("synthetic/programme_1080p2997.mov")
    shots = truth["shots"][3:11]
    assert len(shots) > CLIPS_PER_RUN  # two batches
    cuts = [(s["start_ms"], s["end_ms"], tmp_path / f"{s['index']}.mp4") for s in shots]
    results = cut_smart_many(src, info, cuts)
    for shot, result in zip(shots, results, strict=True):
        assert (result.mode, result.path.name) == ("smart", f"{shot['index']}.mp4")
        assert result.frame_count == shot["end_frame_inclusive"] - shot["start_frame"] + 1
        first = decode_frame_at(result.path, 0)
        assert psnr(first, decode_frame_at(src, shot["start_ms"], info)) >= MIN_PSNR_DB
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(out.name for *_, out in cuts)


# ---------------------------------------------------------------- copy


def measured_drift(clip: ShotCut, reported: int) -> int | None:
    """How many frames before the cut the clip's first frame is in the source: the
    source frame it is identical to, looked for around the reported drift."""
    first = decode_frame_at(clip.result.path, 0)
    start = clip.shot["start_frame"]
    for drift in sorted(range(reported - 3, reported + 4), key=lambda d: abs(d - reported)):
        frame = start - drift
        if 0 <= frame < clip.info.frame_count:
            at = round_half_up(clip.src_ms(frame))
            if np.array_equal(decode_frame_at(clip.src, at, clip.info), first):
                return drift
    return None


@pytest.mark.parametrize(
    ("name", "index"), COPY_SHOTS, ids=[f"{Path(n).stem}-{i}" for n, i in COPY_SHOTS]
)
def test_copy_reports_the_drift_it_got(name: str, index: int, tmp_path: Path) -> None:
    clip = cut(name, index, "copy", tmp_path)
    result = clip.result
    assert result.mode == "copy"
    assert result.drift_frames is not None and result.drift_ms is not None
    assert measured_drift(clip, result.drift_frames) == result.drift_frames
    start = clip.shot["start_frame"]
    expected_ms = round_half_up(clip.src_ms(start)) - round_half_up(
        clip.src_ms(start - result.drift_frames)
    )
    assert result.drift_ms == expected_ms
    # it holds at least the whole range, from the keyframe on
    assert result.frame_count >= clip.frames + result.drift_frames
    assert_clean_from_zero_in_sync(result.path, clip)


def test_copy_on_a_keyframe_has_no_drift(tmp_path: Path) -> None:
    # 1080p29.97: the cut at 300 is a keyframe
    clip = cut("synthetic/programme_1080p2997.mov", 4, "copy", tmp_path)
    assert (clip.result.drift_frames, clip.result.drift_ms) == (0, 0)
    first = decode_frame_at(clip.result.path, 0)
    assert np.array_equal(first, decode_frame_at(clip.src, clip.shot["start_ms"], clip.info))


def test_copy_many_clips_in_one_run(tmp_path: Path) -> None:
    src, info, truth = load_source("synthetic/programme_720p25.mp4")
    cuts = [
        (s["start_ms"], s["end_ms"], tmp_path / f"{i}.mp4") for i, s in enumerate(truth["shots"])
    ]
    results = cut_copy_many(src, info, cuts)
    assert [r.path for r in results] == [out for _, _, out in cuts]
    keyframes = truth["verification"]["keyframes"]
    for shot, result in zip(truth["shots"], results, strict=True):
        # keyframes every 50 frames: the drift is the distance to the one before
        before = max(k for k in keyframes if k <= shot["start_frame"])
        assert result.drift_frames == shot["start_frame"] - before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(out.name for _, _, out in cuts)


# ------------------------------------------------ VFR, no audio, other codecs


def test_vfr_phone_clips_in_every_mode(tmp_path: Path) -> None:
    name = "synthetic/vfr_phone.mp4"
    for mode in MODES:
        clip = cut(name, 1, mode, tmp_path)  # frames 75-134, the 24 fps part
        result, written = clip.result, probe(clip.result.path)
        if mode == "copy":  # the display matrix copied
            assert written.rotation == 90
        else:  # turned upright on encoding
            assert (written.rotation, written.display_size) == (0, (360, 640))
        if mode == "copy":
            assert measured_drift(clip, result.drift_frames or 0) == result.drift_frames == 75
            continue
        if mode == "smart":
            assert result.mode == "accurate"
            assert result.note == "smart: fell back to accurate: variable frame rate"
        assert result.frame_count == written.frame_count == clip.frames
        ours = small_frames(result.path, written)
        theirs = small_frames(clip.src, clip.info, clip.shot["start_ms"], clip.shot["end_ms"])
        assert (
            min(psnr(a[..., None], b[..., None]) for a, b in zip(ours, theirs, strict=True))
            >= MIN_PSNR_DB
        )


def test_no_audio_clips_in_every_mode(tmp_path: Path) -> None:
    for mode in MODES:
        clip = cut("synthetic/no_audio.mp4", 2, mode, tmp_path)  # 140-199; keyframes on cuts
        result = clip.result
        assert result.mode == mode
        assert result.frame_count == clip.frames
        assert "audio" not in streams_of(result.path)
        assert decode_errors(result.path) == ""
        first = decode_frame_at(result.path, 0)
        assert (
            psnr(first, decode_frame_at(clip.src, clip.shot["start_ms"], clip.info)) >= MIN_PSNR_DB
        )
        if mode == "copy":
            assert result.drift_frames == 0


def test_prores_smart_falls_back(tmp_path: Path) -> None:
    # as H.264 (cut_smart itself); ProRes clips of it: test_cut_codecs.py
    src, info, truth = load_source("synthetic/programme_prores.mov")
    shot = truth["shots"][1]
    result = cut_smart(src, info, shot["start_ms"], shot["end_ms"], tmp_path / "smart.mp4")
    assert (result.mode, result.note) == (
        "accurate",
        "smart: fell back to accurate: video is prores, not H.264",
    )
    assert result.frame_count == shot["end_frame_inclusive"] - shot["start_frame"] + 1
    assert streams_of(result.path)["video"]["codec_name"] == "h264"


def test_copy_refuses_codecs_mp4_cannot_hold(tmp_path: Path) -> None:
    src = tmp_path / "mjpeg.avi"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25",
         "-t", "2", "-c:v", "mjpeg", str(src)],
        check=True,
    )  # fmt: skip
    (tmp_path / "clips").mkdir()
    with pytest.raises(MediaToolError, match="copy mode cannot put mjpeg video into MP4"):
        cut_copy(src, probe(src), 0, 1000, tmp_path / "clips" / "copy.mp4")
    assert list((tmp_path / "clips").iterdir()) == []


def test_webm_is_copied_with_its_drift_and_smart_falls_back(tmp_path: Path) -> None:
    clip = cut("synthetic/programme.webm", 2, "copy", tmp_path)  # starts at frame 110
    assert clip.result.drift_frames == 110  # VP9 here has one keyframe, at the start
    assert measured_drift(clip, 110) == 110
    assert {"video", "audio"} <= set(streams_of(clip.result.path))
    smart = cut("synthetic/programme.webm", 2, "smart", tmp_path)
    assert smart.result.mode == "accurate"
    assert smart.result.note == "smart: fell back to accurate: video is vp9, not H.264"
    assert smart.result.frame_count == smart.frames


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    src, info, _ = load_source("real/counter.mp4")
    with pytest.raises(ValueError, match="unknown cut mode 'fast'"):
        cut_clip(src, info, 0, 1000, tmp_path / "x.mp4", "fast")
    with pytest.raises(ValueError, match="unknown cut mode 'fast'"):
        cut_spans(src, info, [(0, 1000, tmp_path / "x.mp4")], "fast")
    assert MODES == ("copy", "accurate", "smart")
    assert list(tmp_path.iterdir()) == []


def test_cut_spans_keeps_order_in_every_mode(tmp_path: Path) -> None:
    # counter.mp4 shows "Frame = n+1" on frame n; one keyframe, at 0
    src, info, truth = load_source("real/counter.mp4")
    for mode in MODES:
        cuts = [
            (s["start_ms"], s["end_ms"], tmp_path / f"{mode}-{s['index']}.mp4")
            for s in truth["shots"]
        ]
        results = cut_spans(src, info, cuts, mode)
        assert [r.path for r in results] == [out for *_, out in cuts]
        assert {r.mode for r in results} == {mode}
        for shot, result in zip(truth["shots"], results, strict=True):
            exact = shot["start_frame"] - (result.drift_frames or 0)
            first = decode_frame_at(result.path, 0)
            assert psnr(first, decode_frame_at(src, exact * 100, info)) >= MIN_PSNR_DB


# ------------------------------------------------------------ rotation (CFR)


def rotate_mp4(path: Path, degrees: int) -> None:
    """Write a display matrix into the video tkhd, as a phone does (ffmpeg 5.1 cannot)."""
    data = bytearray(path.read_bytes())
    at = data.find(b"tkhd")  # the first track is the video in files ffmpeg writes
    assert at > 0 and data[at + 4] == 0  # version 0 header
    matrix = at + 4 + 4 + 20 + 16
    one = 0x10000
    height = struct.unpack(">I", data[matrix + 40 : matrix + 44])[0] >> 16
    assert degrees == 90
    data[matrix : matrix + 36] = struct.pack(
        ">9i", 0, one, 0, -one, 0, 0, height * one, 0, 0x40000000
    )
    path.write_bytes(bytes(data))


def test_smart_keeps_rotation(tmp_path: Path) -> None:
    src = tmp_path / "rotated.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "4", "-c:v", "libx264",
         "-preset", "ultrafast", "-bf", "3", "-g", "25", "-c:a", "aac", str(src)],
        check=True,
    )  # fmt: skip
    rotate_mp4(src, 90)
    info = probe(src)
    assert info.rotation == 90
    result = cut_smart(src, info, 1480, 3520, tmp_path / "clip.mp4")  # off keyframes both ends
    assert (result.mode, result.frame_count) == ("smart", 51)
    written = probe(result.path)
    assert (written.rotation, written.display_size) == (90, (180, 320))
    for src_ms, out_ms in [(1480, 0), (3480, 2000)]:
        frame = decode_frame_at(result.path, out_ms, written)
        assert psnr(decode_frame_at(src, src_ms, info), frame) >= MIN_PSNR_DB
    assert decode_errors(result.path) == ""


# ------------------------------------------------------------ interruption


def test_killed_ffmpeg_leaves_no_file(tmp_path: Path) -> None:
    # 1080p from 2000 ms: the head re-encodes 2 s before keyframe 120 (4004 ms)
    src, info, _ = load_source("synthetic/programme_1080p2997.mov")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            cut_smart(src, info, 2002, 30030, tmp_path / "long.mp4")
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    deadline, pid = time.monotonic() + 60, None
    while time.monotonic() < deadline and worker.is_alive():
        written = [p for p in tmp_path.iterdir() if p.stat().st_size > 0]
        pid = child_ffmpeg_writing_to(tmp_path)
        if written and pid:
            break
        time.sleep(0.01)
    assert pid is not None, "ffmpeg finished or never started writing"
    os.kill(pid, signal.SIGKILL)
    worker.join(timeout=60)
    assert len(errors) == 1 and isinstance(errors[0], MediaToolError), errors
    assert "killed by signal 9" in str(errors[0])
    assert list(tmp_path.iterdir()) == []  # no clip, no piece, no list


def test_interrupted_smart_cut_stops_every_ffmpeg_and_leaves_no_file(tmp_path: Path) -> None:
    class StopCuttingError(Exception):
        """Stands in for KeyboardInterrupt or a task's time limit."""

    def interrupt(signum: int, frame: object) -> None:
        raise StopCuttingError

    src, info, _ = load_source("synthetic/programme_1080p2997.mov")
    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)  # while the pieces are being written
    try:
        with pytest.raises(StopCuttingError):
            cut_smart_many(
                src, info, [(2002, 30030, tmp_path / "a.mp4"), (100, 9000, tmp_path / "b.mp4")]
            )
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert child_ffmpeg_writing_to(tmp_path) is None
    assert list(tmp_path.iterdir()) == []
