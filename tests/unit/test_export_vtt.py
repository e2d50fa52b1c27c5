"""WebVTT export read back with webvtt-py."""

from __future__ import annotations

import re

import pytest
import webvtt

from tests.export_support import RATES, contiguous, make_doc, render, vtt_ms
from worker.export import ExportError

NTSC = RATES["29.97"]


def programme() -> dict:
    return make_doc(
        NTSC,
        contiguous([30, 150, 31, 1000]),
        cues=[("ColorBars", 0, 1001, 98.0), ("Content", 1001, 40040, 80.0)],
        labels=[("Dog", 1001, 4004, 97.14), ("Car & <Truck>", 2002, 2002, 80.0)],
        moderation=[("Violence", 6006, 7007, 88.8)],
        faces=[(500, 900, 99.94)],
    )


def parse(text: str) -> list[webvtt.Caption]:
    return list(webvtt.from_string(text, strict=True))


def test_every_shot_is_a_cue_with_its_exact_times() -> None:
    doc = programme()
    cues = {c.identifier: c for c in parse(render(doc, "vtt"))}
    for shot in doc["shots"]:
        cue = cues[f"shot-{shot['index']}"]
        assert (vtt_ms(cue.start_time), vtt_ms(cue.end_time)) == (shot["start_ms"], shot["end_ms"])
        assert cue.text == f"Shot {shot['index']} ({shot['confidence']:.1f}%)"
    assert cues["shot-1"].start == "00:00:01.001" and cues["shot-1"].end == "00:00:06.006"


def test_detections_are_cues_named_with_their_confidence() -> None:
    cues = {c.identifier: c for c in parse(render(programme(), "vtt"))}
    assert cues["label-0"].text == "Dog (97.1%)"
    assert (vtt_ms(cues["label-0"].start_time), vtt_ms(cues["label-0"].end_time)) == (1001, 4004)
    assert cues["cue-0"].text == "ColorBars (98.0%)"
    assert cues["cue-1"].text == "Content (80.0%)"
    assert cues["moderation-0"].text == "Violence (88.8%)"
    assert (vtt_ms(cues["face-0"].start_time), vtt_ms(cues["face-0"].end_time)) == (500, 900)
    assert cues["face-0"].text == "Face (99.9%)"
    assert len(cues) == 4 + 2 + 2 + 1 + 1


def test_valid_webvtt_sorted_and_every_cue_ends_after_it_starts() -> None:
    text = render(programme(), "vtt")
    assert text.startswith("WEBVTT\n\n")
    stamps = re.findall(r"^(\S+) --> (\S+)$", text, flags=re.M)
    assert stamps and all(re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", t) for p in stamps for t in p)
    cues = parse(text)
    starts = [vtt_ms(c.start_time) for c in cues]
    assert starts == sorted(starts)
    assert all(vtt_ms(c.end_time) > vtt_ms(c.start_time) for c in cues)


def test_a_single_detection_lasts_one_frame_and_markup_is_escaped() -> None:
    cue = next(c for c in parse(render(programme(), "vtt")) if c.identifier == "label-1")
    assert (vtt_ms(cue.start_time), vtt_ms(cue.end_time)) == (2002, 2002 + 33)
    assert cue.raw_text == "Car &amp; &lt;Truck&gt; (80.0%)"


def test_hours_and_missing_confidence() -> None:
    doc = make_doc(RATES["25"], contiguous([90_000, 25]))
    doc["shots"][1]["confidence"] = None
    cue = parse(render(doc, "vtt"))[1]
    assert (cue.identifier, cue.start, cue.end, cue.text) == (
        "shot-1",
        "01:00:00.000",
        "01:00:01.000",
        "Shot 1",
    )


def test_kinds_filter() -> None:
    cues = parse(render(programme(), "vtt", vtt_kinds=["shot", "label"]))
    assert {c.identifier.split("-")[0] for c in cues} == {"shot", "label"}
    assert len(cues) == 6
    with pytest.raises(ExportError, match=r"unknown WebVTT cue kind.*labels.*kinds: shot, cue"):
        render(programme(), "vtt", vtt_kinds=["labels"])
    with pytest.raises(ExportError, match="vtt format only"):
        render(programme(), "edl", vtt_kinds=["shot"])
