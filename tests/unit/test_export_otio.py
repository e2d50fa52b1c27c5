"""OpenTimelineIO export read back with opentimelineio."""

from __future__ import annotations

from fractions import Fraction

import opentimelineio as otio
import pytest

from tests.export_support import RATES, contiguous, make_doc
from worker.export import render
from worker.timecode import frame_to_ms

KIND_COLOURS = {"cue": "CYAN", "label": "GREEN", "moderation": "RED", "face": "YELLOW"}


def read(doc: dict) -> otio.schema.Timeline:
    return otio.adapters.read_from_string(render(doc, "otio"), "otio_json")


def frames_doc(fps: Fraction, shots: list[tuple[int, int]]) -> dict:
    ms = lambda f: frame_to_ms(f, fps)  # noqa: E731
    return make_doc(
        fps,
        shots,
        cues=[("ColorBars", 0, ms(30), 98.0)],
        labels=[("Dog", ms(40), ms(130), 97.1), ("Cat", ms(50), ms(50), 60.0)],
        moderation=[("Violence", ms(200), ms(260), 88.0)],
        faces=[(ms(10), ms(20), 99.0)],
    )


@pytest.mark.parametrize("rate", ["25", "29.97", "23.976"])
def test_one_clip_per_shot_at_the_exact_rate(rate: str) -> None:
    fps = RATES[rate]
    doc = frames_doc(fps, contiguous([30, 150, 31, 89]))
    tl = read(doc)
    (track,) = tl.video_tracks()
    clips = list(track.find_clips())
    assert len(clips) == len(doc["shots"])
    for clip, shot in zip(clips, doc["shots"], strict=True):
        rng = clip.source_range
        assert rng.start_time.rate == rng.duration.rate == float(fps)
        assert rng.start_time.value == shot["start_frame"]
        assert rng.duration.value == shot["end_frame"] - shot["start_frame"] + 1
        assert clip.name == f"Shot {shot['index']}"
        assert clip.metadata["vidx"]["confidence"] == shot["confidence"]
        # the track's time is the video's time
        assert track.range_of_child(clip).start_time.value == shot["start_frame"]
    ref = clips[0].media_reference
    assert ref.target_url == "file:///media/film.mov"
    assert ref.available_range.duration.value == doc["video"]["frame_count"]
    assert tl.metadata["vidx"]["fps"] == f"{fps.numerator}/{fps.denominator}"


def test_holes_between_shots_are_gaps() -> None:
    fps = RATES["25"]
    doc = make_doc(fps, [(10, 49), (60, 99)])
    (track,) = read(doc).video_tracks()
    kinds = [type(item).__name__ for item in track]
    assert kinds == ["Gap", "Clip", "Gap", "Clip"]
    clips = list(track.find_clips())
    assert [track.range_of_child(c).start_time.value for c in clips] == [10, 60]


@pytest.mark.parametrize("rate", ["25", "29.97"])
def test_a_marker_per_detection(rate: str) -> None:
    fps = RATES[rate]
    doc = frames_doc(fps, contiguous([300]))
    tl = read(doc)
    # on the timeline's stack (FCP XML keeps those), none on the track
    assert not tl.video_tracks()[0].markers
    markers = list(tl.tracks.markers)
    expected = [  # (name, kind, first frame, frames), by start
        ("ColorBars", "cue", 0, 30),
        ("Face", "face", 10, 10),
        ("Dog", "label", 40, 90),
        ("Cat", "label", 50, 0),
        ("Violence", "moderation", 200, 60),
    ]
    got = [
        (
            m.name,
            m.metadata["vidx"]["kind"],
            m.marked_range.start_time.value,
            m.marked_range.duration.value,
        )
        for m in markers
    ]
    assert got == expected
    for m in markers:
        vidx = m.metadata["vidx"]
        assert m.color == KIND_COLOURS[vidx["kind"]]
        assert m.marked_range.start_time.rate == float(fps)
        assert frame_to_ms(int(m.marked_range.start_time.value), fps) == vidx["start_ms"]
    dog = markers[2].metadata["vidx"]
    assert (dog["confidence"], dog["detections"], list(dog["parents"])) == (97.1, 3, ["Thing"])
    assert markers[4].metadata["vidx"]["parent"] == "Parent"


def test_sources_without_a_local_path() -> None:
    doc = make_doc(RATES["25"], contiguous([25]), source="s3://bucket/in/film.mp4")
    clip = read(doc).find_clips()[0]
    assert clip.media_reference.target_url == "s3://bucket/in/film.mp4"
    doc = make_doc(RATES["25"], contiguous([25]), source="import:/x/GetSegmentDetection.json")
    clip = read(doc).find_clips()[0]
    assert isinstance(clip.media_reference, otio.schema.MissingReference)
