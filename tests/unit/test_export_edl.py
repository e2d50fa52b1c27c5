"""CMX3600 EDL export read back by a small parser and by otio-cmx3600-adapter."""

from __future__ import annotations

from fractions import Fraction

import opentimelineio as otio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.export_support import RATES, contiguous, frame_of_timecode, make_doc, parse_edl, render
from worker.export import ExportError

# Shots crossing the first minute and the tenth, where drop-frame labels are skipped
# (1800 frames = 00:01:00;02 and 17982 = 00:10:00;00 at 29.97): lengths in frames.
LENGTHS = [1799, 1, 3000, 13182, 1, 60, 500]


def check_events(doc: dict, text: str, fps: Fraction) -> None:
    edl = parse_edl(text)
    drop = fps.denominator == 1001 and round(fps) in (30, 60)
    assert edl.fcm == ("DROP FRAME" if drop else "NON-DROP FRAME")
    assert len(edl.events) == len(doc["shots"])
    record = frame_of_timecode("01:00:00;00" if drop else "01:00:00:00", fps)
    for n, (ev, shot) in enumerate(zip(edl.events, doc["shots"], strict=True), start=1):
        assert (ev.number, ev.track, ev.transition) == (n, "V", "C")
        codes = (ev.src_in, ev.src_out, ev.rec_in, ev.rec_out)
        assert all((";" in c) is drop for c in codes), codes
        assert frame_of_timecode(ev.src_in, fps) == shot["start_frame"]
        assert frame_of_timecode(ev.src_out, fps) == shot["end_frame"] + 1  # out is exclusive
        # the record side runs on without holes from 01:00:00:00
        assert frame_of_timecode(ev.rec_in, fps) == record
        record += shot["end_frame"] - shot["start_frame"] + 1
        assert frame_of_timecode(ev.rec_out, fps) == record


@pytest.mark.parametrize("rate", ["25", "24", "30", "29.97", "23.976", "59.94"])
def test_events_are_the_shots(rate: str) -> None:
    fps = RATES[rate]
    doc = make_doc(fps, contiguous(LENGTHS))
    check_events(doc, render(doc, "edl"), fps)


def test_drop_frame_labels_at_minute_boundaries() -> None:
    doc = make_doc(RATES["29.97"], contiguous([1800, 16182, 30]))
    events = parse_edl(render(doc, "edl")).events
    assert (events[0].src_in, events[0].src_out) == ("00:00:00;00", "00:01:00;02")
    assert (events[1].src_in, events[1].src_out) == ("00:01:00;02", "00:10:00;00")
    assert (events[2].src_in, events[2].src_out) == ("00:10:00;00", "00:10:01;00")
    assert events[0].rec_in == "01:00:00;00"


def test_non_drop_timecodes_at_25() -> None:
    doc = make_doc(RATES["25"], contiguous([75, 1388]))
    events = parse_edl(render(doc, "edl")).events
    assert [(e.src_in, e.src_out, e.rec_in, e.rec_out) for e in events] == [
        ("00:00:00:00", "00:00:03:00", "01:00:00:00", "01:00:03:00"),
        ("00:00:03:00", "00:00:58:13", "01:00:03:00", "01:00:58:13"),
    ]


@settings(max_examples=60, deadline=None)
@given(
    rate=st.sampled_from(sorted(RATES)),
    start=st.integers(0, 200_000),
    lengths=st.lists(st.integers(1, 40_000), min_size=1, max_size=12),
)
def test_any_shots_round_trip(rate: str, start: int, lengths: list[int]) -> None:
    fps = RATES[rate]
    doc = make_doc(fps, contiguous(lengths, start))
    check_events(doc, render(doc, "edl"), fps)


def test_shots_with_holes_keep_exact_sources_and_continuous_record() -> None:
    fps = RATES["25"]
    doc = make_doc(fps, [(10, 49), (60, 99), (250, 250)])
    check_events(doc, render(doc, "edl"), fps)


def test_header_reel_and_clip_name() -> None:
    doc = make_doc(RATES["25"], contiguous([25]), source="/m/Fïlm one.final.mov")
    edl = parse_edl(render(doc, "edl"))
    assert edl.title == "F?lm one.final"  # ASCII only
    ev = edl.events[0]
    assert ev.reel == "01234567"  # the video id's first 8 characters
    assert ev.comments == (
        "* FROM CLIP NAME: Fïlm one.final.mov",  # UTF-8, as it is
        "* SOURCE FILE: Fïlm one.final.mov",
        "* VIDX SHOT 0",
    )


def test_shot_without_frame_numbers_uses_its_times() -> None:
    fps = RATES["29.97"]
    doc = make_doc(fps, contiguous([30, 150]))
    for s in doc["shots"]:
        s["start_frame"] = s["end_frame"] = None
    ev = parse_edl(render(doc, "edl")).events
    assert [(e.src_in, e.src_out) for e in ev] == [
        ("00:00:00;00", "00:00:01;00"),
        ("00:00:01;00", "00:00:06;00"),
    ]


@pytest.mark.parametrize("rate", ["25", "24", "30", "29.97"])
def test_read_back_by_the_cmx3600_adapter(rate: str) -> None:
    fps = RATES[rate]
    doc = make_doc(fps, contiguous(LENGTHS))
    tl = otio.adapters.read_from_string(render(doc, "edl"), "cmx_3600", rate=float(fps))
    clips = list(tl.find_clips())
    assert len(clips) == len(doc["shots"])
    for clip, shot in zip(clips, doc["shots"], strict=True):
        rng = clip.source_range
        assert rng.start_time.to_frames() == shot["start_frame"]
        assert rng.duration.to_frames() == shot["end_frame"] - shot["start_frame"] + 1


# --- the file's own timecode, audio channels, names --------------------------------


@pytest.mark.parametrize(
    ("rate", "label", "fcm"),
    [
        ("25", "10:00:00:00", "NON-DROP FRAME"),
        ("29.97", "01:00:00;00", "DROP FRAME"),
        ("29.97", "00:59:59;28", "DROP FRAME"),  # runs over 01:00:00;00 and 01:01:00;02
        ("29.97", "01:00:00:00", "NON-DROP FRAME"),  # a 29.97 file whose timecode counts 30
        ("23.976", "00:59:59:00", "NON-DROP FRAME"),
    ],
)
def test_source_and_record_start_at_the_files_timecode(rate: str, label: str, fcm: str) -> None:
    fps = RATES[rate]
    doc = make_doc(fps, contiguous(LENGTHS), start_timecode=label)
    edl = parse_edl(render(doc, "edl"))
    assert edl.fcm == fcm
    first = frame_of_timecode(label, fps)  # the independent reader: ';' counts drop-frame
    assert (edl.events[0].src_in, edl.events[0].rec_in) == (label, label)
    record = first
    for ev, shot in zip(edl.events, doc["shots"], strict=True):
        codes = (ev.src_in, ev.src_out, ev.rec_in, ev.rec_out)
        assert all((";" in c) is (fcm == "DROP FRAME") for c in codes), codes
        assert frame_of_timecode(ev.src_in, fps) == first + shot["start_frame"]
        assert frame_of_timecode(ev.src_out, fps) == first + shot["end_frame"] + 1
        assert frame_of_timecode(ev.rec_in, fps) == record
        record += shot["end_frame"] - shot["start_frame"] + 1
        assert frame_of_timecode(ev.rec_out, fps) == record


def test_drop_frame_source_timecode_across_a_minute() -> None:
    doc = make_doc(RATES["29.97"], contiguous([2, 30]), start_timecode="00:00:59;28")
    events = parse_edl(render(doc, "edl")).events
    assert [(e.src_in, e.src_out) for e in events] == [
        ("00:00:59;28", "00:01:00;02"),  # ;00 and ;01 do not exist at minute 1
        ("00:01:00;02", "00:01:01;02"),
    ]


def test_the_cmx3600_adapter_reads_the_source_timecode() -> None:
    fps = RATES["29.97"]
    doc = make_doc(fps, contiguous([30, 150]), start_timecode="01:00:00;00")
    tl = otio.adapters.read_from_string(render(doc, "edl"), "cmx_3600", rate=float(fps))
    starts = [c.source_range.start_time for c in tl.find_clips()]
    assert [otio.opentime.to_timecode(t, float(fps)) for t in starts] == [
        "01:00:00;00",
        "01:00:01;00",
    ]


def test_a_timecode_the_rate_cannot_have_is_refused_in_one_line() -> None:
    doc = make_doc(RATES["25"], contiguous([25]), start_timecode="10:00:00;00")
    with pytest.raises(ExportError) as err:
        render(doc, "edl")
    assert str(err.value) == (
        "timeline document is malformed: video.start_timecode: timecode '10:00:00;00' "
        "uses the drop-frame separator, which 25 fps does not have"
    )


@pytest.mark.parametrize(
    ("channels", "track", "aud", "tracks"),
    [
        (None, "V", None, ["V"]),
        (1, "B", None, ["V", "A1"]),
        (2, "AA/V", None, ["V", "A1", "A2"]),
        (3, "AA/V", "AUD  3", ["V", "A1", "A2"]),
        (6, "AA/V", "AUD  3    4", ["V", "A1", "A2"]),  # CMX3600 has no room past 4
    ],
)
def test_audio_channels_in_every_event(
    channels: int | None, track: str, aud: str | None, tracks: list[str]
) -> None:
    fps = RATES["25"]
    doc = make_doc(fps, contiguous([25, 50, 75]), audio_channels=channels)
    text = render(doc, "edl")
    events = parse_edl(text).events
    assert [(e.track, e.aud) for e in events] == [(track, aud)] * 3
    tl = otio.adapters.read_from_string(text, "cmx_3600", rate=float(fps))
    assert [t.name for t in tl.tracks] == tracks
    for t in tl.tracks:  # the audio tracks get the same cuts as the picture
        assert [c.source_range.start_time.to_frames() for c in t.find_clips()] == [0, 25, 75]


def test_non_ascii_names_survive_as_utf8() -> None:
    name = "Été à Zürich — 東京 1.mov"
    doc = make_doc(RATES["25"], contiguous([25]), source=f"/m/{name}")
    data = render(doc, "edl").encode("utf-8")
    text = data.decode("utf-8")  # what an editor reads from the file
    ev = parse_edl(text).events[0]
    assert f"* FROM CLIP NAME: {name}" in ev.comments
    assert f"* SOURCE FILE: {name}" in ev.comments
    tl = otio.adapters.read_from_string(text, "cmx_3600", rate=25.0)
    assert tl.find_clips()[0].name == name


def test_names_stay_on_one_line() -> None:
    doc = make_doc(RATES["25"], contiguous([25]), source="/m/two\nlines\tand\x07bell.mov")
    ev = parse_edl(render(doc, "edl")).events[0]
    assert ev.comments[0] == "* FROM CLIP NAME: two lines and?bell.mov"
