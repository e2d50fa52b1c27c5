"""probe() against the shared test media: bad inputs refused, good ones described truly."""

from __future__ import annotations

import itertools
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg
import pytest

from worker.errors import InputError
from worker.media import runner
from worker.media.probe import TAIL_SECONDS, probe

MEDIA = Path(__file__).resolve().parents[2].parent / "shared" / "media"
GOOD = sorted(
    p
    for p in [*MEDIA.glob("real/*"), *MEDIA.glob("synthetic/*")]
    if p.suffix in {".mp4", ".mov", ".webm"}
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not MEDIA.is_dir(), reason=f"test media not found at {MEDIA}"),
]


def truth_of(video: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((video.parent / f"{video.stem}.truth.json").read_text())
    return data


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("empty.mp4", "empty file"),
        ("not_a_video.mp4", "not a media file (ffprobe: Invalid data found when processing input)"),
        ("truncated.mp4", "truncated: moov atom not found"),
        ("truncated_faststart.mp4", "truncated: "),
        ("audio_only.m4a", "not a video: no video stream"),
        ("still.mp4", "still image, not a video"),
        ("huge_dimensions_header.mp4", "picture too large: 15360x8640 (limit 8192 pixels a side"),
    ],
)
def test_bad_input_is_refused_with_its_problem(name: str, problem: str) -> None:
    path = MEDIA / "bad" / name
    assert path.is_file()
    with pytest.raises(InputError) as caught:
        probe(path)
    assert caught.value.problem.startswith(problem)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message


def test_truncated_faststart_is_caught_by_its_box_sizes() -> None:
    # ffprobe alone accepts this file and promises 1463 frames / 58.52 s
    with pytest.raises(InputError, match=r"truncated: the mdat box needs \d+ bytes more"):
        probe(MEDIA / "bad" / "truncated_faststart.mp4")


def remux(src: Path, out: Path, **options: Any) -> Path:
    ffmpeg.run(ffmpeg.input(str(src)).output(str(out), c="copy", **options), quiet=True)
    return out


def test_mp4_missing_only_part_of_its_last_frame_is_truncated(tmp_path: Path) -> None:
    whole = remux(MEDIA / "real" / "counter.mp4", tmp_path / "whole.mp4", movflags="+faststart")
    assert probe(whole).frame_count == 30
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[:-500])
    with pytest.raises(InputError, match=r"cut\.mp4: truncated: the mdat box needs 500 bytes"):
        probe(cut)


def test_truncated_matroska_is_caught_by_demuxing_its_end(tmp_path: Path) -> None:
    # no box sizes to check: the header's duration promises 58.5 s, the data stops at 20 s
    whole = remux(MEDIA / "synthetic" / "programme_720p25.mp4", tmp_path / "whole.mkv")
    assert probe(whole).frame_count == 1463
    cut = tmp_path / "cut.mkv"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(InputError, match=r"promises 58\.5\d s of video, the data ends at 2\d\."):
        probe(cut)


def test_probe_demuxes_only_the_tail_and_decodes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the truncation check reads the last seconds' packets only; a decode (or a demux of
    # the whole file) would cost about the file's duration. Asserted on the ffprobe runs
    # recorded, not on seconds (which a busy machine stretches).
    commands: list[list[str]] = []
    real = runner.capture

    def recording(command: list[str], *args: Any) -> bytes:
        commands.append(command)
        return real(command, *args)

    monkeypatch.setattr(runner, "capture", recording)
    info = probe(MEDIA / "synthetic" / "programme_1080p2997.mov")
    assert commands and all(Path(c[0]).name == "ffprobe" for c in commands)
    decoding = {"-show_frames", "-count_frames"}
    assert not [c for c in commands if decoding & set(c)]
    packet_reads = [c for c in commands if any("packet=" in a for a in c)]
    assert len(packet_reads) == 1
    start_s = float(packet_reads[0][packet_reads[0].index("-read_intervals") + 1].rstrip("%"))
    assert info.duration_ms / 1000 - start_s <= TAIL_SECONDS + 0.5


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda tmp: tmp / "missing.mp4", "no such file"),
        (lambda tmp: tmp, "is a directory, not a video file"),
    ],
    ids=["missing", "directory"],
)
def test_paths_that_are_not_files(tmp_path: Path, make: Any, problem: str) -> None:
    path = make(tmp_path)
    with pytest.raises(InputError) as caught:
        probe(path)
    assert caught.value.problem == problem
    assert str(caught.value) == f"{path}: {problem}"


@pytest.mark.parametrize("video", GOOD, ids=[p.name for p in GOOD])
def test_video_probes_to_its_truth(video: Path) -> None:
    truth = truth_of(video)
    info = probe(video)

    assert info.path == video
    assert info.size_bytes == video.stat().st_size
    assert info.frame_count == truth["frame_count"]
    assert (info.width, info.height) == (truth["width"], truth["height"])
    assert info.cfr is truth["cfr"]
    if truth["cfr"]:
        assert info.fps == Fraction(truth["fps"]["rational"])
        frame_ms = 1000 / info.fps
    else:
        frame_ms = Fraction(max(b - a for a, b in itertools.pairwise(truth["frame_pts_ms"])))
    assert abs(info.duration_ms - truth["duration_ms"]) <= frame_ms
    assert info.rotation == (truth.get("rotation") or 0)
    if "display_width" in truth:
        assert info.display_size == (truth["display_width"], truth["display_height"])
    audio = truth["encoded"]["audio"]
    assert info.has_audio is (audio is not None)
    if audio:
        assert info.audio_codec == audio["codec_name"]
        assert info.audio_channels == audio["channels"]
        assert info.audio_sample_rate == int(audio["sample_rate"])
    assert info.video_codec == truth["encoded"]["video"]["codec_name"]


def test_exact_rates_and_first_pts() -> None:
    ntsc = probe(MEDIA / "real" / "testvideo.mp4")
    assert ntsc.fps == Fraction(30000, 1001)
    assert ntsc.fps_text == "30000/1001"
    assert ntsc.duration_ms == 24024
    assert probe(MEDIA / "real" / "delayed_start.mp4").start_pts_ms == 1075
    assert probe(MEDIA / "synthetic" / "programme.webm").start_pts_ms == 7
    assert probe(MEDIA / "synthetic" / "programme_720p25.mp4").start_pts_ms == 0


def test_vfr_phone_is_variable_and_rotated() -> None:
    info = probe(MEDIA / "synthetic" / "vfr_phone.mp4")
    assert info.cfr is False  # r_frame_rate 120/1 vs avg 480/19, irregular timestamps
    assert info.fps == Fraction(480, 19)
    assert info.rotation == 90  # ffprobe shows the display matrix as -90
    assert info.display_size == (360, 640)


def test_odd_file_names_reach_ffprobe_as_files(tmp_path: Path) -> None:
    # a leading "-" would be an option and "name:" a protocol if passed through raw
    odd = tmp_path / "-i x: 'quoted' \"clip\".mp4"
    odd.symlink_to(MEDIA / "real" / "counter.mp4")
    assert probe(odd).frame_count == 30
