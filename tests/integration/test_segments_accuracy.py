"""Accuracy of the local segment engine against the shared media's exact truth.

Each video is decoded once per session (a cached fixture); the whole module runs in
well under a minute on 2 cores.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks.media import ensure, load_truth
from worker.engines.local.frames import FrameTimes, decode_frames
from worker.engines.local.segments import detect_segments
from worker.errors import MediaToolError
from worker.media.probe import probe
from worker.testing.metrics import cut_f1
from worker.timecode import frame_to_ms

pytestmark = pytest.mark.integration

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
MEDIA = SHARED / "media"
SYNTHETIC = [
    "synthetic/programme_720p25.mp4",
    "synthetic/programme_1080p2997.mov",
    "synthetic/programme_prores.mov",
    "synthetic/programme.webm",
    "synthetic/vfr_phone.mp4",
    "synthetic/no_audio.mp4",
]
REAL = [
    "real/bikes.mp4",
    "real/bigbuckbunny.mp4",
    "real/testvideo.mp4",
    "real/fades.mp4",
    "real/counter.mp4",
    "real/delayed_start.mp4",
]
PROGRAMMES = ["synthetic/programme_720p25.mp4", "synthetic/programme_1080p2997.mov"]
# the constructed development programmes (benchmarks/media): a studio logo, titles over a
# moving picture, a cold open, lower thirds and a ticker that are not credits
DEV = ["dev:logo_titles_720p25", "dev:logo_anim_1080p25", "dev:bars_titles_720p25"]
TOLERANCE_MS = 500

Response = dict[str, Any]


def path_of(name: str) -> Path:
    return ensure(name.removeprefix("dev:")) if name.startswith("dev:") else MEDIA / name


def truth_of(name: str) -> dict[str, Any]:
    if name.startswith("dev:"):
        return dict(load_truth(name.removeprefix("dev:")))
    video = MEDIA / name
    data: dict[str, Any] = json.loads(video.with_name(video.stem + ".truth.json").read_text())
    return data


@pytest.fixture(scope="session")
def analysed() -> Callable[[str], Response]:
    """detect_segments(name) with default parameters, computed once per video."""
    if not MEDIA.is_dir():
        pytest.skip(f"test media not found at {MEDIA}")
    cache: dict[str, Response] = {}

    def get(name: str) -> Response:
        if name not in cache:
            cache[name] = detect_segments(path_of(name), probe(path_of(name)))
        return cache[name]

    return get


def shots(response: Response) -> list[dict[str, Any]]:
    return [s for s in response["Segments"] if s["Type"] == "SHOT"]


def cues(response: Response) -> list[tuple[str, int, int]]:
    """(type, start_ms, end_ms) half-open: the end is the next cue's start."""
    items = [s for s in response["Segments"] if s["Type"] == "TECHNICAL_CUE"]
    out = []
    for k, seg in enumerate(items):
        nxt = items[k + 1]["StartTimestampMillis"] if k + 1 < len(items) else None
        end = nxt if nxt is not None else response["VideoMetadata"][0]["DurationMillis"]
        out.append((seg["TechnicalCueSegment"]["Type"], seg["StartTimestampMillis"], end))
    return out


def content_range(response: Response) -> tuple[int, int]:
    content = [c for c in cues(response) if c[0] == "Content"]
    return content[0][1], content[-1][2]


@pytest.mark.parametrize(
    ("name", "minimum"), [(n, 0.98) for n in SYNTHETIC] + [(n, 0.90) for n in REAL]
)
def test_cut_f1(analysed: Callable[[str], Response], name: str, minimum: float) -> None:
    found = [s["StartFrameNumber"] for s in shots(analysed(name))[1:]]
    truth = [c["frame"] for c in truth_of(name)["cuts"]]
    assert cut_f1(found, truth) >= minimum, f"found {found}, truth {truth}"


@pytest.mark.parametrize("name", PROGRAMMES + DEV)
def test_programme_cues_follow_the_truth(analysed: Callable[[str], Response], name: str) -> None:
    truth = truth_of(name)["technical_cues"]
    found = cues(analysed(name))
    assert [c[0] for c in found] == [c["type"] for c in truth]
    for (kind, start, end), expected in zip(found, truth, strict=True):
        assert abs(start - expected["start_ms"]) <= TOLERANCE_MS, (kind, start, expected)
        assert abs(end - expected["end_ms"]) <= TOLERANCE_MS, (kind, end, expected)


def test_no_constant_confidence_across_programmes(analysed: Callable[[str], Response]) -> None:
    """Computed from each file's evidence: no cue type (and not the shots) has one constant
    confidence across the programmes, all within Rekognition's 50-100 for reported segments."""
    by_kind: dict[str, set[float]] = {}
    for name in [
        *PROGRAMMES,
        "real/testvideo.mp4",
        "dev:logo_titles_720p25",
        "dev:logo_anim_1080p25",
    ]:
        for seg in analysed(name)["Segments"]:
            detail = seg.get("TechnicalCueSegment") or seg["ShotSegment"]
            assert 50.0 <= detail["Confidence"] <= 100.0, (name, seg)
            by_kind.setdefault(detail.get("Type", "SHOT"), set()).add(detail["Confidence"])
    expected = {"ColorBars", "BlackFrames", "Slate", "OpeningCredits", "Content", "EndCredits"}
    assert set(by_kind) == expected | {"StudioLogo", "SHOT"}
    constant = {kind: values for kind, values in by_kind.items() if len(values) < 2}
    assert not constant, constant


@pytest.mark.parametrize("name", PROGRAMMES + DEV)
def test_content_range(analysed: Callable[[str], Response], name: str) -> None:
    start, end = content_range(analysed(name))
    expected = truth_of(name)["content_range_ms"]
    assert abs(start - expected[0]) <= TOLERANCE_MS
    assert abs(end - expected[1]) <= TOLERANCE_MS


@pytest.mark.parametrize("name", ["real/testvideo.mp4", "real/fades.mp4", "real/delayed_start.mp4"])
def test_black_frames_on_real_clips(analysed: Callable[[str], Response], name: str) -> None:
    # truth: blackdetect at 0.1; the 0.2 default reaches a few frames further into fades
    truth = [c for c in truth_of(name)["technical_cues"] if c["type"] == "BlackFrames"]
    found = [c for c in cues(analysed(name)) if c[0] == "BlackFrames"]
    assert len(found) == len(truth)
    for (_, start, end), expected in zip(found, truth, strict=True):
        assert abs(start - expected["start_ms"]) <= TOLERANCE_MS
        assert abs(end - expected["end_ms"]) <= TOLERANCE_MS


@pytest.mark.parametrize(
    "name",
    # + the ML dev set: photos with signs, a page of text and a logo with a word, which are
    # no credits and no studio logo
    [n for n in SYNTHETIC + REAL if n not in PROGRAMMES and "fades" not in n]
    + ["ml/objects_dev_720p25.mp4"],
)
def test_no_invented_cues(analysed: Callable[[str], Response], name: str) -> None:
    # no bars, slates or credits in these; black only where the truth has it
    kinds = {c[0] for c in cues(analysed(name))}
    expected = {c["type"] for c in truth_of(name).get("technical_cues", [])} | {"Content"}
    assert kinds <= expected


def test_vfr_shots_start_at_their_pts(analysed: Callable[[str], Response]) -> None:
    response = analysed("synthetic/vfr_phone.mp4")
    starts = [s["StartTimestampMillis"] for s in shots(response)]
    assert len(starts) == 4
    for found, expected in zip(starts, [0, 2500, 5000, 7500], strict=True):
        assert abs(found - expected) <= 34  # one 30 fps frame
    pts = truth_of("synthetic/vfr_phone.mp4")["frame_pts_ms"]
    last = shots(response)[-1]
    assert last["EndFrameNumber"] == len(pts) - 1
    assert last["EndTimestampMillis"] == round(pts[-1])


def test_late_first_frame_counts_from_zero(analysed: Callable[[str], Response]) -> None:
    response = analysed("real/delayed_start.mp4")  # first pts 1.075 s
    (shot,) = shots(response)
    assert (shot["StartTimestampMillis"], shot["EndTimestampMillis"]) == (0, 920)
    assert cues(response)[0][:2] == ("BlackFrames", 0)


def test_webm_first_pts_7ms_is_time_zero(analysed: Callable[[str], Response]) -> None:
    response = analysed("synthetic/programme.webm")
    starts = [s["StartTimestampMillis"] for s in shots(response)]
    assert starts == [0, 2000, 4400, 7000]


SMPTE = {25: re.compile(r"^\d\d:\d\d:\d\d:\d\d$"), 30: re.compile(r"^\d\d:\d\d:\d\d;\d\d$")}


@pytest.mark.parametrize("name", ["synthetic/programme_1080p2997.mov", "synthetic/no_audio.mp4"])
def test_response_shape(analysed: Callable[[str], Response], name: str) -> None:
    response = analysed(name)
    info = probe(MEDIA / name)
    assert response["JobStatus"] == "SUCCEEDED" and "NextToken" not in response
    (meta,) = response["VideoMetadata"]
    assert meta["FrameRate"] == pytest.approx(float(info.fps))
    assert isinstance(meta["FrameRate"], float)
    assert (meta["FrameWidth"], meta["FrameHeight"]) == (info.width, info.height)
    assert meta["DurationMillis"] == info.duration_ms and meta["ColorRange"] in ("FULL", "LIMITED")
    assert meta["Codec"] == "h264" and meta["Format"]
    if info.has_audio:
        (audio,) = response["AudioMetadata"]
        assert audio["NumberOfChannels"] == 2 and audio["SampleRate"] == 48000
    else:
        assert response["AudioMetadata"] == []
    assert response["SelectedSegmentTypes"] == [
        {"Type": "TECHNICAL_CUE", "ModelVersion": "vidx-local-1"},
        {"Type": "SHOT", "ModelVersion": "vidx-local-1"},
    ]
    segments = response["Segments"]
    kinds = [s["Type"] for s in segments]
    assert kinds == sorted(kinds, key=["TECHNICAL_CUE", "SHOT"].index)
    pattern = SMPTE[round(info.fps)]
    for kind in ("TECHNICAL_CUE", "SHOT"):
        group = [s for s in segments if s["Type"] == kind]
        # both kinds partition the video: contiguous frames, in time order
        assert group[0]["StartFrameNumber"] == 0 and group[0]["StartTimestampMillis"] == 0
        assert group[-1]["EndFrameNumber"] == info.frame_count - 1
        for prev, seg in itertools.pairwise(group):
            assert seg["StartFrameNumber"] == prev["EndFrameNumber"] + 1
            assert seg["StartTimestampMillis"] > prev["EndTimestampMillis"]
    for seg in segments:
        assert seg["DurationMillis"] == seg["EndTimestampMillis"] - seg["StartTimestampMillis"]
        assert seg["DurationFrames"] == seg["EndFrameNumber"] - seg["StartFrameNumber"]
        assert seg["StartTimestampMillis"] == frame_to_ms(seg["StartFrameNumber"], info.fps)
        for key in ("StartTimecodeSMPTE", "EndTimecodeSMPTE", "DurationSMPTE"):
            assert pattern.match(seg[key]), seg[key]
        detail = seg.get("ShotSegment") or seg.get("TechnicalCueSegment")
        assert ("ShotSegment" in seg) != ("TechnicalCueSegment" in seg)
        assert ("ShotSegment" in seg) == (seg["Type"] == "SHOT")
        assert 50 <= detail["Confidence"] <= 100
    assert [s["ShotSegment"]["Index"] for s in shots(response)] == list(range(len(shots(response))))
    json.dumps(response)  # plain JSON types only


def test_segment_type_selection_order_and_progress() -> None:
    name = MEDIA / "real/counter.mp4"
    info = probe(name)
    seen: list[float] = []
    only_shots = detect_segments(name, info, segment_types=["SHOT"], progress=seen.append)
    assert {s["Type"] for s in only_shots["Segments"]} == {"SHOT"}
    assert [t["Type"] for t in only_shots["SelectedSegmentTypes"]] == ["SHOT"]
    assert seen and seen == sorted(seen) and seen[-1] == 1.0 and seen[0] > 0
    both = detect_segments(name, info, segment_types=["SHOT", "TECHNICAL_CUE"])
    kinds = [s["Type"] for s in both["Segments"]]
    assert kinds[0] == "SHOT" and kinds[-1] == "TECHNICAL_CUE"


def test_black_parameters_change_black_frames() -> None:
    name = MEDIA / "real/fades.mp4"
    info = probe(name)

    def black_frames(threshold: float) -> int:
        response = detect_segments(
            name, info, segment_types=["TECHNICAL_CUE"], black_max_pixel_threshold=threshold
        )
        return sum(
            s["EndFrameNumber"] - s["StartFrameNumber"] + 1
            for s in response["Segments"]
            if s["TechnicalCueSegment"]["Type"] == "BlackFrames"
        )

    assert 0 < black_frames(0.05) < black_frames(0.2) < black_frames(0.4)


def test_decode_failure_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"this is not a video at all\n" * 10)
    with pytest.raises(MediaToolError, match=r"broken\.mp4"):
        list(decode_frames(broken, 640, 360, 0, FrameTimes()))
    with pytest.raises(MediaToolError, match=r"truncated\.mp4"):
        list(decode_frames(MEDIA / "bad/truncated.mp4", 1280, 720, 0, FrameTimes()))
