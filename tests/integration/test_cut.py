"""cut_accurate on the shared test media: exact frames, quality, audio sync, safe writes."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from fractions import Fraction
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
from worker.errors import MediaToolError
from worker.media.cut import cut_accurate
from worker.media.frames import decode_frame_at, psnr
from worker.media.probe import probe
from worker.timecode import round_half_up

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not MEDIA.is_dir(), reason=f"test media not found at {MEDIA}"),
]

# (file, shot index): starts on and off keyframes, 25 / 29.97 / 10 fps, VFR + rotation,
# a shot ending at the end of the file
SHOTS = [
    ("synthetic/programme_720p25.mp4", 5),  # frames 375-454; keyframes at 350 and 400
    ("synthetic/programme_1080p2997.mov", 4),  # frames 300-389; the next cut is at 390
    ("real/counter.mp4", 1),  # frames 10-19, each labelled with its number
    ("synthetic/vfr_phone.mp4", 1),  # 24 fps part, starts between keyframes 0 and 250
    ("synthetic/vfr_phone.mp4", 3),  # 30 fps with drops, to the end of the file
]


@pytest.fixture(scope="module", params=SHOTS, ids=[f"{Path(f).stem}-shot{i}" for f, i in SHOTS])
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ShotCut:
    name, index = request.param
    src, info, truth = load_source(name)
    shot = truth["shots"][index]
    out = tmp_path_factory.mktemp("cut") / f"{src.stem}-{index}.mp4"
    result = cut_accurate(src, info, shot["start_ms"], shot["end_ms"], out)
    return ShotCut(src, info, truth, shot, result)


def test_cut_holds_exactly_the_shot(case: ShotCut) -> None:
    result, shot = case.result, case.shot
    assert result.path.is_file()
    assert (result.start_ms, result.end_ms, result.mode) == (
        shot["start_ms"],
        shot["end_ms"],
        "accurate",
    )
    assert result.frame_count == case.frames
    assert abs(result.duration_ms - (shot["end_ms"] - shot["start_ms"])) <= case.longest_frame_ms()
    written = probe(result.path)
    assert written.frame_count == result.frame_count
    assert written.duration_ms == result.duration_ms


def test_first_and_last_frames_match_the_source(case: ShotCut) -> None:
    first, last = case.shot["start_frame"], case.shot["end_frame_inclusive"]
    out_info = probe(case.result.path)
    pairs = [
        (case.shot["start_ms"], 0),
        (
            round_half_up(case.src_ms(last)),
            round_half_up(case.src_ms(last) - case.src_ms(first)),
        ),
    ]
    for src_ms, out_ms in pairs:
        source = decode_frame_at(case.src, src_ms, case.info)
        clip = decode_frame_at(case.result.path, out_ms, out_info)
        assert psnr(source, clip) >= MIN_PSNR_DB, (src_ms, out_ms)


def test_output_is_a_faststart_mp4_from_zero_shown_upright(case: ShotCut) -> None:
    streams = streams_of(case.result.path)
    video = streams["video"]
    assert video["codec_name"] == "h264"
    assert Fraction(video["start_time"]) == 0
    # the picture is turned on encoding: upright pixels, no display matrix left
    assert (video["width"], video["height"]) == case.info.display_size
    assert not any("rotation" in s for s in video.get("side_data_list", []))
    head = case.result.path.read_bytes()[: 1 << 16]
    moov, mdat = head.find(b"moov"), head.find(b"mdat")
    assert moov != -1 and (mdat == -1 or moov < mdat)  # +faststart: index first


def test_audio_is_kept_and_as_long_as_the_video(case: ShotCut) -> None:
    streams = streams_of(case.result.path)
    if not case.info.has_audio:
        assert "audio" not in streams
        return
    audio, video = streams["audio"], streams["video"]
    assert audio["codec_name"] == "aac"
    assert abs(Fraction(audio["start_time"])) <= Fraction(1, 1000)
    gap_ms = abs(Fraction(audio["duration"]) - Fraction(video["duration"])) * 1000
    assert gap_ms <= case.longest_frame_ms()


def test_frames_keep_their_source_timing(case: ShotCut) -> None:
    # VFR is cut by timestamps: the clip's frames sit where they sat in the source
    data = ffmpeg.probe(
        str(case.result.path), v="error", select_streams="v:0", show_entries="packet=pts"
    )
    base = Fraction(data["streams"][0]["time_base"])
    written = sorted(int(p["pts"]) * base * 1000 for p in data["packets"])
    first, last = case.shot["start_frame"], case.shot["end_frame_inclusive"]
    expected = [case.src_ms(f) - case.src_ms(first) for f in range(first, last + 1)]
    assert len(written) == len(expected)
    assert max(abs(w - e) for w, e in zip(written, expected, strict=True)) <= 1


def audio_envelope(path: Path) -> np.ndarray[Any, np.dtype[np.float64]]:
    """RMS of the decoded audio (mono, 48 kHz) per millisecond."""
    command = (
        ffmpeg.input(str(path))
        .output("pipe:", format="f32le", ac=1, ar=48000)
        .global_args("-v", "error")
        .compile()
    )
    samples = np.frombuffer(subprocess.run(command, capture_output=True, check=True).stdout, "<f4")
    blocks = samples[: len(samples) // 48 * 48].reshape(-1, 48).astype(np.float64)
    rms: np.ndarray[Any, np.dtype[np.float64]] = np.sqrt(np.mean(blocks**2, axis=1))
    return rms


def silence_edges(rms: np.ndarray[Any, np.dtype[np.float64]]) -> tuple[int, int]:
    """(first quiet ms, first loud ms after it)."""
    quiet = rms < 1e-3
    onset = int(np.argmax(quiet))
    return onset, onset + int(np.argmax(~quiet[onset:]))


def test_audio_is_cut_at_the_same_instants(tmp_path: Path) -> None:
    # programme_720p25: a 660 Hz sine fading out, digital silence over the black gap
    # [26600, 27120), then white noise. The clip [26000, 28000) must hear the same
    # edges at the same offsets as the source.
    src = MEDIA / "synthetic" / "programme_720p25.mp4"
    result = cut_accurate(src, probe(src), 26000, 28000, tmp_path / "gap.mp4")
    source_edges = silence_edges(audio_envelope(src)[26000:28000])
    clip_edges = silence_edges(audio_envelope(result.path))
    assert abs(source_edges[1] - 1120) <= 5  # the noise starts with the shot after the gap
    for source_ms, clip_ms in zip(source_edges, clip_edges, strict=True):
        assert abs(source_ms - clip_ms) <= 5  # in sync within 5 ms; a frame is 40


def test_awkward_output_name_stays_in_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    name = """.. it's a "clip" ..$(x) ..mp4"""
    out = folder / "sub" / ".." / name  # written as <folder>/<name>
    (folder / "sub").mkdir()
    src = MEDIA / "real" / "counter.mp4"
    result = cut_accurate(src, probe(src), 0, 1000, out)
    assert result.path == folder / name
    every_file = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert every_file == [folder / name]
    assert result.frame_count == 10


def test_directory_names_are_refused(tmp_path: Path) -> None:
    src = MEDIA / "real" / "counter.mp4"
    with pytest.raises(ValueError, match="not a file name"):
        cut_accurate(src, probe(src), 0, 1000, tmp_path / "..")
    assert list(tmp_path.iterdir()) == []


def test_killed_ffmpeg_leaves_no_file(tmp_path: Path) -> None:
    src = MEDIA / "synthetic" / "programme_1080p2997.mov"
    info = probe(src)
    errors: list[BaseException] = []

    def cut() -> None:
        try:
            cut_accurate(src, info, 0, 30030, tmp_path / "long.mp4")
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=cut)
    worker.start()
    deadline = time.monotonic() + 60
    pid = None
    while time.monotonic() < deadline and worker.is_alive():
        partial = [p for p in tmp_path.iterdir() if p.stat().st_size > 0]
        pid = child_ffmpeg_writing_to(tmp_path)
        if partial and pid:
            break
        time.sleep(0.02)
    assert pid is not None, "ffmpeg finished or never started writing"
    os.kill(pid, signal.SIGKILL)
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], MediaToolError)
    assert str(src) in str(errors[0])
    assert list(tmp_path.iterdir()) == []


def test_interrupted_cut_stops_ffmpeg_and_leaves_no_file(tmp_path: Path) -> None:
    class StopCuttingError(Exception):
        """Stands in for KeyboardInterrupt or a task's time limit."""

    def interrupt(signum: int, frame: object) -> None:
        raise StopCuttingError

    src = MEDIA / "synthetic" / "programme_1080p2997.mov"
    info = probe(src)
    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        with pytest.raises(StopCuttingError):  # not swallowed or turned into another error
            cut_accurate(src, info, 0, 30030, tmp_path / "long.mp4")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert child_ffmpeg_writing_to(tmp_path) is None
    assert list(tmp_path.iterdir()) == []
