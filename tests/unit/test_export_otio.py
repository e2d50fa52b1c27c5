"""OpenTimelineIO export read back with opentimelineio."""

from __future__ import annotations

import urllib.parse
from fractions import Fraction

import opentimelineio as otio
import pytest

from tests.export_support import RATES, contiguous, frame_of_timecode, make_doc, parse_edl, render
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


# --- the file's timecode, audio, file URLs, FCP 7 XML --------------------------------


@pytest.mark.parametrize(
    ("rate", "label", "drop"),
    [("25", "10:00:00:00", False), ("29.97", "01:00:00;00", True), ("29.97", "01:00:00:00", False)],
)
def test_ranges_carry_the_files_timecode(rate: str, label: str, drop: bool) -> None:
    fps = RATES[rate]
    doc = make_doc(fps, contiguous([30, 150, 31]), start_timecode=label)
    tl = read(doc)
    first = frame_of_timecode(label, fps)
    assert tl.global_start_time == otio.opentime.RationalTime(first, float(fps))
    clips = list(tl.video_tracks()[0].find_clips())
    for clip, shot in zip(clips, doc["shots"], strict=True):
        ref = clip.media_reference
        assert ref.available_range.start_time.value == first
        assert ref.available_range.duration.value == doc["video"]["frame_count"]
        assert clip.source_range.start_time.value == first + shot["start_frame"]
        # the track's time is still the video's time
        assert tl.video_tracks()[0].range_of_child(clip).start_time.value == shot["start_frame"]
    code = clips[0].source_range.start_time.to_timecode(float(fps), drop_frame=drop)
    assert code == label
    assert tl.metadata["vidx"]["start_timecode"] == label


@pytest.mark.parametrize("rate", ["25", "29.97"])
def test_timeline_starts_where_the_edl_record_side_does(rate: str) -> None:
    fps = RATES[rate]
    for label in (None, "10:00:00:00" if rate == "25" else "00:59:59;28"):
        doc = make_doc(fps, contiguous([30, 150]), start_timecode=label)
        rec_in = parse_edl(render(doc, "edl")).events[0].rec_in
        assert read(doc).global_start_time.value == frame_of_timecode(rec_in, fps)
    assert rec_in == label  # with a timecode: the file's own


def test_no_timecode_starts_at_one_hour_and_sources_at_zero() -> None:
    doc = make_doc(RATES["25"], contiguous([30, 150]))
    tl = read(doc)
    assert tl.global_start_time.to_timecode() == "01:00:00:00"
    clip = tl.find_clips()[0]
    assert clip.media_reference.available_range.start_time.value == 0
    assert clip.source_range.start_time.value == 0


def test_audio_track_with_the_same_clips() -> None:
    fps = RATES["25"]
    doc = make_doc(fps, [(10, 49), (60, 99)], audio_channels=2)
    tl = read(doc)
    (video,) = tl.video_tracks()
    (audio,) = tl.audio_tracks()
    assert audio.metadata["vidx"]["channels"] == 2
    assert [type(i).__name__ for i in audio] == [type(i).__name__ for i in video]
    for a, v in zip(audio.find_clips(), video.find_clips(), strict=True):
        assert a.source_range == v.source_range and a.name == v.name
        assert a.media_reference.target_url == v.media_reference.target_url
    assert not read(make_doc(fps, [(0, 9)])).audio_tracks()  # no audio, no audio track


def test_file_url_is_percent_encoded_utf8() -> None:
    path = "/m/Été à Zürich #1 100%.mov"
    doc = make_doc(RATES["25"], contiguous([25]), source=path)
    url = read(doc).find_clips()[0].media_reference.target_url
    assert url == "file:///m/%C3%89t%C3%A9%20%C3%A0%20Z%C3%BCrich%20%231%20100%25.mov"
    assert url.isascii()
    parsed = urllib.parse.urlsplit(url)
    assert parsed.scheme == "file" and urllib.parse.unquote(parsed.path) == path


def fcp_round_trip(doc: dict) -> tuple[otio.schema.Timeline, otio.schema.Timeline, str]:
    tl = read(doc)
    xml = otio.adapters.write_to_string(tl, "fcp_xml")
    return tl, otio.adapters.read_from_string(xml, "fcp_xml"), xml


@pytest.mark.parametrize(
    ("rate", "label"),
    [("25", None), ("25", "10:00:00:00"), ("29.97", "01:00:00;00"), ("29.97", "01:00:00:00")],
)
def test_fcp7_xml_round_trip_keeps_clips_timecode_and_markers(rate: str, label: str | None) -> None:
    """What an editor gets converting the OTIO to FCP 7 XML (otio-fcp-adapter) and back."""
    fps = RATES[rate]
    doc = frames_doc(fps, contiguous([30, 150, 31, 89]))
    doc["video"].update(start_timecode=label, audio_channels=2, source="/m/Fïlm 1.mov")
    tl, back, xml = fcp_round_trip(doc)
    assert back.global_start_time.value == tl.global_start_time.value
    for kind in ("video_tracks", "audio_tracks"):
        (orig,) = getattr(tl, kind)()
        (got,) = getattr(back, kind)()
        ours, theirs = list(orig.find_clips()), list(got.find_clips())
        assert len(theirs) == len(ours) == len(doc["shots"])
        for a, b in zip(ours, theirs, strict=True):
            assert b.source_range.start_time.value == a.source_range.start_time.value
            assert b.source_range.duration.value == a.source_range.duration.value
            assert b.media_reference.target_url == a.media_reference.target_url
            assert b.media_reference.available_range.start_time.value == (
                a.media_reference.available_range.start_time.value
            )
    markers = list(back.tracks.markers)
    assert len(markers) == 5  # frames_doc: a cue, two labels, a moderation label, a face
    assert [m.name for m in markers] == [m.name for m in tl.tracks.markers]
    assert [m.marked_range.start_time.value for m in markers] == [
        m.marked_range.start_time.value for m in tl.tracks.markers
    ]
    # the file's timecode as FCP shows it, in the file's own count
    shown = label or "00:00:00:00"
    assert f"<string>{shown}</string>" in xml
    assert f"<displayformat>{'DF' if ';' in shown else 'NDF'}</displayformat>" in xml
